"""Partition a profile's egress traffic into disjoint boxes, each with one DSCP decision (pure).

nftables interval maps over concatenations (``ip daddr . meta l4proto . th sport . th dport``) need
disjoint elements, and one lookup per packet must give one answer. Flows of a profile overlap (the
phones' SIP row lies inside their audio and video rows; audio and video are the same box), so the
space is refined into elementary cells and each cell gets a *decision*:

- the flows covering a cell are reduced to the most specific ones: a flow whose box strictly contains
  another covering flow's box yields to it (phone SIP 5060-8060 -> 5060-5062 is CS3 although the
  audio row, any port to any port, also covers it);
- if the remaining flows agree on one class, that class is the decision;
- if they disagree (the phones' audio EF and video AF41: same addresses, same ports), the packet's
  own mark is kept when it is one of those classes, otherwise the lowest of them is set, so nothing
  gets EF without asking for it. Decision ``("keep", classes, lowest)``.

Cells with equal decisions are merged back into few boxes (grouped by address, then by port strips).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass

import netaddr

from ..catalogue.model import DSCP_VALUES
from ..flows import PORT_MAX, PORT_MIN, AllowedSet, Term

__all__ = ["DSCP_VALUES", "Decision", "Box", "classify", "fixed", "keep"]

# DSCP_VALUES: the catalogue's classes' code points (RFC 4594); the order of "lowest" is numeric

Range = tuple[int, int]


@dataclass(frozen=True, order=True)
class Decision:
    """``set`` a fixed class, or ``keep`` the packet's class when in ``classes`` else set ``fallback``."""

    kind: str  # "set" | "keep"
    classes: tuple[str, ...]  # sorted by DSCP value
    fallback: str

    @property
    def name(self) -> str:
        if self.kind == "set":
            return self.fallback.lower()
        return "keep_" + "_".join(c.lower() for c in self.classes)


def fixed(cls: str) -> Decision:
    return Decision("set", (cls,), cls)


def keep(classes) -> Decision:
    ordered = tuple(sorted(set(classes), key=lambda c: DSCP_VALUES[c]))
    if len(ordered) == 1:
        return fixed(ordered[0])
    return Decision("keep", ordered, ordered[0])


@dataclass(frozen=True, order=True)
class Box:
    """Disjoint box of egress traffic: transport, destination CIDRs, source and destination port ranges."""

    transport: str
    cidrs: tuple[str, ...]
    src: Range
    dst: Range
    value: object  # a Decision, or the set of flow ids for the allowed set


def _boundaries(ranges_list) -> list[int]:
    pts = {PORT_MIN, PORT_MAX + 1}
    for ranges in ranges_list:
        for lo, hi in ranges:
            pts.update((lo, hi + 1))
    return sorted(pts)


def _intervals(points: list[int]) -> list[Range]:
    return [(a, b - 1) for a, b in zip(points, points[1:], strict=False)]


class _AddrIndex:
    """Which address atoms a term's CIDRs cover, by bisecting sorted disjoint intervals."""

    def __init__(self, cidrs: tuple[str, ...]):
        ivs = sorted((int(n.first), int(n.last)) for n in map(netaddr.IPNetwork, cidrs))
        self.starts = [a for a, _ in ivs]
        self.ivs = ivs

    def covers(self, lo: int, hi: int) -> bool:
        i = bisect.bisect_right(self.starts, lo) - 1
        return i >= 0 and self.ivs[i][0] <= lo and hi <= self.ivs[i][1]


def _refine(terms: list[Term], value_of) -> list[Box]:
    """Disjoint boxes covering exactly the union of ``terms`` (IPv4 CIDR peers), merged by value."""
    out: list[Box] = []
    by_transport: dict[str, list[Term]] = defaultdict(list)
    for t in terms:
        if t.peer.cidrs:
            by_transport[t.transport].append(t)
    for transport, ts in sorted(by_transport.items()):
        index = [_AddrIndex(tuple(c for c in t.peer.cidrs if ":" not in c)) for t in ts]
        points: set[int] = set()
        for ix in index:
            for lo, hi in ix.ivs:
                points.update((lo, hi + 1))
        pts = sorted(points)
        src_iv = _intervals(_boundaries(t.src_ports.ranges for t in ts))
        dst_iv = _intervals(_boundaries(t.dst_ports.ranges for t in ts))
        by_grid: dict[tuple, list[Range]] = defaultdict(list)
        grid_cache: dict[tuple[int, ...], tuple] = {}
        for a, b in zip(pts, pts[1:], strict=False):
            covering = tuple(i for i, ix in enumerate(index) if ix.covers(a, b - 1))
            if not covering:
                continue
            grid = grid_cache.get(covering)
            if grid is None:
                grid = grid_cache[covering] = _grid([ts[i] for i in covering], src_iv, dst_iv, value_of)
            if grid:
                by_grid[grid].append((a, b - 1))
        for grid, atoms in by_grid.items():
            cidrs = _atoms_to_cidrs(atoms)
            for src, dst, value in grid:
                out.append(Box(transport, cidrs, src, dst, value))
    return sorted(out, key=lambda b: (b.transport, b.cidrs, b.src, b.dst))


