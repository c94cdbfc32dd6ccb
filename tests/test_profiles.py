"""Profiles against expectations derived from the catalogue, and customer overrides."""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest

from spirit_infra import (
    AllowedSet,
    ConfigError,
    Overrides,
    Peer,
    PortSet,
    SbcPorts,
    Term,
    build_profile,
    load_catalogue,
    load_overrides,
)
from spirit_infra.catalogue.load import DEFAULT_CATALOGUE

CAT = load_catalogue()
SPIRIT = [str(c) for c in CAT.spirit_ranges]


def _expected_from_rows(client: str) -> AllowedSet:
    """Each catalogue row as egress boxes: CIDRs when given, else its DNS names."""
    terms = []
    for f in CAT.for_client(client):
        peer = Peer.of([str(c) for c in f.server_cidrs] if f.server_cidrs is not None else [],
                       [] if f.server_cidrs is not None else [d.name for d in f.dns])
        for tr in f.transports:
            terms.append(Term("egress", tr, peer, PortSet.of(f.client_ports), PortSet.of(f.server_ports), f.id))
    return AllowedSet(terms)


@pytest.mark.parametrize("profile,client", [("phones", "phone"), ("communicator", "communicator")])
def test_client_profiles_are_their_catalogue_rows(profile, client):
    p = build_profile(profile)
    assert [f.id for f in p.flows] == [f.id for f in CAT.for_client(client)]
    assert p.allowed == _expected_from_rows(client)
    # labels survive: each flow's part of the set is exactly that row
    exp = _expected_from_rows(client).by_flow()
    assert p.allowed.by_flow().keys() == exp.keys()
    for fid, sub in p.allowed.by_flow().items():
        assert sub == exp[fid], fid
    for f in p.flows:
        row = CAT.flow(f.id)
        assert f.direction == "egress" and f.dscp == row.dscp and f.derived_from == (row.id,)
        assert set(f.assumptions) == set(row.assumptions)
    assert all(t.direction == "egress" for t in p.allowed)
    # every assumption a flow names is shown, plus the catalogue-wide ones
    shown = {a.id for a in p.assumptions}
    assert {a for f in p.flows for a in f.assumptions} <= shown
    assert {"dns-resolution"} <= shown


def test_phones_reach_video_only_on_spirit_ranges_and_ztp_by_name():
    p = build_profile("phones")
    video = p.flow("phone-video")
    assert set(video.peer_cidrs) == set(SPIRIT) and not video.peer_fqdns
    ztp = p.flow("phone-ztp")
    assert not ztp.peer_cidrs and "ztp.polycom.com" in ztp.peer_fqdns
    assert not any("0.0.0.0/0" in t.peer.cidrs for t in p.allowed)


def test_sbc_flows_and_ingress_least_privilege():
    p = build_profile("sbc")
    sip = CAT.flow("phone-sip")
    ingress = p.allowed.select(direction="ingress")
    egress = p.allowed.select(direction="egress")
    spirit = netaddr.IPSet(SPIRIT)
    sbc = SbcPorts()
    sbc_ports = PortSet.of(sbc.sip) | PortSet.of(sbc.media)
    assert not ingress.is_empty and not egress.is_empty
    for t in ingress:
        assert not t.peer.fqdns
        assert netaddr.IPSet(t.peer.cidrs) <= spirit, f"ingress from outside the Spirit ranges: {t}"
        assert t.dst_ports.issubset(sbc_ports), f"ingress to a port that is not the SBC's: {t}"
        assert not t.dst_ports.is_any
    # exactly: SIP (udp from Spirit's SIP ports, tcp from any) to the SIP ports, media udp to the media range
    sip_peer = Peer.of(SPIRIT)
    expected_in = AllowedSet([
        Term("ingress", "udp", sip_peer, PortSet.of(sip.server_ports), PortSet.of(sbc.sip)),
        Term("ingress", "tcp", sip_peer, PortSet.of(None), PortSet.of(sbc.sip)),
        Term("ingress", "udp", sip_peer, PortSet.of(None), PortSet.of(sbc.media)),
    ])
    assert ingress == expected_in
    expected_out = AllowedSet([
        Term("egress", "udp", sip_peer, PortSet.of(sbc.sip), PortSet.of(sip.server_ports)),
        Term("egress", "tcp", sip_peer, PortSet.of(None), PortSet.of(sip.server_ports)),
        Term("egress", "udp", sip_peer, PortSet.of(sbc.media), PortSet.of(None)),
    ])
    assert egress == expected_out
    assert {f.id for f in p.flows} == {"sbc-sip-udp-out", "sbc-sip-tcp-out", "sbc-audio-out", "sbc-video-out",
                                       "sbc-sip-udp-in", "sbc-sip-tcp-in", "sbc-media-in"}
    assert {"sbc-ports", "sbc-tcp-source", "sbc-media-ranges"} <= {a.id for a in p.assumptions}
    assert p.spirit_cidrs == tuple(sorted(SPIRIT, key=lambda c: netaddr.IPNetwork(c).first))


