"""Pure renderer and reader: exactness, names, constraints, reader semantics on foreign stacks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spirit_infra import AllowedSet, Peer, PortSet, Term, build_profile, project
from spirit_infra.errors import CapabilityError, ConfigError, QuotaError
from spirit_infra.gcp.common import NAME_RE, check_name, ports_from_gcp
from spirit_infra.gcp.fqdn import POLICY_CAPS, POLICY_RULE_TYPE, PolicyOptions, flow_slot, model_policy
from spirit_infra.gcp.read import read
from spirit_infra.gcp.rules import FIREWALL_TYPE, VPC_CAPS, VpcOptions, model

PROFILES = ("phones", "communicator", "sbc")

SPIRIT = ("103.80.244.0/22", "45.64.148.0/22")


def specs(r):
    return [dict(s) for s in r.specs]


@pytest.mark.parametrize("name", PROFILES)
def test_vpc_render_read_exact(name):
    prof = build_profile(name)
    r = model(prof)
    proj = project(prof.allowed, VPC_CAPS)
    assert read(specs(r)) == proj.allowed
    assert {w.dimension for w in r.widened} <= {"source_ports", "destination"}
    # only FQDN flows widen their destination, and only to 0.0.0.0/0
    fqdn_flows = {f.id for f in prof.flows if f.peer_fqdns}
    assert {w.flow for w in r.widened if w.dimension == "destination"} == fqdn_flows
    assert all(w.after == "0.0.0.0/0" for w in r.widened if w.dimension == "destination")
    # labels survive the round trip: each term is labelled with a flow that allows it (first match wins
    # where flows overlap after projection, e.g. phone-audio and phone-video)
    got = read(specs(r))
    assert set(got.flow_ids) <= {f.id for f in prof.flows}
    for t in got:
        assert AllowedSet([t]) <= proj.allowed.select(flows=[t.flow])


@pytest.mark.parametrize("name", PROFILES)
def test_policy_render_read_exact_with_fqdns(name):
    prof = build_profile(name)
    r = model_policy(prof)
    assert read(specs(r)) == project(prof.allowed, POLICY_CAPS).allowed
    assert {w.dimension for w in r.widened} <= {"source_ports"}
    fqdns = sorted({n for f in prof.flows for n in f.peer_fqdns})
    rendered = sorted(n for s in r.specs for n in s["inputs"].get("match", {}).get("destFqdns", []))
    assert rendered == fqdns


@pytest.mark.parametrize("name", PROFILES)
def test_names_valid_and_ipv4_ipv6_apart(name):
    prof = build_profile(name)
    for r in (model(prof), model_policy(prof)):
        for s in r.specs:
            n = s["inputs"].get("name") or s["inputs"]["ruleName"]
            assert NAME_RE.match(n) and len(n) <= 63, n
            m = s["inputs"].get("match", {})
            ranges = (s["inputs"].get("sourceRanges", []) + s["inputs"].get("destinationRanges", [])
                      + m.get("srcIpRanges", []) + m.get("destIpRanges", []))
            assert len({":" in c for c in ranges}) <= 1, s


def test_sbc_ingress_from_spirit_ranges_only_and_targets():
    r = model(build_profile("sbc"))
    ingress = [s["inputs"] for s in r.specs if s["inputs"]["direction"] == "INGRESS"]
    assert len(ingress) == 3
    for i in ingress:
        assert sorted(i["sourceRanges"]) == sorted(SPIRIT)
        assert i["targetTags"] == ["spirit-sbc"]
    sa = model(build_profile("sbc"), VpcOptions(target_service_accounts=("sbc@p.iam.gserviceaccount.com",)))
    assert all(s["inputs"]["targetServiceAccounts"] == ["sbc@p.iam.gserviceaccount.com"] for s in sa.specs)
    assert all("targetTags" not in s["inputs"] for s in sa.specs)


def test_grouping_one_rule_with_several_allows():
    r = model(build_profile("phones"))
    sip = [s["inputs"] for s in r.specs if "phone-sip" in s["name"]]
    assert len(sip) == 1
    assert sip[0]["allows"] == [{"protocol": "tcp", "ports": ["5060-5062"]}, {"protocol": "udp", "ports": ["5060-5062"]}]
    ztp = [s["inputs"] for s in r.specs if "phone-ztp" in s["name"]][0]
    assert ztp["allows"] == [{"protocol": "tcp", "ports": ["80", "443", "10000"]}]
    assert ztp["destinationRanges"] == ["0.0.0.0/0"]


def test_strict_deny_and_non_strict_reads_everything():
    prof = build_profile("communicator")
    strict = model(prof)
    denies = [s["inputs"] for s in strict.specs if "denies" in s["inputs"]]
    assert sorted(d["destinationRanges"][0] for d in denies) == ["0.0.0.0/0", "::/0"]
    assert all(d["priority"] == 65534 and d["direction"] == "EGRESS" for d in denies)
    loose = model(prof, VpcOptions(strict=False))
    assert not [s for s in loose.specs if "denies" in s["inputs"]]
    got = read(specs(loose))
    # GCP's implied allow-all egress is back: everything egress, nothing more ingress
    everything = AllowedSet(Term("egress", t, Peer.of(["0.0.0.0/0", "::/0"])) for t in ("tcp", "udp"))
    assert got == everything
    assert read(specs(loose), implied=False) == project(prof.allowed, VPC_CAPS).allowed
    pol = model_policy(prof, PolicyOptions(strict=False))
    assert read(specs(pol)) == everything | AllowedSet(project(prof.allowed, POLICY_CAPS).allowed.terms)


# ---- constraints -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["Spirit", "spirit_", "1spirit", "spirit-", "x" * 41, ""])
def test_invalid_name_prefix(bad):
    with pytest.raises(ConfigError, match="name_prefix"):
        model(build_profile("sbc"), VpcOptions(name_prefix=bad))
    with pytest.raises(ConfigError, match="name_prefix"):
        model_policy(build_profile("sbc"), PolicyOptions(name_prefix=bad))


def test_generated_name_too_long(tmp_path):
    from spirit_infra import Overrides

    from .helpers import catalogue_copy, flow_of

    def edit(d):
        flow_of(d, "communicator-xsi")["id"] = "communicator-" + "x" * 27  # 40 characters: a valid id
    prof = build_profile("communicator", Overrides(catalogue=catalogue_copy(tmp_path, edit)))
    # 68 characters: fitted to GCP's 63 (head kept, hash of the whole name appended), never refused
    names = [s["inputs"]["name"] for s in model(prof, VpcOptions(name_prefix="a" * 20)).specs]
    long = [n for n in names if "xxxx" in n]
    assert long and all(len(n) <= 63 and NAME_RE.match(n) for n in names)
    assert len(set(names)) == len(names)
    assert [s["inputs"]["name"] for s in model(prof, VpcOptions(name_prefix="a" * 20)).specs] == names
    assert long != [n for n in (s["inputs"]["name"] for s in model(prof, VpcOptions(name_prefix="a" * 21)).specs)
                    if "xxxx" in n]


def test_check_name():
    assert check_name("a") == "a"
    for bad in ("A", "a_b", "-a", "a-", "a" * 64):
        with pytest.raises(ConfigError):
            check_name(bad)


def test_too_many_ranges():
    with pytest.raises(QuotaError, match="has 2 ranges; the limit per rule is 1"):
        model(build_profile("sbc"), VpcOptions(max_ranges=1))
    with pytest.raises(QuotaError, match="has 2 ranges; the limit per rule is 1"):
        model_policy(build_profile("sbc"), PolicyOptions(max_ranges=1))
    # a /22 per rule is fine at the limit
    assert model(build_profile("communicator"), VpcOptions(max_ranges=1)).specs


def test_vpc_option_validation():
    prof = build_profile("sbc")
    with pytest.raises(ConfigError, match="priority_base"):
        model(prof, VpcOptions(priority_base=70000))
    with pytest.raises(ConfigError, match="deny_priority"):
        model(prof, VpcOptions(priority_base=65534))
    with pytest.raises(ConfigError, match="not both"):
        model(prof, VpcOptions(target_tags=("a",), target_service_accounts=("s@x",)))
    with pytest.raises(ConfigError, match="target_tags"):
        model(prof, VpcOptions(target_tags=("Bad Tag",)))
    with pytest.raises(ConfigError, match="profile"):
        model(prof.allowed)


def test_ingress_from_everywhere_refused():
    bad = AllowedSet([Term("ingress", "udp", Peer.of(["0.0.0.0/0"]), flow="open")])
    with pytest.raises(CapabilityError, match="whole internet"):
        model(bad, VpcOptions(profile="sbc"))
    with pytest.raises(CapabilityError, match="whole internet"):
        model_policy(bad, PolicyOptions(profile="sbc"))


def test_policy_priority_collision_is_a_clear_error():
    a = "flow-a"
    b = next(f"flow-{i}" for i in range(10_000) if f"flow-{i}" != a and flow_slot(f"flow-{i}", 7) == flow_slot(a, 7))
    s = AllowedSet([Term("egress", "tcp", Peer.of(["10.0.0.0/8"]), flow=a),
                    Term("egress", "tcp", Peer.of(["10.0.0.0/8"]), flow=b)])
    with pytest.raises(QuotaError, match=f"flows .*{a}.* and .*{b}.*|flows .*{b}.* and .*{a}.*"):
        model_policy(s, PolicyOptions(profile="sbc", priority_slots=7))


def test_policy_band_and_deny_priorities():
    with pytest.raises(ConfigError, match="deny_priority"):
        model_policy(build_profile("sbc"), PolicyOptions(deny_priority=50))
    with pytest.raises(ConfigError, match="priority_slots"):
        model_policy(build_profile("sbc"), PolicyOptions(priority_slots=10**9))
    r = model_policy(build_profile("phones"), PolicyOptions(priority_base=5000))
    prios = [s["inputs"]["priority"] for s in r.specs if "priority" in s["inputs"]]
    assert len(prios) == len(set(prios))
    assert all(5000 <= p < 5000 + 10000 * 10 or p >= 2000000000 for p in prios)


def test_ipv6_ranges_split_into_their_own_rules():
    s = AllowedSet([Term("egress", "udp", Peer.of(["10.0.0.0/8", "2001:db8::/32"]), PortSet.of(None), PortSet.of([(53, 53)]),
                         "dns")])
    r = model(s, VpcOptions(profile="sbc", strict=False))
    ranges = sorted(tuple(x["inputs"]["destinationRanges"]) for x in r.specs)
    assert ranges == [("10.0.0.0/8",), ("2001:db8::/32",)]
    assert read(specs(r), implied=False) == project(s, VPC_CAPS).allowed


# ---- reader on stacks spirit-infra did not build ------------------------------------------------

def fw(**inputs):
    return {"type": FIREWALL_TYPE, "name": inputs.get("name", "x"), "inputs": inputs}


def test_reader_defaults_and_protocol_all():
    got = read([fw(allows=[{"protocol": "all"}], sourceRanges=["10.1.0.0/16"])], implied=False)
    assert got == AllowedSet(Term("ingress", t, Peer.of(["10.1.0.0/16"])) for t in ("tcp", "udp"))
    # egress without destinationRanges = 0.0.0.0/0; icmp ignored; protocol numbers understood
    got = read([fw(direction="EGRESS", allows=[{"protocol": "icmp"}, {"protocol": "17", "ports": ["53"]}])],
               implied=False)
    assert got == AllowedSet([Term("egress", "udp", Peer.of(["0.0.0.0/0"]), dst_ports=PortSet.of([(53, 53)]))])
    # ingress with no source at all = 0.0.0.0/0 (GCP's default); with only source tags = no addresses
    assert not read([fw(allows=[{"protocol": "tcp"}], sourceTags=["web"])], implied=False).terms
    assert read([fw(allows=[{"protocol": "tcp"}])], implied=False).terms[0].peer.cidrs == ("0.0.0.0/0",)
    assert not read([fw(allows=[{"protocol": "tcp"}], sourceRanges=["10.0.0.0/8"], disabled=True)], implied=False)


def test_reader_deny_precedence_and_ties():
    allow = fw(name="a", allows=[{"protocol": "tcp", "ports": ["443"]}], sourceRanges=["10.0.0.0/8"], priority=1000)
    deny_hi = fw(name="d", denies=[{"protocol": "tcp"}], sourceRanges=["10.1.0.0/16"], priority=900)
    deny_tie = fw(name="t", denies=[{"protocol": "tcp"}], sourceRanges=["10.2.0.0/16"], priority=1000)
    deny_lo = fw(name="l", denies=[{"protocol": "tcp"}], sourceRanges=["10.3.0.0/16"], priority=1100)
    got = read([allow, deny_hi, deny_tie, deny_lo], implied=False)
    want = AllowedSet([Term("ingress", "tcp", Peer.of(["10.0.0.0/8"]), dst_ports=PortSet.of([(443, 443)]))]) - \
        AllowedSet([Term("ingress", "tcp", Peer.of(["10.1.0.0/16", "10.2.0.0/16"]))])
    assert got == want
    # default priority is 1000: a deny without priority ties with the allow and wins
    assert not read([fw(allows=[{"protocol": "tcp"}], sourceRanges=["10.0.0.0/8"]),
                     fw(name="d", denies=[{"protocol": "tcp"}], sourceRanges=["10.0.0.0/8"])], implied=False)


def test_reader_flow_labels_from_marks():
    r = fw(allows=[{"protocol": "udp"}], sourceRanges=["10.0.0.0/8"],
           description="hand made spirit-role=sbc spirit-flow=sbc-media-in")
    assert read([r], implied=False).flow_ids == ("sbc-media-in",)
    assert read([fw(allows=[{"protocol": "udp"}], sourceRanges=["10.0.0.0/8"])], implied=False).flow_ids == ("",)


def prule(priority, action, direction="EGRESS", policy="p", **match):
    match.setdefault("layer4Configs", [{"ipProtocol": "tcp"}])
    return {"type": POLICY_RULE_TYPE, "name": f"r{priority}",
            "inputs": {"priority": priority, "action": action, "direction": direction, "match": match,
                       "firewallPolicy": policy}}


def test_reader_policy_goto_next_and_layers():
    ten = ["10.0.0.0/8"]
    # goto_next hands 10/8 on: the VPC rule decides (allows 443 only); nothing else is allowed
    res = [prule(10, "goto_next", destIpRanges=ten), prule(20, "allow", destIpRanges=ten),
           fw(direction="EGRESS", allows=[{"protocol": "tcp", "ports": ["443"]}], destinationRanges=ten)]
    got = read(res, implied=False)
    assert got == AllowedSet([Term("egress", "tcp", Peer.of(ten), dst_ports=PortSet.of([(443, 443)]))])
    # default order: VPC rules before the network policy; a VPC deny wins over a policy allow
    res = [prule(10, "allow", destIpRanges=ten), fw(direction="EGRESS", denies=[{"protocol": "all"}],
                                                       destinationRanges=ten)]
    assert not read(res, implied=False)
    assert read(res, implied=False, policy_first=True) == AllowedSet([Term("egress", "tcp", Peer.of(ten))])


def test_reader_policy_fqdns_and_non_address_matchers():
    got = read([prule(5, "allow", destFqdns=["Example.COM"], layer4Configs=[{"ipProtocol": "udp", "ports": ["123"]}])],
               implied=False)
    assert got == AllowedSet([Term("egress", "udp", Peer.of([], ["example.com"]), dst_ports=PortSet.of([(123, 123)]))])
    # an allow on address groups only reads as any address; a deny on them is ignored
    assert read([prule(5, "allow", destAddressGroups=["g"])], implied=False).terms[0].peer.cidrs == ("0.0.0.0/0", "::/0")
    assert read([prule(1, "deny", destAddressGroups=["g"]), prule(5, "allow", destIpRanges=["10.0.0.0/8"])],
                implied=False) == AllowedSet([Term("egress", "tcp", Peer.of(["10.0.0.0/8"]))])


def test_reader_with_rules_variant():
    res = {"type": "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules", "name": "w",
           "inputs": {"name": "w", "rules": [
               {"priority": 1, "action": "deny", "direction": "EGRESS",
                "match": {"destIpRanges": ["10.1.0.0/16"], "layer4Configs": [{"ipProtocol": "all"}]}},
               {"priority": 2, "action": "allow", "direction": "EGRESS",
                "match": {"destIpRanges": ["10.0.0.0/8"], "layer4Configs": [{"ipProtocol": "udp"}]}}]}}
    assert read([res], implied=False) == AllowedSet([Term("egress", "udp", Peer.of(["10.0.0.0/8"]))]) - \
        AllowedSet([Term("egress", "udp", Peer.of(["10.1.0.0/16"]))])


def test_ports_parse():
    assert ports_from_gcp(["443", "5060-5062"]) == PortSet.of([(443, 443), (5060, 5062)])
    assert ports_from_gcp(None).is_any
    with pytest.raises(ConfigError):
        ports_from_gcp(["http"])


# ---- property: render/read round trip on random allowed sets --------------------------------------

_cidrs = st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32",
                          "2001:db8:1::/48"])
_ports = st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 200)).map(lambda t: (t[0], min(65535, t[0] + t[1]))),
                  min_size=0, max_size=3).map(lambda rs: PortSet.of(rs) if rs else PortSet.of(None))
_terms = st.builds(lambda d, t, c, f, fl, sp, dp: Term(d, t, Peer.of(c, f if d == "egress" else []), sp, dp, fl),
                   st.sampled_from(["egress", "ingress"]), st.sampled_from(["tcp", "udp"]),
                   st.lists(_cidrs, min_size=1, max_size=3), st.lists(st.sampled_from(["a.example", "b.example"]),
                                                                       max_size=2),
                   st.sampled_from(["f-one", "f-two", "f-three"]), _ports, _ports)


@settings(max_examples=60, deadline=None)
@given(st.lists(_terms, min_size=1, max_size=6))
def test_round_trip_property(terms):
    s = AllowedSet(terms)
    assert read(specs(model(s, VpcOptions(profile="sbc")))) == project(s, VPC_CAPS).allowed
    assert read(specs(model_policy(s, PolicyOptions(profile="sbc")))) == project(s, POLICY_CAPS).allowed


def test_reader_policy_rule_with_unknown_priority():
    """A preview may not know a rule's priority yet: the reader still reads the rule (as priority 0)."""
    ten = ["10.0.0.0/8"]
    assert read([prule(None, "allow", destIpRanges=ten)], implied=False) == \
        AllowedSet([Term("egress", "tcp", Peer.of(ten))])


