"""Checks through a reflector: media end to end with DSCP, SIP ALG detection, NAT mapping, and the
UDP binding lifetime. Every loop is bounded by its timeout or the largest delay asked for."""

from __future__ import annotations

import math
import select
import socket
import time
from dataclasses import dataclass

from .checks import Check, _reason, tos_of, udp_socket
from .reflector import Echo, media_request, parse_reply, sip_probe_request

__all__ = ["media_check", "sip_alg_check", "binding_lifetime", "Binding", "binding_delays", "compare_sip"]

DSCP_NAMES = {0: "CS0", 24: "CS3", 34: "AF41", 46: "EF"}


def dscp_name(v: int | None) -> str:
    return "?" if v is None else f"{DSCP_NAMES.get(v, 'DSCP')} ({v})"


def _exchange(sock: socket.socket, request: bytes, token: str, nonce: bytes, timeout: float) -> Echo | None:
    """Send ``request``, retransmitting every 0.5 s, until the reflector's answer or ``timeout``."""
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    next_send = t0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return None
        if now >= next_send:
            sock.send(request)
            next_send = now + 0.5
        sock.settimeout(max(0.01, min(next_send, deadline) - time.monotonic()))
        try:
            data = sock.recv(65535)
        except TimeoutError:
            continue
        echo = parse_reply(data, token, nonce)
        if echo is not None and not echo.delayed:
            return Echo(echo.src, echo.tos, echo.echoed, False, (time.monotonic() - t0) * 1000)


def _udp(src_ranges, dscp: int, exclude=frozenset(), wait: float = 0.0) -> socket.socket:
    return udp_socket(src_ranges, tos_of(dscp), wait=wait, exclude=exclude)


def _mapping(local: tuple[str, int], echo: Echo) -> dict:
    return {"local": f"{local[0]}:{local[1]}", "seen_as": f"{echo.src[0]}:{echo.src[1]}",
            "port_preserved": echo.src[1] == local[1], "translated": echo.src[0] != local[0]}


def media_check(reflector: tuple[str, int], token: str, *, dscp: int, src_ranges, timeout: float = 3.0) -> Check:
    """One RTP-sized datagram from the flow's client port with its DSCP; the reflector says what arrived."""
    addr, port = reflector
    try:
        s = _udp(src_ranges, dscp, wait=timeout)
        s.connect(reflector)
    except OSError as e:
        return Check("media", "", addr, port, False, _reason(e))
    with s:
        local = s.getsockname()
        req, nonce = media_request(token, size=172)  # 12-byte RTP header + 160 bytes of G.711 (20 ms)
        try:
            echo = _exchange(s, req, token, nonce, timeout)
        except OSError as e:
            return Check("media", "", addr, port, False, _reason(e), local=f"{local[0]}:{local[1]}")
        if echo is None:
            return Check("media", "", addr, port, False, "timeout (no answer from the reflector)",
                         local=f"{local[0]}:{local[1]}")
        detail = {"dscp_sent": dscp, "dscp_arrived": echo.dscp, **_mapping(local, echo)}
        ok = echo.dscp == dscp
        reason = None if ok else f"DSCP changed on the way: sent {dscp_name(dscp)}, arrived {dscp_name(echo.dscp)}"
        return Check("media", "", addr, port, ok, reason, rtt_ms=echo.rtt_ms, local=f"{local[0]}:{local[1]}",
                     detail=detail)


def _headers(msg: bytes) -> list[tuple[str, str]]:
    head, _, body = msg.partition(b"\r\n\r\n")
    out = [(k.strip().lower(), v.strip()) for line in head.split(b"\r\n")[1:]
           for k, _, v in [line.decode("latin-1").partition(":")]]
    out += [("sdp " + line[:1].decode("latin-1"), line[2:].decode("latin-1"))
            for line in body.split(b"\r\n") if line[:1] in (b"c", b"o", b"m")]
    return out


def compare_sip(sent: bytes, echoed: bytes) -> list[str]:
    """What a middlebox changed in the SIP request: ``via: A -> B`` lines; [] when byte-identical
    (compared over the echoed length: the reflector cuts the padding at the end)."""
    if sent[:len(echoed)] == echoed:
        return []
    changes = []
    a, b = _headers(sent), _headers(echoed)
    for (ka, va), (kb, vb) in zip(a, b, strict=False):
        if ka != kb or va != vb:
            if "spirit-pad" not in va:
                changes.append(f"{ka}: {va} -> {vb}" if ka == kb else f"{ka}: {va} -> {kb}: {vb}")
    if len(a) != len(b) and not changes:
        changes.append(f"header count {len(a)} -> {len(b)}")
    return changes or ["the request was modified on the way (bytes differ)"]


