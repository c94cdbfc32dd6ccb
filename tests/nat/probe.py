"""Traffic probe run inside a network namespace (``ip netns exec NS python probe.py ...``).

Standard library only, so it can run with ``python -I -S``. Every wait is bounded by a deadline.
Output is JSON on stdout: the listener first prints one ``{"ready": true}`` line once its sockets are
bound, then one result line when it stops; the sender prints one result line.

listen  Bind UDP or TCP on ADDR:PORT. For each UDP datagram record the peer address/port, the TOS byte
        received with it (IP_RECVTOS ancillary data) and the payload, then send REPLY_PREFIX + payload back.
        For TCP, accept connections, read the payload (until EOF or --expect-bytes), reply the same way and
        close. The TOS of TCP segments is observed with an AF_PACKET socket on --sniff-if (packet taps run
        before the IP stack, so a segment is sniffed even when the kernel never completes the handshake).
        Stops after --count datagrams/connections (0: no limit), when stdin reaches EOF, or at --timeout.
send    Send one UDP datagram (or open one TCP connection) from --sport with TOS --tos, wait for the reply
        (bounded by --timeout) and report it together with the TOS the reply arrived with.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
IP_RECVTOS = getattr(socket, "IP_RECVTOS", 13)
MAX_SNIFFED = 10_000  # bound on the sniffer's memory


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


class Sniffer:
    """AF_PACKET (cooked, IPv4 only) capture of segments of one protocol towards/from one port."""

    def __init__(self, ifname: str, proto: int, *, dst_port: int | None = None, src_port: int | None = None):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((ifname, ETH_P_IP))
        self.sock.setblocking(False)
        self.proto = proto
        self.dst_port = dst_port
        self.src_port = src_port
        self.segments: list[dict] = []

    def fileno(self) -> int:
        return self.sock.fileno()

    def drain(self) -> None:
        for _ in range(MAX_SNIFFED):  # bounded: the queue is finite, this only guards against a flood
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            if addr[2] == PACKET_OUTGOING or len(self.segments) >= MAX_SNIFFED:
                continue
            self._parse(data)

    def _parse(self, ip: bytes) -> None:
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != self.proto:
            return
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        l4 = ip[ihl:total]
        if len(l4) < 8:
            return
        sport, dport = struct.unpack("!HH", l4[:4])
        if self.dst_port is not None and dport != self.dst_port:
            return
        if self.src_port is not None and sport != self.src_port:
            return
        seg = {
            "src": socket.inet_ntoa(ip[12:16]),
            "dst": socket.inet_ntoa(ip[16:20]),
            "sport": sport,
            "dport": dport,
            "tos": ip[1],
        }
        if self.proto == socket.IPPROTO_TCP and len(l4) >= 20:
            doff = (l4[12] >> 4) * 4
            seg["flags"] = l4[13]
            seg["len"] = max(0, len(l4) - doff)
        else:
            seg["len"] = max(0, len(l4) - 8)
        self.segments.append(seg)

    def close(self) -> None:
        self.sock.close()


def _tos_from_cmsgs(ancdata) -> int | None:
    for level, ctype, data in ancdata:
        if level == socket.IPPROTO_IP and ctype == socket.IP_TOS and data:
            return data[0]
    return None


def listen(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    proto = socket.IPPROTO_UDP if args.proto == "udp" else socket.IPPROTO_TCP
    sniffer = Sniffer(args.sniff_if, proto, dst_port=args.port) if args.sniff_if else None
    prefix = args.reply_prefix.encode()
    records: list[dict] = []
    if args.proto == "udp":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.addr, args.port))
    if args.proto == "tcp":
        sock.listen(16)
    sock.setblocking(False)
    _emit({"ready": True, "pid": os.getpid()})

    stdin_fd = sys.stdin.fileno()
    watch = [sock, stdin_fd] + ([sniffer] if sniffer else [])
    stopped_by = "timeout"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if args.count and len(records) >= args.count:
            stopped_by = "count"
            break
        readable, _, _ = select.select(watch, [], [], remaining)
        if sniffer is not None and sniffer in readable:
            sniffer.drain()
        if stdin_fd in readable:
            if not os.read(stdin_fd, 4096):
                stopped_by = "stdin"
                break
        if sock not in readable:
            continue
        if args.proto == "udp":
            try:
                data, ancdata, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(4))
            except (BlockingIOError, InterruptedError):
                continue
            rec = {
                "peer": list(peer),
                "tos": _tos_from_cmsgs(ancdata),
                "payload_hex": data.hex(),
                "reply_error": None,
            }
            if args.reply:
                try:
                    sock.sendto(prefix + data, peer)
                except OSError as exc:
                    rec["reply_error"] = f"{type(exc).__name__}: {exc}"
            records.append(rec)
        else:
            try:
                conn, peer = sock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            records.append(_serve_tcp(conn, peer, args, prefix, deadline))
    if sniffer is not None:
        sniffer.drain()
        sniffer.close()
    sock.close()
    _emit(
        {
            "ready": False,
            "proto": args.proto,
            "records": records,
            "stopped_by": stopped_by,
            "segments": sniffer.segments if sniffer else None,
        }
    )
    return 0


def _serve_tcp(conn: socket.socket, peer, args: argparse.Namespace, prefix: bytes, deadline: float) -> dict:
    rec = {"peer": list(peer), "payload_hex": "", "reply_error": None, "eof": False}
    data = bytearray()
    conn.setblocking(True)
    try:
        for _ in range(100_000):  # bounded: each iteration reads >= 1 byte or ends
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (args.expect_bytes and len(data) >= args.expect_bytes):
                break
            conn.settimeout(remaining)
            chunk = conn.recv(65536)
            if not chunk:
                rec["eof"] = True
                break
            data += chunk
    except OSError as exc:
        rec["reply_error"] = f"recv {type(exc).__name__}: {exc}"
    rec["payload_hex"] = bytes(data).hex()
    if args.reply and rec["reply_error"] is None:
        try:
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            conn.sendall(prefix + bytes(data))
        except OSError as exc:
            rec["reply_error"] = f"{type(exc).__name__}: {exc}"
    conn.close()  # the listener closes first, so the client keeps no TIME_WAIT for its fixed source port
    return rec


def send(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    payload = bytes.fromhex(args.payload_hex)
    out = {
        "local": None,
        "reply_hex": None,
        "reply_from": None,
        "reply_tos": None,
        "error": None,
        "reply_segments": None,
    }
    proto = socket.IPPROTO_UDP if args.proto == "udp" else socket.IPPROTO_TCP
    sniffer = Sniffer(args.sniff_if, proto, src_port=args.dport) if args.sniff_if else None
    stype = socket.SOCK_DGRAM if args.proto == "udp" else socket.SOCK_STREAM
    sock = socket.socket(socket.AF_INET, stype)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
        if args.proto == "udp":
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        sock.bind((args.src, args.sport))
        out["local"] = list(sock.getsockname())
        if args.proto == "udp":
            sock.sendto(payload, (args.dst, args.dport))
            for _ in range(1000):  # bounded; stray datagrams from other peers are ignored
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(remaining)
                data, ancdata, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(4))
                if peer[0] == args.dst and peer[1] == args.dport:
                    out["reply_hex"], out["reply_from"] = data.hex(), list(peer)
                    out["reply_tos"] = _tos_from_cmsgs(ancdata)
                    break
        else:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            sock.connect((args.dst, args.dport))
            out["local"] = list(sock.getsockname())
            sock.sendall(payload)
            reply = bytearray()
            for _ in range(100_000):  # bounded: each iteration reads >= 1 byte or ends
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            out["reply_hex"], out["reply_from"] = bytes(reply).hex(), [args.dst, args.dport]
    except OSError as exc:  # timeouts included: reported, never raised
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    if sniffer is not None:
        sniffer.drain()
        sniffer.close()
        out["reply_segments"] = [s for s in sniffer.segments if s["src"] == args.dst]
    _emit(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="probe")
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("listen")
    lp.add_argument("--proto", choices=("udp", "tcp"), required=True)
    lp.add_argument("--addr", default="0.0.0.0")
    lp.add_argument("--port", type=int, required=True)
    lp.add_argument("--count", type=int, default=0)
    lp.add_argument("--timeout", type=float, default=5.0)
    lp.add_argument("--sniff-if", default=None)
    lp.add_argument("--reply-prefix", default="ECHO:")
    lp.add_argument("--no-reply", dest="reply", action="store_false")
    lp.add_argument("--expect-bytes", type=int, default=0)
    sp = sub.add_parser("send")
    sp.add_argument("--proto", choices=("udp", "tcp"), required=True)
    sp.add_argument("--src", default="0.0.0.0")
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--dst", required=True)
    sp.add_argument("--dport", type=int, required=True)
    sp.add_argument("--tos", type=lambda s: int(s, 0), default=0)
    sp.add_argument("--payload-hex", default="")
    sp.add_argument("--timeout", type=float, default=2.0)
    sp.add_argument("--sniff-if", default=None)
    args = p.parse_args(argv)
    return listen(args) if args.cmd == "listen" else send(args)


if __name__ == "__main__":
    sys.exit(main())
