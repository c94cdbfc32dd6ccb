"""AWS composition: network (or an existing VPC), security groups, optional Network Firewall, NAT."""

from __future__ import annotations

import pulumi

from ..aws.components import (
    SpiritManagementAccess,
    SpiritManagementAccessArgs,
    SpiritNetworkFirewall,
    SpiritNetworkFirewallArgs,
    SpiritSecurityGroups,
    SpiritSecurityGroupsArgs,
)
from ..aws.nat import SpiritManagedNat, SpiritManagedNatArgs
from ..aws.network import AwsFirewallRouting, AwsFirewallRoutingArgs, AwsNetwork, AwsNetworkArgs
from ..aws.qos_nat import AwsQosNat, AwsQosNatArgs
from ..aws.quota import DEFAULT_GROUPS_PER_INTERFACE
from ..stackconfig import StackConfig

__all__ = ["compose"]


def compose(cfg: StackConfig) -> None:
    region = pulumi.Config("aws").get("region") or "ap-southeast-2"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    if cfg.network_id:  # with nat: none (stackconfig.parse refuses any other NAT here)
        vpc_id, net = cfg.network_id, None
    else:
        net = AwsNetwork("spirit-net", AwsNetworkArgs(
            cidr=cfg.network_cidr, sites=sites, profile=cfg.profile, public_sites=cfg.profile == "sbc",
            region=region, lan_security_group=cfg.nat == "qos-instance",
            firewall_subnet=cfg.fqdn_firewall))
        vpc_id = net.vpc_id
    # the QoS NAT instance's interface carries its LAN group plus every Spirit group: leave it one slot
    per_interface = {"groups_per_interface": DEFAULT_GROUPS_PER_INTERFACE - 1} if cfg.nat == "qos-instance" else {}
    sgs = SpiritSecurityGroups("spirit", SpiritSecurityGroupsArgs(
        vpc_id=vpc_id, profile=cfg.profile, overrides=cfg.overrides, strict=cfg.strict,
        fqdn_firewall=cfg.fqdn_firewall, **per_interface))
    pulumi.export("securityGroupIds", sgs.security_group_ids)
    pulumi.export("prefixListId", sgs.prefix_list_id)
    warnings = list(sgs.warnings)
    # with the Network Firewall in the path, the NAT serves the firewall subnet and the sites route to
    # the firewall endpoint; without it, the NAT serves the sites directly
    nat_route_tables = dict(net.site_route_table_ids) if net else {}
    if cfg.fqdn_firewall:
        fw = SpiritNetworkFirewall("spirit-fw", SpiritNetworkFirewallArgs(
            profile=cfg.profile, overrides=cfg.overrides, vpc_id=vpc_id, strict=cfg.strict,
            subnet_ids=(net.firewall_subnet_id,) if net else (), dns_firewall=True))
        pulumi.export("firewallPolicyArn", fw.firewall_policy_arn)
        warnings += fw.warnings
        if net and cfg.nat != "none":
            endpoint = fw.resources["nfw"].firewall_statuses.apply(_endpoint_id)
            AwsFirewallRouting("spirit-fw-routes", AwsFirewallRoutingArgs(
                endpoint_id=endpoint, site_route_tables=dict(net.site_route_table_ids),
                site_cidrs=dict(sites), edge_route_table_id=net.edge_route_table_id))
            nat_route_tables = {"firewall": net.firewall_route_table_id}
        elif net:
            warnings.append("the Network Firewall is deployed but not in the path: with nat: none the sites "
                            "route straight to the internet gateway (use nat: managed or qos-instance)")
    if cfg.nat == "managed":
        nat = SpiritManagedNat("spirit-nat", SpiritManagedNatArgs(
            public_subnets={"a": net.edge_subnet_id}, one_per_zone=False,
            route_tables=nat_route_tables, sip_keepalive_seconds=cfg.sip_keepalive_seconds,
            profile=cfg.profile))
        pulumi.export("natPublicIps", nat.public_ips)
        pulumi.export("natIdleTimeoutSeconds", nat.idle_timeout_seconds)
        warnings += nat.warnings
    elif cfg.nat == "qos-instance":
        qos = AwsQosNat("spirit-qos-nat", AwsQosNatArgs(
            profile=cfg.profile, subnet_id=net.edge_subnet_id, route_tables=nat_route_tables,
            security_group_ids=[net.lan_security_group_id, *(sgs.resources[g["name"]].id for g in sgs.render.groups)],
            overrides=cfg.overrides, strict=cfg.strict, sip_keepalive_seconds=cfg.sip_keepalive_seconds,
            **({"instance_type": cfg.nat_instance_type} if cfg.nat_instance_type else {})))
        pulumi.export("natPublicIps", [qos.eip.public_ip])
    if cfg.management_cidrs:
        mgmt = SpiritManagementAccess("spirit-mgmt", SpiritManagementAccessArgs(
            vpc_id=vpc_id, management_cidrs=cfg.management_cidrs))
        pulumi.export("managementSecurityGroupId", mgmt.security_group_id)
    if net:
        pulumi.export("vpcId", net.vpc_id)
        pulumi.export("siteSubnetIds", net.site_subnet_ids)
    pulumi.export("warnings", sorted(set(warnings)))


def _endpoint_id(statuses) -> str | None:
    """The firewall's endpoint id (``vpce-...``) from its status (unknown until AWS creates it)."""
    for status in statuses or []:
        for state in getattr(status, "sync_states", None) or []:
            for att in getattr(state, "attachments", None) or []:
                if getattr(att, "endpoint_id", None):
                    return att.endpoint_id
    return None
