"""The rendered QoS NAT ruleset on a real kernel: real packets from the client, observed at the receiver.

Uses the namespace harness (netns.py / conftest.py): client 10.20.0.10 -> nat (lan0 / wan0 100.64.0.1)
-> Spirit host (103.80.244.10, 45.64.148.10, 103.80.247.250) and an unrelated Internet host 198.51.100.20.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spirit_infra import Overrides, build_profile
from spirit_infra.nat import DROP_COUNTER, TABLE, NatOptions, render_ruleset
from spirit_infra.nat.cloudinit import cloud_init_files, sysctls
from spirit_infra.nat.ruleset import fqdn_sets

from .netns import Topology, tcp_exchange, udp_exchange

pytestmark = pytest.mark.netns

SP1, SP2, SP_HIGH = Topology.SPIRIT_IPS  # 103.80.244.10, 45.64.148.10, 103.80.247.250
NET = Topology.INTERNET_IP
CS0, CS3, AF41, EF = 0, 24, 34, 46
TOS = {CS0: 0x00, CS3: 0x60, AF41: 0x88, EF: 0xB8}
EX = {"udp": udp_exchange, "tcp": tcp_exchange}

INVITE = (
    b"INVITE sip:1000@phreg.access4.com.au SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.20.0.10:5062;branch=z9hG4bK-spirit-1;rport\r\n"
    b"From: <sip:2000@phreg.access4.com.au>;tag=1\r\nTo: <sip:1000@phreg.access4.com.au>\r\n"
    b"Call-ID: a84b4c76e66710@10.20.0.10\r\nCSeq: 1 INVITE\r\n"
    b"Contact: <sip:2000@10.20.0.10:5062;transport=udp>\r\n"
    b"Content-Type: application/sdp\r\nContent-Length: 96\r\n\r\n"
    b"v=0\r\no=- 1 1 IN IP4 10.20.0.10\r\ns=-\r\nc=IN IP4 10.20.0.10\r\nt=0 0\r\n"
    b"m=audio 20000 RTP/AVP 0 8\r\na=sendrecv\r\n"
)

# (label, proto, client source port, destination, destination port, TOS sent, DSCP expected at the receiver)
ALLOWED = {
    "phones": [
        ("sip-udp", "udp", 5060, SP1, 5060, TOS[CS0], CS3),
        ("sip-udp-5062-ef-asked", "udp", 8060, SP2, 5062, TOS[EF], CS3),
        ("sip-tcp", "tcp", 5070, SP2, 5061, TOS[CS0], CS3),
        ("audio-ef-kept", "udp", 20000, SP1, 30000, TOS[EF], EF),
        ("video-af41-kept", "udp", 20002, SP2, 30002, TOS[AF41], AF41),
        ("media-unmarked-lowest", "udp", 20004, SP1, 30004, TOS[CS0], AF41),
        ("media-cs3-lowest", "udp", 20006, SP_HIGH, 30006, TOS[CS3], AF41),
        ("https-xsi-remarked", "tcp", 40000, SP1, 443, TOS[EF], CS0),
    ],
    "communicator": [
        ("sip-udp", "udp", 40010, SP1, 5060, TOS[CS0], CS3),
        ("sip-tcp", "tcp", 40011, SP1, 5062, TOS[EF], CS3),
        ("audio-8500", "udp", 8500, SP1, 20000, TOS[CS0], EF),
        ("audio-8598-af41-asked", "udp", 8598, SP_HIGH, 20002, TOS[AF41], EF),
        ("video-8600", "udp", 8600, SP1, 20004, TOS[CS0], AF41),
        ("video-8698-ef-asked", "udp", 8698, SP1, 20006, TOS[EF], AF41),
        ("https", "tcp", 40012, SP1, 443, TOS[AF41], CS0),
        ("xmpp", "tcp", 40013, SP1, 5222, TOS[CS0], CS0),
    ],
    "sbc": [
        ("sip-udp", "udp", 5060, SP1, 5060, TOS[CS0], CS3),
        ("sip-tcp", "tcp", 40020, SP2, 5061, TOS[CS0], CS3),
        ("media-unmarked", "udp", 16384, SP1, 40000, TOS[CS0], AF41),
        ("media-ef-kept", "udp", 32767, SP2, 40002, TOS[EF], EF),
        ("media-cs3-lowest", "udp", 20000, SP1, 40004, TOS[CS3], AF41),
    ],
}

# traffic strict mode must refuse: (label, proto, source port, destination, destination port)
REFUSED = {
    "phones": [
        ("internet-host", "udp", 20010, NET, 30010),
        ("spirit-ssh", "tcp", 40030, SP1, 22),
        ("https-to-45-range", "tcp", 40031, SP2, 443),  # XSI/provisioning are 103.80.244.0/22 only
        ("sip-from-low-port", "udp", 1000, SP1, 5060),
    ],
    "communicator": [
        ("internet-host", "tcp", 40032, NET, 443),
        ("spirit-ssh", "tcp", 40033, SP1, 22),
        ("media-from-8599", "udp", 8599, SP1, 20010),  # between the audio and video port ranges
        ("audio-to-45-range", "udp", 8500, SP2, 20012),
    ],
    "sbc": [
        ("internet-host", "udp", 5060, NET, 5060),
        ("spirit-ssh", "tcp", 40034, SP1, 22),
        ("media-outside-sbc-range", "udp", 40000, SP1, 20014),
    ],
}

OPTS = NatOptions(lan_if=Topology.lan_if, wan_if=Topology.wan_if)


def _load(topo: Topology, profile: str, options: NatOptions = OPTS, **ov) -> str:
    text = render_ruleset(build_profile(profile, Overrides(**ov)), options)
    topo.load_ruleset(text)
    return text


def _statements(text: str) -> str:
    """The ruleset without comments (what nft executes)."""
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _dropped(topo: Topology) -> int:
    out = topo.nft("list", "counter", "ip", TABLE, DROP_COUNTER)
    return int(re.search(r"packets (\d+)", out).group(1))


def _fill(topo: Topology, set_name: str, *addrs: str) -> None:
    topo.nft("add", "element", "ip", TABLE, set_name, "{ " + ", ".join(addrs) + " }")


@pytest.mark.parametrize("profile", sorted(ALLOWED))
def test_rendered_ruleset_passes_nft_check_in_every_variant(topology, profile):
    prof = build_profile(profile)
    for opts in (OPTS, NatOptions("lan0", "wan0", strict=False), NatOptions("lan0", "wan0", snat_address="100.64.0.1"),
                 NatOptions("lan0", "wan0", sip_keepalive_seconds=3600)):
        text = render_ruleset(prof, opts)
        topology.nft_check(text)
        assert "helper" not in _statements(text)
    big = build_profile(profile, Overrides(extra_spirit_cidrs=tuple(f"20.{i // 200}.{(i % 200) + 1}.0/24"
                                                                    for i in range(0, 400, 2))))
    topology.nft_check(render_ruleset(big, OPTS))
    conf = {f["path"]: f["content"] for f in cloud_init_files(prof, OPTS)}["/etc/nftables.conf"]
    topology.nft_check(conf)  # what cloud-init installs, with its own "flush ruleset"


@pytest.mark.parametrize("profile", sorted(ALLOWED))
def test_allowed_flows_are_natted_marked_per_catalogue_and_answered(topology, profile):
    _load(topology, profile)
    failures = []
    for label, proto, sport, dst, dport, tos, want in ALLOWED[profile]:
        obs = EX[proto](topology, sport, dst, dport, label.encode(), tos=tos)
        got = (obs.received, obs.src_ip, obs.dscp_values or (obs.dscp,), obs.reply_received, obs.payload)
        if got != (True, topology.nat_wan_ip, (want,), True, label.encode()):
            failures.append(f"{label}: received={obs.received} src={obs.src_ip} dscp={obs.dscp_values or obs.dscp} "
                            f"(want {want}) reply={obs.reply_received} err={obs.client_error}")
    assert not failures, "\n".join(failures)
    assert _dropped(topology) == 0


@pytest.mark.parametrize("profile", sorted(REFUSED))
def test_strict_mode_drops_and_counts_everything_else(topology, profile):
    _load(topology, profile)
    for label, proto, sport, dst, dport in REFUSED[profile]:
        before = _dropped(topology)
        obs = EX[proto](topology, sport, dst, dport, label.encode(), timeout=0.5)
        assert not obs.received, f"{label} was forwarded"
        assert not obs.reply_received
        assert _dropped(topology) > before, f"{label} not counted"
    # and the same traffic passes (remarked to 0) once strict mode is off
    _load(topology, profile, NatOptions(Topology.lan_if, Topology.wan_if, strict=False))
    obs = udp_exchange(topology, 20020, NET, 30020, b"x", tos=TOS[EF])
    assert obs.reply_received and obs.src_ip == topology.nat_wan_ip
    assert obs.dscp == CS0  # outside the catalogue: DSCP 0


@pytest.mark.parametrize("profile", ["phones", "sbc"])
@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_sip_invite_with_private_addresses_arrives_byte_identical(topology, profile, proto):
    text = _load(topology, profile)
    assert "helper" not in _statements(text) and "helper" not in topology.ruleset()
    sport = {("phones", "udp"): 5062, ("phones", "tcp"): 5064, ("sbc", "udp"): 5061, ("sbc", "tcp"): 40100}[
        (profile, proto)]
    obs = EX[proto](topology, sport, SP1, 5060, INVITE)
    assert obs.src_ip == topology.nat_wan_ip
    assert obs.payload == INVITE  # Via, Contact and SDP still carry 10.20.0.10: no ALG touched them
    assert obs.reply == b"ECHO:" + INVITE
    for entry in topology.conntrack_entries():
        assert "helper" not in entry


def test_fqdn_sets_are_filled_by_hand_and_only_their_addresses_pass(topology):
    text = _load(topology, "phones")
    assert "set fqdn_phone_ntp" in text and "set fqdn_phone_ztp" in text
    # empty sets: NTP and ZTP to the Internet host are dropped
    assert not udp_exchange(topology, 40200, NET, 123, b"ntp", timeout=0.5).received
    assert not tcp_exchange(topology, 40201, NET, 443, b"ztp", timeout=0.5).received
    _fill(topology, "fqdn_phone_ntp", NET)
    _fill(topology, "fqdn_phone_ztp", NET)
    ntp = udp_exchange(topology, 40202, NET, 123, b"ntp", tos=TOS[EF])
    assert ntp.reply_received and ntp.src_ip == topology.nat_wan_ip and ntp.dscp == CS0
    https = tcp_exchange(topology, 40203, NET, 443, b"ztp")
    assert https.reply_received and https.src_ip == topology.nat_wan_ip and https.dscp_values == (CS0,)
    # only the flow's own ports: NTP's set does not open other ports on that address
    before = _dropped(topology)
    assert not udp_exchange(topology, 40204, NET, 124, b"x", timeout=0.5).received
    assert not tcp_exchange(topology, 40205, NET, 22, b"x", timeout=0.5).received
    assert _dropped(topology) >= before + 2


def test_resolver_service_fills_the_sets_from_dns(topology):
    """The shipped resolver script, run in the nat namespace, resolves names (via /etc/netns hosts) into the sets."""
    _load(topology, "phones")
    netns_etc = Path("/etc/netns") / topology.nat
    netns_etc.mkdir(parents=True, exist_ok=True)
    try:
        sets = fqdn_sets(build_profile("phones"))
        names = sorted({n for ns in sets.values() for n in ns})
        (netns_etc / "hosts").write_text("".join(f"{NET} {n}\n" for n in names))
        (netns_etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        cfg = netns_etc / "fqdn-sets.json"
        import json

        cfg.write_text(json.dumps({"table": TABLE, "refresh": 60, "sets": sets}))
        script = Path(__file__).parents[2] / "spirit_infra" / "nat" / "resolver.py"
        res = topology.exec("nat", sys.executable, "-I", str(script), "--config", str(cfg), check=False)
        assert res.returncode == 0, res.stderr
        for name in ("fqdn_phone_ntp", "fqdn_phone_ztp"):
            listing = topology.nft("list", "set", "ip", TABLE, name)
            assert NET in listing and "timeout 3m" in listing
    finally:
        shutil.rmtree(netns_etc, ignore_errors=True)
    assert udp_exchange(topology, 40210, NET, 123, b"ntp").reply_received


def _conntrack_timeout(topo: Topology, sport: int) -> int:
    for entry in topo.conntrack_entries("udp"):
        if f"sport={sport} " in entry:
            return int(entry.split()[2])
    raise AssertionError(f"no conntrack entry for sport {sport}: {topo.conntrack_entries('udp')}")


def test_conntrack_udp_timeouts_in_force_are_the_configured_ones(topology):
    opts = NatOptions(Topology.lan_if, Topology.wan_if, sip_keepalive_seconds=240)
    assert opts.udp_timeout == 480
    _load(topology, "phones", opts)
    _fill(topology, "fqdn_phone_ntp", NET)
    assert udp_exchange(topology, 5060, SP1, 5060, b"REGISTER").reply_received  # SIP flow: ct timeout object
    assert udp_exchange(topology, 20000, SP1, 30000, b"rtp", tos=TOS[EF]).reply_received
    assert udp_exchange(topology, 40300, NET, 123, b"ntp").reply_received  # FQDN flow: the sysctl default
    for sport in (5060, 20000):
        assert 480 - 5 <= _conntrack_timeout(topology, sport) <= 480
    assert _conntrack_timeout(topology, 40300) <= topology.conntrack_timeouts()["udp_timeout_stream"]
    # the cloud-init sysctls make the same timeouts the kernel-wide default
    for key, value in sysctls(opts).items():
        assert topology.sysctl("nat", key, value) == str(value)
    in_force = topology.conntrack_timeouts()
    assert in_force["udp_timeout"] == 480 and in_force["udp_timeout_stream"] == 480
    assert in_force["udp_timeout"] > opts.sip_keepalive_seconds


def test_snat_to_a_fixed_address(topology):
    topology.exec("nat", "ip", "addr", "add", "100.64.0.9/24", "dev", Topology.wan_if)
    try:
        _load(topology, "sbc", NatOptions(Topology.lan_if, Topology.wan_if, snat_address="100.64.0.9"))
        obs = udp_exchange(topology, 5060, SP1, 5060, b"OPTIONS")
        assert obs.src_ip == "100.64.0.9" and obs.reply_received and obs.dscp == CS3
    finally:
        topology.exec("nat", "ip", "addr", "del", "100.64.0.9/24", "dev", Topology.wan_if, check=False)


def test_without_root_the_fixture_fails_loudly_instead_of_skipping(tmp_path):
    """Run one packet test as an unprivileged user: it must FAIL (not skip) with the reason.

    The user is nobody (uid/gid 65534, no groups) holding one capability, CAP_DAC_READ_SEARCH, and a
    bounding set of only that one: it may read the checkout and its venv wherever the clone sits (a
    clone under a 0700 directory such as /root/x is unreadable to nobody otherwise), and it can do
    nothing a root-only test needs (no CAP_NET_ADMIN, no CAP_SYS_ADMIN, not uid 0). That is the
    user the promise is about: someone who can run the suite but is not root.
    """
    if os.geteuid() != 0:  # already unprivileged: the fixture itself demonstrates it
        pytest.fail("netns tests need root", pytrace=False)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed for this check"
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(tmp_path)}
    nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
              "--inh-caps=-all,+dac_read_search", "--ambient-caps=-all,+dac_read_search",
              "--bounding-set=-all,+dac_read_search"]
    # the user really is unprivileged: nobody, and CAP_DAC_READ_SEARCH (bit 2) is all it holds
    who = subprocess.run([*nobody, sys.executable, "-c",
                          "import os; print(os.geteuid(), os.getegid(), os.getgroups());"
                          "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0])"],
                         capture_output=True, text=True, timeout=60)
    assert who.returncode == 0, who.stderr
    ids, cap_eff = who.stdout.split("\n")[:2]
    assert ids == "65534 65534 []" and int(cap_eff, 16) == 1 << 2, who.stdout
    proc = subprocess.run(
        [*nobody, sys.executable, "-m", "pytest", "-q",
         "-p", "no:cacheprovider", f"{Path(__file__)}::test_snat_to_a_fixed_address", "-o", "addopts="],
        cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 error" in proc.stdout or "1 failed" in proc.stdout, proc.stdout
    assert "need root" in proc.stdout and "skipped" not in proc.stdout


def test_one_way_udp_flow_keeps_passing_and_marked_while_unanswered(topology):
    """An unanswered flow stays conntrack NEW: every datagram must still pass strict mode and be marked."""
    _load(topology, "communicator")
    with topology.listen("udp", SP1, 20100, count=3, timeout=5, reply=False) as listener:
        for i in range(3):
            topology.send("udp", SP1, 20100, f"rtp{i}".encode(), src_port=8500, tos=TOS[CS0], timeout=0.2)
        result = listener.result()
    assert [bytes.fromhex(r["payload_hex"]) for r in result["records"]] == [b"rtp0", b"rtp1", b"rtp2"]
    assert {r["tos"] >> 2 for r in result["records"]} == {EF}
    assert {tuple(r["peer"]) for r in result["records"]} == {(topology.nat_wan_ip, 8500)}
    assert _dropped(topology) == 0


def test_fqdn_flow_with_a_class_is_marked_on_the_wire(topology, tmp_path):
    """A catalogue whose DNS-named flow (NTP here) has DSCP EF: its packets leave EF, others to that host 0."""
    import spirit_infra.catalogue as catalogue_pkg

    text = Path(catalogue_pkg.__file__).with_name("spirit.yaml").read_text()
    at = text.index('dscp: "0"', text.index("  - id: phone-ntp"))
    cat = tmp_path / "cat.yaml"
    cat.write_text(text[:at] + "dscp: EF" + text[at + len('dscp: "0"'):])
    _load(topology, "phones", catalogue=str(cat))
    _fill(topology, "fqdn_phone_ntp", NET)
    _fill(topology, "fqdn_phone_ztp", NET)
    ntp = udp_exchange(topology, 40400, NET, 123, b"ntp", tos=TOS[CS0])
    assert ntp.reply_received and ntp.src_ip == topology.nat_wan_ip and ntp.dscp == EF
    https = tcp_exchange(topology, 40401, NET, 443, b"ztp", tos=TOS[EF])
    assert https.reply_received and https.dscp_values == (CS0,)


def test_not_strict_a_lan_host_answering_the_internet_leaves_with_dscp_0(topology):
    """--no-strict forwards a connection the Internet opens; the LAN host's answers leave the WAN (reply
    direction) and are traffic outside the catalogue: DSCP 0, whatever the host set."""
    client_ip = "10.20.0.10"
    topology.exec("internet", "ip", "route", "add", "10.20.0.0/24", "via", topology.nat_wan_ip)
    try:
        _load(topology, "phones", NatOptions(Topology.lan_if, Topology.wan_if, strict=False))
        with topology.listen("udp", client_ip, 40500, ns="client", count=1, timeout=5, reply=False) as lan:
            topology.send("udp", client_ip, 40500, b"hello", src_port=30500, src_ns="internet", src_ip=NET, timeout=0.3)
            assert lan.result()["records"], "the Internet's packet was not forwarded"
        with topology.listen("udp", NET, 30500, count=1, timeout=5, reply=False) as net:
            topology.send("udp", NET, 30500, b"answer", src_port=40500, tos=TOS[EF], timeout=0.3)
            records = net.result()["records"]
        assert records and records[0]["tos"] >> 2 == CS0
    finally:
        topology.exec("internet", "ip", "route", "del", "10.20.0.0/24", check=False)


def test_a_connection_with_a_class_the_ruleset_does_not_know_leaves_with_dscp_0(topology):
    """A connection classified by an earlier ruleset keeps its conntrack mark across a reload; when the new
    ruleset does not know that class, the packets must leave with DSCP 0, not with the sender's marking."""
    _load(topology, "phones")  # phone media: keep EF/AF41 (a class communicator's ruleset does not have)
    with topology.listen("udp", SP1, 20200, count=2, timeout=5, reply=False) as listener:
        topology.send("udp", SP1, 20200, b"rtp0", src_port=5000, tos=TOS[EF], timeout=0.2)
        _load(topology, "communicator")  # reload: the connection (and its mark) survives in conntrack
        topology.send("udp", SP1, 20200, b"rtp1", src_port=5000, tos=TOS[EF], timeout=0.2)
        result = listener.result()
    tos = {bytes.fromhex(r["payload_hex"]): r["tos"] >> 2 for r in result["records"]}
    assert tos == {b"rtp0": EF, b"rtp1": CS0}
