"""Exactness verdicts: what one firewall layer allows, read back from registered resources, against
what the profile requires projected onto that layer's capabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

from .flows import AllowedSet, Widening

__all__ = ["LayerVerdict"]


@dataclass(frozen=True)
class LayerVerdict:
    layer: str                      # e.g. "aws security groups"
    expected: AllowedSet            # project(profile flows carried by this layer, layer caps)
    actual: AllowedSet              # read(registered resources of this layer)
    widened: tuple[Widening, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exact(self) -> bool:
        return self.expected == self.actual

    @property
    def missing(self) -> AllowedSet:
        return self.expected - self.actual

    @property
    def extra(self) -> AllowedSet:
        return self.actual - self.expected

    def to_json(self) -> dict:
        return {
            "layer": self.layer,
            "exact": self.exact,
            "widened": [w.to_json() for w in self.widened],
            "missing": self.missing.to_json(),
            "extra": self.extra.to_json(),
            "notes": list(self.notes),
        }
