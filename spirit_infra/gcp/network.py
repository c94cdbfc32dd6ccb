"""The GCP network render (pure: imports no SDK and not pulumi): a custom-mode VPC network and one
subnetwork per site.

Keyed by names: a site's subnetwork is named after the site; with the QoS NAT, the instance gets an
``edge`` subnetwork of its own (the top /28 of the network, :func:`spirit_infra.zones.edge_cidr`), so
adding, removing or reordering a site never moves the NAT. :func:`render_network` returns a
:class:`~spirit_infra.plan.Plan`; :class:`~spirit_infra.gcp.components.GcpNetwork` registers it through
:mod:`spirit_infra.binder`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..plan import Plan, Ref, ResourceSpec, named_plan
from ..zones import edge_cidr

__all__ = ["TYPES", "render_network"]

TYPE_NETWORK = "gcp:compute/network:Network"
TYPE_SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
TYPE_FIREWALL = "gcp:compute/firewall:Firewall"
#: every type the network render emits
TYPES = (TYPE_NETWORK, TYPE_SUBNETWORK, TYPE_FIREWALL)


def render_network(*, cidr: str, sites: Mapping[str, str], region: str, nat_tag: str | None = None,
                   policy_first: bool = False) -> Plan:
    """The network (validated values). Spec names: ``vpc``; ``<site>`` per site; with ``nat_tag``, the NAT's
    ``edge`` subnetwork and ``to-qos-nat``, the rule admitting the sites' traffic into VMs with that tag
    (the NAT's nftables ruleset filters what it forwards). ``policy_first`` evaluates the network firewall
    policy before the VPC firewall rules. A site named like one of these is one
    :class:`~spirit_infra.errors.ConfigError` line naming ``sites``."""
    net = Ref("vpc")
    specs = [ResourceSpec(TYPE_NETWORK, "vpc", {
        "autoCreateSubnetworks": False, "routingMode": "REGIONAL",
        "description": "Spirit deployment network (spirit-infra)",
        "networkFirewallPolicyEnforcementOrder": "BEFORE_CLASSIC_FIREWALL" if policy_first
        else "AFTER_CLASSIC_FIREWALL"})]
    specs += [ResourceSpec(TYPE_SUBNETWORK, site, {"network": net, "ipCidrRange": site_cidr, "region": region,
                                                   "privateIpGoogleAccess": True})
              for site, site_cidr in sites.items()]
    if nat_tag:
        specs += [
            ResourceSpec(TYPE_SUBNETWORK, "edge", {"network": net, "ipCidrRange": edge_cidr(cidr), "region": region,
                                                   "privateIpGoogleAccess": True}),
            ResourceSpec(TYPE_FIREWALL, "to-qos-nat", {
                "network": net, "direction": "INGRESS", "priority": 1000, "sourceRanges": sorted(sites.values()),
                "targetTags": [nat_tag], "allows": [{"protocol": "tcp"}, {"protocol": "udp"}],
                "description": "site traffic into the QoS NAT instance (its nftables ruleset filters what it "
                               "forwards)"}),
        ]
    return named_plan(specs, "sites")
