"""Azure composition: resource group and VNet (or an existing VNet), the NSG, optional Firewall Policy
for FQDNs, and a NAT gateway or the QoS NAT appliance; site subnets carry every association.

Plan first (spirit_infra.planning): every component's Args and render are built, and checked, before the
resource group (the first resource) is registered.
"""

from __future__ import annotations

import pulumi

from .. import binder
from ..azure.components import (
    CLASSES,
    AzureFirewallPolicy,
    AzureFirewallPolicyArgs,
    AzureNatGateway,
    AzureNatGatewayArgs,
    AzureNetwork,
    AzureNetworkArgs,
    AzureNsg,
    AzureNsgArgs,
    AzureNsgManagement,
    AzureNsgManagementArgs,
    AzureSiteSubnets,
    AzureSiteSubnetsArgs,
)
from ..azure.network import render_resource_group
from ..azure.qos_nat import AzureQosNat, AzureQosNatArgs
from ..planning import PENDING, bind
from ..stackconfig import StackConfig
from . import blame

__all__ = ["compose"]


def compose(cfg: StackConfig) -> None:
    location = pulumi.Config("azure-native").get("location") or "australiaeast"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    rg = cfg.resource_group_name or PENDING
    own_net = not cfg.network_id  # with networkId: nat none (stackconfig.parse refuses any other NAT here)

    # ---- plan: every Args and every render, nothing registered ----
    rg_plan = render_resource_group(location, cfg.profile) if rg is PENDING else None
    with blame(cfg, "networkCidr"):
        net_args = AzureNetworkArgs(resource_group_name=rg, cidr=cfg.network_cidr, profile=cfg.profile,
                                    location=location, edge_subnet=cfg.nat == "qos-instance") if own_net else None
    with blame(cfg, "overrides", "profile"):
        nsg_args = AzureNsgArgs(profile=cfg.profile, resource_group_name=rg, location=location, overrides=cfg.overrides,
                           strict=cfg.strict)
    pol_args = nat_args = qos_args = sub_args = None
    if cfg.fqdn_firewall:
        with blame(cfg, "overrides", "firewallLayers"):
            pol_args = AzureFirewallPolicyArgs(profile=cfg.profile, resource_group_name=rg, location=location,
                                          overrides=cfg.overrides)
    if cfg.nat == "managed":
        with blame(cfg, "sipKeepaliveSeconds", "nat"):
            nat_args = AzureNatGatewayArgs(resource_group_name=rg, location=location,
                                      sip_keepalive_seconds=cfg.sip_keepalive_seconds, profile=cfg.profile)
    elif cfg.nat == "qos-instance":
        with blame(cfg, "overrides", "natSshPublicKey", "nat"):
            qos_args = AzureQosNatArgs(
                profile=cfg.profile, resource_group_name=rg, location=location, subnet_id=PENDING,
                ssh_public_key=cfg.nat_ssh_public_key, overrides=cfg.overrides, strict=cfg.strict,
                sip_keepalive_seconds=cfg.sip_keepalive_seconds,
                **({"vm_size": cfg.nat_instance_type} if cfg.nat_instance_type else {}))
    if own_net:
        with blame(cfg, "sites", "networkCidr"):
            sub_args = AzureSiteSubnetsArgs(
                resource_group_name=rg, virtual_network_name=PENDING, network_cidr=cfg.network_cidr, sites=sites,
                network_security_group_id=PENDING, nat_gateway_id=PENDING if nat_args else None,
                route_table_id=PENDING if qos_args else None)

    # ---- register: exactly what was planned ----
    if rg_plan is not None:  # the stack's own resource group (spirit-rg), a direct child of the stack
        rg = binder.bind(rg_plan, None, "spirit", CLASSES)["rg"].name
        for args in (net_args, nsg_args, pol_args, nat_args, qos_args, sub_args):
            if args is not None:
                bind(args, resource_group_name=rg)
    net = AzureNetwork("spirit-net", net_args) if net_args else None
    nsg = AzureNsg("spirit-nsg", nsg_args)
    pulumi.export("nsgId", nsg.nsg_id)
    if cfg.management_cidrs:
        mgmt = AzureNsgManagement("spirit-mgmt", AzureNsgManagementArgs(
            resource_group_name=rg, network_security_group_name=nsg.nsg_name, management_cidrs=cfg.management_cidrs))
        pulumi.export("managementPriorities", mgmt.priorities)
    pulumi.export("nsgPriorities", nsg.priorities)
    warnings: list[str] = []
    if pol_args:
        pol = AzureFirewallPolicy("spirit-fw", pol_args)
        pulumi.export("firewallPolicyId", pol.policy_id)
        warnings.append("the Azure Firewall Policy is created but not enforced: spirit-infra deploys no Azure "
                        "Firewall; attach firewallPolicyId to one and route the sites through it (a UDR to its "
                        "private IP), else the FQDN flows are only as narrow as the NSG")
    nat_gateway_id = route_table_id = None
    if nat_args:
        nat = AzureNatGateway("spirit-nat", nat_args)
        nat_gateway_id = nat.nat_gateway_id
        pulumi.export("natPublicIps", nat.public_ips)
        pulumi.export("natUdpIdleTimeoutSeconds", nat.udp_idle_timeout_seconds)
        warnings += nat_args.plan().warnings
    elif qos_args:
        qos = AzureQosNat("spirit-qos-nat", bind(qos_args, subnet_id=net.edge_subnet_id))
        route_table_id = qos.route_table_id
        pulumi.export("natPublicIps", [qos.public_ip])
    if net:
        bind(sub_args, virtual_network_name=net.vnet_name, network_security_group_id=nsg.nsg_id)
        if nat_gateway_id is not None:
            bind(sub_args, nat_gateway_id=nat_gateway_id)
        if route_table_id is not None:
            bind(sub_args, route_table_id=route_table_id)
        subnets = AzureSiteSubnets("spirit-sites", sub_args)
        pulumi.export("vnetId", net.vnet_id)
        pulumi.export("siteSubnetIds", subnets.site_subnet_ids)
    pulumi.export("warnings", sorted(set(warnings)))