def sip_alg_check(reflector: tuple[str, int], token: str, host: str, *, src_ranges, dscp: int,
                  timeout: float = 3.0) -> Check:
    """SIP OPTIONS to the reflector from the SIP flow's client port with the SIP DSCP: pass when the
    request arrived byte for byte (no ALG) and DSCP kept; detail has the NAT mapping."""
    addr, port = reflector
    try:
        s = _udp(src_ranges, dscp, wait=timeout)
        s.connect(reflector)
    except OSError as e:
        return Check("sip-alg", host, addr, port, False, _reason(e))
    with s:
        local = s.getsockname()
        lstr = f"{local[0]}:{local[1]}"
        req, nonce = sip_probe_request(token, host, local[0], local[1])
        try:
            echo = _exchange(s, req, token, nonce, timeout)
        except OSError as e:
            return Check("sip-alg", host, addr, port, False, _reason(e), local=lstr)
        if echo is None:
            return Check("sip-alg", host, addr, port, False, "timeout (no answer from the reflector)", local=lstr)
        changes = compare_sip(req, echo.echoed)
        detail = {"rewritten": changes, "dscp_sent": dscp, "dscp_arrived": echo.dscp, **_mapping(local, echo),
                  "echoed_bytes": len(echo.echoed)}
        reasons = []
        if changes:
            reasons.append("SIP ALG in the path: " + "; ".join(changes))
        if echo.dscp != dscp:
            reasons.append(f"DSCP changed on the way: sent {dscp_name(dscp)}, arrived {dscp_name(echo.dscp)}")
        return Check("sip-alg", host, addr, port, not reasons, "; ".join(reasons) or None, rtt_ms=echo.rtt_ms,
                     local=lstr, detail=detail)


@dataclass(frozen=True)
class Binding:
    lifetime: float | None     # estimated seconds (geometric mean of the last kept and first lost delay)
    kept: tuple[float, ...]
    lost: tuple[float, ...]
    check: Check


def binding_delays(maximum: float, minimum: float = 1.0, ratio: float = 1.15) -> tuple[float, ...]:
    """Delays to test in parallel (each on its own binding): a geometric grid, so the estimate is within
    about half a step (±7 %) of the real lifetime."""
    n = max(1, math.ceil(math.log(maximum / minimum, ratio)))
    return tuple(round(minimum * ratio ** k, 2) for k in range(n + 1) if minimum * ratio ** k <= maximum * 1.0001) \
        or (maximum,)


def binding_lifetime(reflector: tuple[str, int], token: str, *, maximum: float, keepalive: float, src_ranges,
                     timeout: float = 3.0) -> Binding:
    """Open one UDP binding per delay of :func:`binding_delays`, ask the reflector to answer each again after
    that many seconds of silence, and see which answers still come through the NAT."""
    addr, port = reflector
    delays = binding_delays(maximum)
    socks: list[tuple[float, socket.socket, bytes]] = []
    used: set[int] = set()
    try:
        for d in delays:
            s = _udp(src_ranges, 0, exclude=frozenset(used), wait=timeout)
            used.add(s.getsockname()[1])
            s.connect(reflector)
            req, nonce = media_request(token, delay=d)
            socks.append((d, s, nonce))
            s.send(req)
        answered: set[float] = set()
        kept: set[float] = set()
        first = {s.fileno(): (d, s, n) for d, s, n in socks}
        deadline = time.monotonic() + max(delays) + timeout
        while time.monotonic() < deadline and len(kept) < len(delays):
            ready, _, _ = select.select([s for _, s, _ in socks], [], [], 0.2)
            for s in ready:
                d, _, nonce = first[s.fileno()]
                try:
                    data = s.recv(65535)
                except OSError:
                    continue
                echo = parse_reply(data, token, nonce)
                if echo is None:
                    continue
                (kept if echo.delayed else answered).add(d)
    except OSError as e:
        return Binding(None, (), (), Check("binding", "", addr, port, False, _reason(e)))
    finally:
        for _, s, _ in socks:
            s.close()
    if not answered:
        return Binding(None, (), delays, Check("binding", "", addr, port, False,
                                               "timeout (no answer from the reflector)"))
    tested = [d for d in delays if d in answered]
    kept_l = tuple(d for d in tested if d in kept)
    lost_l = tuple(d for d in tested if d not in kept)
    first_lost = min(lost_l) if lost_l else None
    last_kept = max((d for d in kept_l if first_lost is None or d < first_lost), default=None)
    if first_lost is None:
        lifetime, text = None, f"the binding outlived every delay tested (up to {max(tested):g} s)"
    elif last_kept is None:
        lifetime, text = first_lost / 2, f"the binding expired within {first_lost:g} s"
    else:
        lifetime = math.sqrt(last_kept * first_lost)
        text = f"the binding expires after {last_kept:g}-{first_lost:g} s of silence (about {lifetime:.1f} s)"
    outlives = first_lost is None and max(tested) >= keepalive or (lifetime is not None and lifetime > keepalive)
    if first_lost is None and max(tested) < keepalive:
        reason = f"not measured up to the SIP keepalive ({keepalive:g} s): {text}"
    elif not outlives:
        reason = f"NAT binding shorter than the SIP keepalive ({keepalive:g} s): {text}"
    else:
        reason = None
    detail = {"lifetime_s": None if lifetime is None else round(lifetime, 2), "kept": list(kept_l),
              "lost": list(lost_l), "keepalive_s": keepalive, "summary": text}
    return Binding(lifetime, kept_l, lost_l, Check("binding", "", addr, port, reason is None, reason,
                                                   detail=detail))
