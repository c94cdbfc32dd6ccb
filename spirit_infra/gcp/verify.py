"""Exactness verdicts for a GCP stack: VPC firewall rules (no source ports, no names) and, with the FQDN
layer, the network firewall policy (names kept), each read back from the registered resources."""

from __future__ import annotations

from ..flows import project
from ..verdict import LayerVerdict
from .common import everything
from .fqdn import POLICY_CAPS, POLICY_RULE_TYPES
from .read import read
from .rules import FIREWALL_TYPE, VPC_CAPS

__all__ = ["verify"]

#: non-strict: GCP's implied allow-all egress stays, for IPv4 and IPv6 alike
_EVERYTHING = everything("egress")


def verify(resources: list[dict], profile, cfg) -> list[LayerVerdict]:
    allowed = profile.allowed
    v = project(allowed, VPC_CAPS)
    vpc = [r for r in resources if r["type"] == FIREWALL_TYPE]
    # the rules the component registered (a NAT instance's LAN rule is not Spirit traffic)
    vpc = [r for r in vpc if any(t in r.get("urn", "") for t in ("spirit:index:GcpVpcFirewall$",
                                                              "spirit:index:GcpVpcFirewallRules$"))] or vpc
    expected = v.allowed if cfg.strict else v.allowed | _EVERYTHING
    out = [LayerVerdict("gcp vpc firewall rules", expected, read(vpc), v.widened)]
    if cfg.fqdn_firewall:
        p = project(allowed, POLICY_CAPS)
        pol = [r for r in resources if r["type"] in POLICY_RULE_TYPES]
        out.append(LayerVerdict("gcp network firewall policy", p.allowed if cfg.strict else p.allowed | _EVERYTHING,
                                read(pol), p.widened))
    if getattr(cfg, "management_cidrs", ()):
        from ..management import allowed as management_allowed

        mgmt = [r for r in resources if "spirit:index:GcpManagementFirewall$" in r.get("urn", "")]
        out.append(LayerVerdict("management access", management_allowed(cfg.management_cidrs),
                                read(mgmt, implied=False)))
    return out
