"""The allowed-set algebra: exact sets of permitted traffic, compacted, with set operations.

A :class:`Term` is a box: one direction, one transport, a remote peer (CIDRs and/or DNS names),
source ports and destination ports. An :class:`AllowedSet` is a union of terms, each optionally
labelled with the flow id it came from. Set operations (``|``, ``&``, ``-``, ``==``, ``<=``) look
at the traffic only, never at labels; their results are unlabelled and canonical, so two sets that
allow the same traffic compare equal however they were written.

Peer semantics: the peer is the *remote* side (destination for egress, source for ingress).
Port semantics follow the packet: for egress ``src_ports`` are the local (client) ports and
``dst_ports`` the server ports; for ingress ``src_ports`` are the remote ports and ``dst_ports``
the local (listening) ports. DNS names are opaque atoms: ``ztp.polycom.com`` is its own destination,
distinct from every address. Platform destinations are opaque atoms too, spelled ``<kind>:<name>``:
an Azure service tag (``azure-service-tag:AzureMonitor``) or an AWS-managed prefix list
(``aws-prefix-list:com.amazonaws.ap-southeast-2.s3``); each is distinct from every address and every
DNS name, because only the cloud knows what it holds. :func:`project` is the only place a name or a
platform destination turns into addresses (or is refused).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import netaddr

from .errors import CapabilityError

__all__ = [
    "PLATFORM_KINDS",
    "PORT_MIN",
    "PORT_MAX",
    "DIRECTIONS",
    "TRANSPORTS",
    "PortSet",
    "Peer",
    "Term",
    "AllowedSet",
    "Capabilities",
    "Widening",
    "Projection",
    "project",
    "ANY_IPV4",
    "ANY_IPV6",
]

PORT_MIN, PORT_MAX = 0, 65535
DIRECTIONS = ("egress", "ingress")
TRANSPORTS = ("tcp", "udp")
ANY_IPV4 = "0.0.0.0/0"
ANY_IPV6 = "::/0"
#: the kinds of platform destination (``<kind>:<name>`` atoms)
PLATFORM_KINDS = ("azure-service-tag", "aws-prefix-list")

Range = tuple[int, int]


def _merge_ranges(ranges: Iterable[Range]) -> tuple[Range, ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            raise ValueError(f"reversed range {lo}-{hi}")
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


@dataclass(frozen=True, order=True)
class PortSet:
    """A set of ports as sorted, disjoint, non-adjacent inclusive ranges."""

    ranges: tuple[Range, ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[Iterable[int]] | None) -> PortSet:
        """``None`` means any port."""
        if ranges is None:
            return ANY_PORTS
        return cls(_merge_ranges((int(a), int(b)) for a, b in ranges))

    @classmethod
    def single(cls, port: int) -> PortSet:
        return cls(((port, port),))

    @property
    def is_any(self) -> bool:
        return self.ranges == ((PORT_MIN, PORT_MAX),)

    @property
    def is_empty(self) -> bool:
        return not self.ranges

    def __len__(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)

    def __contains__(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ranges)

    def __or__(self, other: PortSet) -> PortSet:
        return PortSet(_merge_ranges(self.ranges + other.ranges))

    def __and__(self, other: PortSet) -> PortSet:
        out, i, j = [], 0, 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return PortSet(tuple(out))

    def __sub__(self, other: PortSet) -> PortSet:
        return self & other.complement()

    def complement(self) -> PortSet:
        out, nxt = [], PORT_MIN
        for lo, hi in self.ranges:
            if lo > nxt:
                out.append((nxt, lo - 1))
            nxt = hi + 1
        if nxt <= PORT_MAX:
            out.append((nxt, PORT_MAX))
        return PortSet(tuple(out))

    def issubset(self, other: PortSet) -> bool:
        return (self - other).is_empty

    def to_json(self) -> list[list[int]] | None:
        """``None`` for any port, else ``[[lo, hi], ...]``."""
        return None if self.is_any else [[lo, hi] for lo, hi in self.ranges]

    def __str__(self) -> str:
        if self.is_any:
            return "any"
        if self.is_empty:
            return "none"
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


ANY_PORTS = PortSet(((PORT_MIN, PORT_MAX),))
NO_PORTS = PortSet(())


def compact_cidrs(cidrs: Iterable[str | netaddr.IPNetwork]) -> tuple[str, ...]:
    """Minimal CIDR list covering exactly the union (IPv4 before IPv6, in address order)."""
    nets = [c if isinstance(c, netaddr.IPNetwork) else netaddr.IPNetwork(str(c)) for c in cidrs]
    return tuple(str(n) for n in sorted(netaddr.cidr_merge(nets), key=lambda n: (n.version, n.first)))


@dataclass(frozen=True, order=True)
class Peer:
    """The remote side of a term: CIDRs (compacted), DNS names (lower case, sorted) and platform
    destinations (``<kind>:<name>``, sorted; see :data:`PLATFORM_KINDS`)."""

    cidrs: tuple[str, ...] = ()
    fqdns: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()

    @classmethod
    def of(cls, cidrs: Iterable[str | netaddr.IPNetwork] = (), fqdns: Iterable[str] = (),
           platform: Iterable[str] = ()) -> Peer:
        names = set(platform)
        for n in names:
            if n.partition(":")[0] not in PLATFORM_KINDS or not n.partition(":")[2]:
                raise ValueError(f"platform destination {n!r} must be <kind>:<name>, kind one of {PLATFORM_KINDS}")
        return cls(compact_cidrs(cidrs), tuple(sorted({f.lower().rstrip(".") for f in fqdns})), tuple(sorted(names)))

    @property
    def is_empty(self) -> bool:
        return not self.cidrs and not self.fqdns and not self.platform

    def to_json(self) -> dict:
        out: dict = {"cidrs": list(self.cidrs), "fqdns": list(self.fqdns)}
        if self.platform:
            out["platform"] = list(self.platform)
        return out

    def __str__(self) -> str:
        return ",".join(list(self.cidrs) + list(self.fqdns) + list(self.platform)) or "none"


@dataclass(frozen=True, order=True)
class Term:
    """One box of permitted traffic. ``flow`` labels where it came from ("" when unknown)."""

    direction: str
    transport: str
    peer: Peer
    src_ports: PortSet = ANY_PORTS
    dst_ports: PortSet = ANY_PORTS
    flow: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {self.direction!r}")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {self.transport!r}")

    @property
    def is_empty(self) -> bool:
        return self.peer.is_empty or self.src_ports.is_empty or self.dst_ports.is_empty

    def to_json(self) -> dict:
        return {
            "flow": self.flow,
            "direction": self.direction,
            "transport": self.transport,
            "peer": self.peer.to_json(),
            "src_ports": self.src_ports.to_json(),
            "dst_ports": self.dst_ports.to_json(),
        }

    def __str__(self) -> str:
        label = f"[{self.flow}] " if self.flow else ""
        return (f"{label}{self.direction} {self.transport} peer={self.peer} "
                f"sport={self.src_ports} dport={self.dst_ports}")


# ---- canonical form -------------------------------------------------------------------------------
# Atoms: ("ip", version, first, last) elementary address intervals, ("fqdn", name) or ("platform", atom).

Atom = tuple


@lru_cache(maxsize=4096)
def _interval(cidr: str) -> tuple[int, int, int]:
    n = netaddr.IPNetwork(cidr)
    return (n.version, int(n.first), int(n.last))


def _ip_intervals(peer: Peer) -> list[tuple[int, int, int]]:
    return [_interval(c) for c in peer.cidrs]


def _refine_peers(terms_by_side: list[list[Term]]) -> list[tuple[Atom, list[list[Term]]]]:
    """Common refinement of all peers: each elementary atom with, per side, the terms covering it.

    A sweep over interval boundaries: O((B + T) log B) plus the size of the output, so a catalogue
    with thousands of CIDRs refines in linear time instead of scanning every span per atom.
    """
    events: dict[int, dict[int, list[tuple[int, int, int]]]] = defaultdict(lambda: defaultdict(list))
    fqdns: set[str] = set()
    platform: set[str] = set()
    for s_i, side in enumerate(terms_by_side):
        for t_i, t in enumerate(side):
            for v, lo, hi in _ip_intervals(t.peer):
                events[v][lo].append((1, s_i, t_i))
                events[v][hi + 1].append((-1, s_i, t_i))
            fqdns.update(t.peer.fqdns)
            platform.update(t.peer.platform)
    result: list[tuple[Atom, list[list[Term]]]] = []
    for v in sorted(events):
        points = sorted(events[v])
        active: list[dict[int, int]] = [dict() for _ in terms_by_side]
        for a, b in zip(points, points[1:] + [None], strict=True):
            for delta, s_i, t_i in events[v][a]:
                n = active[s_i].get(t_i, 0) + delta
                if n:
                    active[s_i][t_i] = n
                else:
                    active[s_i].pop(t_i, None)
            if b is None or not any(active):
                continue
            covering = [[terms_by_side[s_i][t_i] for t_i in sorted(act)] for s_i, act in enumerate(active)]
            result.append((("ip", v, a, b - 1), covering))
    for name in sorted(fqdns):
        covering = [[t for t in side if name in t.peer.fqdns] for side in terms_by_side]
        result.append((("fqdn", name), covering))
    for name in sorted(platform):
        covering = [[t for t in side if name in t.peer.platform] for side in terms_by_side]
        result.append((("platform", name), covering))
    return result


def _cells(sides: list[list[Term]], op: Callable[[list[PortSet]], PortSet]) -> list[tuple[PortSet, PortSet]]:
    """Canonical 2-D form (src, dst) of op applied per elementary source interval."""
    bounds: set[int] = {PORT_MIN, PORT_MAX + 1}
    for side in sides:
        for t in side:
            for lo, hi in t.src_ports.ranges:
                bounds.update((lo, hi + 1))
    points = sorted(bounds)
    strips: list[tuple[int, int, PortSet]] = []
    for a, b in zip(points, points[1:], strict=False):
        dsts = []
        for side in sides:
            d = NO_PORTS
            for t in side:
                if a in t.src_ports:
                    d = d | t.dst_ports
            dsts.append(d)
        r = op(dsts)
        if r.is_empty:
            continue
        if strips and strips[-1][2] == r and strips[-1][1] + 1 == a:
            strips[-1] = (strips[-1][0], b - 1, r)
        else:
            strips.append((a, b - 1, r))
    by_dst: dict[PortSet, list[Range]] = defaultdict(list)
    for lo, hi, d in strips:
        by_dst[d].append((lo, hi))
    return sorted((PortSet(_merge_ranges(srcs)), d) for d, srcs in by_dst.items())


def _atoms_to_peer(atoms: list[Atom]) -> Peer:
    # merge touching address intervals first: disjoint, non-adjacent intervals decompose into a minimal
    # CIDR list on their own, so no cidr_merge (and no re-parsing) is needed afterwards
    spans: list[list[int]] = []
    names: list[str] = []
    for atom in sorted(a for a in atoms if a[0] == "ip"):
        _, v, lo, hi = atom
        if spans and spans[-1][0] == v and spans[-1][2] + 1 == lo:
            spans[-1][2] = hi
        else:
            spans.append([v, lo, hi])
    names = sorted({a[1] for a in atoms if a[0] == "fqdn"})
    platform = sorted({a[1] for a in atoms if a[0] == "platform"})
    cidrs = [str(c) for v, lo, hi in spans
             for c in netaddr.iprange_to_cidrs(netaddr.IPAddress(lo, v), netaddr.IPAddress(hi, v))]
    return Peer(tuple(cidrs), tuple(names), tuple(platform))


def _combine(sides: list[Iterable[Term]], op: Callable[[list[PortSet]], PortSet]) -> tuple[Term, ...]:
    grouped: dict[tuple[str, str], list[list[Term]]] = {}
    for i, side in enumerate(sides):
        for t in side:
            if t.is_empty:
                continue
            grouped.setdefault((t.direction, t.transport), [[] for _ in sides])[i].append(t)
    out: list[Term] = []
    for (direction, transport), per_side in sorted(grouped.items()):
        by_form: dict[tuple, list[Atom]] = defaultdict(list)
        for atom, covering in _refine_peers(per_side):
            form = tuple(_cells(covering, op))
            if form:
                by_form[form].append(atom)
        for form, atoms in by_form.items():
            peer = _atoms_to_peer(atoms)
            for src, dst in form:
                out.append(Term(direction, transport, peer, src, dst))
    return tuple(sorted(out))


def _union(ds: list[PortSet]) -> PortSet:
    r = NO_PORTS
    for d in ds:
        r = r | d
    return r


class AllowedSet:
    """An exact, compacted set of permitted traffic; terms may carry flow labels."""

    __slots__ = ("terms", "_canon")

    def __init__(self, terms: Iterable[Term] = ()):
        by_flow: dict[str, list[Term]] = defaultdict(list)
        for t in terms:
            by_flow[t.flow].append(t)
        compacted: list[Term] = []
        for flow, ts in sorted(by_flow.items()):
            for t in _combine([ts], _union):
                compacted.append(Term(t.direction, t.transport, t.peer, t.src_ports, t.dst_ports, flow))
        self.terms: tuple[Term, ...] = tuple(sorted(compacted, key=_term_order))
        self._canon: tuple[Term, ...] | None = None

    # -- views -----------------------------------------------------------------------------------
    def canonical(self) -> tuple[Term, ...]:
        """Unlabelled canonical terms: equal for equal traffic, whatever the labels or spelling."""
        if self._canon is None:
            self._canon = _combine([self.terms], _union)
        return self._canon

    @property
    def flow_ids(self) -> tuple[str, ...]:
        return tuple(sorted({t.flow for t in self.terms}))

    def by_flow(self) -> dict[str, AllowedSet]:
        groups: dict[str, list[Term]] = defaultdict(list)
        for t in self.terms:
            groups[t.flow].append(t)
        return {k: AllowedSet(v) for k, v in sorted(groups.items())}

    def select(self, *, direction: str | None = None, transport: str | None = None,
               flows: Iterable[str] | None = None) -> AllowedSet:
        wanted = set(flows) if flows is not None else None
        return AllowedSet(t for t in self.terms
                          if (direction is None or t.direction == direction)
                          and (transport is None or t.transport == transport)
                          and (wanted is None or t.flow in wanted))

    def relabel(self, flow: str) -> AllowedSet:
        return AllowedSet(Term(t.direction, t.transport, t.peer, t.src_ports, t.dst_ports, flow) for t in self.terms)

    @property
    def is_empty(self) -> bool:
        return not self.terms

    def __iter__(self):
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    # -- algebra -----------------------------------------------------------------------------------
    def __or__(self, other: AllowedSet) -> AllowedSet:
        return AllowedSet(self.terms + other.terms)

    def __and__(self, other: AllowedSet) -> AllowedSet:
        return AllowedSet(_combine([self.terms, other.terms], lambda d: d[0] & d[1]))

    def __sub__(self, other: AllowedSet) -> AllowedSet:
        return AllowedSet(_combine([self.terms, other.terms], lambda d: d[0] - d[1]))

    def __le__(self, other: AllowedSet) -> bool:
        return (self - other).is_empty

    def __ge__(self, other: AllowedSet) -> bool:
        return other <= self

    def issubset(self, other: AllowedSet) -> bool:
        return self <= other

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AllowedSet):
            return NotImplemented
        return self.canonical() == other.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())

    def to_json(self) -> list[dict]:
        return [t.to_json() for t in self.terms]

    def __repr__(self) -> str:
        return "AllowedSet([\n" + "".join(f"  {t}\n" for t in self.terms) + "])"


def _term_order(t: Term):
    return (t.flow, t.direction, t.transport, t.peer, t.src_ports, t.dst_ports)


# ---- projection -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Capabilities:
    """What one firewall primitive can express (Aerleon-style capability declaration)."""

    name: str
    source_ports: bool = True
    fqdn: bool = True
    #: what an FQDN destination widens to where ``fqdn`` is False
    fqdn_fallback: tuple[str, ...] = (ANY_IPV4,)
    #: the platform-destination kinds expressed exactly (None: every kind); the others widen to
    #: ``fqdn_fallback`` (a named widening), or are refused when listed in ``platform_refused``
    platform: tuple[str, ...] | None = None
    platform_refused: tuple[str, ...] = ()
    #: why a refused kind cannot be expressed (the one line the user reads)
    platform_reason: str = ""

    def platform_exact(self, atom: str) -> bool:
        return self.platform is None or atom.partition(":")[0] in self.platform


@dataclass(frozen=True, order=True)
class Widening:
    """A named widening: one flow, one dimension, what it was and what the target allows instead."""

    flow: str
    dimension: str  # "source_ports" | "destination"
    before: str
    after: str
    target: str = ""

    def to_json(self) -> dict:
        return {"flow": self.flow, "dimension": self.dimension, "before": self.before,
                "after": self.after, "target": self.target}

    def __str__(self) -> str:
        return f"{self.target}: {self.flow}: {self.dimension} widened from {self.before} to {self.after}"


@dataclass(frozen=True)
class Projection:
    allowed: AllowedSet
    widened: tuple[Widening, ...] = field(default_factory=tuple)


def project(allowed: AllowedSet, caps: Capabilities) -> Projection:
    """Reduce ``allowed`` to what ``caps`` can express, widening only along the named dimensions.

    Every widening is returned; nothing else changes. The result is a superset of ``allowed``.
    A platform destination of a kind in ``caps.platform_refused`` raises :class:`CapabilityError`.
    """
    terms: list[Term] = []
    widened: set[Widening] = set()
    for t in allowed.terms:
        src, peer = t.src_ports, t.peer
        if not caps.source_ports and not src.is_any:
            widened.add(Widening(t.flow, "source_ports", str(src), "any", caps.name))
            src = ANY_PORTS
        if not caps.fqdn and peer.fqdns:
            widened.add(Widening(t.flow, "destination", ",".join(peer.fqdns),
                                 ",".join(caps.fqdn_fallback), caps.name))
            peer = Peer.of(list(peer.cidrs) + list(caps.fqdn_fallback), (), peer.platform)
        if peer.platform and not all(caps.platform_exact(a) for a in peer.platform):
            refused = [a for a in peer.platform if a.partition(":")[0] in caps.platform_refused]
            if refused:
                raise CapabilityError(f"{caps.name}: flow {t.flow or '(unlabelled)'}: platform destination "
                                      f"{refused[0]} cannot be expressed here ({caps.platform_reason or 'refused'})")
            keep = [a for a in peer.platform if caps.platform_exact(a)]
            gone = [a for a in peer.platform if not caps.platform_exact(a)]
            widened.add(Widening(t.flow, "destination", ",".join(gone), ",".join(caps.fqdn_fallback), caps.name))
            peer = Peer.of(list(peer.cidrs) + list(caps.fqdn_fallback), peer.fqdns, keep)
        terms.append(Term(t.direction, t.transport, peer, src, t.dst_ports, t.flow))
    return Projection(AllowedSet(terms), tuple(sorted(widened)))
