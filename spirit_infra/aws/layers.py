"""The AWS firewall layers, as the registry (:mod:`spirit_infra.registry`) lists them (pure)."""

from __future__ import annotations

from collections.abc import Callable

from ..flows import AllowedSet
from ..registry import Layer
from .fqdn import TYPE_RULE_GROUP
from .read import read, read_firewall
from .rules import TYPE_EGRESS, TYPE_INGRESS, TYPE_SG, TYPE_SG_RULE

__all__ = ["LAYERS", "read_one"]

_SG_PREFIXES = ("aws:ec2/securityGroup", "aws:vpc/securityGroup")


def _whole_if(present: Callable[[str], bool]) -> Callable[[list[dict]], dict[str, list[dict]]]:
    """A layer that is one whole: every resource (the reader takes what is its own) when ``present``."""
    return lambda rs: {"": list(rs)} if any(present(r["type"]) for r in rs) else {}


LAYERS = (
    Layer("security groups", _whole_if(lambda t: t.startswith(_SG_PREFIXES)), read),
    Layer("network firewall", _whole_if(lambda t: t == TYPE_RULE_GROUP), read_firewall),
)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one security group or rule allows (``context``: the stack's prefix lists); ``None`` for others."""
    if resource.get("type") in (TYPE_SG, TYPE_SG_RULE, TYPE_INGRESS, TYPE_EGRESS):
        return read([resource, *context])
    return None
