"""The Azure firewall layers (the Layer protocol of :mod:`spirit_infra.registry`; pure).

- :data:`NSG`: the IP layer (:mod:`.rules`): source ports yes, DNS names no (:data:`~.rules.NSG_CAPS`); read
  with Azure's built-in rules (AllowInternetOutBound ... unless a Spirit deny overrides it);
- :data:`FIREWALL_POLICY`: the name layer (:mod:`.fqdn`), egress only: DNS names yes, source ports no
  (:data:`~.fqdn.FW_CAPS`).

Each renders a profile to a :class:`~spirit_infra.plan.Plan` (what the components bind) and reads a stack
back with :mod:`.read`. :func:`render_managed_nat` is the NAT gateway's render, also a Plan.
"""

from __future__ import annotations

from ..flows import AllowedSet
from ..plan import Plan
from ..registry import Layer, by_transport
from . import fqdn, nat, rules
from .read import read_firewall_policy, read_nsg

__all__ = ["LAYERS", "NSG", "FIREWALL_POLICY", "render_managed_nat", "read_one"]


def _whole_if(types: tuple[str, ...]):
    return lambda rs: {"": list(rs)} if any(r["type"] in types for r in rs) else {}


def _render_nsg(profile, options: rules.NsgOptions | None = None) -> Plan:
    return rules.as_plan(rules.model(profile, options))


def _render_firewall_policy(profile, options: fqdn.FirewallOptions | None = None) -> Plan:
    options = options or fqdn.FirewallOptions()
    return fqdn.as_plan(fqdn.model(profile, options), name_prefix=options.name_prefix)


def render_managed_nat(options: nat.NatOptions | None = None) -> Plan:
    """The NAT gateway and its public addresses (``options``: :class:`~.nat.NatOptions`) as a Plan."""
    return nat.as_plan(nat.model_nat(options))


NSG = Layer("NSG", by_transport(rules.NSG_CAPS), rules.NsgOptions, _render_nsg,
            lambda rs: read_nsg(rs, include_default_rules=True), _whole_if((rules.NSG_TYPE, rules.SECURITY_RULE_TYPE)))
FIREWALL_POLICY = Layer("firewall policy", by_transport(fqdn.FW_CAPS), fqdn.FirewallOptions, _render_firewall_policy,
                        read_firewall_policy, _whole_if((fqdn.GROUP_TYPE,)), directions=("egress",))
LAYERS = (NSG, FIREWALL_POLICY)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one NSG or security rule allows (without Azure's built-in rules); ``None`` for others."""
    if resource.get("type") in (rules.NSG_TYPE, rules.SECURITY_RULE_TYPE):
        return read_nsg([resource])
    return None
