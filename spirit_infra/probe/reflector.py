"""The reflector (``spirit-infra probe reflect``) and the probe's side of its protocol.

The user runs the reflector on a host of their own outside the NAT. The probe sends it UDP datagrams:
SIP OPTIONS (a real SIP message, so a SIP ALG on the path acts on it) and RTP-sized media packets.
Each carries the reflector's per-run token and a nonce; anything else is dropped unanswered.
The reflector answers with what it saw: the source address and port (the NAT's mapping), the TOS
byte on arrival (``IP_RECVTOS``: was DSCP kept?) and the datagram itself byte for byte (were Via,
Contact or SDP rewritten?). On request (``delay=N``) it answers once more after N seconds of silence,
which measures how long the NAT keeps the UDP binding.

The answer is masked with a keystream derived from the token and nonce, so no middlebox can parse or
rewrite the echoed SIP on its way back (an ALG that fixes ``received=``/``rport`` in responses would
otherwise hide itself). A reply is never larger than its request (the echo is truncated; the probe pads
its requests so only padding is cut), the reflector rate-limits itself, and it keeps a bounded number of
delayed answers. It never sends to an address that did not send it a valid request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import select
import socket
import sys
import time
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["Reflector", "Echo", "parse_listen", "check_token", "media_request", "sip_probe_request",
           "parse_reply", "MAX_DELAY", "new_token"]

MAGIC_REQ = b"SPRB1 "
MAGIC_REP = b"SPRB1E "
TOKEN_RE = re.compile(r"^[A-Za-z0-9]{16,64}$")
_SIP_TOKEN = re.compile(rb"\r\nX-Spirit-Probe: *([A-Za-z0-9]{16,64}) ([0-9a-f]{16})(?: delay=(\d{1,4}(?:\.\d{1,3})?))?\r\n")
_MEDIA_TOKEN = re.compile(rb"^SPRB1 ([A-Za-z0-9]{16,64}) ([0-9a-f]{16})(?: delay=(\d{1,4}(?:\.\d{1,3})?))? ")
MAX_DELAY = 900.0
MAX_PENDING = 256
RATE_PER_SOURCE = (50.0, 100.0)   # packets/s, burst
RATE_GLOBAL = (200.0, 400.0)
PAD_TO = 400                      # probes pad requests so the reply envelope fits


def new_token() -> str:
    return secrets.token_hex(16)


def check_token(value: str, flag: str = "--token") -> str:
    if not isinstance(value, str) or not TOKEN_RE.match(value):
        raise ConfigError(f"{value!r} is not a reflector token (16-64 letters and digits)", field=flag)
    return value


def parse_listen(value: str, flag: str = "--listen") -> tuple[str, int]:
    """``ADDR:PORT`` (IPv4) -> (addr, port)."""
    import netaddr

    host, sep, port_s = value.rpartition(":")
    try:
        if not sep:
            raise ValueError
        ip = str(netaddr.IPAddress(host, version=4, flags=netaddr.INET_PTON))
        port = int(port_s)
        if not 1 <= port <= 65535:
            raise ValueError
    except (netaddr.AddrFormatError, ValueError):
        raise ConfigError(f"{value!r} is not ADDR:PORT (IPv4 address and port 1-65535)", field=flag) from None
    return ip, port


def _keystream(token: str, nonce: bytes, n: int) -> bytes:
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(token.encode() + b":" + nonce + b":" + str(i).encode()).digest()
        i += 1
    return out[:n]


def _mask(data: bytes, token: str, nonce: bytes) -> bytes:
    ks = _keystream(token, nonce, len(data))
    return bytes(a ^ b for a, b in zip(data, ks, strict=True))


class _Bucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.t = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _parse_request(data: bytes):
    """(token, nonce, delay or None, kind) of a probe request, or None."""
    if data.startswith(MAGIC_REQ):
        m, kind = _MEDIA_TOKEN.match(data), "media"
    else:
        m, kind = _SIP_TOKEN.search(data.split(b"\r\n\r\n", 1)[0] + b"\r\n"), "sip"
    if not m:
        return None
    delay = float(m.group(3)) if m.group(3) else None
    return m.group(1).decode(), m.group(2), delay, kind


def _reply(token: str, nonce: bytes, info: dict, data: bytes) -> bytes:
    """MAGIC nonce masked(json "\\n" echo), cut to len(data): never larger than the request."""
    head = MAGIC_REP + nonce + b" "
    body = json.dumps(info, sort_keys=True, separators=(",", ":")).encode() + b"\n" + data
    body = body[:max(0, len(data) - len(head))]
    return head + _mask(body, token, nonce)


class Reflector:
    """A UDP reflector bound to ``addr:port``; ``serve(duration)`` runs it (bounded when duration is set)."""

    def __init__(self, addr: str, port: int, token: str):
        self.token = token
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        self.sock.bind((addr, port))
        self.address = self.sock.getsockname()
        self.pending: list[tuple[float, tuple, bytes]] = []
        self.stats = {"answered": 0, "delayed": 0, "ignored": 0, "rate_limited": 0}
        self._global = _Bucket(*RATE_GLOBAL)
        self._per_source: dict[str, _Bucket] = {}
        self.stopped = False

    def stop(self) -> None:
        """Make ``serve`` return within its 0.2 s poll."""
        self.stopped = True

    def close(self) -> None:
        self.sock.close()

    def _allowed(self, ip: str) -> bool:
        if len(self._per_source) > 4096:
            self._per_source.clear()
        bucket = self._per_source.setdefault(ip, _Bucket(*RATE_PER_SOURCE))
        return self._global.take() and bucket.take()

    def handle(self, data: bytes, peer: tuple, tos: int | None) -> bytes | None:
        parsed = _parse_request(data)
        if parsed is None or not hmac.compare_digest(parsed[0], self.token):
            self.stats["ignored"] += 1
            return None
        if not self._allowed(peer[0]):
            self.stats["rate_limited"] += 1
            return None
        _, nonce, delay, kind = parsed
        info = {"src": [peer[0], peer[1]], "tos": tos, "len": len(data), "kind": kind, "delayed": False}
        if delay is not None and 0 < delay <= MAX_DELAY and len(self.pending) < MAX_PENDING:
            late = dict(info, delayed=True, delay=delay)
            self.pending.append((time.monotonic() + delay, peer, _reply(self.token, nonce, late, data)))
            self.pending.sort(key=lambda p: p[0])
        self.stats["answered"] += 1
        return _reply(self.token, nonce, info, data)

    def serve(self, duration: float | None = None, out=None) -> dict:
        end = None if duration is None else time.monotonic() + duration
        while not self.stopped and (end is None or time.monotonic() < end):
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                _, peer, reply = self.pending.pop(0)
                try:
                    self.sock.sendto(reply, peer)
                    self.stats["delayed"] += 1
                except OSError:
                    pass
            waits = [0.2]
            if self.pending:
                waits.append(self.pending[0][0] - now)
            if end is not None:
                waits.append(end - now)
            ready, _, _ = select.select([self.sock], [], [], max(0.0, min(waits)))
            if not ready:
                continue
            data, anc, _, peer = self.sock.recvmsg(65535, socket.CMSG_SPACE(4))
            tos = next((d[0] for lvl, typ, d in anc if lvl == socket.IPPROTO_IP and typ == socket.IP_TOS and d),
                       None)
            reply = self.handle(data, peer, tos)
            if reply is not None:
                try:
                    self.sock.sendto(reply, peer)
                except OSError:
                    pass
            if out is not None:
                out.write(json.dumps({"from": list(peer), "tos": tos, "len": len(data),
                                      "answered": reply is not None}) + "\n")
                out.flush()
        return self.stats


# ---- the probe's side ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Echo:
    src: tuple[str, int]    # the source the reflector saw (the NAT's mapping)
    tos: int | None         # the TOS byte on arrival
    echoed: bytes           # the request as it arrived (possibly cut at the padding)
    delayed: bool
    rtt_ms: float | None = None

    @property
    def dscp(self) -> int | None:
        return None if self.tos is None else self.tos >> 2


def _nonce() -> bytes:
    return secrets.token_hex(8).encode()


def media_request(token: str, delay: float | None = None, size: int = PAD_TO) -> tuple[bytes, bytes]:
    nonce = _nonce()
    head = MAGIC_REQ + token.encode() + b" " + nonce + (f" delay={delay:g}".encode() if delay else b"") + b" "
    return head + b"\x00" * max(0, size - len(head)), nonce


def sip_probe_request(token: str, host: str, local_ip: str, local_port: int, delay: float | None = None):
    """A SIP OPTIONS carrying the token, with an SDP body naming the client's address (what an ALG
    rewrites), padded at its end so the reflector's reply fits; returns (bytes, nonce)."""
    from .checks import sip_request

    nonce = _nonce()
    hdr = f"X-Spirit-Probe: {token} {nonce.decode()}" + (f" delay={delay:g}" if delay else "") + "\r\n"
    sdp = (f"v=0\r\no=- 1 1 IN IP4 {local_ip}\r\ns=spirit-probe\r\nc=IN IP4 {local_ip}\r\nt=0 0\r\n"
           f"m=audio {local_port + 2} RTP/AVP 0 8\r\na=sendrecv\r\n")
    sdp += "a=spirit-pad:" + "x" * PAD_TO + "\r\n"
    msg, _, _ = sip_request(host, "udp", local_ip, local_port, extra_headers=hdr, body=sdp.encode())
    return msg, nonce


def parse_reply(data: bytes, token: str, nonce: bytes) -> Echo | None:
    head = MAGIC_REP + nonce + b" "
    if not data.startswith(head):
        return None
    body = _mask(data[len(head):], token, nonce)
    line, sep, echoed = body.partition(b"\n")
    if not sep:
        return None
    try:
        info = json.loads(line)
        return Echo((info["src"][0], int(info["src"][1])), info.get("tos"), echoed, bool(info.get("delayed")))
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def run_reflector(addr: str, port: int, token: str, duration: float | None, log: bool) -> int:
    r = Reflector(addr, port, token)
    sys.stdout.write(json.dumps({"listening": f"{r.address[0]}:{r.address[1]}", "token": token}) + "\n")
    sys.stdout.flush()
    try:
        stats = r.serve(duration, out=sys.stderr if log else None)
    finally:
        r.close()
    sys.stdout.write(json.dumps({"stats": stats}) + "\n")
    return 0
