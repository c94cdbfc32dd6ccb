"""Helpers shared by the GCP renderers and readers (pure: no pulumi).

- GCP names: ``[a-z]([-a-z0-9]*[a-z0-9])?``, 1-63 characters (firewall rules, policies, routers, addresses).
- Port lists as GCP writes them (``"443"``, ``"5060-5062"``; no list means every port).
- The layered evaluation both readers share: rules in priority order (lower number wins, deny wins
  ties), first match decides; ``goto_next`` hands the traffic to the next layer; the implied rules
  (allow all egress, deny all ingress) come last.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import netaddr

from ..errors import ConfigError
from ..flows import ANY_IPV4, ANY_IPV6, ANY_PORTS, AllowedSet, Peer, PortSet, Term
from ..plan import Param, Plan, Ref, ResourceSpec

#: GCP has neither Azure service tags nor AWS-managed prefix lists: a platform destination is refused
PLATFORM_REFUSED = {"platform": (), "platform_refused": ("azure-service-tag", "aws-prefix-list"),
                    "platform_reason": "GCP has no Azure service tags or AWS-managed prefix lists; list the "
                                       "service's CIDRs or DNS names instead"}

__all__ = ["specs_plan", "NAME_RE", "NAME_MAX", "check_name", "short_hash", "ports_to_gcp", "ports_from_gcp",
           "split_by_version", "Rule", "evaluate", "everything", "ACTIONS"]

NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 63
ACTIONS = ("deny", "allow", "goto_next")  # order = tie-break at equal priority (deny wins)


def check_name(name: str, field: str = "name") -> str:
    """Raise ConfigError unless ``name`` is a valid GCP resource name."""
    if not isinstance(name, str) or not name:
        raise ConfigError("a GCP name must be a non-empty string", field=field)
    if len(name) > NAME_MAX:
        raise ConfigError(f"GCP name {name!r} is {len(name)} characters; the limit is {NAME_MAX}", field=field)
    if not NAME_RE.match(name):
        raise ConfigError(f"GCP name {name!r} must match [a-z]([-a-z0-9]*[a-z0-9])? (lower case letters, "
                          "digits and dashes, starting with a letter, not ending with a dash)", field=field)
    return name


def short_hash(data, n: int = 6) -> str:
    """A short, stable content hash of JSON-able data."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def ports_to_gcp(ports: PortSet) -> list[str] | None:
    """GCP port strings, or None for every port (GCP: omit ``ports``)."""
    if ports.is_any:
        return None
    return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports.ranges]


def ports_from_gcp(ports: Sequence | None, field: str = "ports") -> PortSet:
    """Parse GCP port strings (``"443"``, ``"5060-5062"``); missing or empty means every port."""
    if not ports:
        return ANY_PORTS
    ranges = []
    for p in ports:
        s = str(p).strip()
        lo, sep, hi = s.partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ConfigError(f"bad port {p!r}", field=field) from None
        if not (0 <= a <= b <= 65535):
            raise ConfigError(f"bad port range {p!r}", field=field)
        ranges.append((a, b))
    return PortSet.of(ranges)


def split_by_version(cidrs: Iterable[str]) -> dict[int, tuple[str, ...]]:
    """CIDRs grouped by IP version (GCP never mixes IPv4 and IPv6 in one rule)."""
    out: dict[int, list[str]] = {}
    for c in cidrs:
        out.setdefault(netaddr.IPNetwork(c).version, []).append(c)
    return {v: tuple(cs) for v, cs in sorted(out.items())}


def everything(direction: str, flow: str = "") -> AllowedSet:
    """All TCP and UDP traffic in one direction, to or from any IPv4/IPv6 address."""
    peer = Peer.of([ANY_IPV4, ANY_IPV6])
    return AllowedSet(Term(direction, t, peer, ANY_PORTS, ANY_PORTS, flow) for t in ("tcp", "udp"))


@dataclass(frozen=True)
class Rule:
    """One rule as the evaluator sees it: its traffic, its action and its place."""

    priority: int
    action: str
    traffic: AllowedSet
    flow: str = ""
    name: str = ""


def evaluate(layers: Sequence[Sequence[Rule]]) -> AllowedSet:
    """The traffic a chain of rule layers allows.

    Within a layer, rules run in priority order (lower number first; at equal priority deny, then
    allow, then goto_next) and the first matching rule decides. ``allow`` and ``deny`` are final;
    ``goto_next`` leaves the traffic to the next layer. Allowed terms keep the matching rule's flow label.
    """
    decided = AllowedSet()
    allowed: list[Term] = []
    for layer in layers:
        seen = AllowedSet()
        final = AllowedSet()
        for r in sorted(layer, key=lambda r: (r.priority, ACTIONS.index(r.action), r.name)):
            if r.traffic.is_empty:
                continue
            eff = r.traffic - decided - seen
            seen = seen | r.traffic
            if eff.is_empty:
                continue
            if r.action == "allow":
                allowed.extend(eff.relabel(r.flow).terms)
            if r.action in ("allow", "deny"):
                final = final | eff
        decided = decided | final
    return AllowedSet(allowed)


# ---- the plan ----------------------------------------------------------------------------------------

def _typed(ref: str | list) -> Ref | Param | list:
    """A render's ``refs`` value (``"res:<spec>.<output>"``, ``"arg:<name>"`` or a list) as the plan IR's."""
    if isinstance(ref, list):
        return [_typed(r) for r in ref]
    kind, _, target = ref.partition(":")
    if kind == "arg":
        return Param(target)
    spec, _, output = target.rpartition(".")
    return Ref(spec, output)


def specs_plan(specs, widened=(), warnings=(), expected=None) -> Plan:
    """The GCP renders' spec dicts (inputs plus ``refs``) as a :class:`~spirit_infra.plan.Plan` (this cloud's
    one adapter)."""
    return Plan(tuple(ResourceSpec(s["type"], s["name"], {**s["inputs"], **{k: _typed(v) for k, v in
                                                                             s.get("refs", {}).items()}})
                      for s in specs), tuple(widened), tuple(warnings), expected)
