"""One Construct case per public component: its Args as a Python caller writes them (snake_case), from which the
inputs a consumer in another language sends (camelCase Struct) are derived."""

from typing import Any

from spirit_infra.args import camel

CIDR = "198.51.100.0/24"

#: component -> (name, Args kwargs)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "AwsSecurityGroups": ("sg", {"vpc_id": "vpc-0abc", "profile": "sbc", "quota": 60,
                                  "overrides": {"extra_spirit_cidrs": ["203.0.113.0/24"], "sbc_sip_ports": "5060-5062"}}),
    "AwsNetworkFirewall": ("nfw", {"profile": "phones", "vpc_id": "vpc-0abc", "subnet_ids": ["subnet-a", "subnet-b"],
                                    "dns_firewall": True}),
    "AwsManagedNat": ("nat", {"public_subnets": {"a": "subnet-a", "b": "subnet-b"},
                              "route_tables": {"site-a": "rtb-1"}, "route_zones": {"site-a": "b"},
                              "profile": "phones"}),
    "AwsManagementAccess": ("mgmt", {"vpc_id": "vpc-0abc", "management_cidrs": [CIDR]}),
    "AzureNsg": ("nsg", {"profile": "communicator", "resource_group_name": "rg", "location": "australiaeast",
                         "create_asg": True, "extra_rules": ["ops-in:4000:in"], "tags": {"team": "voice"}}),
    "AzureFirewallPolicy": ("fw", {"profile": "phones", "resource_group_name": "rg", "location": "australiaeast",
                                   "tier": "Premium"}),
    "AzureNatGateway": ("natgw", {"resource_group_name": "rg", "public_ip_count": 2, "profile": "sbc",
                                  "subnet": {"virtual_network_name": "vnet", "address_prefix": "10.0.1.0/24",
                                             "network_security_group_id": "/subs/x/nsg"}}),
    "AzureNsgManagement": ("mgmt", {"resource_group_name": "rg", "network_security_group_name": "nsg",
                                    "management_cidrs": [CIDR]}),
    "GcpVpcFirewall": ("vpcfw", {"network": "voice-vpc", "profile": "sbc", "target_tags": ["spirit-sbc"]}),
    "GcpFirewallPolicy": ("pol", {"network": "voice-vpc", "profile": "phones"}),
    "GcpCloudNat": ("cnat", {"network": "voice-vpc", "region": "australia-southeast1", "nat_ip_count": 2,
                             "expected_calls": 200, "logging": "all"}),
    "GcpManagementFirewall": ("mgmt", {"network": "voice-vpc", "management_cidrs": [CIDR]}),
    "AwsQosNat": ("qos", {"profile": "phones", "subnet_id": "subnet-edge", "route_tables": {"site-a": "rtb-1"},
                          "security_group_ids": ["sg-1", "sg-2"], "sip_keepalive_seconds": 25}),
    "AzureQosNat": ("qos", {"profile": "sbc", "resource_group_name": "rg", "subnet_id": "/subs/x/subnets/edge",
                            "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0spirit test@example",
                            "location": "australiaeast"}),
    "GcpQosNat": ("qos", {"profile": "communicator", "network": "voice-vpc", "subnetwork": "sites",
                          "zone": "australia-southeast1-a", "route_tags": ["spirit-vdi"]}),
    "AwsNetwork": ("net", {"cidr": "10.20.0.0/16", "sites": {"site-a": "10.20.1.0/24", "site-b": "10.20.2.0/24"},
                           "profile": "phones", "lan_security_group": True, "firewall_subnet": True}),
    "AwsFirewallRouting": ("routes", {"endpoint_id": "vpce-1", "site_route_tables": {"site-a": "rtb-1"},
                                      "site_cidrs": {"site-a": "10.20.1.0/24"}, "edge_route_table_id": "rtb-edge"}),
    "AzureNetwork": ("net", {"resource_group_name": "rg", "cidr": "10.30.0.0/16", "profile": "sbc",
                             "edge_subnet": True}),
    "AzureSiteSubnets": ("sites", {"resource_group_name": "rg", "virtual_network_name": "vnet",
                                   "network_cidr": "10.30.0.0/16", "sites": {"sbc": "10.30.1.0/24"},
                                   "network_security_group_id": "/subs/x/nsg"}),
    "GcpNetwork": ("net", {"cidr": "10.40.0.0/16", "sites": {"site-a": "10.40.1.0/24"}, "nat_tag": "spirit-qos-nat"}),
}


def camel_inputs(value: Any) -> Any:
    """The Args kwargs as another language's SDK sends them: camelCase keys (map values' keys stay data)."""
    if isinstance(value, dict):
        return {camel(k): (v if k in _DATA_MAPS else camel_inputs(v)) for k, v in value.items()}
    return value


#: map-valued inputs whose keys are data (labels, tag names), not property names
_DATA_MAPS = {"public_subnets", "route_tables", "route_zones", "tags", "priority_pins", "slot_pins", "sites",
              "site_route_tables", "site_cidrs", "labels"}