def _grid(ts: list[Term], src_iv: list[Range], dst_iv: list[Range], value_of) -> tuple:
    """Merged (src range, dst range, value) rectangles of the cells covered by ``ts``."""
    rows: list[tuple[Range, tuple]] = []
    for s in src_iv:
        s_terms = [t for t in ts if s[0] in t.src_ports]
        row: list[list] = []
        for d in dst_iv:
            cover = [t for t in s_terms if d[0] in t.dst_ports]
            if not cover:
                continue
            v = value_of(cover)
            if v is None:
                continue
            if row and row[-1][2] == v and row[-1][1] + 1 == d[0]:
                row[-1][1] = d[1]
            else:
                row.append([d[0], d[1], v])
        key = tuple((lo, hi, v) for lo, hi, v in row)
        if rows and rows[-1][1] == key and rows[-1][0][1] + 1 == s[0]:
            rows[-1] = ((rows[-1][0][0], s[1]), key)
        elif key:
            rows.append((s, key))
    return tuple(((s[0], s[1]), (lo, hi), v) for s, row in rows for lo, hi, v in row)


def _atoms_to_cidrs(atoms: list[Range]) -> tuple[str, ...]:
    nets = []
    for lo, hi in atoms:
        nets.extend(netaddr.IPRange(netaddr.IPAddress(lo, 4), netaddr.IPAddress(hi, 4)).cidrs())
    return tuple(str(n) for n in sorted(netaddr.cidr_merge(nets)))


def _most_specific(cover: list[Term]) -> list[Term]:
    flows = {t.flow: t for t in cover}
    if len(flows) == 1:
        return list(flows.values())
    keep_: list[Term] = []
    for f, t in flows.items():
        dominated = any(_strictly_contains(t, u) for g, u in flows.items() if g != f)
        if not dominated:
            keep_.append(t)
    return keep_


_contain_cache: dict[tuple, bool] = {}


def _box_le(inner: Term, outer: Term) -> bool:
    return (inner.transport == outer.transport and inner.src_ports.issubset(outer.src_ports)
            and inner.dst_ports.issubset(outer.dst_ports)
            and netaddr.IPSet(inner.peer.cidrs).issubset(netaddr.IPSet(outer.peer.cidrs)))


def _strictly_contains(outer: Term, inner: Term) -> bool:
    """Box of ``outer`` strictly contains box of ``inner`` (address peers; both non-empty)."""
    key = (outer, inner)
    if key not in _contain_cache:
        if len(_contain_cache) > 4096:
            _contain_cache.clear()
        _contain_cache[key] = _box_le(inner, outer) and not _box_le(outer, inner)
    return _contain_cache[key]


def classify(allowed: AllowedSet, dscp_of: dict[str, str]) -> list[Box]:
    """Disjoint egress boxes with their DSCP :class:`Decision`; cells whose decision is a plain 0 are left
    out (they fall through to the remark-to-0 rule, like traffic outside the catalogue)."""
    terms = [t for t in allowed if t.direction == "egress"]

    def value_of(cover: list[Term]) -> Decision | None:
        d = keep(dscp_of[t.flow] for t in _most_specific(cover))
        return None if d == fixed("0") else d

    return _refine(terms, value_of)


def allowed_boxes(allowed: AllowedSet) -> list[Box]:
    """Disjoint egress boxes (CIDR peers) covering exactly the egress part of ``allowed``."""
    terms = [t for t in allowed if t.direction == "egress"]
    return _refine(terms, lambda cover: True)
