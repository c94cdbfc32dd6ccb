"""AWS composition: network (or an existing VPC), security groups, optional Network Firewall, NAT.

Plan first (spirit_infra.planning): every component's Args and render are built, and checked, before the
first resource is registered; outputs of one component are bound into the next one's Args as they appear.
"""

from __future__ import annotations

import pulumi

from ..aws.components import (
    AwsFirewallRouting,
    AwsFirewallRoutingArgs,
    AwsManagedNat,
    AwsManagedNatArgs,
    AwsManagementAccess,
    AwsManagementAccessArgs,
    AwsNetwork,
    AwsNetworkArgs,
    AwsNetworkFirewall,
    AwsNetworkFirewallArgs,
    AwsSecurityGroups,
    AwsSecurityGroupsArgs,
)
from ..aws.qos_nat import AwsQosNat, AwsQosNatArgs
from ..aws.quota import DEFAULT_GROUPS_PER_INTERFACE
from ..planning import PENDING, bind
from ..stackconfig import StackConfig
from . import blame

__all__ = ["compose"]

_SG, _FW, _QOS = "spirit", "spirit-fw", "spirit-qos-nat"


def compose(cfg: StackConfig) -> None:
    region = pulumi.Config("aws").get("region") or "ap-southeast-2"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    own_net = not cfg.network_id  # with networkId: nat none (stackconfig.parse refuses any other NAT here)
    routed = cfg.fqdn_firewall and own_net and cfg.nat != "none"
    # the NAT serves the firewall subnet when the Network Firewall is in the path, else the sites
    nat_labels = ["firewall"] if routed else [name for name, _ in sites] if own_net else []

    # ---- plan: every Args and every render, nothing registered ----
    with blame(cfg, "sites", "networkCidr"):
        net_args = AwsNetworkArgs(
            cidr=cfg.network_cidr, sites=sites, profile=cfg.profile, public_sites=cfg.profile == "sbc",
            region=region, lan_security_group=cfg.nat == "qos-instance", firewall_subnet=cfg.fqdn_firewall,
            zones=cfg.zones, site_zones={s.name: s.zone for s in cfg.sites}, edge_zones=cfg.edge_zones,
            nat_zone=cfg.nat_zone) if own_net else None
    # the QoS NAT instance's interface carries its LAN group plus every Spirit group: leave it one slot
    # and its own group (its egress to the SSM endpoint of its ruleset channel): leave it two slots
    per_interface = {"groups_per_interface": DEFAULT_GROUPS_PER_INTERFACE - 2} if cfg.nat == "qos-instance" else {}
    with blame(cfg, "overrides", "profile"):
        sg_args = AwsSecurityGroupsArgs(
            vpc_id=PENDING if own_net else cfg.network_id, profile=cfg.profile, overrides=cfg.overrides,
            strict=cfg.strict, fqdn_firewall=cfg.fqdn_firewall, **per_interface)
        sg_plan = sg_args.plan(_SG)
    fw_args = routing_args = nat_args = qos_args = None
    if cfg.fqdn_firewall:
        with blame(cfg, "overrides", "firewallLayers"):
            fw_args = AwsNetworkFirewallArgs(
                profile=cfg.profile, overrides=cfg.overrides, vpc_id=PENDING if own_net else cfg.network_id,
                strict=cfg.strict, subnet_ids=[PENDING] if own_net else [], dns_firewall=True)
            fw_args.plan(_FW)
        if routed:
            routing_args = AwsFirewallRoutingArgs(
                endpoint_id=PENDING, site_route_tables={name: PENDING for name, _ in sites},
                site_cidrs=dict(sites), edge_route_table_id=PENDING)
    warnings: list[str] = []
    if cfg.nat == "managed":
        # one gateway per zone in use, each site routed to its own zone's gateway (or one, in the NAT zone);
        # with the Network Firewall, egress leaves through its one endpoint's subnet in the NAT zone
        route_zones = {"firewall": cfg.nat_zone} if routed else {s.name: s.zone for s in cfg.sites}
        if cfg.fqdn_firewall and cfg.nat_gateway_per_zone and len({s.zone for s in cfg.sites}) > 1:
            warnings.append(f"one NAT gateway (zone {cfg.nat_zone}): with the fqdn-firewall layer every site's "
                            "egress passes the Network Firewall's one endpoint, in that zone")
        with blame(cfg, "natGatewayPerZone", "zones", "sipKeepaliveSeconds", "nat"):
            nat_args = AwsManagedNatArgs(
                public_subnets=dict.fromkeys(cfg.edge_zones, PENDING), one_per_zone=cfg.nat_gateway_per_zone,
                route_tables=dict.fromkeys(nat_labels, PENDING), route_zones=route_zones,
                sip_keepalive_seconds=cfg.sip_keepalive_seconds, profile=cfg.profile)
    elif cfg.nat == "qos-instance":
        with blame(cfg, "overrides", "natInstanceType", "nat"):
            qos_args = AwsQosNatArgs(
                profile=cfg.profile, subnet_id=PENDING, route_tables=dict.fromkeys(nat_labels, PENDING),
                security_group_ids=[PENDING] * (1 + len(sg_plan.groups)), overrides=cfg.overrides,
                strict=cfg.strict, sip_keepalive_seconds=cfg.sip_keepalive_seconds, region=region,
                vpc_id=PENDING, vpc_cidr=cfg.network_cidr,
                **({"instance_type": cfg.nat_instance_type} if cfg.nat_instance_type else {}))
            qos_args.plan(_QOS)

    # ---- register: exactly what was planned ----
    net = AwsNetwork("spirit-net", net_args) if net_args else None
    vpc_id = net.vpc_id if net else cfg.network_id
    sgs = AwsSecurityGroups(_SG, bind(sg_args, vpc_id=vpc_id) if net else sg_args)
    pulumi.export("securityGroupIds", sgs.security_group_ids)
    pulumi.export("prefixListId", sgs.prefix_list_id)
    warnings += sg_plan.warnings
    nat_route_tables = dict(net.site_route_table_ids) if net else {}
    if fw_args:
        fw = AwsNetworkFirewall(_FW, bind(fw_args, vpc_id=vpc_id, subnet_ids=[net.firewall_subnet_id])
                                   if net else fw_args)
        pulumi.export("firewallPolicyArn", fw.firewall_policy_arn)
        warnings += fw_args.plan(_FW).warnings
        if routing_args:
            endpoint = fw.firewall_endpoint_ids.apply(lambda ids: ids[0] if ids else None)
            AwsFirewallRouting("spirit-fw-routes", bind(
                routing_args, endpoint_id=endpoint, site_route_tables=dict(net.site_route_table_ids),
                edge_route_table_id=net.edge_route_table_id))
            nat_route_tables = {"firewall": net.firewall_route_table_id}
        elif net:
            warnings.append("the Network Firewall is deployed but not in the path: with nat: none the sites "
                            "route straight to the internet gateway (use nat: managed or qos-instance)")
    if nat_args:
        nat = AwsManagedNat("spirit-nat", bind(nat_args, public_subnets=dict(net.edge_subnet_ids),
                                                  route_tables=nat_route_tables))
        pulumi.export("natPublicIps", nat.public_ips)
        pulumi.export("natIdleTimeoutSeconds", nat.idle_timeout_seconds)
        warnings += nat_args.plan().warnings
    elif qos_args:
        qos = AwsQosNat(_QOS, bind(
            qos_args, subnet_id=net.edge_subnet_id, route_tables=nat_route_tables, vpc_id=net.vpc_id,
            security_group_ids=[net.lan_security_group_id, *sgs.group_ids]))
        pulumi.export("natPublicIps", [qos.public_ip])
    if cfg.management_cidrs:
        mgmt = AwsManagementAccess("spirit-mgmt", AwsManagementAccessArgs(
            vpc_id=vpc_id, management_cidrs=cfg.management_cidrs))
        pulumi.export("managementSecurityGroupId", mgmt.security_group_id)
    if net:
        pulumi.export("vpcId", net.vpc_id)
        pulumi.export("siteSubnetIds", net.site_subnet_ids)
    pulumi.export("warnings", sorted(set(warnings)))

