"""DNS as the client does it, against dnsmasq in the NAT namespace: NAPTR -> SRV -> A (RFC 3263 order),
``_xmpp-client._tcp`` SRV, CNAME chains, and ``dns check``'s drift verdict (exit 1)."""

from __future__ import annotations

import json
import random
from collections import Counter
from types import SimpleNamespace

import pytest

from spirit_infra.probe.dns import naptr_order, srv_order

from .deployment import INTERNET, RESOLVER, SIP1, SIP2, XMPP, XSP

pytestmark = pytest.mark.netns


def _srv(priority, weight, port, target):
    return SimpleNamespace(priority=priority, weight=weight, port=port, target=target)


def test_srv_order_is_priority_first_then_weighted_like_rfc2782():
    recs = [_srv(20, 100, 5060, "c."), _srv(10, 10, 5060, "a."), _srv(10, 90, 5060, "b."), _srv(30, 0, 5060, "d.")]
    firsts = Counter()
    for seed in range(2000):
        order = srv_order(recs, random.Random(seed))
        assert [r.priority for r in order] == [10, 10, 20, 30]
        firsts[order[0].target] += 1
    # within priority 10, b (weight 90) comes first about 90 % of the time, a about 10 %
    assert 0.85 < firsts["b."] / 2000 < 0.95, firsts
    assert firsts["a."] + firsts["b."] == 2000


def test_naptr_order_is_order_then_preference():
    mk = lambda o, p, s: SimpleNamespace(order=o, preference=p, service=s.encode(), replacement=s)  # noqa: E731
    recs = [mk(20, 10, "SIP+D2T"), mk(10, 50, "SIP+D2U"), mk(10, 20, "SIPS+D2T")]
    assert [r.service.decode() for r in naptr_order(recs)] == ["SIPS+D2T", "SIP+D2U", "SIP+D2T"]


def _check(dep, *args):
    rc, out, err = dep.run("dns", "check", "--resolver", RESOLVER, "--timeout", "2", "--json", *args)
    return rc, json.loads(out), err


def _names(data):
    out = {}
    for n in data["names"]:
        out.setdefault(n["name"], n)
    return out


def test_dns_check_resolves_every_catalogue_name_through_the_chains(deployment):
    rc, data, err = _check(deployment)
    assert rc == 0, data
    assert data["drift"] is False and data["resolver"] == f"{RESOLVER}:53"
    names = _names(data)
    phreg = names["phreg.access4.com.au"]
    # RFC 3263: NAPTR order (TLS 10, TCP 20, UDP 30); within TCP, SRV priority 10 (sip1) before 20 (sip2)
    assert [(a["transport"], a["address"], a["port"]) for a in phreg["addresses"]][:3] == [
        ("tls", SIP1, 5061), ("tcp", SIP1, 5060), ("tcp", SIP2, 5060)]
    assert {a["transport"] for a in phreg["addresses"]} == {"tls", "tcp", "udp"}
    assert all(a["in_range"] for a in phreg["addresses"])
    assert any(e.startswith('NAPTR phreg.access4.com.au 10 10 "s" "SIPS+D2T"') for e in phreg["evidence"])
    xmpp = names["_xmpp-client._tcp.spirit.com.au"]
    assert [(a["address"], a["port"], a["host"]) for a in xmpp["addresses"]] == [(XMPP, 5222, "xmpp.spirit.com.au")]
    xsi = names["xsi.access4.com.au"]
    assert [a["address"] for a in xsi["addresses"]] == [XSP]
    assert "CNAME xsi.access4.com.au -> xsp.access4.com.au" in xsi["evidence"]
    ztp = names["ztp.polycom.com"]
    assert ztp["ranges"] is None and ztp["addresses"][0]["in_range"] is None  # no range to check
    # every catalogue name of every flow is reported
    assert len(data["names"]) == sum(len(f["dns"]) for f in json.loads(deployment.run("catalogue", "--format",
                                                                                         "json")[1])["flows"])


def test_dns_check_reports_drift_and_nxdomain_and_exits_1(deployment):
    deployment.start_dns(drift=True)
    try:
        rc, data, _ = _check(deployment)
        text_rc, text, _ = deployment.run("dns", "check", "--resolver", RESOLVER, "--timeout", "2")
    finally:
        deployment.start_dns()
    assert rc == 1 and text_rc == 1 and data["drift"] is True
    drifted = {(n["flow"], n["name"]): n for n in data["names"] if n["drift"]}
    assert {name for _, name in drifted} == {"ourdms.access4.com.au", "xsp.a4uc.com.au"}
    ourdms = drifted[("phone-provisioning", "ourdms.access4.com.au")]
    assert ourdms["outside"] == [INTERNET] and ourdms["addresses"][0]["in_range"] is False
    assert drifted[("communicator-config", "xsp.a4uc.com.au")]["error"] == "NXDOMAIN"
    assert "DRIFT" in text and f"{INTERNET} (outside)" in text
    assert all(not n["drift"] for n in data["names"] if n["name"] not in ("ourdms.access4.com.au", "xsp.a4uc.com.au"))


def test_overrides_extra_ranges_count_in_dns_check(deployment, tmp_path):
    ov = tmp_path / "ov.yaml"
    ov.write_text(f"extra_spirit_cidrs: [{INTERNET}/32]\n")
    deployment.start_dns(drift=True)
    try:
        rc, data, _ = _check(deployment, "--overrides", str(ov))
    finally:
        deployment.start_dns()
    assert rc == 1  # the NXDOMAIN is still drift
    assert {n["name"] for n in data["names"] if n["drift"]} == {"xsp.a4uc.com.au"}


def test_unreachable_resolver_is_a_failure_not_a_pass(deployment):
    rc, data, _ = _check(deployment)
    assert rc == 0
    rc, out, _ = deployment.run("dns", "check", "--resolver", "10.20.0.99", "--timeout", "0.3", "--json",
                                timeout=120)
    data = json.loads(out)
    assert rc == 1 and all(n["error"] for n in data["names"])
    assert "timeout" in data["names"][0]["error"]
