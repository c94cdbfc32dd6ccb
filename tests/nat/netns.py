"""Real-kernel harness for the QoS NAT gateway: network namespaces, nftables, a traffic probe.

Topology (every name carries a per-run prefix ``spirit-<pid>-<n>-``)::

    client                 nat                        wan (L2 bridge br0)     spirit
    eth0 10.20.0.10/24 --- lan0 10.20.0.1/24                                  eth0 100.64.0.2/24
    default via 10.20.0.1  wan0 100.64.0.1/24 ---------- p-nat  p-spirit ---- lo 103.80.244.10/32
                           ip_forward=1                         p-inet  --+        45.64.148.10/32
                           103.80.244.0/22, 45.64.148.0/22                |        103.80.247.250/32
                             via 100.64.0.2                               |   internet
                           default via 100.64.0.3                         +-- eth0 100.64.0.3/24
                                                                              lo 198.51.100.20/32

The Spirit and Internet hosts only know the connected 100.64.0.0/24: a packet that leaves the NAT with its
LAN source (10.20.0.10) is delivered (rp_filter is off, so the listener sees it) but its reply has no route.
Replies therefore reach the client only through a working SNAT on the one WAN interface ``wan0``.
IPv6 is disabled in every namespace so the sniffers only see the test's traffic.

Use ``with Topology() as topo: ...`` or the pytest fixtures in ``conftest.py``.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROBE = Path(__file__).with_name("probe.py")
RUN_PREFIX = f"spirit-{os.getpid()}-"
_NAME_RE = re.compile(r"^spirit-(\d+)-\d+-(client|nat|wan|spirit|internet)$")


def _shared_counter() -> itertools.count:
    """One Topology counter per process. pytest imports this file twice (``nat.netns`` for tests/nat,
    ``tests.nat.netns`` for tests/probe): a second copy takes the first one's counter, so two live Topologies
    of one process never get the same names (under pytest-xdist a worker can hold tests/probe's session
    deployment while it runs a tests/nat module)."""
    here = os.path.realpath(__file__)
    for module in list(sys.modules.values()):
        if os.path.realpath(getattr(module, "__file__", None) or "/") == here and hasattr(module, "_counter"):
            return module._counter
    return itertools.count(1)


_counter = _shared_counter()

ROLES = ("client", "nat", "wan", "spirit", "internet")
DEFAULT_TIMEOUT = 10.0


class HarnessError(RuntimeError):
    """The harness could not do what was asked (a command failed, a probe misbehaved)."""


class CommandError(HarnessError):
    def __init__(self, cmd: Sequence[str], returncode: int | None, stdout: str, stderr: str):
        self.cmd, self.returncode, self.stdout, self.stderr = list(cmd), returncode, stdout, stderr
        super().__init__(
            f"command {' '.join(self.cmd)!r} failed (rc={returncode}): {stderr.strip() or stdout.strip()}"
        )


class NftError(HarnessError):
    """nft rejected a ruleset; ``stderr`` is nft's own message (with line numbers)."""

    def __init__(self, action: str, ruleset: str, stderr: str):
        self.ruleset, self.stderr = ruleset, stderr
        super().__init__(f"nft {action} failed:\n{stderr.strip()}")


def requirements_problem() -> str | None:
    """Why the real-kernel tests cannot run here, or None. Used by the fixtures to fail loudly."""
    if os.geteuid() != 0:
        return "netns tests need root (network namespaces, nftables); run them as root (`make test`, or `pytest -m netns`)"
    missing = [tool for tool in ("ip", "nft", "conntrack") if shutil.which(tool) is None]
    if missing:
        return f"netns tests need {', '.join(missing)} on PATH (Debian: apt-get install iproute2 nftables conntrack)"
    return None


