"""GCP composition: network (or an existing one), VPC firewall rules, optional network firewall policy
with FQDNs, and Cloud NAT tuned for voice or the QoS NAT instance."""

from __future__ import annotations

import pulumi

from ..gcp.components import (
    FirewallPolicyArgs,
    GcpFirewallPolicy,
    GcpManagementFirewall,
    GcpVoiceNat,
    GcpVpcFirewallRules,
    ManagementFirewallArgs,
    VoiceNatArgs,
    VpcFirewallArgs,
)
from ..gcp.network import GcpNetwork, GcpNetworkArgs
from ..gcp.qos_nat import GcpQosNat, GcpQosNatArgs
from ..stackconfig import StackConfig

__all__ = ["compose"]

NAT_TAG = "spirit-qos-nat"


def compose(cfg: StackConfig) -> None:
    region = pulumi.Config("gcp").get("region") or "australia-southeast1"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    if cfg.network_id:  # nat: managed or none (stackconfig.parse refuses qos-instance here)
        network, subnets, net = cfg.network_id, {}, None
    else:
        net = GcpNetwork("spirit-net", GcpNetworkArgs(cidr=cfg.network_cidr, sites=sites, region=region,
                                                       nat_tag=NAT_TAG if cfg.nat == "qos-instance" else None,
                                                       policy_first=cfg.fqdn_firewall))
        network, subnets = net.network_id, net.site_subnetwork_ids
    fw = GcpVpcFirewallRules("spirit-fw", VpcFirewallArgs(
        network=network, profile=cfg.profile, overrides=cfg.overrides, target_tags=cfg.target_tags,
        strict=cfg.strict))
    if cfg.fqdn_firewall:
        pol = GcpFirewallPolicy("spirit-policy", FirewallPolicyArgs(
            network=network, profile=cfg.profile, overrides=cfg.overrides, strict=cfg.strict))
        pulumi.export("firewallPolicy", pol.urn)
    if cfg.nat == "managed":
        nat = GcpVoiceNat("spirit-nat", VoiceNatArgs(
            network=network, region=region, sip_keepalive_sec=cfg.sip_keepalive_seconds,
            expected_calls=cfg.expected_calls, profile=cfg.profile))
        pulumi.export("natIps", nat.nat_ips)
        pulumi.export("natSettings", nat.settings)
    elif cfg.nat == "qos-instance":
        first = sites[0][0]
        qos = GcpQosNat("spirit-qos-nat", GcpQosNatArgs(
            profile=cfg.profile, network=network, subnetwork=subnets[first], zone=f"{region}-a",
            route_tags=cfg.target_tags, nat_tag=NAT_TAG, overrides=cfg.overrides, strict=cfg.strict,
            sip_keepalive_seconds=cfg.sip_keepalive_seconds,
            **({"machine_type": cfg.nat_instance_type} if cfg.nat_instance_type else {})))
        pulumi.export("natIps", [qos.address.address])
    pulumi.export("firewallRules", fw.urn)
    if cfg.management_cidrs:
        mgmt = GcpManagementFirewall("spirit-mgmt", ManagementFirewallArgs(
            network=network, management_cidrs=cfg.management_cidrs, target_tag=cfg.management_tag))
        pulumi.export("managementTag", mgmt.target_tag)
    if net:
        pulumi.export("network", net.network_self_link)
        pulumi.export("siteSubnetworks", subnets)
