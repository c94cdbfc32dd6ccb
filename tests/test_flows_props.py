"""Property tests of the flow algebra against an independent point-membership oracle.

The oracle ``allows`` knows nothing of compaction: a packet (direction, transport, remote peer, source
port, destination port) is allowed when some raw box contains it. A remote peer is an address, a DNS
name or a platform destination (an Azure service tag, an AWS-managed prefix list): names and platform
destinations are opaque atoms, each only itself. Small pools of ports and CIDRs make
ranges overlap, nest and touch, so merging and splitting are exercised on every run.
"""

from __future__ import annotations

import ipaddress
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spirit_infra.errors import CapabilityError
from spirit_infra.flows import ANY_IPV4, AllowedSet, Capabilities, Peer, PortSet, Term, project

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: the tests that run many set operations per example: fewer examples keep the file under ~30 s
HEAVY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PORTS = [0, 1, 5, 6, 10, 11, 80, 443, 444, 1000, 65534, 65535]
CIDRS = ["10.0.0.0/8", "10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/23", "10.0.0.128/25", "10.0.0.5/32",
         "10.0.0.4/32", "11.0.0.0/8", "192.0.2.0/24", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1",
         "2001:db8::/32", "2001:db8::/33", "2001:db8:8000::/33", "::/0"]
FQDNS = ["a.example.com", "b.example.com", "ztp.polycom.com"]
PLATFORM = ["azure-service-tag:AzureMonitor", "azure-service-tag:Storage.AustraliaEast",
            "aws-prefix-list:com.amazonaws.ap-southeast-2.s3"]
LABELS = ["", "f1", "f2"]


# ---- the oracle: raw boxes, no compaction -------------------------------------------------------------

def box_of(t: Term) -> tuple:
    return (t.direction, t.transport, tuple(t.peer.cidrs), tuple(t.peer.fqdns), tuple(t.peer.platform),
            t.src_ports.ranges, t.dst_ports.ranges)


def _in_ranges(port: int, ranges) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


@cache
def _net(c: str):
    return ipaddress.ip_network(c)


@cache
def _addr(peer: str):
    try:
        return ipaddress.ip_address(peer)
    except ValueError:
        return None  # a DNS name


def _in_peer(peer: str, cidrs, fqdns, platform) -> bool:
    if peer in PLATFORM:
        return peer in platform
    ip = _addr(peer)
    if ip is not None:
        return any(ip in _net(c) for c in cidrs)
    return peer.lower() in {f.lower().rstrip(".") for f in fqdns}


def allows(boxes, direction, transport, peer, sport, dport) -> bool:
    return any(d == direction and tr == transport and _in_peer(peer, cidrs, fqdns, platform)
               and _in_ranges(sport, src) and _in_ranges(dport, dst)
               for d, tr, cidrs, fqdns, platform, src, dst in boxes)


# ---- strategies -----------------------------------------------------------------------------------------

ranges_st = st.lists(
    st.tuples(st.sampled_from(PORTS), st.sampled_from(PORTS)).map(lambda r: (min(r), max(r))),
    min_size=1, max_size=3)
portset_raw = st.one_of(st.just(((0, 65535),)), ranges_st.map(tuple))


@st.composite
def raw_box(draw):
    cidrs = draw(st.lists(st.sampled_from(CIDRS), max_size=3, unique=True))
    fqdns = draw(st.lists(st.sampled_from(FQDNS), max_size=2, unique=True))
    platform = draw(st.lists(st.sampled_from(PLATFORM), max_size=2, unique=True))
    if not cidrs and not fqdns and not platform:
        cidrs = [draw(st.sampled_from(CIDRS))]
    return (draw(st.sampled_from(["egress", "ingress"])), draw(st.sampled_from(["tcp", "udp"])),
            tuple(cidrs), tuple(fqdns), tuple(platform), draw(portset_raw), draw(portset_raw),
            draw(st.sampled_from(LABELS)))


