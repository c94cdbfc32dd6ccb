"""Test peers the probe talks to, run inside a namespace (stdlib only: ``python -I -S peers.py CONFIG``).

CONFIG is JSON::

    {"tls":     [{"addr": "0.0.0.0", "port": 443, "default": "xsi", "certs": {"xsi": [cert, key], ...},
                  "sni": {"xsi.access4.com.au": "xsi", ...}, "sip": false}],
     "tcp":     [{"addr": "0.0.0.0", "port": 5222}],
     "timeout": 120}

A ``tls`` listener picks its certificate by SNI (``sni`` name -> key of ``certs``, else ``default``);
with ``"sip": true`` it answers SIP requests (OPTIONS) over TLS with ``"status"`` (default "200 OK").
``tcp`` listeners accept and close. Prints ``{"ready": true}`` once everything listens, then runs
until stdin closes or ``timeout`` seconds pass (bounded).
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import sys
import threading
import time


def _listen(addr: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    s.settimeout(0.2)
    return s


def _sip_answer(conn, status: str) -> None:
    buf = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buf += chunk
    head = buf.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    keep = [ln for ln in head[1:] if ln.split(b":", 1)[0].strip().lower() in (b"via", b"from", b"to", b"call-id",
                                                                                 b"cseq")]
    resp = b"\r\n".join([f"SIP/2.0 {status}".encode(), *keep, b"Server: spirit-test-sips", b"Content-Length: 0"])
    conn.sendall(resp + b"\r\n\r\n")


def _serve_conn(conn, ctx, sip: bool, status: str) -> None:
    try:
        if ctx is not None:
            conn.settimeout(5)
            conn = ctx.wrap_socket(conn, server_side=True)
        if sip:
            _sip_answer(conn, status)
        elif ctx is not None:
            conn.settimeout(2)
            try:
                conn.recv(1)  # wait for the client to finish (it closes after the handshake)
            except (OSError, ssl.SSLError):
                pass
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def _tls_context(spec: dict) -> ssl.SSLContext:
    contexts = {}
    for key, (cert, keyfile) in spec["certs"].items():
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(cert, keyfile)
        contexts[key] = c
    default = contexts[spec["default"]]

    def pick(sock, name, _ctx):
        chosen = spec.get("sni", {}).get((name or "").lower())
        if chosen:
            sock.context = contexts[chosen]

    default.sni_callback = pick
    return default


def _accept_loop(sock, ctx, sip: bool, status: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except (TimeoutError, OSError):
            continue
        threading.Thread(target=_serve_conn, args=(conn, ctx, sip, status), daemon=True).start()


def main() -> int:
    cfg = json.loads(sys.argv[1])
    stop = threading.Event()
    threads = []
    for spec in cfg.get("tls", []):
        sock = _listen(spec["addr"], spec["port"])
        threads.append(threading.Thread(target=_accept_loop, args=(sock, _tls_context(spec), spec.get("sip", False),
                                                                   spec.get("status", "200 OK"), stop),
                                        daemon=True))
    for spec in cfg.get("tcp", []):
        sock = _listen(spec["addr"], spec["port"])
        threads.append(threading.Thread(target=_accept_loop, args=(sock, None, False, "", stop), daemon=True))
    for t in threads:
        t.start()
    print(json.dumps({"ready": True}), flush=True)
    end = time.monotonic() + float(cfg.get("timeout", 120))
    while time.monotonic() < end:
        ready, _, _ = select.select([sys.stdin], [], [], 0.5)
        if ready and not sys.stdin.readline():
            break
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
