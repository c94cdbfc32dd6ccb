"""``spirit-infra probe`` from the client namespace through the project's strict QoS NAT ruleset, against real
peers: SIPp (SIP OPTIONS over UDP/TCP), a SIP-over-TLS responder, TLS servers with test certificates, TCP
listeners, chronyd (NTP), dnsmasq. Each fault a test injects must produce its own verdict and reason."""

from __future__ import annotations

import pytest

from .deployment import INTERNET, OURDMS, RESOLVER, SIP1, SIP2, USS, flows_by_id

pytestmark = pytest.mark.netns

MEDIA = {"phone-audio", "phone-video", "communicator-audio", "communicator-video", "sbc-audio-out", "sbc-video-out"}
INGRESS = {"sbc-sip-udp-in", "sbc-sip-tcp-in", "sbc-media-in"}
EXPECTED_KINDS = {
    "phone-sip": {"sip-udp", "sip-tcp", "sip-tls"}, "phone-xsi": {"tls"}, "phone-provisioning": {"tls"},
    "phone-ztp": {"tls", "tcp"}, "phone-ntp": {"ntp"},
    "communicator-sip": {"sip-udp", "sip-tcp", "sip-tls"}, "communicator-xsi": {"tls"},
    "communicator-config": {"tls"}, "communicator-messaging": {"tcp"}, "communicator-desktop-sharing": {"tls"},
    "communicator-file-transfer": {"tcp"},
    "sbc-sip-udp-out": {"sip-udp"}, "sbc-sip-tcp-out": {"sip-tcp", "sip-tls"},
}
PINNED = {"phone-sip": (5060, 8060), "sbc-sip-udp-out": (5060, 5061), "phone-ntp": (1024, 65535)}


@pytest.mark.parametrize("profile", ["phones", "communicator", "sbc"])
def test_every_flow_of_a_healthy_deployment_passes_or_says_why_not(deployment, profile):
    deployment.load_nat(profile)
    rc, data, err = deployment.probe(profile)
    flows = flows_by_id(data)
    assert rc == 0 and data["exit_code"] == 0, [(f["flow"], f["reason"]) for f in data["flows"]]
    for fid, f in flows.items():
        if fid in MEDIA:
            assert f["verdict"] == "not tested" and "reflector" in f["reason"]
        elif fid in INGRESS:
            assert f["verdict"] == "not tested" and f["reason"].startswith("ingress")
        else:
            assert f["verdict"] == "pass", (fid, f["reason"])
            assert {c["kind"] for c in f["checks"]} == EXPECTED_KINDS[fid]
            assert all(c["ok"] for c in f["checks"])
            assert all(a["in_range"] is not False for d in f["dns"] for a in d["addresses"])
        if fid in PINNED:
            lo, hi = PINNED[fid]
            ports = [int(c["local"].rsplit(":", 1)[1]) for c in f["checks"] if c["kind"] in ("sip-udp", "ntp")]
            assert ports and all(lo <= p <= hi for p in ports), (fid, ports)
    sip = flows.get("phone-sip") or flows.get("communicator-sip") or flows["sbc-sip-udp-out"]
    udp = [c for c in sip["checks"] if c["kind"] == "sip-udp"]
    assert {c["address"] for c in udp} == {SIP1, SIP2}
    assert all(c["detail"]["status"] == "200 OK" and c["rtt_ms"] is not None for c in udp)
    if profile == "phones":
        ntp = flows["phone-ntp"]["checks"][0]
        assert ntp["detail"]["stratum"] == 8 and abs(ntp["detail"]["offset_ms"]) < 100  # chronyd: local stratum 8


def test_dns_drift_fails_the_flows_that_use_the_names(deployment):
    rc, data = deployment.probe_faulted("communicator", lambda: deployment.start_dns(drift=True),
                                        deployment.start_dns)
    flows = flows_by_id(data)
    assert rc == 1
    config = flows["communicator-config"]
    assert config["verdict"] == "fail"
    assert f"resolved outside the ranges: ourdms.access4.com.au -> {INTERNET}" in config["reason"]
    assert "NXDOMAIN: xsp.a4uc.com.au" in config["reason"]
    assert flows["communicator-xsi"]["verdict"] == "fail" and "NXDOMAIN" in flows["communicator-xsi"]["reason"]
    for fid in ("communicator-sip", "communicator-messaging", "communicator-file-transfer",
                "communicator-desktop-sharing"):
        assert flows[fid]["verdict"] == "pass", (fid, flows[fid]["reason"])


@pytest.mark.parametrize("profile, rule, flow, reason", [
    ("communicator", "tcp dport 5222 reject with tcp reset", "communicator-messaging", "refused"),
    ("phones", "udp dport 123 drop", "phone-ntp", "timeout"),
    ("phones", f"ip daddr {SIP2} udp dport 5060 drop", "phone-sip", "timeout"),
])
def test_a_firewall_blocking_one_flow_fails_that_flow_only(deployment, profile, rule, flow, reason):
    fw = ("table ip probe_test_fw {\n    chain block {\n        type filter hook forward priority -10; policy accept;\n"
          f"        {rule}\n    }}\n}}\n")
    deployment.load_nat(profile, extra=fw)
    rc, data, _ = deployment.probe(profile)
    flows = flows_by_id(data)
    assert rc == 1
    assert flows[flow]["verdict"] == "fail"
    failed = [c for c in flows[flow]["checks"] if not c["ok"]]
    assert failed and all(c["reason"] == reason for c in failed), failed
    if flow == "phone-sip":  # only sip2's UDP is blocked: TCP/TLS and sip1 still answer
        assert {(c["kind"], c["address"]) for c in failed} == {("sip-udp", SIP2)}
    others = {fid: f for fid, f in flows.items() if fid != flow and f["verdict"] != "not tested"}
    assert others and all(f["verdict"] == "pass" for f in others.values()), others


