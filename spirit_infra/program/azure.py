"""Azure composition: resource group and VNet (or an existing VNet), the NSG, optional Firewall Policy
for FQDNs, and a NAT gateway or the QoS NAT appliance; site subnets carry every association."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from ..azure.components import (
    FirewallPolicyArgs,
    NsgArgs,
    NsgManagementArgs,
    SpiritFirewallPolicy,
    SpiritNsg,
    SpiritNsgManagement,
)
from ..azure.nat import NatGatewayArgs, SpiritNatGateway
from ..azure.network import AzureNetwork, AzureNetworkArgs, AzureSiteSubnets, AzureSiteSubnetsArgs
from ..azure.qos_nat import AzureQosNat, AzureQosNatArgs
from ..marks import tags as spirit_tags
from ..stackconfig import StackConfig

__all__ = ["compose"]


def compose(cfg: StackConfig) -> None:
    location = pulumi.Config("azure-native").get("location") or "australiaeast"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    if cfg.resource_group_name:
        rg = cfg.resource_group_name
    else:
        rg = azure_native.resources.ResourceGroup("spirit-rg", location=location,
                                                  tags=spirit_tags(cfg.profile)).name
    if cfg.network_id:  # with nat: none (stackconfig.parse refuses any other NAT here)
        vnet_name, net = cfg.network_id.rstrip("/").rsplit("/", 1)[-1], None
    else:
        net = AzureNetwork("spirit-net", AzureNetworkArgs(
            resource_group_name=rg, cidr=cfg.network_cidr, profile=cfg.profile, location=location,
            edge_subnet=cfg.nat == "qos-instance"))
        vnet_name = net.vnet_name
    nsg = SpiritNsg("spirit-nsg", NsgArgs(profile=cfg.profile, resource_group_name=rg, location=location,
                                          overrides=cfg.overrides, strict=cfg.strict))
    pulumi.export("nsgId", nsg.nsg_id)
    if cfg.management_cidrs:
        mgmt = SpiritNsgManagement("spirit-mgmt", NsgManagementArgs(
            resource_group_name=rg, network_security_group_name=nsg.nsg_name, management_cidrs=cfg.management_cidrs))
        pulumi.export("managementPriorities", mgmt.priorities)
    pulumi.export("nsgPriorities", nsg.priorities)
    warnings: list[str] = []
    if cfg.fqdn_firewall:
        pol = SpiritFirewallPolicy("spirit-fw", FirewallPolicyArgs(
            profile=cfg.profile, resource_group_name=rg, location=location, overrides=cfg.overrides))
        pulumi.export("firewallPolicyId", pol.policy_id)
        warnings.append("the Azure Firewall Policy is created but not enforced: spirit-infra deploys no Azure "
                        "Firewall; attach firewallPolicyId to one and route the sites through it (a UDR to its "
                        "private IP), else the FQDN flows are only as narrow as the NSG")
    nat_gateway_id = route_table_id = None
    if cfg.nat == "managed":
        nat = SpiritNatGateway("spirit-nat", NatGatewayArgs(
            resource_group_name=rg, location=location, sip_keepalive_seconds=cfg.sip_keepalive_seconds,
            profile=cfg.profile))
        nat_gateway_id = nat.nat_gateway_id
        pulumi.export("natPublicIps", nat.public_ips)
        pulumi.export("natUdpIdleTimeoutSeconds", nat.udp_idle_timeout_seconds)
        warnings += nat.warnings
    elif cfg.nat == "qos-instance":
        key = cfg.nat_ssh_public_key  # required with qos-instance (stackconfig.parse)
        qos = AzureQosNat("spirit-qos-nat", AzureQosNatArgs(
            profile=cfg.profile, resource_group_name=rg, location=location, subnet_id=net.edge_subnet_id,
            ssh_public_key=key, overrides=cfg.overrides, strict=cfg.strict,
            sip_keepalive_seconds=cfg.sip_keepalive_seconds,
            **({"vm_size": cfg.nat_instance_type} if cfg.nat_instance_type else {})))
        route_table_id = qos.route_table.id
        pulumi.export("natPublicIps", [qos.public_ip.ip_address])
    if net:
        subnets = AzureSiteSubnets("spirit-sites", AzureSiteSubnetsArgs(
            resource_group_name=rg, virtual_network_name=vnet_name, network_cidr=cfg.network_cidr, sites=sites,
            network_security_group_id=nsg.nsg_id, nat_gateway_id=nat_gateway_id, route_table_id=route_table_id))
        pulumi.export("vnetId", net.vnet_id)
        pulumi.export("siteSubnetIds", subnets.site_subnet_ids)
    pulumi.export("warnings", sorted(set(warnings)))