def term_of(b) -> Term:
    d, tr, cidrs, fqdns, platform, src, dst, label = b
    return Term(d, tr, Peer.of(cidrs, fqdns, platform), PortSet.of(src), PortSet.of(dst), label)


raw_sets = st.lists(raw_box(), max_size=5)

PROBE_IPS = ["10.0.0.0", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.127", "10.0.0.128", "10.0.0.255",
             "10.0.1.0", "10.0.1.255", "10.0.2.0", "10.255.255.255", "11.0.0.0", "9.255.255.255",
             "192.0.2.1", "127.255.255.255", "128.0.0.0", "255.255.255.255", "0.0.0.0",
             "2001:db8::", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", "2001:db8:8000::", "2001:db9::", "::1"]
PROBE_PORTS = sorted({q for p in PORTS for q in (p - 1, p, p + 1) if 0 <= q <= 65535})
probes = st.lists(st.tuples(st.sampled_from(["egress", "ingress"]), st.sampled_from(["tcp", "udp"]),
                            st.sampled_from(PROBE_IPS + FQDNS + ["c.example.com"] + PLATFORM
                                            + ["aws-prefix-list:com.amazonaws.ap-southeast-2.dynamodb"]),
                            st.sampled_from(PROBE_PORTS), st.sampled_from(PROBE_PORTS)),
                  min_size=40, max_size=80)


def raw_boxes(raw) -> list[tuple]:
    return [(d, tr, c, f, pl, s, t) for d, tr, c, f, pl, s, t, _ in raw]


def boxes(aset: AllowedSet) -> list[tuple]:
    return [box_of(t) for t in aset.terms]


# ---- compaction and set operations preserve the points --------------------------------------------------

@SETTINGS
@given(raw_sets, probes)
def test_compaction_preserves_the_set(raw, pts):
    s = AllowedSet(term_of(b) for b in raw)
    canon = boxes(AllowedSet(s.canonical()))
    for t in s.terms + s.canonical():
        # every peer the algebra builds is already in Peer.of's normal form (minimal, sorted CIDRs)
        assert t.peer == Peer.of(t.peer.cidrs, t.peer.fqdns, t.peer.platform)
        assert not t.is_empty
    for p in pts:
        expected = allows(raw_boxes(raw), *p)
        assert allows(boxes(s), *p) == expected, p
        assert allows(canon, *p) == expected, p


@HEAVY
@given(raw_sets, raw_sets, probes)
def test_operations_match_the_oracle(ra, rb, pts):
    a = AllowedSet(term_of(b) for b in ra)
    b = AllowedSet(term_of(x) for x in rb)
    union, inter, diff = boxes(a | b), boxes(a & b), boxes(a - b)
    for p in pts:
        in_a, in_b = allows(raw_boxes(ra), *p), allows(raw_boxes(rb), *p)
        assert allows(union, *p) == (in_a or in_b), ("|", p)
        assert allows(inter, *p) == (in_a and in_b), ("&", p)
        assert allows(diff, *p) == (in_a and not in_b), ("-", p)


@HEAVY
@given(raw_sets, raw_sets, raw_sets)
def test_laws(ra, rb, rc):
    a, b, c = (AllowedSet(term_of(x) for x in r) for r in (ra, rb, rc))
    assert a | b == b | a
    assert a & b == b & a
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)
    assert a - (a - b) == a & b
    assert (a - b) | (a & b) == a
    assert a <= a | b and b <= a | b
    assert a & b <= a
    assert ((a - b) & b).is_empty
    assert (a - a).is_empty and a | a == a and a & a == a
    assert a & (b | c) == (a & b) | (a & c)
    assert (a <= b) == ((a - b).is_empty) == (a & b == a)
    assert (a == b) == (a <= b and b <= a)


# ---- equality is canonical ----------------------------------------------------------------------------------

