"""A minimal VPC network for a Spirit deployment: custom-mode network and one subnetwork per site."""

from dataclasses import dataclass
from typing import NotRequired

import netaddr
import pulumi

from ..args import args_of, register_declared, site_map
from ..errors import ConfigError
from ..extras import sdk

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["GcpNetworkArgs", "GcpNetwork"]


@dataclass
class GcpNetworkArgs:
    """Arguments of :class:`GcpNetwork`."""

    cidr: str
    sites: dict[str, str]
    region: NotRequired[str] = "australia-southeast1"
    #: admit the site subnetworks' traffic into VMs with this tag (the QoS NAT instance forwards it)
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
        for site, cidr in self.sites.items():
            if netaddr.IPNetwork(cidr) not in net:
                raise ConfigError(f"site {site!r} {cidr} is outside {net}", field="sites")


class GcpNetwork(pulumi.ComponentResource):
    """A minimal custom-mode VPC network for a Spirit deployment, one subnetwork per site."""

    network_id: pulumi.Output[str]
    """The network's id."""
    network_self_link: pulumi.Output[str]
    """The network's self link."""
    site_subnetwork_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnetwork id."""

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
        if args.nat_tag:
            gcp.compute.Firewall(f"{name}-to-qos-nat", network=net.id, direction="INGRESS", priority=1000,
                                 source_ranges=[c for _, c in args.sites.items()], target_tags=[args.nat_tag],
                                 allows=[{"protocol": "tcp"}, {"protocol": "udp"}],
                                 description="site traffic into the QoS NAT instance (its nftables ruleset "
                                 "filters what it forwards)", opts=child)
        self.network_id = net.id
        self.network_self_link = net.self_link
        register_declared(self)
