"""The Azure firewall layers, as the registry (:mod:`spirit_infra.registry`) lists them (pure)."""

from __future__ import annotations

from ..flows import AllowedSet
from ..registry import Layer
from . import fqdn
from .read import read_firewall_policy, read_nsg
from .rules import NSG_TYPE, SECURITY_RULE_TYPE

__all__ = ["LAYERS", "read_one"]


def _whole_if(types: tuple[str, ...]):
    return lambda rs: {"": list(rs)} if any(r["type"] in types for r in rs) else {}


LAYERS = (
    # the NSG with Azure's built-in rules (AllowInternetOutBound ... unless a Spirit deny overrides it)
    Layer("NSG", _whole_if((NSG_TYPE, SECURITY_RULE_TYPE)), lambda rs: read_nsg(rs, include_default_rules=True)),
    Layer("firewall policy", _whole_if((fqdn.GROUP_TYPE,)), read_firewall_policy),
)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one NSG or security rule allows (without Azure's built-in rules); ``None`` for others."""
    if resource.get("type") in (NSG_TYPE, SECURITY_RULE_TYPE):
        return read_nsg([resource])
    return None