def _respell(b, how: int):
    """The same traffic written differently: split ranges/CIDRs, relabel, duplicate."""
    d, tr, cidrs, fqdns, platform, src, dst, label = b
    out = []
    if how == 0 and len(src) >= 1 and src[0][0] < src[0][1]:
        lo, hi = src[0]
        mid = (lo + hi) // 2
        out += [(d, tr, cidrs, fqdns, platform, ((lo, mid),) + src[1:], dst, label),
                (d, tr, cidrs, fqdns, platform, ((mid + 1, hi),) + src[1:], dst, label + "x")]
    elif how == 1 and cidrs:
        net = ipaddress.ip_network(cidrs[0])
        halves = [str(h) for h in net.subnets()] if net.prefixlen < net.max_prefixlen else [str(net)]
        out += [(d, tr, (h,) + cidrs[1:], fqdns, platform, src, dst, label) for h in halves]
        if fqdns:
            out.append((d, tr, (), tuple(f.upper() + "." for f in fqdns), (), src, dst, "other"))
        if platform:  # each platform destination on its own: the same traffic
            out += [(d, tr, (), (), (a,), src, dst, "platform") for a in platform]
    elif how == 2:
        out += [b, (d, tr, cidrs, fqdns, platform, src, dst, "dup")]
    else:
        out.append((d, tr, cidrs, fqdns, platform, tuple(reversed(src)), tuple(reversed(dst)), label))
    return out


@SETTINGS
@given(raw_sets, st.lists(st.integers(0, 3), min_size=5, max_size=5), st.randoms(use_true_random=False))
def test_equality_is_canonical(raw, hows, rnd):
    a = AllowedSet(term_of(b) for b in raw)
    spelled = [x for i, b in enumerate(raw) for x in _respell(b, hows[i % len(hows)])]
    rnd.shuffle(spelled)
    b = AllowedSet(term_of(x) for x in spelled)
    assert a == b
    assert a.canonical() == b.canonical()
    assert hash(a) == hash(b)
    assert AllowedSet(a.canonical()) == a
    assert AllowedSet(a.canonical()).canonical() == a.canonical()  # idempotent
    # labels never matter for traffic equality
    assert a.relabel("z") == a


@HEAVY
@given(raw_sets, raw_sets, probes)
def test_unequal_sets_differ_at_some_point(ra, rb, pts):
    """If the oracle finds a distinguishing probe, == must say False (no false equality)."""
    a = AllowedSet(term_of(x) for x in ra)
    b = AllowedSet(term_of(x) for x in rb)
    if any(allows(raw_boxes(ra), *p) != allows(raw_boxes(rb), *p) for p in pts):
        assert a != b
        assert a.canonical() != b.canonical()


def test_canonical_examples():
    t = lambda cidrs, src=None, dst=None, fq=(), flow="": Term(  # noqa: E731
        "egress", "udp", Peer.of(cidrs, fq), PortSet.of(src), PortSet.of(dst), flow)
    # adjacent CIDRs and adjacent port ranges merge
    assert AllowedSet([t(["10.0.0.0/25"]), t(["10.0.0.128/25"])]) == AllowedSet([t(["10.0.0.0/24"])])
    assert AllowedSet([t(["10.0.0.0/25"]), t(["10.0.0.128/25"])]).terms[0].peer.cidrs == ("10.0.0.0/24",)
    assert AllowedSet([t(["1.0.0.0/8"], dst=[[1, 5]]), t(["1.0.0.0/8"], dst=[[6, 9]])]).terms[0].dst_ports == \
        PortSet.of([[1, 9]])
    # IPv6 adjacency too; IPv4 and IPv6 never merge
    assert AllowedSet([t(["2001:db8::/33"]), t(["2001:db8:8000::/33"])]) == AllowedSet([t(["2001:db8::/32"])])
    assert AllowedSet([t(["0.0.0.0/0"])]) != AllowedSet([t(["::/0"])])
    # a name is its own destination, not an address
    assert AllowedSet([t([], fq=["a.example.com"])]) != AllowedSet([t(["0.0.0.0/0"])])
    assert AllowedSet([t([], fq=["A.Example.com."])]) == AllowedSet([t([], fq=["a.example.com"])])
    # empty pieces vanish; the empty set equals itself however spelled
    assert AllowedSet([t(["10.0.0.0/8"], dst=[])]) == AllowedSet()
    assert AllowedSet([t([], fq=[])]).is_empty
    # unequal sets really are unequal
    assert AllowedSet([t(["10.0.0.0/8"], src=[[1, 2]])]) != AllowedSet([t(["10.0.0.0/8"], src=[[1, 3]])])


