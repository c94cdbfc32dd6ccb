"""The real checks the probe runs against one address: TCP connect, TLS (SNI + certificate name),
SIP OPTIONS over UDP/TCP/TLS from a pinned client port, NTP mode 3. Each returns a :class:`Check`.

Every check is bounded by its timeout; none retries beyond SIP's own UDP retransmission (Timer E).
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

__all__ = ["Check", "bind_port", "tcp_connect", "tls_handshake", "sip_options", "ntp_query", "sip_request", "dns_query",
           "PortUnavailable", "tos_of"]

#: the ephemeral range Linux uses by default: a pinned range that contains it needs no explicit port
EPHEMERAL = (32768, 60999)
BIND_ATTEMPTS = 64
NTP_EPOCH = 2208988800  # 1900-01-01 -> 1970-01-01


class PortUnavailable(OSError):
    """No free client port in the flow's pinned range."""


@dataclass(frozen=True)
class Check:
    kind: str                 # tcp | tls | sip-udp | sip-tcp | sip-tls | ntp | media
    name: str                 # the DNS name (SNI / SIP host) or "" for address-only checks
    address: str
    port: int
    ok: bool
    reason: str | None = None  # why not ok: timeout, refused, TLS name mismatch, SIP 503 ...
    rtt_ms: float | None = None
    local: str | None = None   # client address:port used
    detail: dict = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.address}:{self.port}"

    def summary(self) -> str:
        what = f"{self.kind} {self.target}" + (f" ({self.name})" if self.name else "")
        res = "ok" if self.ok else f"FAIL {self.reason}"
        extra = []
        if self.local:
            extra.append(f"from {self.local}")
        if self.rtt_ms is not None:
            extra.append(f"rtt {self.rtt_ms:.1f} ms")
        for k in ("status", "stratum", "offset_ms", "tls", "certificate"):
            if k in self.detail:
                extra.append(f"{k} {self.detail[k]}")
        return f"{what}: {res}" + (f" [{'; '.join(extra)}]" if extra else "")

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "address": self.address, "port": self.port, "ok": self.ok,
                "reason": self.reason, "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 3),
                "local": self.local, "detail": self.detail}


def tos_of(dscp: int) -> int:
    return (dscp & 0x3F) << 2


def _covers_ephemeral(ranges) -> bool:
    return ranges is None or any(lo <= EPHEMERAL[0] and EPHEMERAL[1] <= hi for lo, hi in ranges)


def bind_port(sock: socket.socket, ranges, *, exclude: frozenset[int] = frozenset(), wait: float = 0.0) -> int:
    """Bind ``sock`` to a client port inside ``ranges`` (None: any); returns the port.

    A range containing the OS's ephemeral range needs no choice; a pinned range (SIP 5060-8060) is
    walked from its low end, at most BIND_ATTEMPTS ports. When every port is busy (an SBC pins two
    SIP ports; other checks hold them) it retries for up to ``wait`` seconds."""
    if _covers_ephemeral(ranges):  # the OS never hands out a port in use
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]
    deadline = time.monotonic() + wait
    while True:
        tried = 0
        for lo, hi in ranges or ((1024, 65535),):
            for port in range(lo, hi + 1):
                if port in exclude:
                    continue
                tried += 1
                if tried > BIND_ATTEMPTS:
                    break
                try:
                    sock.bind(("0.0.0.0", port))
                    return port
                except OSError as e:
                    if e.errno not in (errno.EADDRINUSE, errno.EACCES):
                        raise
        if time.monotonic() >= deadline:
            raise PortUnavailable(errno.EADDRINUSE, f"no free client port in {_ranges_text(ranges)}")
        time.sleep(0.05)


def _ranges_text(ranges) -> str:
    return ", ".join(f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in ranges or ((0, 65535),))