def test_tls_certificate_for_another_name_is_a_name_mismatch(deployment):
    rc, data = deployment.probe_faulted("communicator",
                                        lambda: deployment.start_spirit_peers(sni={"uss.a4uc.com.au": "wrong"}),
                                        deployment.start_spirit_peers)
    flows = flows_by_id(data)
    assert rc == 1
    sharing = flows["communicator-desktop-sharing"]
    assert sharing["verdict"] == "fail"
    assert {(c["address"], c["port"]) for c in sharing["checks"]} == {(USS, 443), (USS, 8443)}
    assert all(c["reason"] == "TLS name mismatch (the certificate is not valid for uss.a4uc.com.au)"
               for c in sharing["checks"])
    assert flows["communicator-file-transfer"]["verdict"] == "pass"  # same name, plain TCP
    assert flows["communicator-config"]["verdict"] == "pass"


def test_an_untrusted_certificate_fails_without_the_ca(deployment):
    deployment.load_nat("phones")
    rc, out, _ = deployment.run("probe", "--profile", "phones", "--resolver", "10.20.0.1", "--timeout", "2",
                                "--only", "phone-provisioning", "--json")
    import json
    f = json.loads(out)["flows"][0]
    assert rc == 1 and f["verdict"] == "fail"
    assert {c["address"] for c in f["checks"]} >= {OURDMS}
    assert all(c["reason"].startswith("TLS certificate not trusted") for c in f["checks"])


def test_a_sip_error_status_fails_the_sip_flow(deployment):
    rc, data = deployment.probe_faulted("sbc", lambda: deployment.start_spirit_peers(
        sips_status="503 Service Unavailable"), deployment.start_spirit_peers)
    flows = flows_by_id(data)
    assert rc == 1
    tcp = flows["sbc-sip-tcp-out"]
    assert tcp["verdict"] == "fail"
    tls = [c for c in tcp["checks"] if c["kind"] == "sip-tls"]
    assert tls and all(c["reason"] == "SIP 503 Service Unavailable" for c in tls)
    assert all(c["ok"] for c in tcp["checks"] if c["kind"] == "sip-tcp")
    assert flows["sbc-sip-udp-out"]["verdict"] == "pass"


def test_only_limits_the_run_and_the_text_table_and_report(deployment, tmp_path):
    deployment.load_nat("phones")
    rc, out, err = deployment.run("probe", "--profile", "phones", "--resolver", "10.20.0.1", "--timeout", "2",
                                  "--ca-file", deployment.ca, "--only", "phone-ntp", "phone-audio", "--report",
                                  str(tmp_path / "r.md"))
    assert rc == 0, out + err
    assert "phone-ntp" in out and "pass" in out and "phone-sip" not in out
    assert "1 passed, 0 failed, 1 not tested" in out
    report = (tmp_path / "r.md").read_text()
    assert "| phone-ntp | Time synchronisation | pass |" in report
    assert "ntp 198.51.100.20:123 (pool.ntp.org): ok" in report and "stratum 8" in report


EXTRA_FLOWS = f"""version: 1
source: probe-test
flows:
  - id: host-ntp
    application: Time
    protocols: [NTP]
    transports: [udp]
    dscp: "0"
    client_ports: null
    dns: [{{name: pool.ntp.org, type: A/CNAME}}]
    server_cidrs: null
    server_ports: [[123, 123]]
  - id: host-dns
    application: DNS to a resolver of the customer's
    protocols: [DNS]
    transports: [tcp, udp]
    dscp: "0"
    client_ports: null
    dns: []
    server_cidrs: [{RESOLVER}/32]
    server_ports: [[53, 53]]
  - id: host-https
    application: A vendor's portal
    protocols: [HTTPS]
    transports: [tcp]
    dscp: "0"
    client_ports: null
    dns: [{{name: ztp.polycom.com, type: A/CNAME}}]
    server_cidrs: null
    server_ports: [[443, 443]]
  - id: host-stun
    application: STUN
    protocols: [STUN]
    transports: [udp]
    dscp: "0"
    client_ports: null
    dns: []
    server_cidrs: [{INTERNET}/32]
    server_ports: [[3478, 3478]]
"""


def test_customer_extra_flows_are_probed_by_their_own_protocols(deployment, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(EXTRA_FLOWS)
    deployment.load_nat("sbc", extra_flows=str(extra))
    rc, data, err = deployment.probe("sbc", "--extra-flows", str(extra))
    flows = flows_by_id(data)
    assert rc == 0, [(f["flow"], f["reason"]) for f in data["flows"] if f["verdict"] == "fail"]
    assert flows["host-ntp"]["verdict"] == "pass" and flows["host-ntp"]["checks"][0]["detail"]["stratum"] == 8
    dns = flows["host-dns"]
    assert dns["verdict"] == "pass" and {c["kind"] for c in dns["checks"]} == {"dns-tcp", "dns-udp"}
    assert all(c["address"] == RESOLVER and c["detail"]["status"] == "NOERROR" for c in dns["checks"])
    assert all(c["detail"]["query"] == "phreg.access4.com.au NAPTR" for c in dns["checks"])
    https = flows["host-https"]
    assert https["verdict"] == "pass" and [c["kind"] for c in https["checks"]] == ["tls"]
    assert flows["host-stun"]["verdict"] == "not tested"
    assert flows["sbc-sip-udp-out"]["verdict"] == "pass"
