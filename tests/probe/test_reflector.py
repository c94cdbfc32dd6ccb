"""The reflector: its protocol on loopback (token, no amplification, rate limit, delayed answers), then the
probe through the project's QoS NAT ruleset to a reflector: DSCP kept and no ALG; a SIP ALG (the kernel's
``ct helper "sip"``) detected; DSCP cleared by an ``ip dscp set cs0`` middlebox detected; the NAT's UDP
binding lifetime measured within 20 % for conntrack timeouts of 5 s and 10 s."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from spirit_infra.probe.path import compare_sip
from spirit_infra.probe.reflector import (
    MAX_DELAY,
    RATE_PER_SOURCE,
    Reflector,
    media_request,
    new_token,
    parse_reply,
    sip_probe_request,
)

from .deployment import REFLECTOR_IP, REFLECTOR_PORT, flows_by_id

NAT_WAN = "100.64.0.1"


@pytest.fixture
def reflector():
    token = new_token()
    r = Reflector("127.0.0.1", 0, token)
    t = threading.Thread(target=r.serve, args=(6.0,), daemon=True)
    t.start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.connect(r.address)
    s.settimeout(1.0)
    yield r, token, s
    s.close()
    r.stop()
    t.join(8)
    r.close()


def _recv_all(s, wait: float) -> list[bytes]:
    out, end = [], time.monotonic() + wait
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            out.append(s.recv(65535))
        except TimeoutError:
            break
    return out


def test_a_valid_probe_gets_what_the_reflector_saw_and_never_more_bytes(reflector):
    r, token, s = reflector
    req, nonce = media_request(token, size=172)
    s.send(req)
    reply = s.recv(65535)
    echo = parse_reply(reply, token, nonce)
    assert echo is not None and echo.src == s.getsockname() and not echo.delayed
    assert len(reply) <= len(req)
    assert req.startswith(echo.echoed) and len(echo.echoed) > 20


def test_the_sip_request_comes_back_byte_for_byte_up_to_the_padding(reflector):
    r, token, s = reflector
    lip, lport = s.getsockname()
    req, nonce = sip_probe_request(token, "phreg.access4.com.au", lip, lport)
    s.send(req)
    reply = s.recv(65535)
    echo = parse_reply(reply, token, nonce)
    assert len(reply) <= len(req) and echo is not None
    head = req.split(b"a=spirit-pad:")[0]
    assert echo.echoed.startswith(head)  # every header and SDP line, the padding is what was cut
    assert compare_sip(req, echo.echoed) == []
    # the reply is masked: an ALG on the way back cannot find (or rewrite) the echoed headers
    assert b"Via:" not in reply and lip.encode() not in reply
    # a rewrite is detected and named
    tampered = echo.echoed.replace(f"{lip}:{lport}".encode(), b"100.64.0.1:5060").replace(
        f"IN IP4 {lip}".encode(), b"IN IP4 100.64.0.1")
    changes = compare_sip(req, tampered)
    assert any(c.startswith("via: SIP/2.0/UDP 127.0.0.1") and "100.64.0.1:5060" in c for c in changes), changes
    assert any(c.startswith("contact:") for c in changes) and any(c.startswith("sdp c:") for c in changes)


@pytest.mark.parametrize("mangle", ["wrong-token", "no-token", "garbage"])
def test_a_probe_without_the_runs_token_gets_nothing(reflector, mangle):
    r, token, s = reflector
    other = new_token()
    if mangle == "wrong-token":
        req = media_request(other)[0]
    elif mangle == "no-token":
        lip, lport = s.getsockname()
        req = sip_probe_request(token, "x.example", lip, lport)[0].replace(b"X-Spirit-Probe:", b"X-Other:")
    else:
        req = b"OPTIONS sip:x SIP/2.0\r\n\r\n" + b"\x00" * 400
    s.send(req)
    assert _recv_all(s, 0.5) == []
    assert r.stats["ignored"] == 1 and r.stats["answered"] == 0


def test_the_reflector_rate_limits_itself(reflector):
    r, token, s = reflector
    sent = 300
    t0 = time.monotonic()
    for _ in range(sent):
        s.send(media_request(token, size=64)[0])
    got = _recv_all(s, 0.7)
    elapsed = time.monotonic() - t0
    rate, burst = RATE_PER_SOURCE
    # the burst, plus what refilled while the datagrams were arriving
    assert 50 <= len(got) <= burst + rate * elapsed + 1, (len(got), elapsed)
    # (loopback may drop some of a 300-datagram burst before the reflector reads them)
    assert r.stats["answered"] == len(got) and 0 < r.stats["rate_limited"] <= sent - len(got)


def test_a_delayed_answer_comes_after_the_silence_asked_for_and_only_within_bounds(reflector):
    r, token, s = reflector
    req, nonce = media_request(token, delay=1.0)
    t0 = time.monotonic()
    s.send(req)
    replies = [parse_reply(d, token, nonce) for d in _recv_all(s, 2.0)]
    assert [e.delayed for e in replies] == [False, True]
    assert time.monotonic() - t0 >= 1.0
    far, far_nonce = media_request(token, delay=MAX_DELAY + 1)
    s.send(far)
    assert [parse_reply(d, token, far_nonce).delayed for d in _recv_all(s, 0.5)] == [False]
    assert len(r.pending) == 0


# ---- through the QoS NAT --------------------------------------------------------------------------

ALG = """table ip probe_test_alg {
    ct helper sip5060 {
        type "sip" protocol udp
        l3proto ip
    }
    chain pre {
        type filter hook prerouting priority filter; policy accept;
        udp dport 5060 ct helper set "sip5060"
    }
}
"""
CLEAR_DSCP = """table ip probe_test_dscp {
    chain post {
        type filter hook postrouting priority filter; policy accept;
        oifname "wan0" ip dscp set cs0
    }
}
"""


def _probe(dep, profile: str, *args: str, extra: str = "", udp_timeout: int | None = None):
    token = new_token()
    dep.load_nat(profile, extra=extra, udp_timeout=udp_timeout)
    dep.start_reflector(token)
    try:
        rc, data, _ = dep.probe(profile, "--reflector", f"{REFLECTOR_IP}:{REFLECTOR_PORT}", "--token", token, *args)
    finally:
        dep.stop("reflector")
    return rc, flows_by_id(data)


@pytest.mark.netns
@pytest.mark.parametrize("profile, media", [("phones", {"phone-audio": 46, "phone-video": 34}),
                                            ("communicator", {"communicator-audio": 46, "communicator-video": 34}),
                                            ("sbc", {"sbc-audio-out": 46, "sbc-video-out": 34})])
def test_through_the_qos_nat_dscp_is_kept_and_there_is_no_alg(deployment, profile, media):
    rc, flows = _probe(deployment, profile)
    assert rc == 0, {f: v["reason"] for f, v in flows.items() if v["verdict"] == "fail"}
    for fid, dscp in media.items():
        check = flows[fid]["checks"][0]
        assert flows[fid]["verdict"] == "pass" and check["detail"]["dscp_arrived"] == dscp
        assert check["detail"]["seen_as"].startswith(NAT_WAN + ":")
    alg = flows["path-sip-alg"]
    detail = alg["checks"][0]["detail"]
    assert alg["verdict"] == "pass" and detail["rewritten"] == [] and detail["dscp_arrived"] == 24
    assert detail["port_preserved"] is True and detail["translated"] is True
    assert flows["path-udp-binding"]["verdict"] == "not tested"


@pytest.mark.netns
def test_the_kernels_sip_helper_in_the_path_is_detected_as_an_alg(deployment):
    rc, flows = _probe(deployment, "phones", extra=ALG)
    alg = flows["path-sip-alg"]
    assert rc == 1 and alg["verdict"] == "fail"
    assert ": SIP ALG in the path: via: " in alg["reason"]
    rewritten = alg["checks"][0]["detail"]["rewritten"]
    assert any(c.startswith("via: SIP/2.0/UDP 10.20.0.10:") and f"-> SIP/2.0/UDP {NAT_WAN}:" in c for c in rewritten)
    assert any(c.startswith("contact: ") and NAT_WAN in c.split("->")[1] for c in rewritten), rewritten
    # the media flows and DSCP are untouched by the helper
    assert flows["phone-audio"]["verdict"] == "pass" and "DSCP" not in alg["reason"]


@pytest.mark.netns
def test_a_middlebox_clearing_dscp_is_detected(deployment):
    rc, flows = _probe(deployment, "phones", extra=CLEAR_DSCP)
    assert rc == 1
    assert flows["phone-audio"]["verdict"] == "fail"
    assert flows["phone-audio"]["reason"].endswith("DSCP changed on the way: sent EF (46), arrived CS0 (0)")
    assert flows["phone-video"]["reason"].endswith("sent AF41 (34), arrived CS0 (0)")
    alg = flows["path-sip-alg"]
    assert alg["verdict"] == "fail" and alg["reason"].endswith(": DSCP changed on the way: sent CS3 (24), arrived CS0 (0)")
    assert "ALG" not in alg["reason"]
    assert flows["phone-sip"]["verdict"] == "pass"  # SIP to Spirit still works; only the marking is gone


@pytest.mark.netns
@pytest.mark.parametrize("timeout, keepalive, verdict", [(5, 8, "fail"), (10, 5, "pass")])
def test_the_udp_binding_lifetime_is_measured_within_20_percent(deployment, timeout, keepalive, verdict):
    maximum = max(timeout * 1.5, keepalive)
    rc, flows = _probe(deployment, "phones", "--only", "path-udp-binding", "--binding-max", f"{maximum:g}",
                       "--sip-keepalive", str(keepalive), udp_timeout=timeout)
    b = flows["path-udp-binding"]
    lifetime = b["checks"][0]["detail"]["lifetime_s"]
    assert abs(lifetime - timeout) <= 0.2 * timeout, b
    assert b["verdict"] == verdict and rc == (1 if verdict == "fail" else 0)
    if verdict == "fail":
        assert f"NAT binding shorter than the SIP keepalive ({keepalive} s)" in b["reason"]
