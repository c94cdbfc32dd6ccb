"""Exactness verdicts for an Azure stack: the NSG (IP only, source ports kept) and, with the FQDN layer,
the Firewall Policy (egress, names kept, no source ports), each read back from the registered resources."""

from __future__ import annotations

from ..flows import project
from ..management import MANAGEMENT_FLOW, without_management
from ..management import allowed as management_allowed
from ..verdict import LayerVerdict
from . import fqdn as fw
from . import rules as nsg
from .read import read_firewall_policy, read_nsg

__all__ = ["verify"]


def verify(resources: list[dict], profile, cfg) -> list[LayerVerdict]:
    allowed = profile.allowed
    n = project(allowed, nsg.NSG_CAPS)
    got = read_nsg(resources)
    out = [LayerVerdict("azure nsg", n.allowed, without_management(got), n.widened)]
    if cfg.fqdn_firewall:
        f = project(allowed.select(direction="egress"), fw.FW_CAPS)
        out.append(LayerVerdict("azure firewall policy", f.allowed, read_firewall_policy(resources), f.widened))
    if getattr(cfg, "management_cidrs", ()):
        out.append(LayerVerdict("management access", management_allowed(cfg.management_cidrs),
                                got.select(flows=[MANAGEMENT_FLOW])))
    return out
