"""Exactness verdicts for an Azure stack: the NSG (IP only, source ports kept) and, with the FQDN layer,
the Firewall Policy (egress, names kept, no source ports), each read back from the registered resources."""

from __future__ import annotations

from ..flows import project
from ..management import MANAGEMENT_FLOW, without_management
from ..management import allowed as management_allowed
from ..verdict import LayerVerdict
from . import fqdn as fw
from . import rules as nsg

__all__ = ["verify"]


def verify(resources: list[dict], profile, cfg) -> list[LayerVerdict]:
    allowed = profile.allowed
    n = project(allowed, nsg.NSG_CAPS)
    read = nsg.read(resources)
    out = [LayerVerdict("azure nsg", n.allowed, without_management(read), n.widened)]
    if cfg.fqdn_firewall:
        f = project(allowed.select(direction="egress"), fw.FW_CAPS)
        out.append(LayerVerdict("azure firewall policy", f.allowed, fw.read(resources), f.widened))
    if getattr(cfg, "management_cidrs", ()):
        out.append(LayerVerdict("management access", management_allowed(cfg.management_cidrs),
                                read.select(flows=[MANAGEMENT_FLOW])))
    return out
