"""The pure NAT renderers: ruleset, classification, cloud-init, resolver (no root, no kernel)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from spirit_infra import AllowedSet, ConfigError, Overrides, Peer, PortSet, Term, build_profile
from spirit_infra.nat import NatOptions, render_cloud_init, render_ruleset
from spirit_infra.nat.classify import allowed_boxes, classify, fixed, keep
from spirit_infra.nat.cloudinit import (
    AGENT_CONFIG,
    AGENT_PATH,
    CLOSED_RULESET,
    MODPROBE_FILE,
    PAYLOAD_FILE,
    RESOLVER_CONFIG,
    RESOLVER_PATH,
    SYSCTL_FILE,
    cloud_init_files,
    payload,
    render_boot_cloud_init,
)
from spirit_infra.nat.resolver import nft_script, resolve_sets
from spirit_infra.nat.ruleset import class_id

ROOT = Path(__file__).resolve().parents[2]

PROFILES = ("phones", "communicator", "sbc")
OPTS = NatOptions(lan_if="eth1", wan_if="eth0")


def statements(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def boxes_to_set(boxes) -> AllowedSet:
    return AllowedSet(Term("egress", b.transport, Peer.of(b.cidrs), PortSet.of([b.src]), PortSet.of([b.dst]))
                      for b in boxes)


def decision_at(profile: str, dst: str, proto: str, sport: int, dport: int):
    import netaddr

    prof = build_profile(profile)
    found = [b.value for b in classify(prof.allowed, {f.id: f.dscp for f in prof.flows})
             if b.transport == proto and b.src[0] <= sport <= b.src[1] and b.dst[0] <= dport <= b.dst[1]
             and any(netaddr.IPAddress(dst) in netaddr.IPNetwork(c) for c in b.cidrs)]
    assert len(found) <= 1, "boxes overlap"
    return found[0] if found else fixed("0")


@pytest.mark.parametrize("profile", PROFILES)
def test_ruleset_golden_deterministic_and_never_a_helper(profile, golden_text):
    prof = build_profile(profile)
    text = render_ruleset(prof, OPTS)
    assert text == render_ruleset(build_profile(profile), OPTS)
    assert "helper" not in statements(text)
    for opts in (NatOptions("eth1", "eth0", strict=False), NatOptions("eth0", "eth0", snat_address="192.0.2.7")):
        assert "helper" not in statements(render_ruleset(prof, opts))
    golden_text(f"nat/{profile}.nft", text)  # native forms: the ruleset nft reads, the cloud-config document
    golden_text(f"nat/{profile}.cloud-init.yaml", render_cloud_init(prof, OPTS))


@pytest.mark.parametrize("profile", PROFILES)
def test_one_lookup_per_packet_and_one_classification_per_connection(profile):
    st = statements(render_ruleset(build_profile(profile), OPTS))
    assert len(re.findall(r"\bvmap\b", st)) == 1
    assert re.search(r'oifname "eth0" ct mark vmap \{', st)  # two NICs: every packet out of the WAN
    one_nic = statements(render_ruleset(build_profile(profile), NatOptions("eth0", "eth0")))
    assert re.search(r'oifname "eth0" ct direction original ct mark vmap \{', one_nic)  # not replies to the LAN
    assert st.count("map @dscp_class") == 1
    assert "ct mark set ip daddr . meta l4proto . th sport . th dport map @dscp_class" in st
    assert 'iifname "eth1" ct state new ct status ! confirmed jump new_from_lan' in st
    assert "type ipv4_addr . inet_proto . inet_service . inet_service : mark" in st
    assert st.count("flags interval") >= 2


@pytest.mark.parametrize("profile", PROFILES)
def test_classified_boxes_are_disjoint_and_the_allowed_boxes_are_exactly_the_profile(profile):
    prof = build_profile(profile)
    egress_cidr = AllowedSet(t for t in prof.allowed if t.direction == "egress" and t.peer.cidrs)
    allowed = allowed_boxes(prof.allowed)
    assert boxes_to_set(allowed) == egress_cidr
    marks = classify(prof.allowed, {f.id: f.dscp for f in prof.flows})
    assert boxes_to_set(marks) <= egress_cidr
    for i, a in enumerate(marks):  # pairwise disjoint
        for b in marks[i + 1:]:
            assert (boxes_to_set([a]) & boxes_to_set([b])).is_empty


@pytest.mark.parametrize(("profile", "packet", "expected"), [
    ("phones", ("103.80.244.10", "udp", 5060, 5060), fixed("CS3")),
    ("phones", ("45.64.148.1", "tcp", 8060, 5062), fixed("CS3")),
    ("phones", ("103.80.244.10", "udp", 20000, 30000), keep(["EF", "AF41"])),
    ("phones", ("103.80.244.10", "udp", 5060, 5063), keep(["EF", "AF41"])),
    ("phones", ("103.80.244.10", "tcp", 40000, 443), fixed("0")),
    ("phones", ("198.51.100.1", "udp", 20000, 30000), fixed("0")),
    ("communicator", ("103.80.244.10", "udp", 8500, 20000), fixed("EF")),
    ("communicator", ("103.80.244.10", "udp", 8698, 20000), fixed("AF41")),
    ("communicator", ("103.80.244.10", "udp", 40000, 5061), fixed("CS3")),
    ("communicator", ("103.80.244.10", "udp", 8599, 20000), fixed("0")),
    ("communicator", ("45.64.148.10", "udp", 8500, 20000), fixed("0")),
    ("sbc", ("45.64.148.10", "udp", 16384, 40000), keep(["AF41", "EF"])),
    ("sbc", ("103.80.244.10", "tcp", 50000, 5061), fixed("CS3")),
])
def test_dscp_decisions(profile, packet, expected):
    assert decision_at(profile, *packet) == expected


def test_keep_or_lowest_never_grants_ef():
    d = keep(["EF", "AF41"])
    assert d.kind == "keep" and d.fallback == "AF41" and d.classes == ("AF41", "EF")
    assert keep(["CS3", "EF"]).fallback == "CS3"
    assert class_id(fixed("EF")) == 46 and class_id(fixed("0")) == 0
    assert class_id(d) == 0x10000 | 0b110 << 8 | 34


def test_a_class_0_flow_sharing_a_box_with_a_marked_one_keeps_either(tmp_path):
    """Found by the churn corpus: phone-xsi at CS3 shares tcp 443 to 103.80.244.0/22 with
    phone-provisioning at 0; the keep(0, CS3) decision had no mark value (ValueError, a traceback)."""
    d = keep(["CS3", "0"])
    assert d.classes == ("0", "CS3") and d.fallback == "0"
    assert class_id(d) == 0x10000 | 0b1001 << 8 | 0
    assert class_id(keep(["AF41", "EF"])) == 0x10000 | 0b110 << 8 | 34  # the other marks never move
    data = yaml.safe_load(open(build_profile("phones").catalogue.path, encoding="utf-8"))
    next(f for f in data["flows"] if f["id"] == "phone-xsi")["dscp"] = "CS3"
    path = tmp_path / "spirit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    text = render_ruleset(build_profile("phones", Overrides(catalogue=str(path))), OPTS)
    assert "ip dscp { cs0, cs3 } return" in text


def test_extra_cidrs_grow_the_sets_not_the_rules():
    small = statements(render_ruleset(build_profile("phones"), OPTS))
    extra = tuple(f"20.0.{2 * i}.0/24" for i in range(50))
    big = statements(render_ruleset(build_profile("phones", Overrides(extra_spirit_cidrs=extra)), OPTS))
    rules = lambda st: [ln for ln in st.splitlines() if " . " not in ln]  # noqa: E731
    assert rules(small) == rules(big)
    assert big.count("20.0.98.0/24") >= 2


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"lan_if": "eth 1"}, "lan_if"),
    ({"wan_if": "x" * 16}, "wan_if"),
    ({"wan_if": ""}, "wan_if"),
    ({"snat_address": "300.1.1.1"}, "snat_address"),
    ({"snat_address": "224.0.0.1"}, "snat_address"),
    ({"sip_keepalive_seconds": 4}, "sip_keepalive_seconds"),
    ({"sip_keepalive_seconds": 3601}, "sip_keepalive_seconds"),
    ({"sip_keepalive_seconds": 120, "udp_timeout": 120}, "udp_timeout"),
    ({"fqdn_refresh_seconds": 1}, "fqdn_refresh_seconds"),
])
def test_options_are_validated(kwargs, field):
    with pytest.raises(ConfigError) as err:
        NatOptions(**{"lan_if": "eth1", "wan_if": "eth0", **kwargs})
    assert err.value.field == field


def test_udp_timeout_defaults_outlive_the_keepalive():
    assert NatOptions("a", "b").udp_timeout == 300
    assert NatOptions("a", "b", sip_keepalive_seconds=200).udp_timeout == 400
    assert NatOptions("a", "b", sip_keepalive_seconds=30, udp_timeout=45).udp_timeout == 45
    text = render_ruleset(build_profile("sbc"), NatOptions("a", "b", sip_keepalive_seconds=200))
    assert "policy = { unreplied : 400, replied : 400 }" in text


def test_snat_and_masquerade():
    prof = build_profile("sbc")
    assert 'oifname "eth0" masquerade' in render_ruleset(prof, OPTS)
    assert 'oifname "eth0" snat to 192.0.2.7' in render_ruleset(prof, NatOptions("eth1", "eth0", snat_address="192.0.2.7"))
    loose = statements(render_ruleset(prof, NatOptions("eth1", "eth0", strict=False)))
    assert "policy accept;" in loose and "policy drop" not in loose and " drop\n" not in loose
    assert "ct mark vmap" in loose


def test_cloud_init_is_complete():
    text = render_cloud_init(build_profile("phones"), OPTS)
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    files = {f["path"]: f for f in doc["write_files"]}
    # stand-alone: the ruleset is in force from boot, and the agent watches the payload file
    assert files["/etc/nftables.conf"]["content"] == "#!/usr/sbin/nft -f\n" + render_ruleset(build_profile("phones"), OPTS)
    body = json.loads(files[PAYLOAD_FILE]["content"])
    assert body == payload(build_profile("phones"), OPTS)
    assert body["sysctls"] == {"net.ipv4.ip_forward": 1, "net.netfilter.nf_conntrack_udp_timeout": 300,
                               "net.netfilter.nf_conntrack_udp_timeout_stream": 300}
    assert set(body["fqdn"]["sets"]) == {"fqdn_phone_ntp", "fqdn_phone_ztp"}
    assert json.loads(files[AGENT_CONFIG]["content"]) == {"channel": "file", "path": PAYLOAD_FILE, "poll": 10}
    assert files[AGENT_PATH]["content"] == (ROOT / "spirit_infra/nat/agent.py").read_text()
    assert "net.ipv4.ip_forward = 1" in files[SYSCTL_FILE]["content"]
    assert "install nf_conntrack_sip /bin/false" in files[MODPROBE_FILE]["content"]
    assert files[RESOLVER_PATH]["permissions"] == files[AGENT_PATH]["permissions"] == "0755"
    assert "OnUnitActiveSec=300s" in files["/etc/systemd/system/spirit-nat-resolver.timer"]["content"]
    assert ["systemctl", "enable", "--now", "nftables.service"] in doc["runcmd"]
    assert ["systemctl", "enable", "--now", "spirit-nat-agent.service"] in doc["runcmd"]
    sbc = yaml.safe_load(render_cloud_init(build_profile("sbc"), NatOptions("eth1", "eth0", refuse_sip_helper=False)))
    paths = {f["path"] for f in sbc["write_files"]}
    assert MODPROBE_FILE not in paths  # helper module allowed (the ruleset never attaches it)
    assert json.loads(next(f["content"] for f in sbc["write_files"] if f["path"] == PAYLOAD_FILE))["fqdn"] is None
    assert [f["path"] for f in cloud_init_files(build_profile("sbc"), OPTS)][0] == "/etc/nftables.conf"


@pytest.mark.parametrize("channel", [{"channel": "aws-ssm", "parameter": "/spirit-infra/p/s/nat", "region": "eu-west-1",
                                      "poll": 30}, {"channel": "gcp", "key": "spirit-nat-ruleset", "wait_seconds": 300},
                                     {"channel": "azure", "poll": 30}], ids=lambda c: c["channel"])
def test_boot_cloud_init_carries_no_catalogue_input(channel):
    """The boot document of a cloud instance: the channel, the agent, a closed initial ruleset; no flow."""
    text = render_boot_cloud_init(channel)
    doc = yaml.safe_load(text)
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    assert files["/etc/nftables.conf"] == "#!/usr/sbin/nft -f\n" + CLOSED_RULESET
    assert "policy drop;" in CLOSED_RULESET and "accept" not in CLOSED_RULESET
    assert json.loads(files[AGENT_CONFIG]) == channel
    assert PAYLOAD_FILE not in files and RESOLVER_CONFIG not in files
    for flow in build_profile("phones").flows + build_profile("communicator").flows + build_profile("sbc").flows:
        assert flow.id not in text
    assert "103.80.244.0" not in text


def test_resolver_builds_one_transaction_and_keeps_sets_it_could_not_resolve():
    table = {"a.example": ["192.0.2.2", "192.0.2.1", "::1"], "b.example": ["192.0.2.1", "127.0.0.1"]}

    def fake(name):
        if name not in table:
            raise OSError("Name or service not known")
        return table[name]

    resolved, errors = resolve_sets({"fqdn_x": ["a.example", "b.example"], "fqdn_y": ["gone.example"]}, fake)
    assert resolved == {"fqdn_x": ["192.0.2.1", "192.0.2.2"]}
    assert errors == ["gone.example: Name or service not known"]
    assert nft_script("spirit_nat", resolved, 900) == (
        "flush set ip spirit_nat fqdn_x\n"
        "add element ip spirit_nat fqdn_x { 192.0.2.1 timeout 900s, 192.0.2.2 timeout 900s }\n")
    assert nft_script("spirit_nat", {}, 900) == ""


def test_a_flow_reached_by_dns_name_keeps_its_catalogue_class(tmp_path):
    """An FQDN-peered flow is not in the interval map; its non-zero DSCP must still be set (it was remarked to 0)."""
    from pathlib import Path

    import spirit_infra.catalogue as catalogue_pkg

    text = (Path(catalogue_pkg.__file__).with_name("spirit.yaml")).read_text()
    start = text.index("  - id: phone-ntp")
    at = text.index('dscp: "0"', start)
    cat = tmp_path / "cat.yaml"
    cat.write_text(text[:at] + "dscp: EF" + text[at + len('dscp: "0"'):])
    st = statements(render_ruleset(build_profile("phones", Overrides(catalogue=str(cat))), OPTS))
    new_chain = st[st.index("chain new_from_lan"):st.index("chain forward")]
    assert ("ct mark 0x0 ip daddr @fqdn_phone_ntp meta l4proto udp th sport 1024-65535 th dport 123 "
            "ct mark set 0x2e") in new_chain
    assert "0x2e : jump dscp_ef" in st and "chain dscp_ef" in st
    # the packaged catalogue's FQDN flows are all DSCP 0: nothing extra
    assert "ct mark 0x0" not in statements(render_ruleset(build_profile("phones"), OPTS))
