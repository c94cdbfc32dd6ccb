"""Stable priorities: every rule's priority comes from its own key, never from its position.

Azure evaluates NSG rules (and firewall policy rule collections) by a unique integer priority. The
classic failure is to number rules by list position: one change shifts every later rule, and the
whole NSG is rewritten. Here each rule's priority is a pure function of its key (the flow id and
transport, not the list, not the other rules):

    priority(key) = start + sha256(key) mod (width - 1)

inside a reserved band ``start .. start + width - 1``. The last priority of the band is kept for the
strict-mode deny, so the allow rules always sit before it. Rules land spread over the band, with
large gaps between them (a 2000-wide band holding ~10 rules leaves ~200 between neighbours).

Collisions are *not* resolved by probing: probing makes a rule's slot depend on which other rules
exist (remove the rule that caused the probe and the probed rule moves back), which is exactly the
renumbering we want to avoid. A collision is an error raised before anything is registered, naming
both rules and a free priority; the user pins one of the two rules with ``priority_pins`` (a pin is
also a pure function of the key, so stability holds). With the default bands none of the packaged
profiles collides (tested).

Everything here is pure and raises :class:`~spirit_infra.errors.QuotaError` /
:class:`~spirit_infra.errors.ConfigError` with the figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import ConfigError, QuotaError

__all__ = ["Band", "Slot", "ReservedPriority", "hash_slot", "assign_priorities"]


@dataclass(frozen=True)
class Band:
    """A reserved priority band ``start .. start + width - 1`` within the platform's range ``lo .. hi``."""

    start: int
    width: int
    lo: int = 100
    hi: int = 4096
    what: str = "priority"

    @property
    def end(self) -> int:
        return self.start + self.width - 1

    @property
    def deny_priority(self) -> int:
        """The band's last priority: reserved for the strict deny, never hashed into."""
        return self.end

    @property
    def slots(self) -> int:
        """How many priorities the allow rules hash into."""
        return self.width - 1

    def validate(self, field_prefix: str = "priority") -> None:
        if self.start < self.lo or self.start > self.hi:
            raise ConfigError(f"{self.start} is outside {self.lo}-{self.hi}", field=f"{field_prefix}_start")
        if self.width < 2:
            raise ConfigError(f"{self.width} is too small: the band needs at least one allow slot and the "
                              f"deny slot", field=f"{field_prefix}_width")
        if self.end > self.hi:
            raise ConfigError(f"band {self.start}-{self.end} ends after {self.hi} (start {self.start} + width "
                              f"{self.width} - 1 > {self.hi})", field=f"{field_prefix}_width")

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


@dataclass(frozen=True)
class Slot:
    """One rule to place: its key (what its priority hashes from), its name and its scope.

    ``scope`` separates independent priority spaces (NSG priorities are unique per direction).
    """

    key: str
    name: str
    scope: str = ""


@dataclass(frozen=True)
class ReservedPriority:
    """A priority already taken in a scope (a user-supplied rule). ``scope`` None = every scope."""

    name: str
    priority: int
    scope: str | None = None


def hash_slot(key: str, band: Band) -> int:
    """The priority ``key`` hashes to in ``band`` (never the band's last, reserved, priority)."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return band.start + digest % band.slots


def assign_priorities(slots: Iterable[Slot], band: Band, *, reserved: Iterable[ReservedPriority] = (),
                      pins: Mapping[str, int] | None = None, deny_scopes: Iterable[str] = ()) -> dict[str, int]:
    """Priorities by slot name. Every check happens here, before anything is registered.

    ``pins`` maps a slot *name* to a fixed priority (to settle a reported collision). ``deny_scopes``
    are the scopes whose last band priority holds the strict deny (reported as a collision if a user
    rule takes it).
    """
    band.validate()
    slots = list(slots)
    pins = dict(pins or {})
    names = {s.name for s in slots}
    unknown = sorted(set(pins) - names)
    if unknown:
        raise ConfigError(f"{unknown[0]!r} is not a rule of this layout (rules: {', '.join(sorted(names))})",
                          field="priority_pins")
    for name, p in sorted(pins.items()):
        if not band.start <= p <= band.end - 1:
            raise ConfigError(f"{name}: {p} is outside the allow slots of band {band} "
                              f"({band.start}-{band.end - 1}; {band.end} is the deny slot)", field="priority_pins")
    reserved = list(reserved)
    for r in reserved:
        if not band.lo <= r.priority <= band.hi:
            raise ConfigError(f"{r.name}: priority {r.priority} is outside {band.lo}-{band.hi}", field="extra_rules")

    by_scope: dict[str, list[Slot]] = {}
    for s in slots:
        by_scope.setdefault(s.scope, []).append(s)
    for scope, group in sorted(by_scope.items()):
        if len(group) > band.slots:
            raise QuotaError(f"priority band {band} is too small: {len(group)} {band.what} rules"
                             f"{' ' + scope if scope else ''} need {len(group)} slots plus the deny slot, "
                             f"the band has {band.slots} plus 1 (raise the width)")

    out: dict[str, int] = {}
    for scope, group in sorted(by_scope.items()):
        taken: dict[int, str] = {}
        for r in sorted(reserved, key=lambda r: (r.priority, r.name)):
            if r.scope is None or r.scope == scope:
                taken.setdefault(r.priority, f"user rule {r.name}")
        if scope in set(deny_scopes):
            if band.deny_priority in taken:
                raise QuotaError(f"{taken[band.deny_priority]} takes priority {band.deny_priority}"
                                 f"{' (' + scope + ')' if scope else ''}, the strict deny slot at the end of band "
                                 f"{band}: move the user rule or the band")
            taken[band.deny_priority] = "the strict deny"
        placed: dict[int, str] = {}
        for s in sorted(group, key=lambda s: s.name):
            p = pins.get(s.name, hash_slot(s.key, band))
            other = taken.get(p) or placed.get(p)
            if other is not None:
                free = _free_near(p, band, set(taken) | set(placed) | {hash_slot(x.key, band) for x in group})
                raise QuotaError(f"priority collision in band {band}"
                                 f"{' (' + scope + ')' if scope else ''}: rule {s.name} gets {p}, already taken by "
                                 f"{other}; "
                                 f"pin it with priority_pins {{{s.name!r}: {free}}} (CLI: --pin {s.name}={free}) "
                                 "or move the band")
            placed[p] = f"rule {s.name}"
            out[s.name] = p
    return out


def _free_near(p: int, band: Band, used: set[int]) -> int:
    for d in range(1, band.width):
        for q in (p + d, p - d):
            if band.start <= q <= band.end - 1 and q not in used:
                return q
    return p  # pragma: no cover - the size check guarantees a free slot
