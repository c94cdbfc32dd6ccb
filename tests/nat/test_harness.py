"""Tests of the namespace harness itself, with hand-written nftables rulesets (no renderer involved)."""

from __future__ import annotations

import subprocess

import pytest

from . import netns
from .netns import (
    MASQUERADE_RULESET,
    HarnessError,
    NftError,
    Topology,
    list_netns,
    tcp_exchange,
    udp_exchange,
)

pytestmark = pytest.mark.netns

SPIRIT = Topology.SPIRIT_IPS[0]
SIP_PORT = 5060
INVITE = (
    b"INVITE sip:1000@phreg.access4.com.au SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.20.0.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Contact: <sip:2000@10.20.0.10:5060>\r\n"
    b"Content-Type: application/sdp\r\n\r\n"
    b"v=0\r\no=- 1 1 IN IP4 10.20.0.10\r\nc=IN IP4 10.20.0.10\r\nm=audio 10000 RTP/AVP 0\r\n"
)
EXCHANGES = {"udp": udp_exchange, "tcp": tcp_exchange}

MARK_CS3_OUT_AF41_BACK = (
    MASQUERADE_RULESET
    + """\
table ip spirit_mangle {
    chain through {
        type filter hook forward priority mangle; policy accept;
        oifname "wan0" ip dscp set cs3
        iifname "wan0" ip dscp set af41
    }
}
"""
)

DROP_FORWARD = """\
table ip spirit_drop {
    chain through {
        type filter hook forward priority filter; policy drop;
    }
}
"""


@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize("dst", [*Topology.SPIRIT_IPS, Topology.INTERNET_IP])
def test_masquerade_rewrites_source_to_wan_address_and_replies_return(topology, proto, dst):
    topology.load_ruleset(MASQUERADE_RULESET)
    obs = EXCHANGES[proto](topology, 41000, dst, SIP_PORT, b"ping")
    assert obs.received
    assert obs.src_ip == topology.nat_wan_ip
    assert obs.reply_received, obs
    assert obs.reply == b"ECHO:ping"
    assert obs.client_error is None and obs.reply_error is None


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_without_nat_the_packet_arrives_unnated_and_no_reply_can_return(topology, proto):
    assert topology.ruleset().strip() == ""
    obs = EXCHANGES[proto](topology, 41001, SPIRIT, SIP_PORT, b"ping", timeout=1.0)
    assert obs.received  # forwarded by the nat namespace, seen by the Spirit host ...
    assert obs.src_ip == topology.client_ip  # ... with the private LAN source
    assert not obs.reply_received  # ... which the Spirit host has no route back to
    assert obs.client_error is not None
    if proto == "udp":
        assert "unreachable" in obs.reply_error.lower()
    else:
        assert obs.payload is None  # the handshake never completed


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_dropping_forward_chain_means_nothing_received(topology, proto):
    topology.load_ruleset(MASQUERADE_RULESET + DROP_FORWARD)
    obs = EXCHANGES[proto](topology, 41002, SPIRIT, SIP_PORT, b"ping", timeout=1.0)
    assert not obs.received
    assert obs.src_ip is None and obs.tos is None and obs.payload is None
    assert not obs.reply_received


@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize(("tos", "dscp"), [(0xB8, 46), (0x00, 0), (0x88, 34)])
def test_dscp_is_carried_unchanged_without_a_marking_rule(topology, proto, tos, dscp):
    topology.load_ruleset(MASQUERADE_RULESET)
    obs = EXCHANGES[proto](topology, 41010 + tos, SPIRIT, SIP_PORT, b"voice", tos=tos)
    assert obs.reply_received
    assert obs.dscp == dscp
    assert obs.dscp_values == (dscp,)  # every segment of a TCP flow, not only the first