# ---- projection only widens along the named dimension -----------------------------------------------------

def _widen_src(aset: AllowedSet) -> AllowedSet:
    return AllowedSet(Term(t.direction, t.transport, t.peer, PortSet.of(None), t.dst_ports, t.flow) for t in aset.terms)


@SETTINGS
@given(raw_sets)
def test_projection_identity_when_everything_is_expressible(raw):
    s = AllowedSet(term_of(b) for b in raw)
    p = project(s, Capabilities("all"))
    assert p.allowed == s and p.widened == ()


@HEAVY
@given(raw_sets, probes)
def test_projection_source_ports(raw, pts):
    s = AllowedSet(term_of(b) for b in raw)
    p = project(s, Capabilities("nosport", source_ports=False))
    assert p.allowed >= s
    assert p.allowed == _widen_src(s)
    # per flow: only src changed; destination ports, peers and transports unchanged
    for flow, sub in s.by_flow().items():
        proj = p.allowed.select(flows=[flow])
        assert proj == _widen_src(sub)
    # every packet of the projection differs from one of s at most in its source port
    for d, tr, peer, sport, dport in pts:
        if allows(boxes(p.allowed), d, tr, peer, sport, dport):
            assert any(allows(boxes(s), d, tr, peer, q, dport) for q in PROBE_PORTS + [sport]) or \
                any(allows([b], d, tr, peer, b[4][0][0], dport) for b in boxes(s))
    changed = {f for f, sub in s.by_flow().items() if _widen_src(sub) != sub}
    assert {w.flow for w in p.widened} == changed
    assert {w.dimension for w in p.widened} <= {"source_ports"}
    assert all(w.after == "any" and w.target == "nosport" for w in p.widened)


@SETTINGS
@given(raw_sets, probes)
def test_projection_fqdn(raw, pts):
    s = AllowedSet(term_of(b) for b in raw)
    p = project(s, Capabilities("iponly", fqdn=False))
    assert not any(t.peer.fqdns for t in p.allowed.terms)
    named = {t.flow for t in s.terms if t.peer.fqdns}
    assert {w.flow for w in p.widened} == named
    assert {w.dimension for w in p.widened} <= {"destination"}
    assert all(w.after == ANY_IPV4 for w in p.widened)
    # the address part is kept, and each name becomes any IPv4 address with the same ports
    expected = AllowedSet(Term(t.direction, t.transport,
                               Peer.of(list(t.peer.cidrs) + ([ANY_IPV4] if t.peer.fqdns else []), (), t.peer.platform),
                               t.src_ports, t.dst_ports, t.flow) for t in s.terms)
    assert p.allowed == expected
    for d, tr, peer, sport, dport in pts:
        if peer in FQDNS or peer == "c.example.com":
            if allows(boxes(s), d, tr, peer, sport, dport):
                assert allows(boxes(p.allowed), d, tr, "192.0.2.1", sport, dport)
            continue
        if allows(boxes(s), d, tr, peer, sport, dport):
            assert allows(boxes(p.allowed), d, tr, peer, sport, dport)  # addresses only widen
        elif ":" in peer:
            assert not allows(boxes(p.allowed), d, tr, peer, sport, dport)  # never widens into IPv6


