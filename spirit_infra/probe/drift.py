"""``dns check``: resolve every catalogue name and test the ``dns-names-within-ranges`` assumption.

Each name is resolved once (NAPTR -> SRV -> A, SRV -> A, A/CNAME) and every address it gave is checked
against the server ranges of every flow that lists the name (plus the overrides' extra Spirit ranges).
Drift is an address outside them or a name that does not resolve: a scheduled job exits 1 on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import netaddr

from ..catalogue.model import Catalogue
from .dns import Resolution, Resolver

__all__ = ["NameCheck", "DnsCheck", "check_catalogue", "in_ranges"]


def in_ranges(address: str, cidrs) -> bool:
    ip = netaddr.IPAddress(address)
    return any(ip in netaddr.IPNetwork(str(c)) for c in cidrs)


@dataclass(frozen=True)
class NameCheck:
    flow: str
    ranges: tuple[str, ...] | None      # None: the guideline gives no range (FQDN-only flow)
    resolution: Resolution

    @property
    def outside(self) -> tuple[str, ...]:
        if self.ranges is None:
            return ()
        return tuple(sorted({t.address for t in self.resolution.targets if not in_ranges(t.address, self.ranges)},
                            key=netaddr.IPAddress))

    @property
    def drift(self) -> bool:
        return bool(self.outside) or self.resolution.error is not None

    @property
    def verdict(self) -> str:
        r = self.resolution
        if r.error:
            return f"fail: {r.error}"
        if self.outside:
            return f"drift: {', '.join(self.outside)} outside {', '.join(self.ranges or ())}"
        return "ok" if self.ranges is not None else "ok (no range to check)"

    def to_json(self) -> dict:
        return {"flow": self.flow, "name": self.resolution.name, "type": self.resolution.type,
                "ranges": None if self.ranges is None else list(self.ranges),
                "addresses": [{"address": t.address, "host": t.host, "transport": t.transport, "port": t.port,
                               "in_range": None if self.ranges is None else in_ranges(t.address, self.ranges)}
                              for t in self.resolution.targets],
                "outside": list(self.outside), "drift": self.drift, "verdict": self.verdict,
                "error": self.resolution.error, "problems": list(self.resolution.problems),
                "evidence": list(self.resolution.evidence)}


@dataclass(frozen=True)
class DnsCheck:
    resolver: str
    checks: tuple[NameCheck, ...]

    @property
    def drift(self) -> bool:
        return any(c.drift for c in self.checks)

    def to_json(self) -> dict:
        return {"resolver": self.resolver, "drift": self.drift, "names": [c.to_json() for c in self.checks]}


def check_catalogue(catalogue: Catalogue, resolver: Resolver, extra_cidrs=(), workers: int = 8) -> DnsCheck:
    """Each distinct name resolved once (in parallel), reported for every flow that lists it, in catalogue order."""
    from concurrent.futures import ThreadPoolExecutor

    keys = list(dict.fromkeys((d.name, d.type) for f in catalogue.flows for d in f.dns))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        cache: dict[tuple[str, str], Resolution] = dict(zip(keys, pool.map(lambda k: resolver.resolve(*k), keys),
                                                            strict=True))
    checks = []
    for flow in catalogue.flows:
        ranges = None if flow.server_cidrs is None else tuple(
            str(c) for c in netaddr.cidr_merge(list(flow.server_cidrs) + [netaddr.IPNetwork(c) for c in extra_cidrs]))
        checks += [NameCheck(flow.id, ranges, cache[(d.name, d.type)]) for d in flow.dns]
    return DnsCheck(resolver.server, tuple(checks))


def render_text(result: DnsCheck) -> str:
    lines = [f"dns check through {result.resolver}: "
             + ("DRIFT" if result.drift else "every name resolves inside its flow's ranges")]
    for c in result.checks:
        r = c.resolution
        addrs = ", ".join(f"{t.address}{'' if c.ranges is None or in_ranges(t.address, c.ranges) else ' (outside)'}"
                          for t in r.targets) or "-"
        lines.append(f"  {c.flow:<30} {r.type:<7} {r.name:<34} {addrs}  [{c.verdict}]")
    return "\n".join(lines) + "\n"
