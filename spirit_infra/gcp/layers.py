"""The GCP firewall layers (the Layer protocol of :mod:`spirit_infra.registry`; pure).

- :data:`VPC_FIREWALL`: the IP layer (:mod:`.rules`, VPC firewall rules): no source ports, no DNS names
  (:data:`~.rules.VPC_CAPS`); one layer;
- :data:`FIREWALL_POLICY`: the name layer (:mod:`.fqdn`, network firewall policies): DNS names, no source
  ports (:data:`~.fqdn.POLICY_CAPS`); each policy is an instance of its own (GCP evaluates them in turn).

Each is read with GCP's implied rules (:mod:`.read`) and renders a profile to a
:class:`~spirit_infra.plan.Plan` (what the components bind). :func:`render_managed_nat` is Cloud NAT's
render, also a Plan.
"""

from __future__ import annotations

from ..flows import AllowedSet
from ..plan import Plan
from ..registry import Layer, by_transport
from . import fqdn, nat, rules
from .read import read

__all__ = ["LAYERS", "VPC_FIREWALL", "FIREWALL_POLICY", "render_managed_nat", "read_one"]


def _vpc(rs: list[dict]) -> dict[str, list[dict]]:
    vpc = [r for r in rs if r["type"] == rules.FIREWALL_TYPE]
    return {"": vpc} if vpc else {}


def _policies(rs: list[dict]) -> dict[str, list[dict]]:
    """One instance per firewall policy, under the policy it names."""
    out: dict[str, list[dict]] = {}
    for r in rs:
        if r["type"] in fqdn.POLICY_RULE_TYPES:
            out.setdefault(str((r.get("inputs") or {}).get("firewallPolicy") or ""), []).append(r)
    return out


def _read(rs: list[dict]) -> AllowedSet:
    return read(rs, implied=True)


def _render_vpc(profile, options: rules.VpcOptions | None = None) -> Plan:
    return rules.as_plan(rules.model(profile, options))


def _render_policy(profile, options: fqdn.PolicyOptions | None = None) -> Plan:
    return fqdn.as_plan(fqdn.model_policy(profile, options))


def render_managed_nat(options: nat.NatOptions | None = None) -> Plan:
    """Cloud Router, NAT addresses and Cloud NAT (``options``: :class:`~.nat.NatOptions`) as a Plan."""
    return nat.as_plan(nat.model_nat_specs(options))


VPC_FIREWALL = Layer("VPC firewall rules", by_transport(rules.VPC_CAPS), rules.VpcOptions, _render_vpc, _read, _vpc)
FIREWALL_POLICY = Layer("firewall policy", by_transport(fqdn.POLICY_CAPS), fqdn.PolicyOptions, _render_policy, _read,
                        _policies)
LAYERS = (VPC_FIREWALL, FIREWALL_POLICY)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one VPC firewall rule or policy rule allows (without GCP's implied rules); ``None`` for others."""
    if resource.get("type") == rules.FIREWALL_TYPE or resource.get("type") in fqdn.POLICY_RULE_TYPES:
        return read([resource], implied=False)
    return None
