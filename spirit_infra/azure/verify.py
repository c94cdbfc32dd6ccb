"""Exactness verdicts for an Azure stack: the NSG (IP only, source ports kept) and, with the FQDN layer,
the Firewall Policy (egress, names kept, no source ports), each read back from the registered resources."""

from __future__ import annotations

from ..flows import project
from ..verdict import LayerVerdict
from . import firewall_policy as fw
from . import rules as nsg

__all__ = ["verify"]


def verify(resources: list[dict], profile, cfg) -> list[LayerVerdict]:
    allowed = profile.allowed
    n = project(allowed, nsg.NSG_CAPS)
    out = [LayerVerdict("azure nsg", n.allowed, nsg.read(resources), n.widened)]
    if cfg.fqdn_firewall:
        f = project(allowed.select(direction="egress"), fw.FW_CAPS)
        out.append(LayerVerdict("azure firewall policy", f.allowed, fw.read(resources), f.widened))
    return out