def _reason(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "connection reset"
    if isinstance(e, PortUnavailable):
        return str(e.strerror)
    if isinstance(e, OSError) and e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable (" + os.strerror(e.errno) + ")"
    if isinstance(e, OSError) and e.errno == errno.ECONNREFUSED:
        return "refused"
    return f"{type(e).__name__}: {e}"


def udp_socket(src_ranges, tos: int, *, wait: float = 0.0, dest: tuple[str, int] | None = None,
               exclude: frozenset[int] = frozenset()) -> socket.socket:
    """A UDP socket with TOS ``tos``, bound to a client port in ``src_ranges``, connected to ``dest``."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if tos:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        bind_port(s, src_ranges, exclude=exclude, wait=wait)
        if dest is not None:
            s.connect(dest)
    except BaseException:
        s.close()
        raise
    return s


def _tcp_socket(src_ranges, tos: int, wait: float) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if tos:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    if src_ranges is not None and not _covers_ephemeral(src_ranges):
        bind_port(s, src_ranges, wait=wait)
    return s


def _connect(address: str, port: int, timeout: float, src_ranges, tos: int):
    s = _tcp_socket(src_ranges, tos, timeout)
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.connect((address, port))
    except BaseException:
        s.close()
        raise
    return s, (time.monotonic() - t0) * 1000


def _local(s: socket.socket) -> str:
    try:
        a, p = s.getsockname()[:2]
        return f"{a}:{p}"
    except OSError:
        return "?"


def tcp_connect(address: str, port: int, *, name: str = "", timeout: float = 3.0, src_ranges=None,
                tos: int = 0) -> Check:
    try:
        s, rtt = _connect(address, port, timeout, src_ranges, tos)
    except OSError as e:
        return Check("tcp", name, address, port, False, _reason(e))
    with s:
        return Check("tcp", name, address, port, True, rtt_ms=rtt, local=_local(s))


def _tls_context(cafile: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _tls_failure(e: ssl.SSLError, sni: str) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        if e.verify_code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
            return f"TLS name mismatch (the certificate is not valid for {sni})"
        return f"TLS certificate not trusted ({e.verify_message})"
    return f"TLS handshake failed ({e.reason or e})"


def _cert_names(cert: dict, sni: str) -> str:
    """The certificate's DNS names, short: the one that matched first, then how many more."""
    sans = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    if not sans:
        return "no DNS names"
    first = sni if sni in sans else sans[0]
    return first + (f" (+{len(sans) - 1} more names)" if len(sans) > 1 else "")


def tls_handshake(address: str, port: int, sni: str, *, timeout: float = 3.0, cafile: str | None = None,
                  src_ranges=None, tos: int = 0) -> Check:
    try:
        raw, rtt = _connect(address, port, timeout, src_ranges, tos)
    except OSError as e:
        return Check("tls", sni, address, port, False, _reason(e))
    local = _local(raw)
    t0 = time.monotonic()
    try:
        with _tls_context(cafile).wrap_socket(raw, server_hostname=sni) as s:
            cert = s.getpeercert() or {}
            detail = {"tls": s.version(), "certificate": _cert_names(cert, sni), "connect_ms": round(rtt, 3)}
            return Check("tls", sni, address, port, True, rtt_ms=(time.monotonic() - t0) * 1000 + rtt,
                         local=local, detail=detail)
    except ssl.SSLError as e:
        return Check("tls", sni, address, port, False, _tls_failure(e, sni), local=local)
    except OSError as e:
        return Check("tls", sni, address, port, False, _reason(e), local=local)
    finally:
        raw.close()


# ---- SIP ------------------------------------------------------------------------------------------

def sip_request(host: str, transport: str, local_ip: str, local_port: int, *, extra_headers: str = "",
                body: bytes = b"", content_type: str = "application/sdp") -> tuple[bytes, str, str]:
    """An OPTIONS request as a phone sends it (its own address in Via and Contact); returns
    (bytes, Call-ID, branch)."""
    branch = "z9hG4bK-spirit-" + secrets.token_hex(6)
    call_id = f"{secrets.token_hex(8)}@{local_ip}"
    tag = secrets.token_hex(4)
    via_t = {"udp": "UDP", "tcp": "TCP", "tls": "TLS"}[transport]
    scheme = "sips" if transport == "tls" else "sip"
    uri_t = "" if transport == "udp" else f";transport={'tls' if transport == 'tls' else 'tcp'}"
    head = (
        f"OPTIONS {scheme}:{host} SIP/2.0\r\n"
        f"Via: SIP/2.0/{via_t} {local_ip}:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <{scheme}:spirit-probe@{host}>;tag={tag}\r\n"
        f"To: <{scheme}:{host}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Contact: <{scheme}:spirit-probe@{local_ip}:{local_port}{uri_t}>\r\n"
        "Accept: application/sdp\r\n"
        "User-Agent: spirit-infra-probe\r\n"
        f"{extra_headers}"
        + (f"Content-Type: {content_type}\r\n" if body else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body, call_id, branch


def parse_status(data: bytes) -> tuple[int, str] | None:
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
        return int(parts[1]), parts[2] if len(parts) > 2 else ""
    return None


def _header(data: bytes, name: str) -> str | None:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def _sip_verdict(kind, host, address, port, status, rtt, local, response: bytes) -> Check:
    code, text = status
    detail = {"status": f"{code} {text}".strip(), "server": _header(response, "Server") or
              _header(response, "User-Agent") or ""}
    ok = 200 <= code < 300
    return Check(kind, host, address, port, ok, None if ok else f"SIP {code} {text}".strip(), rtt_ms=rtt,
                 local=local, detail=detail)


def _sip_udp(host, address, port, timeout, src_ranges, tos) -> Check:
    try:
        s = udp_socket(src_ranges, tos, wait=timeout, dest=(address, port))
    except OSError as e:
        return Check("sip-udp", host, address, port, False, _reason(e))
    try:
        lip, lport = s.getsockname()
        local = f"{lip}:{lport}"
        msg, call_id, _ = sip_request(host, "udp", lip, lport)
        deadline = time.monotonic() + timeout
        t0 = time.monotonic()
        interval = 0.5  # RFC 3261 Timer E: T1, doubling up to T2 = 4 s
        next_send = t0
        while True:
            now = time.monotonic()
            if now >= deadline:
                return Check("sip-udp", host, address, port, False, "timeout", local=local)
            if now >= next_send:
                s.send(msg)
                next_send = now + interval
                interval = min(interval * 2, 4.0)
            s.settimeout(max(0.01, min(next_send, deadline) - time.monotonic()))
            try:
                data = s.recv(65535)
            except TimeoutError:
                continue
            except OSError as e:
                return Check("sip-udp", host, address, port, False, _reason(e), local=local)
            status = parse_status(data)
            if status is None or _header(data, "Call-ID") != call_id or status[0] < 200:
                continue
            return _sip_verdict("sip-udp", host, address, port, status, (time.monotonic() - t0) * 1000, local, data)
    finally:
        s.close()


def _read_response(s, deadline: float) -> bytes:
    buf = b""
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65535)
        if not chunk:
            raise ConnectionResetError(errno.ECONNRESET, "connection closed before a response")
        buf += chunk
        while b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = int(_header(head + b"\r\n\r\n", "Content-Length") or 0)
            if len(rest) < length:
                break
            msg, buf = head + b"\r\n\r\n" + rest[:length], rest[length:]
            status = parse_status(msg)
            if status and status[0] >= 200:
                return msg
        if len(buf) > 65535:
            raise ConnectionResetError(errno.EMSGSIZE, "response too large")


def _sip_stream(kind, host, address, port, timeout, src_ranges, tos, cafile) -> Check:
    deadline = time.monotonic() + timeout
    try:
        raw, _ = _connect(address, port, timeout, src_ranges, tos)
    except OSError as e:
        return Check(kind, host, address, port, False, _reason(e))
    local = _local(raw)
    lip, lport = raw.getsockname()
    s = raw
    try:
        if kind == "sip-tls":
            try:
                s = _tls_context(cafile).wrap_socket(raw, server_hostname=host)
            except ssl.SSLError as e:
                return Check(kind, host, address, port, False, _tls_failure(e, host), local=local)
        msg, call_id, _ = sip_request(host, "tls" if kind == "sip-tls" else "tcp", lip, lport)
        t0 = time.monotonic()
        s.sendall(msg)
        data = _read_response(s, deadline)
        rtt = (time.monotonic() - t0) * 1000
        if _header(data, "Call-ID") != call_id:
            return Check(kind, host, address, port, False, "SIP response for another request", local=local)
        return _sip_verdict(kind, host, address, port, parse_status(data), rtt, local, data)
    except (OSError, ValueError) as e:
        return Check(kind, host, address, port, False, _reason(e) if isinstance(e, OSError) else str(e), local=local)
    finally:
        s.close()
        if s is not raw:
            raw.close()


def sip_options(transport: str, host: str, address: str, port: int, *, timeout: float = 3.0, src_ranges=None,
                tos: int = 0, cafile: str | None = None) -> Check:
    """SIP OPTIONS over ``transport`` (udp | tcp | tls) from a port in ``src_ranges``; pass on a 2xx."""
    if transport == "udp":
        return _sip_udp(host, address, port, timeout, src_ranges, tos)
    return _sip_stream(f"sip-{transport}", host, address, port, timeout, src_ranges, tos, cafile)


# ---- DNS (a resolver the flow reaches, e.g. a public one) -------------------------------------------

def dns_query(address: str, port: int, transport: str, *, name: str = "", timeout: float = 3.0,
              src_ranges=None, qname: str = ".", qtype: str = "NS") -> Check:
    """A query (by default the root's NS records) over ``transport``; pass on a NOERROR answer."""
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode

    kind = f"dns-{transport}"
    q = dns.message.make_query(qname, qtype)
    try:
        sock = udp_socket(src_ranges, 0, wait=timeout) if transport == "udp" else _tcp_socket(src_ranges, 0, timeout)
    except OSError as e:
        return Check(kind, name, address, port, False, _reason(e))
    t0 = time.monotonic()
    try:
        if transport == "udp":
            sock.setblocking(False)  # dnspython wants a non-blocking socket
            r = dns.query.udp(q, address, port=port, timeout=timeout, sock=sock)
        else:
            sock.settimeout(timeout)
            sock.connect((address, port))
            sock.setblocking(False)
            r = dns.query.tcp(q, address, port=port, timeout=timeout, sock=sock)
        local = _local(sock)
    except dns.exception.Timeout:
        return Check(kind, name, address, port, False, "timeout")
    except (OSError, dns.exception.DNSException) as e:
        return Check(kind, name, address, port, False, _reason(e) if isinstance(e, OSError) else str(e))
    finally:
        sock.close()
    rcode = dns.rcode.to_text(r.rcode())
    ok = r.rcode() == dns.rcode.NOERROR
    return Check(kind, name, address, port, ok, None if ok else f"DNS {rcode} for {qname} {qtype}",
                 rtt_ms=(time.monotonic() - t0) * 1000, local=local, detail={"status": rcode, "query": f"{qname} {qtype}"})


# ---- NTP ------------------------------------------------------------------------------------------

def _ntp_ts(t: float) -> bytes:
    sec = int(t) + NTP_EPOCH
    frac = int((t - int(t)) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", sec & 0xFFFFFFFF, frac)


def _from_ntp(b: bytes) -> float:
    sec, frac = struct.unpack("!II", b)
    return sec - NTP_EPOCH + frac / 2**32


def ntp_query(address: str, port: int = 123, *, name: str = "", timeout: float = 3.0, src_ranges=None,
              tos: int = 0) -> Check:
    """One NTP client (mode 3) request; pass when a synchronised server (stratum 1-15) answers it."""
    try:
        s = udp_socket(src_ranges, tos, wait=timeout, dest=(address, port))
    except OSError as e:
        return Check("ntp", name, address, port, False, _reason(e))
    try:
        local = _local(s)
        t1 = time.time()
        xmit = _ntp_ts(t1)
        s.send(bytes([0x23]) + bytes(39) + xmit)  # LI 0, VN 4, mode 3; transmit timestamp
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = s.recv(1024)
            except TimeoutError:
                return Check("ntp", name, address, port, False, "timeout", local=local)
            except OSError as e:
                return Check("ntp", name, address, port, False, _reason(e), local=local)
            t4 = time.time()
            if len(data) < 48 or data[0] & 0x7 != 4 or data[24:32] != xmit:
                continue  # not the answer to this request
            li, stratum = data[0] >> 6, data[1]
            t2, t3 = _from_ntp(data[32:40]), _from_ntp(data[40:48])
            offset = ((t2 - t1) + (t3 - t4)) / 2
            delay = (t4 - t1) - (t3 - t2)
            detail = {"stratum": stratum, "offset_ms": round(offset * 1000, 3), "leap": li,
                      "refid": data[12:16].hex() if stratum > 1 else data[12:16].decode("ascii", "replace")}
            if stratum == 0:
                reason = f"kiss-o'-death ({data[12:16].decode('ascii', 'replace')})"
            elif stratum >= 16 or li == 3:
                reason = "server not synchronised (stratum 16 / leap alarm)"
            else:
                reason = None
            return Check("ntp", name, address, port, reason is None, reason, rtt_ms=delay * 1000, local=local,
                         detail=detail)
    finally:
        s.close()
