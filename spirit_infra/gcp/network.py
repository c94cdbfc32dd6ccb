"""A minimal VPC network for a Spirit deployment: custom-mode network and one subnetwork per site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import netaddr
import pulumi

from ..errors import ConfigError
from ..extras import sdk

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["GcpNetworkArgs", "GcpNetwork"]


@dataclass
class GcpNetworkArgs:
    """Arguments of :class:`GcpNetwork`."""

    cidr: str
    sites: Sequence[tuple[str, str]]
    region: str = "australia-southeast1"
    #: admit the site subnetworks' traffic into VMs with this tag (the QoS NAT instance forwards it)
    nat_tag: str | None = None
    #: evaluate the network firewall policy before the VPC firewall rules. Needed with the FQDN policy:
    #: otherwise the VPC rules (which can only open ZTP/NTP to 0.0.0.0/0) accept that traffic first and
    #: the policy's name match never applies.
    policy_first: bool = False

    def __post_init__(self) -> None:
        try:
            net = netaddr.IPNetwork(self.cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.cidr!r} is not a CIDR", field="cidr") from None
        for site, cidr in self.sites:
            if netaddr.IPNetwork(cidr) not in net:
                raise ConfigError(f"site {site!r} {cidr} is outside {net}", field="sites")


class GcpNetwork(pulumi.ComponentResource):
    """Outputs: ``network_id``, ``network_self_link``, ``site_subnetwork_ids``."""

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:GcpNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        net = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL",
                                  description="Spirit deployment network (spirit-infra)",
                                  network_firewall_policy_enforcement_order="BEFORE_CLASSIC_FIREWALL"
                                  if args.policy_first else "AFTER_CLASSIC_FIREWALL", opts=child)
        self.site_subnetwork_ids: dict[str, pulumi.Output[str]] = {}
        for site, cidr in args.sites:
            sn = gcp.compute.Subnetwork(f"{name}-{site}", network=net.id, ip_cidr_range=cidr, region=args.region,
                                        private_ip_google_access=True, opts=child)
            self.site_subnetwork_ids[site] = sn.id
        if args.nat_tag:
            gcp.compute.Firewall(f"{name}-to-qos-nat", network=net.id, direction="INGRESS", priority=1000,
                                 source_ranges=[c for _, c in args.sites], target_tags=[args.nat_tag],
                                 allows=[{"protocol": "tcp"}, {"protocol": "udp"}],
                                 description="site traffic into the QoS NAT instance (its nftables ruleset "
                                 "filters what it forwards)", opts=child)
        self.network_id = net.id
        self.network_self_link = net.self_link
        self.register_outputs({"networkId": net.id, "networkSelfLink": net.self_link,
                               "siteSubnetworkIds": self.site_subnetwork_ids})
