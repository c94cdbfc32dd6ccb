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
    "AzureFirewallPolicy": ("fw", {"profile": "phones", "resource_group_name": "rg", "location": "australiaeast"}),
    "AzureNatGateway": ("natgw", {"resource_group_name": "rg", "public_ip_count": 2, "profile": "sbc",
                                  "subnet": {"virtual_network_name": "vnet", "address_prefix": "10.0.1.0/24",
                                             "network_security_group_id": "/subs/x/nsg"}}),
    "AzureNsgManagement": ("mgmt", {"resource_group_name": "rg", "network_security_group_name": "nsg",
                                    "management_cidrs": [CIDR]}),
    "GcpVpcFirewall": ("vpcfw", {"network": "voice-vpc", "profile": "sbc", "target_tags": ["spirit-sbc"]}),
    "GcpFirewallPolicy": ("pol", {"network": "voice-vpc", "profile": "phones"}),
    "GcpCloudNat": ("cnat", {"network": "voice-vpc", "region": "australia-southeast1", "nat_ip_count": 2,
                             "expected_calls": 200}),
    "GcpManagementFirewall": ("mgmt", {"network": "voice-vpc", "management_cidrs": [CIDR]}),
}


def camel_inputs(value: Any) -> Any:
    """The Args kwargs as another language's SDK sends them: camelCase keys (map values' keys stay data)."""
    if isinstance(value, dict):
        return {camel(k): (v if k in _DATA_MAPS else camel_inputs(v)) for k, v in value.items()}
    return value


#: map-valued inputs whose keys are data (labels, tag names), not property names
_DATA_MAPS = {"public_subnets", "route_tables", "route_zones", "tags", "priority_pins", "slot_pins"}
