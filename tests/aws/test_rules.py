"""Pure AWS security-group render/read and the quota planner."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spirit_infra import (
    AllowedSet,
    ConfigError,
    Overrides,
    Peer,
    PortSet,
    QuotaError,
    Term,
    build_profile,
    project,
)
from spirit_infra.aws import SG_CAPS, SgOptions, model, read, read_groups
from spirit_infra.aws.quota import QuotaItem, pack
from spirit_infra.aws.rules import TYPE_EGRESS, TYPE_INGRESS, TYPE_PREFIX_LIST, TYPE_SG, TYPE_SG_RULE
from spirit_infra.errors import CapabilityError

PROFILES = ("phones", "communicator", "sbc")
SPIRIT = ("45.64.148.0/22", "103.80.244.0/22")


def _rule_keys(r):
    i = r["inputs"]
    target = i.get("cidrIpv4") or i.get("cidrIpv6") or ("pl", i.get("prefixListId", {}).get("$ref"))
    return (r["type"], i["securityGroupId"]["$ref"], i["ipProtocol"], i.get("fromPort"), i.get("toPort"), target)


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("quota", [60, 30, 25, 12, 5, 3])
def test_read_of_render_is_the_projection(name, quota):
    prof = build_profile(name)
    r = model(prof, SgOptions(quota=quota))
    proj = project(prof.allowed, SG_CAPS)
    assert read(list(r.resources)) == proj.allowed
    assert r.widened == proj.widened
    # no two rules AWS would call duplicates (same group, protocol, ports and peer)
    keys = [_rule_keys(x) for x in r.rules]
    assert len(keys) == len(set(keys))
    # every group within quota, per direction and family, a prefix list counting its max entries
    max_entries = {p["name"]: p["inputs"]["maxEntries"] for p in r.prefix_lists}
    used: dict = {}
    for x in r.rules:
        i = x["inputs"]
        d = "egress" if x["type"] == TYPE_EGRESS else "ingress"
        cost = max_entries[i["prefixListId"]["$ref"]] if "prefixListId" in i else 1
        k = (i["securityGroupId"]["$ref"], d)
        used[k] = used.get(k, 0) + cost
    assert max(used.values()) <= quota
    assert len(r.groups) <= 5


@pytest.mark.parametrize("name", PROFILES)
def test_widening_is_source_ports_and_fqdn_destinations_only(name):
    prof = build_profile(name)
    r = model(prof)
    fqdn_flows = {f.id for f in prof.flows if f.peer_fqdns}
    for w in r.widened:
        assert w.dimension in ("source_ports", "destination")
        if w.dimension == "destination":
            assert w.flow in fqdn_flows and w.after == "0.0.0.0/0"
    assert {w.flow for w in r.widened if w.dimension == "destination"} == fqdn_flows
    assert {w.flow for w in r.widened if w.dimension == "source_ports"} == {
        f.id for f in prof.flows if f.src_ports is not None}


def test_identical_rules_of_two_flows_become_one():
    r = model(build_profile("phones"))
    media = [x for x in r.rules if x["inputs"]["ipProtocol"] == "udp" and x["inputs"]["fromPort"] == 0]
    assert len(media) == 1
    assert media[0]["inputs"]["tags"]["spirit-flow"] == "phone-audio,phone-video"
    # named after what it allows, never after its flows, so a flow joining or leaving never renames it
    assert media[0]["name"].startswith("out-udp-any-spirit-ipv4-")


def test_default_layout_figures():
    sbc, phones, comm = (model(build_profile(p)) for p in ("sbc", "phones", "communicator"))
    assert sbc.quota["groups"] == [{"name": "sg-1", "rules": 6, "counted": {"egress/ipv4": 30, "ingress/ipv4": 30}}]
    assert sbc.quota["layout"] == "prefix-list" and sbc.quota["prefix_list_max_entries"] == {"ipv4": 10}
    assert phones.quota["groups"][0]["counted"] == {"egress/ipv4": 35} and phones.quota["rule_resources"] == 8
    # communicator reaches only one Spirit range: no rule covers the whole list, so no list is created
    assert comm.quota["layout"] == "cidr" and not comm.prefix_lists and comm.quota["rule_resources"] == 7


def test_strict_sbc_ingress_only_from_spirit_to_sip_and_media_ports():
    prof = build_profile("sbc")
    r = model(prof)
    got = read(list(r.resources))
    ingress = got.select(direction="ingress")
    spirit = AllowedSet(Term("ingress", t, Peer.of(SPIRIT), PortSet.of(None), PortSet.of([(5060, 5061), (16384, 32767)]))
                        for t in ("tcp", "udp"))
    assert ingress <= spirit
    assert not any(x["inputs"]["ipProtocol"] == "-1" for x in r.rules)
    everything = AllowedSet(Term("egress", t, Peer.of(["0.0.0.0/0"])) for t in ("tcp", "udp"))
    assert not everything <= got


def test_non_strict_adds_allow_all_egress():
    prof = build_profile("sbc")
    r = model(prof, SgOptions(strict=False))
    allow = [x for x in r.rules if x["inputs"]["ipProtocol"] == "-1"]
    assert len(allow) == 1 and allow[0]["inputs"]["cidrIpv4"] == "0.0.0.0/0"
    everything = AllowedSet(Term("egress", t, Peer.of(["0.0.0.0/0"])) for t in ("tcp", "udp"))
    assert read(list(r.resources)) == project(prof.allowed, SG_CAPS).allowed | everything
    assert any("non-strict" in w for w in r.warnings)


def test_no_fqdn_firewall_warns_not_strict():
    r = model(build_profile("phones"), SgOptions(fqdn_firewall=False))
    assert sorted(w.split(":")[0] for w in r.warnings) == ["phone-ntp", "phone-ztp"]
    assert all("NOT STRICT" in w for w in r.warnings)


def test_over_quota_splits_then_refuses_with_figures():
    prof = build_profile("sbc")
    r = model(prof, SgOptions(quota=5))
    assert len(r.groups) == 2 and r.quota["layout"] == "cidr"
    r = model(prof, SgOptions(quota=25))  # one group, some units moved to raw CIDRs
    assert len(r.groups) == 1 and r.quota["layout"] == "mixed"
    with pytest.raises(QuotaError) as e:
        model(prof, SgOptions(quota=1))
    assert "6 egress ipv4" in str(e.value) and "minimum quota for 5 groups is 2" in str(e.value)
    with pytest.raises(QuotaError):
        model(build_profile("phones"), SgOptions(quota=2, groups_per_interface=5))


def test_extra_cidrs_grow_rules_not_prefix_list_rules():
    prof = build_profile("sbc", Overrides(extra_spirit_cidrs=("198.51.100.0/24",)))
    r = model(prof)
    assert len(r.rules) == 6
    assert [e["cidr"] for e in r.prefix_lists[0]["inputs"]["entries"]] == [
        "45.64.148.0/22", "103.80.244.0/22", "198.51.100.0/24"]
    assert read(list(r.resources)) == project(prof.allowed, SG_CAPS).allowed


def test_bad_options():
    with pytest.raises(ConfigError, match="quota"):
        SgOptions(quota=0)
    with pytest.raises(ConfigError, match="groups_per_interface"):
        SgOptions(groups_per_interface=17)
    with pytest.raises(ConfigError, match="1000"):
        SgOptions(quota=300, groups_per_interface=5)
    with pytest.raises(ConfigError, match="prefix_list_max_entries"):
        model(build_profile("sbc"), SgOptions(prefix_list_max_entries=1))


def test_ingress_from_anywhere_is_refused():
    s = AllowedSet([Term("ingress", "tcp", Peer.of((), ["x.example.com"]), PortSet.of(None), PortSet.single(443), "f")])
    with pytest.raises(CapabilityError, match="least privilege"):
        model(s, profile="sbc")


def test_pack_is_first_fit_and_refuses():
    items = [QuotaItem(n, ("egress", "ipv4"), c) for n, c in (("a", 3), ("b", 3), ("c", 1))]
    assert [[i.name for i in g] for g in pack(items, 4, 5)] == [["a", "c"], ["b"]]
    assert pack(items, 4, 1) is None
    assert pack([QuotaItem("x", ("egress", "ipv4"), 9)], 5, 5) is None


# ---- reader on stacks spirit-infra did not build --------------------------------------------------------

def test_reader_inline_groups_legacy_rules_and_prefix_lists():
    resources = [
        {"type": TYPE_PREFIX_LIST, "name": "pl", "id": "pl-1", "inputs": {"entries": [{"cidr": "10.1.0.0/16"}]}},
        {"type": TYPE_SG, "name": "web", "id": "sg-web", "inputs": {
            "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}],
            "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"],
                        "ipv6CidrBlocks": ["::/0"]}]}},
        {"type": TYPE_SG, "name": "db", "id": "sg-db", "inputs": {}},
        {"type": TYPE_SG_RULE, "name": "r1", "inputs": {"type": "egress", "protocol": "6", "fromPort": 5432,
                                                         "toPort": 5432, "prefixListIds": ["pl-1"],
                                                         "securityGroupId": "sg-db"}},
        {"type": TYPE_SG_RULE, "name": "icmp", "inputs": {"type": "ingress", "protocol": "icmp", "fromPort": -1,
                                                           "toPort": -1, "cidrBlocks": ["0.0.0.0/0"],
                                                           "securityGroupId": "sg-db"}},
        {"type": TYPE_INGRESS, "name": "r2", "inputs": {"ipProtocol": "udp", "fromPort": 53, "toPort": 53,
                                                         "cidrIpv4": "10.2.0.0/16", "securityGroupId": "sg-db",
                                                         "tags": {"spirit-flow": "dns"}}},
        {"type": TYPE_EGRESS, "name": "r3", "inputs": {"ipProtocol": "tcp", "fromPort": 1, "toPort": 2,
                                                        "referencedSecurityGroupId": "sg-web",
                                                        "securityGroupId": "sg-db"}},
    ]
    groups = read_groups(resources)
    assert set(groups) == {"web", "db"}
    web = groups["web"]
    assert web == AllowedSet([
        Term("ingress", "tcp", Peer.of(["10.0.0.0/8"]), PortSet.of(None), PortSet.single(443)),
        *(Term("egress", t, Peer.of(["0.0.0.0/0", "::/0"])) for t in ("tcp", "udp"))])
    db = groups["db"]
    assert db == AllowedSet([
        Term("egress", "tcp", Peer.of(["10.1.0.0/16"]), PortSet.of(None), PortSet.single(5432)),
        Term("ingress", "udp", Peer.of(["10.2.0.0/16"]), PortSet.of(None), PortSet.single(53))])
    assert db.select(direction="ingress").terms[0].flow == "dns"
    # conservative reading of a peer that is another group
    db_any = read_groups(resources, unknown_peer="any")["db"]
    assert AllowedSet([Term("egress", "tcp", Peer.of(["0.0.0.0/0", "::/0"]), PortSet.of(None), PortSet.of([(1, 2)]))]) <= db_any
    assert db <= db_any and not db_any <= db
    assert read(resources) == web | db


ports = st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda t: (min(t), max(t)))
cidrs = st.sampled_from(["10.0.0.0/8", "192.0.2.0/24", "198.51.100.0/25", "45.64.148.0/22", "103.80.244.0/22",
                         "2001:db8::/32"])
terms = st.builds(lambda d, t, cs, sp, dp, f: Term(d, t, Peer.of(cs), PortSet.of([sp]), PortSet.of(dp), f),
                  st.just("egress") | st.just("ingress"), st.sampled_from(["tcp", "udp"]),
                  st.lists(cidrs, min_size=1, max_size=3), ports, st.lists(ports, min_size=1, max_size=3),
                  st.sampled_from(["a", "b", "c"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(terms, min_size=1, max_size=6), st.sampled_from([60, 20, 8]))
def test_round_trip_property(ts, quota):
    s = AllowedSet(ts)
    try:
        r = model(s, SgOptions(quota=quota, groups_per_interface=16 if quota < 60 else 5), profile="sbc",
                   spirit_cidrs=SPIRIT)
    except QuotaError:
        return
    assert read(list(r.resources)) == project(s, SG_CAPS).allowed


def _nfw_group(rules_string=None, stateful_rules=None):
    from spirit_infra.aws.fqdn import TYPE_RULE_GROUP
    src = {"rulesString": rules_string} if rules_string else {"statefulRules": stateful_rules}
    return [{"type": TYPE_RULE_GROUP, "name": "foreign", "inputs": {"type": "STATEFUL",
                                                                    "ruleGroup": {"rulesSource": src}}}]


def _t(direction, transport, cidrs=(), dst=None, names=()):
    return Term(direction, transport, Peer.of(cidrs, names), PortSet.of(None), PortSet.of(dst))


def test_firewall_reader_on_foreign_rule_groups():
    from spirit_infra.aws.read import read_firewall
    world = ("0.0.0.0/0",)
    # "ip" passes every protocol; "any" on the home side is the home network too
    assert read_firewall(_nfw_group('pass ip $HOME_NET any -> $EXTERNAL_NET any (sid:1;)')) == AllowedSet(
        [_t("egress", t, world) for t in ("tcp", "udp")])
    assert read_firewall(_nfw_group('pass tcp any any -> 10.0.0.0/8 443 (sid:2;)')) == AllowedSet(
        [_t("egress", "tcp", ("10.0.0.0/8",), [(443, 443)])])
    # only tls.sni / http.host contents are names; another sticky buffer ends the name list
    got = read_firewall(_nfw_group('pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:"a.example"; '
                                   'http.uri; content:"/x"; sid:3;)'))
    assert got == AllowedSet([_t("egress", "tcp", (), [(443, 443)], ["a.example"])])
    # "<>" matches both directions
    got = read_firewall(_nfw_group('pass udp $HOME_NET any <> 192.0.2.0/24 5060 (sid:4;)'))
    assert got == AllowedSet([_t("egress", "udp", ("192.0.2.0/24",), [(5060, 5060)]),
                              Term("ingress", "udp", Peer.of(["192.0.2.0/24"]), PortSet.of([(5060, 5060)]),
                                   PortSet.of(None))])
    # 5-tuple stateful rules (rulesSource.statefulRules)
    got = read_firewall(_nfw_group(stateful_rules=[
        {"action": "PASS", "header": {"protocol": "UDP", "source": "$HOME_NET", "sourcePort": "ANY",
                                      "destination": "192.0.2.0/24", "destinationPort": "123",
                                      "direction": "FORWARD"}, "ruleOptions": [{"keyword": "sid", "settings": ["5"]}]},
        {"action": "DROP", "header": {"protocol": "TCP", "source": "$HOME_NET", "sourcePort": "ANY",
                                      "destination": "ANY", "destinationPort": "ANY", "direction": "FORWARD"}}]))
    assert got == AllowedSet([_t("egress", "udp", ("192.0.2.0/24",), [(123, 123)])])


# ---- stable quota packing (issue 12 section 2) ---------------------------------------------------------

def _egress(flow, port, peer=SPIRIT):
    return Term("egress", "tcp", Peer.of(peer), PortSet.of(None), PortSet.of([(port, port)]), flow)


def _placed(r):
    """rule name -> (group, flows), and the placement notes."""
    where = {x["name"]: (x["inputs"]["securityGroupId"]["$ref"], x["inputs"]["tags"]["spirit-flow"]) for x in r.rules}
    return where, " ".join(r.quota["placement"])


@pytest.mark.parametrize("quota,groups", [(60, 1), (60, 2), (35, 3), (12, 5)])
def test_adding_or_removing_a_flow_moves_only_what_the_quota_forces_and_names_it(quota, groups):
    """Grow a profile one flow at a time past the quota, then shrink it: a rule that stays keeps its group
    and its peer kind (prefix list or CIDRs) unless the quota forces the move, and then the render's
    placement notes (warnings, quota figures) name it."""
    terms = [_egress(f"flow-{p}", p) for p in range(1000, 1012)]
    opts = SgOptions(quota=quota, groups_per_interface=groups)
    steps = [AllowedSet(terms[:k]) for k in range(1, len(terms) + 1)]
    steps += [AllowedSet(terms[:k] + terms[k + 1:]) for k in range(len(terms))]
    forced = kept = 0
    prev, prev_notes = None, ""
    for allowed in steps:
        r = model(allowed, opts, profile="phones", spirit_cidrs=SPIRIT)
        assert all(line in r.warnings for line in r.quota["placement"])
        where, notes = _placed(r)
        flows = {t.flow for t in allowed.terms}
        for name, (group, owner) in (prev or {}).items():
            if owner not in flows:
                continue  # its flow was removed
            if where.get(name, (None, owner))[0] == group:
                kept += 1
                continue
            # moved to another group, or converted between prefix list and CIDRs: named in the notes of
            # the render that has it away from where it was
            assert name in notes or name in prev_notes, (name, group, where.get(name))
            forced += 1
        prev, prev_notes = where, notes
    # 12 list rules (10 each) never fit in one group of 60: the walk does force moves, each one named
    assert kept > 200 and forced > 0


def test_a_rule_that_still_fits_stays_when_a_flow_sorting_first_joins():
    """The issue's example shape: a flow that sorts before the others must not move them."""
    base = [_egress(f"phone-{p}", p) for p in (5060, 443, 80)]
    before = model(AllowedSet(base), profile="phones", spirit_cidrs=SPIRIT)
    after = model(AllowedSet([*base, _egress("aaa-first", 8443)]), profile="phones", spirit_cidrs=SPIRIT)
    b, _ = _placed(before)
    a, _ = _placed(after)
    assert {n: a[n] for n in b} == b and len(a) == len(b) + 1