@pytest.mark.parametrize("match", [
    {"srcSecureTags": [{"name": "tagValues/123"}]},
    {"srcNetworks": ["projects/p/global/networks/voice"]},
    {"srcNetworkScope": "VPC_NETWORKS"},
    {"srcNetworkScope": "INTRA_VPC", "srcSecureTags": [{"name": "tagValues/123"}]},
])
def test_reader_policy_ingress_from_internal_sources_only_is_no_address(match):
    """Like a VPC rule with source tags only: VMs of the VPC, not the internet (never read as 0.0.0.0/0)."""
    assert not read([prule(5, "allow", direction="INGRESS", **match)], implied=False)


@pytest.mark.parametrize("match", [
    {"srcAddressGroups": ["projects/p/locations/global/addressGroups/g"]},
    {"srcRegionCodes": ["AU"]},
    {"srcNetworkScope": "INTERNET"},
    {"srcNetworkScope": "INTERNET", "srcSecureTags": [{"name": "tagValues/123"}]},
])
def test_reader_policy_ingress_from_external_matchers_reads_as_any_address(match):
    got = read([prule(5, "allow", direction="INGRESS", **match)], implied=False)
    assert got.terms and got.terms[0].peer.cidrs == ("0.0.0.0/0", "::/0")


def test_a_slot_collision_is_resolved_by_pinning_one_flow_and_nothing_else_moves():
    from spirit_infra.errors import QuotaError
    from spirit_infra.gcp.fqdn import PolicyOptions, flow_slot, model_policy
    from spirit_infra.marks import parse_description

    prof = build_profile("communicator")
    flows = sorted(prof.allowed.flow_ids)

    def layout(slots):
        by_slot: dict[int, list[str]] = {}
        for f in flows:
            by_slot.setdefault(flow_slot(f, slots), []).append(f)
        return by_slot

    # a slot count small enough to make two flows collide, with room to pin them elsewhere
    slots = next(n for n in range(9, 200) if any(len(v) > 1 for v in layout(n).values()))
    by_slot = layout(slots)
    with pytest.raises(QuotaError, match="slot_pins"):
        model_policy(prof, PolicyOptions(priority_slots=slots, profile="communicator"))
    free = [s for s in range(slots) if s not in by_slot]
    pins = tuple((f, free.pop()) for fs in by_slot.values() for f in fs[1:])
    pinned = model_policy(prof, PolicyOptions(priority_slots=slots, profile="communicator", slot_pins=pins))
    slot_of = {}
    for spec in pinned.specs:
        flow = parse_description(spec["inputs"].get("description")).get("spirit-flow")
        if flow and spec["inputs"].get("priority", 0) < 2000000000:
            slot_of.setdefault(flow, set()).add((spec["inputs"]["priority"] - 1000) // 10)
    pinned_to = dict(pins)
    assert set(slot_of) == set(flows)
    for f in flows:  # the pinned flows sit where pinned; every other flow in its hashed slot
        assert slot_of[f] == {pinned_to.get(f, flow_slot(f, slots))}, f
