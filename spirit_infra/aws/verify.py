"""Exactness verdicts for an AWS stack: each firewall layer read back from the registered resources and
compared with the profile projected onto what that layer can express (pure; used by the preview)."""

from __future__ import annotations

from ..flows import project
from ..verdict import LayerVerdict
from .fqdn import NFW_CAPS_TCP, NFW_CAPS_UDP
from .read import read, read_firewall
from .rules import ALLOW_ALL_EGRESS, SG_CAPS

__all__ = ["verify", "NFW_CAPS_TCP", "NFW_CAPS_UDP"]

# the component's type token, and its old one (a stack exported before the rename)
_SG_COMPONENT = ("spirit:index:AwsSecurityGroups$", "spirit:index:SpiritSecurityGroups$")
_MGMT_COMPONENT = ("spirit:index:AwsManagementAccess$", "spirit:index:SpiritManagementAccess$")


def verify(resources: list[dict], profile, cfg) -> list[LayerVerdict]:
    allowed = profile.allowed
    sg = project(allowed, SG_CAPS)
    expected = sg.allowed if cfg.strict else sg.allowed | ALLOW_ALL_EGRESS
    # only the groups the AwsSecurityGroups component registered (a NAT instance's LAN group is not
    # Spirit egress); a stack without the component is read whole
    mine = [r for r in resources if any(t in r.get("urn", "") for t in _SG_COMPONENT)] or resources
    out = [LayerVerdict("aws security groups", expected, read(mine), sg.widened)]
    if getattr(cfg, "management_cidrs", ()):
        from ..management import allowed as management_allowed

        mgmt = [r for r in resources if any(t in r.get("urn", "") for t in _MGMT_COMPONENT)]
        out.append(LayerVerdict("management access", management_allowed(cfg.management_cidrs), read(mgmt)))
    if cfg.fqdn_firewall:
        udp_names = [t.flow for t in allowed.terms if t.transport == "udp" and t.peer.fqdns]
        rest = allowed.select(flows=[f for f in allowed.flow_ids if f not in udp_names])
        a = project(rest, NFW_CAPS_TCP)
        b = project(allowed.select(flows=udp_names), NFW_CAPS_UDP)
        nfw = [r for r in resources if r["type"].startswith("aws:networkfirewall/")]
        out.append(LayerVerdict("aws network firewall", a.allowed | b.allowed, read_firewall(nfw),
                                a.widened + b.widened))
    return out
