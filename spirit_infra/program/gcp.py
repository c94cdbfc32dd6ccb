"""GCP composition: network (or an existing one), VPC firewall rules, optional network firewall policy
with FQDNs, and Cloud NAT tuned for voice or the QoS NAT instance.

Plan first (spirit_infra.planning): every component's Args and render are built, and checked, before the
first resource is registered.
"""

from __future__ import annotations

import pulumi

from ..gcp.components import (
    GcpCloudNat,
    GcpCloudNatArgs,
    GcpFirewallPolicy,
    GcpFirewallPolicyArgs,
    GcpManagementFirewall,
    GcpManagementFirewallArgs,
    GcpNetwork,
    GcpNetworkArgs,
    GcpVpcFirewall,
    GcpVpcFirewallArgs,
)
from ..gcp.qos_nat import GcpQosNat, GcpQosNatArgs
from ..planning import PENDING, bind
from ..stackconfig import StackConfig
from . import blame

__all__ = ["compose"]

NAT_TAG = "spirit-qos-nat"


def compose(cfg: StackConfig) -> None:
    region = pulumi.Config("gcp").get("region") or "australia-southeast1"
    sites = [(s.name, s.cidr) for s in cfg.sites]
    own_net = not cfg.network_id  # with networkId: nat managed or none (stackconfig.parse refuses qos-instance)
    network = PENDING if own_net else cfg.network_id

    # ---- plan: every Args and every render, nothing registered ----
    with blame(cfg, "sites", "networkCidr"):
        net_args = GcpNetworkArgs(cidr=cfg.network_cidr, sites=sites, region=region,
                                  nat_tag=NAT_TAG if cfg.nat == "qos-instance" else None,
                                  policy_first=cfg.fqdn_firewall) if own_net else None
    with blame(cfg, "overrides", "targetTags", "profile"):
        fw_args = GcpVpcFirewallArgs(network=network, profile=cfg.profile, overrides=cfg.overrides,
                                  target_tags=list(cfg.target_tags), strict=cfg.strict)
    pol_args = nat_args = qos_args = None
    if cfg.fqdn_firewall:
        with blame(cfg, "overrides", "firewallLayers"):
            pol_args = GcpFirewallPolicyArgs(network=network, profile=cfg.profile, overrides=cfg.overrides,
                                          strict=cfg.strict)
    if cfg.nat == "managed":
        with blame(cfg, "expectedCalls", "sipKeepaliveSeconds", "nat"):
            nat_args = GcpCloudNatArgs(network=network, region=region, sip_keepalive_seconds=cfg.sip_keepalive_seconds,
                                    expected_calls=cfg.expected_calls, profile=cfg.profile)
    elif cfg.nat == "qos-instance":
        with blame(cfg, "overrides", "natInstanceType", "nat"):
            qos_args = GcpQosNatArgs(
                profile=cfg.profile, network=PENDING, subnetwork=PENDING, zone=f"{region}-a",
                route_tags=cfg.target_tags, nat_tag=NAT_TAG, overrides=cfg.overrides, strict=cfg.strict,
                sip_keepalive_seconds=cfg.sip_keepalive_seconds,
                **({"machine_type": cfg.nat_instance_type} if cfg.nat_instance_type else {}))

    # ---- register: exactly what was planned ----
    net = GcpNetwork("spirit-net", net_args) if net_args else None
    if net:
        network, subnets = net.network_id, net.site_subnetwork_ids
        for args in (fw_args, pol_args, nat_args):
            if args is not None:
                bind(args, network=network)
    fw = GcpVpcFirewall("spirit-fw", fw_args)
    if pol_args:
        pol = GcpFirewallPolicy("spirit-policy", pol_args)
        pulumi.export("firewallPolicy", pol.urn)
    if nat_args:
        nat = GcpCloudNat("spirit-nat", nat_args)
        pulumi.export("natIps", nat.nat_ips)
        pulumi.export("natSettings", nat.settings)
    elif qos_args:
        # its own edge subnetwork in spirit:natZone: no site edit moves it
        qos = GcpQosNat("spirit-qos-nat", bind(qos_args, network=network, subnetwork=net.edge_subnetwork_id))
        pulumi.export("natIps", [qos.external_ip])
    pulumi.export("firewallRules", fw.urn)
    if cfg.management_cidrs:
        mgmt = GcpManagementFirewall("spirit-mgmt", GcpManagementFirewallArgs(
            network=network, management_cidrs=cfg.management_cidrs, target_tag=cfg.management_tag))
        pulumi.export("managementTag", mgmt.target_tag)
    if net:
        pulumi.export("network", net.network_self_link)
        pulumi.export("siteSubnetworks", subnets)