def _run(
    cmd: Sequence[str],
    *,
    input: str | bytes | None = None,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    data = input.encode() if isinstance(input, str) else input
    try:
        proc = subprocess.run(list(cmd), input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(cmd, None, "", f"timed out after {timeout}s") from exc
    res = subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    )
    if check and res.returncode != 0:
        raise CommandError(cmd, res.returncode, res.stdout, res.stderr)
    return res


def list_netns() -> list[str]:
    out = _run(["ip", "-j", "netns", "list"]).stdout.strip()
    return sorted(entry["name"] for entry in json.loads(out)) if out else []


def cleanup_stale() -> list[str]:
    """Delete namespaces left by harness runs whose process no longer exists (a killed pytest)."""
    removed = []
    for name in list_netns():
        m = _NAME_RE.match(name)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            _run(["ip", "netns", "del", name], check=False)
            removed.append(name)
    return removed


@dataclass(frozen=True)
class Observation:
    """What one exchange looked like from both ends.

    received        the destination saw the packet/segment (UDP: datagram delivered; TCP: a segment was sniffed)
    src_ip/src_port the source the destination saw (after SNAT this is the NAT's WAN address)
    tos             TOS byte of the datagram (UDP, IP_RECVTOS) or of the first data segment (else the SYN) (TCP)
    tos_values      every distinct TOS seen on the flow's segments at the receiver (TCP; UDP: the one datagram)
    payload         bytes the listener's application received (None when nothing was received)
    reply_received  the client got the listener's reply (REPLY_PREFIX + payload)
    reply_tos       TOS byte the reply carried when it reached the client
    reply_error     error the listener hit while replying (e.g. "Network is unreachable")
    client_error    error the client hit (e.g. "timed out" on connect)
    """

    proto: str
    received: bool
    src_ip: str | None
    src_port: int | None
    tos: int | None
    tos_values: tuple[int, ...]
    payload: bytes | None
    reply_received: bool
    reply: bytes | None
    reply_tos: int | None
    reply_error: str | None
    client_error: str | None
    listener: Mapping = field(repr=False, compare=False)
    sender: Mapping = field(repr=False, compare=False)

    @property
    def dscp(self) -> int | None:
        return None if self.tos is None else self.tos >> 2

    @property
    def dscp_values(self) -> tuple[int, ...]:
        return tuple(sorted({t >> 2 for t in self.tos_values}))

    @property
    def reply_dscp(self) -> int | None:
        return None if self.reply_tos is None else self.reply_tos >> 2


class Listener:
    """A probe listener in one namespace; a context manager. ``result()`` stops it and returns its JSON."""

    def __init__(
        self,
        topo: Topology,
        ns: str,
        proto: str,
        addr: str,
        port: int,
        *,
        count: int = 0,
        timeout: float = 5.0,
        sniff_if: str | None = "eth0",
        reply: bool = True,
        expect_bytes: int = 0,
        reply_prefix: bytes = b"ECHO:",
    ):
        self.topo, self.ns, self.proto, self.addr, self.port = topo, topo.netns(ns), proto, addr, port
        self.timeout = timeout
        self.reply_prefix = reply_prefix
        cmd = [
            *topo._ns_cmd(self.ns),
            sys.executable,
            "-I",
            "-S",
            str(PROBE),
            "listen",
            "--proto",
            proto,
            "--addr",
            addr,
            "--port",
            str(port),
            "--count",
            str(count),
            "--timeout",
            str(timeout),
            "--expect-bytes",
            str(expect_bytes),
            "--reply-prefix",
            reply_prefix.decode(),
        ]
        if sniff_if:
            cmd += ["--sniff-if", sniff_if]
        if not reply:
            cmd.append("--no-reply")
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        topo._procs.append(self._proc)
        self._result: dict | None = None
        try:
            self._wait_ready(min(timeout, 5.0))
        except BaseException:
            self._kill()
            raise

    def _wait_ready(self, limit: float) -> None:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], limit)
        line = self._proc.stdout.readline() if ready else b""
        if not line:
            self._kill()
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            raise HarnessError(
                f"listener {self.proto} {self.addr}:{self.port} in {self.ns} not ready: {err.strip()}"
            )
        if not json.loads(line).get("ready"):
            raise HarnessError(f"unexpected listener output: {line!r}")

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def result(self) -> dict:
        """Tell the listener to stop (EOF on stdin) and return its result JSON."""
        if self._result is None:
            try:
                out, err = self._proc.communicate(input=b"", timeout=self.timeout + 5)
            except subprocess.TimeoutExpired as exc:
                self._kill()
                raise HarnessError(f"listener in {self.ns} did not stop") from exc
            lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
            if self._proc.returncode != 0 or not lines:
                raise HarnessError(
                    f"listener in {self.ns} failed rc={self._proc.returncode}: "
                    f"{err.decode(errors='replace').strip()}"
                )
            self._result = json.loads(lines[-1])
        return self._result

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc) -> None:
        self._kill()