@SETTINGS
@given(raw_sets)
def test_projection_both_dimensions(raw):
    s = AllowedSet(term_of(b) for b in raw)
    both = project(s, Capabilities("both", source_ports=False, fqdn=False))
    one = project(project(s, Capabilities("x", fqdn=False)).allowed, Capabilities("y", source_ports=False))
    assert both.allowed == one.allowed
    assert {(w.flow, w.dimension) for w in both.widened} == \
        {(w.flow, w.dimension) for w in project(s, Capabilities("a", source_ports=False)).widened} | \
        {(w.flow, w.dimension) for w in project(s, Capabilities("b", fqdn=False)).widened}


# ---- platform destinations: opaque atoms, exact where a layer takes them, else widened or refused ----------

def test_platform_examples():
    t = lambda platform=(), cidrs=(), flow="": Term(  # noqa: E731
        "egress", "tcp", Peer.of(cidrs, (), platform), PortSet.of(None), PortSet.of([[443, 443]]), flow)
    tag, pl = "azure-service-tag:AzureMonitor", "aws-prefix-list:com.amazonaws.ap-southeast-2.s3"
    # a platform destination is only itself: not an address, not a name, not another tag
    assert AllowedSet([t([tag])]) != AllowedSet([t(cidrs=["0.0.0.0/0"])])
    assert not AllowedSet([t([tag])]) <= AllowedSet([t(cidrs=["0.0.0.0/0"])])
    assert AllowedSet([t([tag, pl])]) == AllowedSet([t([tag]), t([pl])])
    assert (AllowedSet([t([tag, pl])]) - AllowedSet([t([pl])])) == AllowedSet([t([tag])])
    with pytest.raises(ValueError):
        Peer.of((), (), ["AzureMonitor"])  # an atom names its kind


@SETTINGS
@given(raw_sets, probes)
def test_projection_platform_widened(raw, pts):
    """A layer that cannot express a kind widens it to any IPv4 address on the same transport and ports
    (named, per flow); the kinds it can express stay exact; nothing else changes."""
    s = AllowedSet(term_of(b) for b in raw)
    caps = Capabilities("tags-only", platform=("azure-service-tag",))
    p = project(s, caps)
    assert not any(a.startswith("aws-prefix-list:") for t in p.allowed.terms for a in t.peer.platform)
    wide = {t.flow for t in s.terms if any(a.startswith("aws-prefix-list:") for a in t.peer.platform)}
    assert {w.flow for w in p.widened} == wide
    assert all(w.dimension == "destination" and w.after == ANY_IPV4 and w.target == "tags-only" for w in p.widened)
    expected = AllowedSet(Term(t.direction, t.transport,
                               Peer.of(list(t.peer.cidrs) + ([ANY_IPV4] if len(t.peer.platform) > len(
                                   [a for a in t.peer.platform if a.startswith("azure-service-tag:")]) else []),
                                       t.peer.fqdns, [a for a in t.peer.platform if a.startswith("azure-service-tag:")]),
                               t.src_ports, t.dst_ports, t.flow) for t in s.terms)
    assert p.allowed == expected
    for d, tr, peer, sport, dport in pts:
        if allows(boxes(s), d, tr, peer, sport, dport):
            if peer.startswith("aws-prefix-list:"):
                assert allows(boxes(p.allowed), d, tr, "192.0.2.1", sport, dport)  # widened, same ports
            else:
                assert allows(boxes(p.allowed), d, tr, peer, sport, dport)  # kept
        elif peer in PLATFORM and peer.startswith("azure-service-tag:"):
            assert not allows(boxes(p.allowed), d, tr, peer, sport, dport)  # exact: never widens into a tag


@SETTINGS
@given(raw_sets)
def test_projection_platform_refused(raw):
    s = AllowedSet(term_of(b) for b in raw)
    caps = Capabilities("gcp-like", platform=(), platform_refused=("azure-service-tag", "aws-prefix-list"),
                        platform_reason="no such thing here")
    if any(t.peer.platform for t in s.terms):
        with pytest.raises(CapabilityError, match=r"gcp-like: flow .*: platform destination .* \(no such thing here\)"):
            project(s, caps)
    else:
        assert project(s, caps).allowed == s
