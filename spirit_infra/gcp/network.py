"""A minimal VPC network for a Spirit deployment: custom-mode network and one subnetwork per site.

Keyed by names: a site's subnetwork is named after the site; with the QoS NAT, the instance gets an
``edge`` subnetwork of its own (the top /28 of the network, :func:`spirit_infra.zones.edge_cidr`), so
adding, removing or reordering a site never moves the NAT.
"""

from dataclasses import dataclass
from typing import NotRequired

import netaddr
import pulumi

from ..args import args_of, register_declared, site_map
from ..errors import ConfigError
from ..extras import sdk
from ..zones import edge_cidr

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["GcpNetworkArgs", "GcpNetwork"]


@dataclass
class GcpNetworkArgs:
    """Arguments of :class:`GcpNetwork`."""

    cidr: str
    sites: dict[str, str]
    region: NotRequired[str] = "australia-southeast1"
    #: admit the site subnetworks' traffic into VMs with this tag (the QoS NAT instance forwards it), and
    #: create the NAT's own ``edge`` subnetwork
    nat_tag: str | None = None
    #: evaluate the network firewall policy before the VPC firewall rules. Needed with the FQDN policy:
    #: otherwise the VPC rules (which can only open ZTP/NTP to 0.0.0.0/0) accept that traffic first and
    #: the policy's name match never applies.
    policy_first: NotRequired[bool] = False

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        try:
            net = netaddr.IPNetwork(self.cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.cidr!r} is not a CIDR", field="cidr") from None
        edge = netaddr.IPNetwork(self.edge_cidr) if self.nat_tag else None
        for site, cidr in self.sites.items():
            c = netaddr.IPNetwork(cidr)
            if c not in net:
                raise ConfigError(f"site {site!r} {cidr} is outside {net}", field="sites")
            if edge is not None and c.first <= edge.last and edge.first <= c.last:
                raise ConfigError(f"site {site!r} {cidr} overlaps the NAT's edge subnetwork {edge}", field="sites")

    @property
    def edge_cidr(self) -> str:
        """The QoS NAT instance's subnetwork: the top /28 of the network."""
        return edge_cidr(self.cidr)


class GcpNetwork(pulumi.ComponentResource):
    """A minimal custom-mode VPC network for a Spirit deployment, one subnetwork per site."""

    network_id: pulumi.Output[str]
    """The network's id."""
    network_self_link: pulumi.Output[str]
    """The network's self link."""
    site_subnetwork_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnetwork id."""
    edge_subnetwork_id: pulumi.Output[str | None]
    """The QoS NAT instance's own subnetwork (absent without natTag)."""

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpNetworkArgs, args)
        super().__init__("spirit:index:GcpNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        net = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL",
                                  description="Spirit deployment network (spirit-infra)",
                                  network_firewall_policy_enforcement_order="BEFORE_CLASSIC_FIREWALL"
                                  if args.policy_first else "AFTER_CLASSIC_FIREWALL", opts=child)
        self.site_subnetwork_ids: dict[str, pulumi.Output[str]] = {}
        for site, cidr in args.sites.items():
            sn = gcp.compute.Subnetwork(f"{name}-{site}", network=net.id, ip_cidr_range=cidr, region=args.region,
                                        private_ip_google_access=True, opts=child)
            self.site_subnetwork_ids[site] = sn.id
        self.edge_subnetwork_id = None
        if args.nat_tag:
            edge = gcp.compute.Subnetwork(f"{name}-edge", network=net.id, ip_cidr_range=args.edge_cidr,
                                          region=args.region, private_ip_google_access=True, opts=child)
            self.edge_subnetwork_id = edge.id
            gcp.compute.Firewall(f"{name}-to-qos-nat", network=net.id, direction="INGRESS", priority=1000,
                                 source_ranges=sorted(args.sites.values()), target_tags=[args.nat_tag],
                                 allows=[{"protocol": "tcp"}, {"protocol": "udp"}],
                                 description="site traffic into the QoS NAT instance (its nftables ruleset "
                                 "filters what it forwards)", opts=child)
        self.network_id = net.id
        self.network_self_link = net.self_link
        register_declared(self)