class Topology:
    """Five namespaces (client, nat, wan bridge, spirit, internet) wired as in the module docstring."""

    CLIENT_IP = "10.20.0.10"
    NAT_LAN_IP = "10.20.0.1"
    LAN_CIDR = "10.20.0.0/24"
    NAT_WAN_IP = "100.64.0.1"
    WAN_CIDR = "100.64.0.0/24"
    SPIRIT_LINK_IP = "100.64.0.2"
    INTERNET_LINK_IP = "100.64.0.3"
    SPIRIT_IPS = ("103.80.244.10", "45.64.148.10", "103.80.247.250")
    SPIRIT_PREFIXES = ("103.80.244.0/22", "45.64.148.0/22")
    INTERNET_IP = "198.51.100.20"

    lan_if = "lan0"
    wan_if = "wan0"
    host_if = "eth0"  # the one interface of client, spirit and internet

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or f"{RUN_PREFIX}{next(_counter)}-"
        self.names = {role: f"{self.prefix}{role}" for role in ROLES}
        self.client_ip, self.nat_lan_ip, self.nat_wan_ip = self.CLIENT_IP, self.NAT_LAN_IP, self.NAT_WAN_IP
        self.spirit_ips, self.internet_ip = self.SPIRIT_IPS, self.INTERNET_IP
        self.spirit_link_ip, self.internet_link_ip = self.SPIRIT_LINK_IP, self.INTERNET_LINK_IP
        self._procs: list[subprocess.Popen] = []
        self._baseline_timeouts: dict[str, int] = {}
        self._up = False

    # -- names ---------------------------------------------------------------------------------------
    client = property(lambda self: self.names["client"])
    nat = property(lambda self: self.names["nat"])
    wan = property(lambda self: self.names["wan"])
    spirit = property(lambda self: self.names["spirit"])
    internet = property(lambda self: self.names["internet"])

    def netns(self, ns: str) -> str:
        """Full namespace name for a role ("nat") or a full name."""
        if ns in self.names:
            return self.names[ns]
        if ns in self.names.values():
            return ns
        raise HarnessError(f"unknown namespace {ns!r} (roles: {', '.join(ROLES)})")

    def ns_for(self, ip: str) -> str:
        """Role of the host that owns ``ip``."""
        owners = {
            self.client_ip: "client",
            self.nat_lan_ip: "nat",
            self.nat_wan_ip: "nat",
            self.spirit_link_ip: "spirit",
            self.internet_link_ip: "internet",
            self.internet_ip: "internet",
            **{a: "spirit" for a in self.spirit_ips},
        }
        if ip not in owners:
            raise HarnessError(f"no host in the topology owns {ip}")
        return owners[ip]

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> Topology:
        self.build()
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    def build(self) -> Topology:
        problem = requirements_problem()
        if problem:
            raise HarnessError(problem)
        n = self.names
        self._up = True  # from here on destroy() has something to undo
        try:
            root = [f"netns add {name}" for name in n.values()]
            root += [
                f"link add {self.host_if} netns {n['client']} type veth peer name {self.lan_if} netns {n['nat']}",
                f"link add {self.wan_if} netns {n['nat']} type veth peer name p-nat netns {n['wan']}",
                f"link add {self.host_if} netns {n['spirit']} type veth peer name p-spirit netns {n['wan']}",
                f"link add {self.host_if} netns {n['internet']} type veth peer name p-inet netns {n['wan']}",
            ]
            _run(["ip", "-batch", "-"], input="\n".join(root) + "\n")
            common = {
                "net.ipv6.conf.all.disable_ipv6": 1,
                "net.ipv6.conf.default.disable_ipv6": 1,
                "net.ipv4.conf.all.rp_filter": 0,
                "net.ipv4.conf.default.rp_filter": 0,
            }
            for role in ROLES:
                extra = {"net.ipv4.ip_forward": 1} if role == "nat" else {}
                self._write_sysctls(role, {**common, **extra})
            eth = self.host_if
            batches = {
                "client": [
                    f"addr add {self.client_ip}/24 dev {eth}",
                    f"link set {eth} up",
                    f"route add default via {self.nat_lan_ip}",
                ],
                "nat": [
                    f"addr add {self.nat_lan_ip}/24 dev {self.lan_if}",
                    f"addr add {self.nat_wan_ip}/24 dev {self.wan_if}",
                    f"link set {self.lan_if} up",
                    f"link set {self.wan_if} up",
                    *[f"route add {p} via {self.spirit_link_ip}" for p in self.SPIRIT_PREFIXES],
                    f"route add default via {self.internet_link_ip}",
                ],
                "wan": [
                    "link add br0 type bridge stp_state 0 forward_delay 0",
                    *[f"link set {p} master br0" for p in ("p-nat", "p-spirit", "p-inet")],
                    *[f"link set {p} up" for p in ("p-nat", "p-spirit", "p-inet", "br0")],
                ],
                "spirit": [
                    f"addr add {self.spirit_link_ip}/24 dev {eth}",
                    f"link set {eth} up",
                    *[f"addr add {a}/32 dev lo" for a in self.spirit_ips],
                ],
                "internet": [
                    f"addr add {self.internet_link_ip}/24 dev {eth}",
                    f"link set {eth} up",
                    f"addr add {self.internet_ip}/32 dev lo",
                ],
            }
            for role, lines in batches.items():
                _run(["ip", "-n", n[role], "-batch", "-"], input="\n".join(["link set lo up", *lines]) + "\n")
            # bridged frames must not traverse netfilter in the wan namespace (br_netfilter may be loaded)
            self._write_sysctls("wan", {"net.bridge.bridge-nf-call-iptables": 0}, check=False)
            self._baseline_timeouts = self.conntrack_timeouts()
        except BaseException:
            self.destroy()
            raise
        return self

    def destroy(self) -> None:
        """Kill probes still running and delete every namespace (and so every interface). Idempotent."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs.clear()
        if not self._up:
            return
        existing = set(list_netns())
        errors = []
        for name in self.names.values():
            if name in existing:
                res = _run(["ip", "netns", "del", name], check=False)
                if res.returncode != 0:
                    errors.append(res.stderr.strip())
        self._up = False
        left = [name for name in list_netns() if name.startswith(self.prefix)]
        if left or errors:
            raise HarnessError(f"could not delete namespaces {left}: {errors}")

    def reset(self) -> None:
        """Back to a freshly built state: empty ruleset, empty conntrack table, default conntrack timeouts."""
        self.flush_ruleset()
        self.conntrack_flush()
        current = self.conntrack_timeouts()
        changed = {
            f"net.netfilter.nf_conntrack_{k}": v
            for k, v in self._baseline_timeouts.items()
            if current.get(k) != v
        }
        if changed:
            self._write_sysctls("nat", changed)

    # -- commands --------------------------------------------------------------------------------------
    def _ns_cmd(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", self.netns(ns)]

    def exec(
        self,
        ns: str,
        *cmd: str,
        check: bool = True,
        input: str | bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside namespace ``ns`` (role or full name); stdout/stderr are str."""
        return _run([*self._ns_cmd(ns), *cmd], input=input, check=check, timeout=timeout)

    def _write_sysctls(self, ns: str, values: Mapping[str, object], *, check: bool = True) -> None:
        script = "".join(f"echo {v} > /proc/sys/{k.replace('.', '/')}\n" for k, v in values.items())
        self.exec(ns, "sh", "-ec" if check else "-c", script, check=check)

    def sysctl(self, ns: str, key: str, value: object | None = None) -> str:
        """Write ``key`` (dotted) in namespace ``ns`` if ``value`` is given; return the value read back."""
        path = "/proc/sys/" + key.replace(".", "/")
        if value is not None:
            self.exec(ns, "sh", "-ec", 'printf "%s\\n" "$1" > "$2"', "sh", str(value), path)
        return self.exec(ns, "cat", path).stdout.strip()

    # -- nftables ----------------------------------------------------------------------------------------
    def load_ruleset(self, text: str, *, flush: bool = True) -> None:
        """Load ``text`` with ``nft -f -`` in the nat namespace, atomically replacing the ruleset when
        ``flush`` (a ``flush ruleset`` is prepended in the same transaction). Raises NftError with nft's stderr."""
        body = ("flush ruleset\n" if flush else "") + text
        res = self.exec("nat", "nft", "-f", "-", input=body, check=False)
        if res.returncode != 0:
            raise NftError("load", body, res.stderr)

    def nft_check(self, text: str) -> None:
        """Dry-run ``text`` (``nft -c -f -``) against the nat namespace's kernel; raises NftError."""
        res = self.exec("nat", "nft", "-c", "-f", "-", input=text, check=False)
        if res.returncode != 0:
            raise NftError("check", text, res.stderr)

    def nft(self, *args: str) -> str:
        """Run ``nft ARGS`` in the nat namespace, return stdout (e.g. ``topo.nft("list", "ruleset")``)."""
        res = self.exec("nat", "nft", *args, check=False)
        if res.returncode != 0:
            raise NftError(" ".join(args), "", res.stderr)
        return res.stdout

    def ruleset(self) -> str:
        return self.nft("list", "ruleset")

    def flush_ruleset(self) -> None:
        self.nft("flush", "ruleset")

    # -- conntrack -----------------------------------------------------------------------------------------
    def conntrack_timeouts(self) -> dict[str, int]:
        """Per-netns conntrack timeout sysctls of the nat namespace, keyed without the ``nf_conntrack_``
        prefix: ``{"udp_timeout": 30, "udp_timeout_stream": 120, "tcp_timeout_established": 432000, ...}``."""
        res = self.exec(
            "nat", "sh", "-c", "grep -H . /proc/sys/net/netfilter/nf_conntrack_*timeout*", check=False
        )
        out = {}
        for line in res.stdout.splitlines():
            path, _, value = line.partition(":")
            name = path.rsplit("/", 1)[-1].removeprefix("nf_conntrack_")
            if value.strip().isdigit():
                out[name] = int(value)
        if not out:
            raise HarnessError(f"no conntrack timeout sysctls in {self.nat}: {res.stderr.strip()}")
        return out

    def set_conntrack_timeout(self, name: str, seconds: int) -> int:
        """Set ``net.netfilter.nf_conntrack_<name>`` in the nat namespace; returns the value read back."""
        return int(self.sysctl("nat", f"net.netfilter.nf_conntrack_{name}", seconds))

    def conntrack(self, *args: str, check: bool = True) -> str:
        """Run ``conntrack ARGS`` in the nat namespace, return stdout."""
        return self.exec("nat", "conntrack", *args, check=check).stdout

    def conntrack_entries(self, proto: str | None = None) -> list[str]:
        """Lines of ``conntrack -L`` (optionally ``-p proto``) in the nat namespace."""
        args = ["-L"] + (["-p", proto] if proto else [])
        return [ln for ln in self.conntrack(*args).splitlines() if ln.strip()]

    def conntrack_flush(self) -> None:
        self.conntrack("-F", check=False)  # rc 1 only when conntrack is not initialised in this netns

    # -- traffic ---------------------------------------------------------------------------------------------
    def listen(self, proto: str, addr: str, port: int, *, ns: str | None = None, **kw) -> Listener:
        """Start a probe listener on ``addr:port`` in the namespace owning ``addr`` (or ``ns``)."""
        return Listener(self, ns or self.ns_for(addr), proto, addr, port, **kw)

    def send(
        self,
        proto: str,
        dst_ip: str,
        dst_port: int,
        payload: bytes = b"",
        *,
        src_port: int = 0,
        tos: int = 0,
        src_ns: str = "client",
        src_ip: str = "0.0.0.0",
        timeout: float = 2.0,
        sniff_if: str | None = "eth0",
    ) -> dict:
        """Run the probe sender in ``src_ns``; returns its JSON (reply_hex, reply_tos, error, local...)."""
        cmd = [
            sys.executable,
            "-I",
            "-S",
            str(PROBE),
            "send",
            "--proto",
            proto,
            "--src",
            src_ip,
            "--sport",
            str(src_port),
            "--dst",
            dst_ip,
            "--dport",
            str(dst_port),
            "--tos",
            str(tos),
            "--payload-hex",
            payload.hex(),
            "--timeout",
            str(timeout),
        ]
        if sniff_if:
            cmd += ["--sniff-if", sniff_if]
        res = self.exec(src_ns, *cmd, timeout=timeout + 10)
        return json.loads(res.stdout.strip().splitlines()[-1])

    def exchange(
        self,
        proto: str,
        src_port: int,
        dst_ip: str,
        dst_port: int,
        payload: bytes,
        *,
        tos: int = 0,
        timeout: float = 2.0,
        src_ns: str = "client",
    ) -> Observation:
        """One request/reply: listener on dst_ip:dst_port, client sends from src_port with TOS ``tos``."""
        with self.listen(
            proto,
            dst_ip,
            dst_port,
            count=1,
            timeout=timeout + 3,
            expect_bytes=len(payload) if proto == "tcp" else 0,
        ) as listener:
            sent = self.send(
                proto, dst_ip, dst_port, payload, src_port=src_port, tos=tos, timeout=timeout, src_ns=src_ns
            )
            heard = listener.result()
        return _observation(proto, sent, heard, listener.reply_prefix + payload)


