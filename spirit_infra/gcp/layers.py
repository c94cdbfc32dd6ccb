"""The GCP firewall layers, as the registry (:mod:`spirit_infra.registry`) lists them (pure).

The VPC firewall rules are one layer; each network firewall policy is a layer of its own (GCP evaluates
them in turn). Each is read with GCP's implied rules.
"""

from __future__ import annotations

from ..flows import AllowedSet
from ..registry import Layer
from .fqdn import POLICY_RULE_TYPES
from .read import read
from .rules import FIREWALL_TYPE

__all__ = ["LAYERS", "read_one"]


def _vpc(rs: list[dict]) -> dict[str, list[dict]]:
    vpc = [r for r in rs if r["type"] == FIREWALL_TYPE]
    return {"": vpc} if vpc else {}


def _policies(rs: list[dict]) -> dict[str, list[dict]]:
    """One instance per firewall policy, under the policy it names."""
    out: dict[str, list[dict]] = {}
    for r in rs:
        if r["type"] in POLICY_RULE_TYPES:
            out.setdefault(str((r.get("inputs") or {}).get("firewallPolicy") or ""), []).append(r)
    return out


def _read(rs: list[dict]):
    return read(rs, implied=True)


LAYERS = (
    Layer("VPC firewall rules", _vpc, _read),
    Layer("firewall policy", _policies, _read),
)


def read_one(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """What one VPC firewall rule or policy rule allows (without GCP's implied rules); ``None`` for others."""
    if resource.get("type") == FIREWALL_TYPE or resource.get("type") in POLICY_RULE_TYPES:
        return read([resource], implied=False)
    return None