@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize("tos", [0x00, 0xB8])
def test_dscp_set_rule_changes_the_observed_dscp_both_ways(topology, proto, tos):
    topology.load_ruleset(MARK_CS3_OUT_AF41_BACK)
    obs = EXCHANGES[proto](topology, 41020 + tos, SPIRIT, SIP_PORT, b"voice", tos=tos)
    assert obs.reply_received
    assert obs.src_ip == topology.nat_wan_ip
    assert obs.dscp == 24
    assert obs.dscp_values == (24,)
    assert obs.reply_dscp == 34


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_reply_dscp_is_zero_without_a_marking_rule(topology, proto):
    topology.load_ruleset(MASQUERADE_RULESET)
    obs = EXCHANGES[proto](topology, 41030, SPIRIT, SIP_PORT, b"voice", tos=0xB8)
    assert obs.reply_received and obs.reply_dscp == 0


@pytest.mark.parametrize("proto", ["udp", "tcp"])
@pytest.mark.parametrize("payload", [INVITE, bytes(range(256)) * 4], ids=["invite", "all-bytes"])
def test_payload_arrives_byte_for_byte(topology, proto, payload):
    topology.load_ruleset(MASQUERADE_RULESET)
    obs = EXCHANGES[proto](topology, 41040, SPIRIT, SIP_PORT, payload)
    assert obs.payload == payload
    assert obs.reply == b"ECHO:" + payload


def test_source_port_is_what_the_client_asked_for(topology):
    topology.load_ruleset(MASQUERADE_RULESET)
    sent = topology.send("udp", SPIRIT, SIP_PORT, b"x", src_port=41050, timeout=0.5)
    assert sent["local"] == ["0.0.0.0", 41050]
    obs = udp_exchange(topology, 41051, SPIRIT, SIP_PORT, b"x")
    assert obs.src_port == 41051  # masquerade keeps a free source port


def test_listener_counts_several_datagrams_from_one_flow(topology):
    topology.load_ruleset(MASQUERADE_RULESET)
    with topology.listen("udp", SPIRIT, SIP_PORT, count=3, timeout=5) as listener:
        for i in range(3):
            sent = topology.send("udp", SPIRIT, SIP_PORT, f"n{i}".encode(), src_port=41060, tos=0xB8)
            assert bytes.fromhex(sent["reply_hex"]) == f"ECHO:n{i}".encode()
        result = listener.result()
    assert result["stopped_by"] == "count"
    assert [bytes.fromhex(r["payload_hex"]) for r in result["records"]] == [b"n0", b"n1", b"n2"]
    assert {tuple(r["peer"]) for r in result["records"]} == {(topology.nat_wan_ip, 41060)}
    assert {r["tos"] for r in result["records"]} == {0xB8}


def test_conntrack_shows_the_nat_mapping(topology):
    topology.load_ruleset(MASQUERADE_RULESET)
    assert udp_exchange(topology, 41070, SPIRIT, SIP_PORT, b"x").reply_received
    entries = [e for e in topology.conntrack_entries("udp") if "sport=41070" in e]
    assert len(entries) == 1
    assert f"src={topology.client_ip} dst={SPIRIT}" in entries[0]
    assert f"src={SPIRIT} dst={topology.nat_wan_ip}" in entries[0]  # reply tuple: translated


def test_conntrack_timeout_sysctls_are_per_namespace_and_reset(topology):
    defaults = topology.conntrack_timeouts()
    assert defaults["udp_timeout"] == 30 and defaults["udp_timeout_stream"] == 120
    assert topology.set_conntrack_timeout("udp_timeout_stream", 300) == 300
    assert topology.sysctl("nat", "net.netfilter.nf_conntrack_udp_timeout", 300) == "300"
    after = topology.conntrack_timeouts()
    assert after["udp_timeout"] == 300 and after["udp_timeout_stream"] == 300
    assert topology.sysctl("spirit", "net.netfilter.nf_conntrack_udp_timeout_stream") == "120"
    topology.reset()
    assert topology.conntrack_timeouts() == defaults


def test_sysctls_of_the_topology(topology):
    assert topology.sysctl("nat", "net.ipv4.ip_forward") == "1"
    assert topology.sysctl("spirit", "net.ipv4.ip_forward") == "0"
    assert topology.sysctl("client", "net.ipv6.conf.all.disable_ipv6") == "1"


