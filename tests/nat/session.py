"""A long-lived "call" run inside a network namespace: one UDP flow or one TCP connection that stays open
while the test reloads the NAT's ruleset (``ip netns exec NS python session.py ...``).

Standard library only (plus probe.Sniffer from this directory); every wait is bounded.

serve   Bind ADDR:PORT; print ``{"ready": true}``. UDP: answer each datagram with ``ECHO:`` + payload and
        record the TOS it arrived with (IP_RECVTOS). TCP: accept ONE connection, answer each newline-ended
        message the same way; the TOS of each data segment is sniffed on --sniff-if. Stops at stdin EOF
        or --timeout and prints one result line ``{"records": [{"payload": ..., "tos": ...}], ...}``.
client  Open the flow from --sport with TOS --tos (TCP: connect once). For each stdin line, send it (TCP:
        with a newline) on the SAME socket and print ``{"reply": text-or-null}`` (bounded by --timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe import IP_RECVTOS, Sniffer  # noqa: E402


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def serve(a: argparse.Namespace) -> int:
    deadline = time.monotonic() + a.timeout
    udp = a.proto == "udp"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if udp:
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    sock.bind((a.addr, a.port))
    sniffer = None
    if not udp:
        sock.listen(1)
        sniffer = Sniffer(a.sniff_if, socket.IPPROTO_TCP, dst_port=a.port)
    _emit({"ready": True})
    records: list[dict] = []
    conn = None
    buf = b""
    stdin = sys.stdin.fileno()
    while time.monotonic() < deadline:
        watch = [stdin, conn or sock] + ([sniffer] if sniffer else [])
        ready, _, _ = select.select(watch, [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if stdin in ready and not os.read(stdin, 4096):
            break
        if sniffer and sniffer in ready:
            sniffer.drain()
        if udp and sock in ready:
            data, anc, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(1))
            tos = next((d[0] for lvl, t, d in anc if lvl == socket.IPPROTO_IP and t == socket.IP_TOS and d), None)
            records.append({"payload": data.decode(), "tos": tos, "peer": list(peer)})
            sock.sendto(b"ECHO:" + data, peer)
        elif not udp and conn is None and sock in ready:
            conn, _ = sock.accept()
        elif conn is not None and conn in ready:
            data = conn.recv(65535)
            if not data:
                conn.close()
                conn = None
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                records.append({"payload": line.decode()})
                conn.sendall(b"ECHO:" + line + b"\n")
    if sniffer:
        sniffer.drain()
        data_tos = [s["tos"] for s in sniffer.segments if s.get("len")]
        for rec, tos in zip(records, data_tos, strict=False):
            rec["tos"] = tos
    _emit({"records": records})
    return 0


def client(a: argparse.Namespace) -> int:
    udp = a.proto == "udp"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, a.tos)
    sock.bind(("0.0.0.0", a.sport))
    sock.settimeout(a.timeout)
    sock.connect((a.dst, a.dport))
    _emit({"ready": True})
    buf = b""
    for line in sys.stdin:
        msg = line.rstrip("\n").encode()
        reply = None
        try:
            sock.send(msg if udp else msg + b"\n")
            if udp:
                reply = sock.recv(65535).decode()
            else:
                while b"\n" not in buf:
                    chunk = sock.recv(65535)
                    if not chunk:
                        break
                    buf += chunk
                if b"\n" in buf:
                    got, buf = buf.split(b"\n", 1)
                    reply = got.decode()
        except OSError as e:
            _emit({"reply": None, "error": str(e)})
            continue
        _emit({"reply": reply})
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--proto", choices=("udp", "tcp"), required=True)
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--sniff-if", default="eth0")
    s.add_argument("--timeout", type=float, default=30.0)
    c = sub.add_parser("client")
    c.add_argument("--proto", choices=("udp", "tcp"), required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--dport", type=int, required=True)
    c.add_argument("--sport", type=int, required=True)
    c.add_argument("--tos", type=lambda v: int(v, 0), default=0)
    c.add_argument("--timeout", type=float, default=2.0)
    a = p.parse_args()
    return serve(a) if a.cmd == "serve" else client(a)


if __name__ == "__main__":
    sys.exit(main())
