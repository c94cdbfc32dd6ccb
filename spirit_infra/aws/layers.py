"""The AWS firewall layers (the Layer protocol of :mod:`spirit_infra.registry`; pure).

- :data:`SECURITY_GROUPS`: the IP layer (:mod:`.rules`): no source ports, no DNS names (:data:`~.rules.SG_CAPS`);
- :data:`NETWORK_FIREWALL`: the name layer (:mod:`.fqdn`): source ports and, over TCP (TLS SNI / HTTP Host),
  DNS names; a UDP flow to a name widens to any address (:data:`~.fqdn.NFW_CAPS_UDP`).

Each renders a profile to a :class:`~spirit_infra.plan.Plan` (what the components bind) and reads a stack
back with :mod:`.read`. :func:`render_managed_nat` is the managed NAT gateways' render, also a Plan.
"""

from __future__ import annotations

from collections.abc import Callable

from ..flows import AllowedSet
from ..plan import Plan
from ..registry import Layer, by_transport
from . import fqdn, nat, rules
from .read import read, read_firewall

__all__ = ["LAYERS", "SECURITY_GROUPS", "NETWORK_FIREWALL", "render_managed_nat", "read_one"]

_SG_PREFIXES = ("aws:ec2/securityGroup", "aws:vpc/securityGroup")


def _whole_if(present: Callable[[str], bool]) -> Callable[[list[dict]], dict[str, list[dict]]]:
    """A layer that is one whole: every resource (the reader takes what is its own) when ``present``."""
    return lambda rs: {"": list(rs)} if any(present(r["type"]) for r in rs) else {}


def _render_security_groups(profile, options: rules.SgOptions | None = None) -> Plan:
    return rules.as_plan(rules.model(profile, options))


def _render_network_firewall(profile, options: fqdn.FirewallOptions | None = None) -> Plan:
    return fqdn.as_plan(fqdn.model_firewall(profile, options))


def render_managed_nat(profile: str, labels, **options) -> Plan:
    """The managed NAT gateways for ``labels`` (the zones; ``options``: :func:`~.nat.model_nat`'s) as a Plan."""
    return nat.as_plan(nat.model_nat(profile, labels, **options))


SECURITY_GROUPS = Layer("security groups", by_transport(rules.SG_CAPS), rules.SgOptions, _render_security_groups,
                        read, _whole_if(lambda t: t.startswith(_SG_PREFIXES)))
NETWORK_FIREWALL = Layer("network firewall", by_transport(fqdn.NFW_CAPS_TCP, fqdn.NFW_CAPS_UDP), fqdn.FirewallOptions,
                         _render_network_firewall, read_firewall, _whole_if(lambda t: t == fqdn.TYPE_RULE_GROUP))
LAYERS = (SECURITY_GROUPS, NETWORK_FIREWALL)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one security group or rule allows (``context``: the stack's prefix lists); ``None`` for others."""
    if resource.get("type") in (rules.TYPE_SG, rules.TYPE_SG_RULE, rules.TYPE_INGRESS, rules.TYPE_EGRESS):
        return read([resource, *context])
    return None