def _observation(proto: str, sent: dict, heard: dict, expected_reply: bytes) -> Observation:
    records, segments = heard["records"], heard.get("segments") or []
    rec = records[0] if records else None
    src_ip = src_port = tos = None
    tos_values: tuple[int, ...] = ()
    if rec is not None:
        src_ip, src_port = rec["peer"][0], rec["peer"][1]
    elif segments:
        src_ip, src_port = segments[0]["src"], segments[0]["sport"]
    if proto == "udp":
        if rec is not None:
            tos = rec["tos"]
            tos_values = (tos,) if tos is not None else ()
    elif src_ip is not None:
        flow = [s for s in segments if s["src"] == src_ip and s["sport"] == src_port]
        data = [s for s in flow if s["len"] > 0]
        first = data[0] if data else (flow[0] if flow else None)
        tos = first["tos"] if first else None
        tos_values = tuple(sorted({s["tos"] for s in flow}))
    reply = bytes.fromhex(sent["reply_hex"]) if sent.get("reply_hex") else None
    reply_tos = sent.get("reply_tos")
    if proto == "tcp" and sent.get("reply_segments"):
        data = [s for s in sent["reply_segments"] if s["len"] > 0]
        reply_tos = data[0]["tos"] if data else None
    return Observation(
        proto=proto,
        received=rec is not None or bool(segments),
        src_ip=src_ip,
        src_port=src_port,
        tos=tos,
        tos_values=tos_values,
        payload=bytes.fromhex(rec["payload_hex"]) if rec is not None else None,
        reply_received=reply == expected_reply,
        reply=reply,
        reply_tos=reply_tos,
        reply_error=rec["reply_error"] if rec is not None else None,
        client_error=sent.get("error"),
        listener=heard,
        sender=sent,
    )


def udp_exchange(
    topo: Topology, src_port: int, dst_ip: str, dst_port: int, payload: bytes, tos: int = 0, **kw
) -> Observation:
    return topo.exchange("udp", src_port, dst_ip, dst_port, payload, tos=tos, **kw)


def tcp_exchange(
    topo: Topology, src_port: int, dst_ip: str, dst_port: int, payload: bytes, tos: int = 0, **kw
) -> Observation:
    return topo.exchange("tcp", src_port, dst_ip, dst_port, payload, tos=tos, **kw)


def in_prefixes(ip: str, prefixes: Iterable[str]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(p) for p in prefixes)


MASQUERADE_RULESET = """\
table ip spirit_harness {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
    }
}
"""

__all__ = [
    "PROBE",
    "RUN_PREFIX",
    "MASQUERADE_RULESET",
    "HarnessError",
    "CommandError",
    "NftError",
    "Observation",
    "Listener",
    "Topology",
    "requirements_problem",
    "list_netns",
    "cleanup_stale",
    "udp_exchange",
    "tcp_exchange",
    "in_prefixes",
]