def test_extra_spirit_cidrs_appear_everywhere_spirit_ranges_do():
    ov = Overrides(extra_spirit_cidrs=("192.0.2.0/24",))
    for name in ("phones", "communicator", "sbc"):
        p = build_profile(name, ov)
        assert "192.0.2.0/24" in p.spirit_cidrs
        for f in p.flows:
            if f.peer_cidrs:
                assert "192.0.2.0/24" in f.peer_cidrs, (name, f.id)
        base = build_profile(name)
        assert base.allowed <= p.allowed and base.allowed != p.allowed
    sbc_in = build_profile("sbc", ov).allowed.select(direction="ingress")
    assert all("192.0.2.0/24" in t.peer.cidrs for t in sbc_in)


def test_ztp_vendors_dropped():
    ov = Overrides(ztp_vendors_drop=("ztp.polycom.com", "rps.yealink.com"))
    p = build_profile("phones", ov)
    assert set(p.flow("phone-ztp").peer_fqdns) == {d.name for d in CAT.flow("phone-ztp").dns} - set(ov.ztp_vendors_drop)
    assert p.flow("phone-ntp").peer_fqdns == ("pool.ntp.org",)
    everything = tuple(d.name for d in CAT.flow("phone-ztp").dns)
    p = build_profile("phones", Overrides(ztp_vendors_drop=everything))
    assert "phone-ztp" not in {f.id for f in p.flows}
    assert "phone-ntp" in {f.id for f in p.flows}


def test_dropping_a_non_ztp_name_is_refused():
    with pytest.raises(ConfigError, match="ztp_vendors_drop\\[0\\].*'pool.ntp.org' is not a ZTP vendor"):
        build_profile("phones", Overrides(ztp_vendors_drop=("pool.ntp.org",)))


def test_sbc_ports_override(tmp_path):
    f = tmp_path / "ov.yaml"
    f.write_text("sbc:\n  sip_ports: [[5070, 5070]]\n  media_ports: [[40000, 40999], [50000, 50099]]\n")
    ov = load_overrides(f)
    assert ov.sbc == SbcPorts(sip=((5070, 5070),), media=((40000, 40999), (50000, 50099)))
    p = build_profile("sbc", ov)
    ports = PortSet.of([])
    for t in p.allowed.select(direction="ingress"):
        ports = ports | t.dst_ports
    assert ports == PortSet.of([[5070, 5070], [40000, 40999], [50000, 50099]])
    assert p.flow("sbc-sip-udp-out").src_ports == ((5070, 5070),)


def test_own_catalogue_file(tmp_path):
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace("server_ports: [[5222, 5222]]",
                                                                 "server_ports: [[5223, 5223]]")
    cat = tmp_path / "mine.yaml"
    cat.write_text(text)
    ov_file = tmp_path / "ov.yaml"
    ov_file.write_text("catalogue: mine.yaml\n")  # relative to the override file
    ov = load_overrides(ov_file)
    assert Path(ov.catalogue) == cat
    p = build_profile("communicator", ov)
    assert p.flow("communicator-messaging").dst_ports == ((5223, 5223),)
    assert p.catalogue.path == str(cat)
    # editing the file in place is seen (no stale cache)
    cat.write_text(text.replace("[[5223, 5223]]", "[[5224, 5224]]"))
    assert build_profile("communicator", ov).flow("communicator-messaging").dst_ports == ((5224, 5224),)


def test_profiles_are_deterministic():
    for name in ("phones", "communicator", "sbc"):
        a, b = build_profile(name), build_profile(name, Overrides())
        assert a.to_json() == b.to_json()
        assert [str(t) for t in a.allowed] == [str(t) for t in b.allowed]


def test_unknown_profile():
    with pytest.raises(ConfigError, match="unknown profile 'pbx'"):
        build_profile("pbx")


def test_sbc_needs_its_rows(tmp_path):
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace("id: phone-video\n", "id: phone-video-x\n")
    cat = tmp_path / "c.yaml"
    cat.write_text(text)
    with pytest.raises(ConfigError, match="phone-video"):
        build_profile("sbc", Overrides(catalogue=str(cat)))