def test_return_routes_reach_only_the_wan_segment(topology):
    routes = topology.exec("spirit", "ip", "-4", "route", "show").stdout
    assert "100.64.0.0/24" in routes and "default" not in routes and "10.20.0" not in routes
    get = topology.exec("spirit", "ip", "route", "get", topology.client_ip, check=False)
    assert get.returncode != 0 and "unreachable" in get.stderr.lower()
    links = topology.exec("nat", "ip", "-o", "link", "show").stdout
    assert f" {topology.lan_if}@" in links and f" {topology.wan_if}@" in links


def test_reset_flushes_ruleset_and_conntrack(topology):
    topology.load_ruleset(MASQUERADE_RULESET)
    assert udp_exchange(topology, 41080, SPIRIT, SIP_PORT, b"x").reply_received
    assert "masquerade" in topology.ruleset()
    assert topology.conntrack_entries("udp")
    topology.reset()
    assert topology.ruleset().strip() == ""
    assert topology.conntrack_entries("udp") == []


def test_load_ruleset_error_carries_nft_stderr_and_keeps_old_ruleset(topology):
    topology.load_ruleset(MASQUERADE_RULESET)
    with pytest.raises(NftError) as err:
        topology.load_ruleset("table ip broken { chain c { ip dscp set nonsense } }\n")
    assert "Error" in err.value.stderr and "nonsense" in str(err.value)
    assert "masquerade" in topology.ruleset()  # the failed transaction changed nothing


def test_nft_check_validates_without_loading(topology):
    topology.nft_check(MARK_CS3_OUT_AF41_BACK)
    assert topology.ruleset().strip() == ""
    with pytest.raises(NftError) as err:
        topology.nft_check(
            'table ip t { chain c { type nat hook postrouting priority srcnat; oifname "wan0" masq } }'
        )
    assert "Error" in err.value.stderr


def test_unknown_namespace_and_address_are_refused(topology):
    with pytest.raises(HarnessError):
        topology.exec("router", "true")
    with pytest.raises(HarnessError):
        topology.ns_for("192.0.2.1")


def test_teardown_removes_every_namespace_even_when_the_body_fails():
    assert netns.requirements_problem() is None, netns.requirements_problem()
    topo = Topology()
    with pytest.raises(RuntimeError, match="boom"):
        with topo:
            names = set(topo.names.values())
            assert names <= set(list_netns())
            listener = topo.listen("udp", SPIRIT, SIP_PORT, timeout=30)  # still running at teardown
            assert listener._proc.poll() is None
            raise RuntimeError("boom")
    assert [n for n in list_netns() if n.startswith(topo.prefix)] == []
    assert listener._proc.poll() is not None
    topo.destroy()  # idempotent


def test_requirements_problem_explains_missing_root_and_tools(monkeypatch):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert "root" in netns.requirements_problem()
    monkeypatch.setattr(netns.os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns.shutil, "which", lambda tool: None if tool == "nft" else f"/usr/sbin/{tool}")
    assert "nft" in netns.requirements_problem()
    with pytest.raises(HarnessError, match="nft"):
        Topology().build()


def test_cleanup_stale_removes_only_namespaces_of_dead_runs(request):
    assert netns.requirements_problem() is None, netns.requirements_problem()
    proc = subprocess.Popen(["true"])  # its pid has certainly exited once waited for
    proc.wait(timeout=5)
    dead = f"spirit-{proc.pid}-9-nat"
    alive = f"{netns.RUN_PREFIX}999-nat"  # this run's pid: must be kept
    for name in (dead, alive):
        subprocess.run(["ip", "netns", "add", name], check=True)
        request.addfinalizer(lambda name=name: subprocess.run(["ip", "netns", "del", name], check=False))
    removed = netns.cleanup_stale()
    assert dead in removed and alive not in removed
    names = list_netns()
    assert dead not in names and alive in names


def test_both_imports_of_the_harness_never_name_two_topologies_alike():
    # pytest imports this file as nat.netns (tests/nat) and as tests.nat.netns (tests/probe's deployment);
    # under pytest-xdist one worker can hold both kinds of Topology at once, so they share one counter
    import tests.nat.netns as other

    assert other is not netns and other.Topology is not Topology
    prefixes = [Topology().prefix, other.Topology().prefix, Topology().prefix, other.Topology().prefix]
    assert len(set(prefixes)) == 4 and all(p.startswith(netns.RUN_PREFIX) for p in prefixes), prefixes
