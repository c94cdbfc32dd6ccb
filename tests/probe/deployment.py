"""A whole deployment in network namespaces, for the probe: the NAT harness's topology (tests/nat/netns.py)
with real peers on the Spirit and Internet hosts.

    client 10.20.0.10 (the probe runs here)
      -> nat (10.20.0.1: dnsmasq, the "cloud resolver"; the project's QoS NAT ruleset on wan0)
      -> spirit host: SIPp UAS (UDP + TCP 5060) on sip1 103.80.244.10 and sip2 103.80.244.11; a TLS/SIP-TLS/TCP
         peer (peers.py) on every address (443, 8443, 5061, 5222, 1081, 1082); the reflector on
         103.80.247.250:5060 (an address the NAT routes and classifies as Spirit's, so the probe's packets get
         the same treatment as real Spirit traffic)
      -> internet host 198.51.100.20: the ZTP vendors' TLS/HTTP peer (443, 80, 10000) and chronyd (NTP,
         local stratum 8, -x: never touches the clock)

Every process is started by the deployment and killed by ``destroy()`` (also on failure); every packet goes to
a namespace address. Names, addresses and certificates are generated per run in a temporary directory.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.nat.netns import HarnessError, Topology

REPO = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).with_name("peers.py")
SPIRIT_INFRA = [sys.executable, "-m", "spirit_infra"]

RESOLVER = Topology.NAT_LAN_IP
REFLECTOR_IP = "103.80.247.250"
REFLECTOR_PORT = 5060
INTERNET = Topology.INTERNET_IP
SIP1, SIP2 = "103.80.244.10", "103.80.244.11"
XSP, XSP_A4UC, OURDMS, USS, XMPP = "103.80.244.20", "103.80.244.21", "103.80.244.22", "103.80.244.23", "103.80.244.24"
EXTRA_SPIRIT_IPS = (SIP2, XSP, XSP_A4UC, OURDMS, USS, XMPP)

SPIRIT_NAMES = ("phreg.access4.com.au", "phregudp.access4.com.au", "xsi.access4.com.au", "xsp.access4.com.au",
                "xsp.a4uc.com.au", "ourdms.access4.com.au", "uss.a4uc.com.au", "sip1.access4.com.au",
                "sip2.access4.com.au", "xmpp.spirit.com.au", "spirit.com.au")
ZTP_NAMES = ("ztp.sasboss.com.au", "ztp.polycom.com", "rps.yealink.com", "root.pnn.obihai.com", "devpf.obitalk.com")
DOMAINS = ("access4.com.au", "a4uc.com.au", "spirit.com.au", "sasboss.com.au", "polycom.com", "yealink.com",
           "obihai.com", "obitalk.com", "ntp.org")


def chronyd_path() -> str | None:
    """chronyd from the Debian package, extracted by the Makefile (the package itself would start a service
    and replace systemd-timesyncd), or one on PATH."""
    local = REPO / ".venv" / "chrony" / "usr" / "sbin" / "chronyd"
    return str(local) if local.exists() else shutil.which("chronyd")


def requirements_problem() -> str | None:
    missing = [t for t in ("dnsmasq", "sipp", "openssl") if shutil.which(t) is None]
    if chronyd_path() is None:
        missing.append("chronyd")
    if missing:
        return (f"probe tests need {', '.join(missing)} (make debs installs dnsmasq-base, sip-tester, openssl and "
                "extracts chronyd into .venv/chrony)")
    return None


def dnsmasq_config(*, drift: bool = False, naptr_port: int = 5060) -> str:
    """The Spirit names as NAPTR -> SRV -> A chains. ``drift``: ourdms resolves outside the ranges (to the
    Internet host) and xsp.a4uc.com.au does not exist (NXDOMAIN)."""
    lines = ["no-resolv", "no-hosts", "bind-interfaces", f"listen-address={RESOLVER}", "port=53", "user=root",
             "pid-file=", "log-facility=-", *[f"local=/{d}/" for d in DOMAINS]]
    lines += [
        # phreg: TLS first, then TCP, then UDP (RFC 3263 order); phregudp: UDP only
        'naptr-record=phreg.access4.com.au,10,10,"s","SIPS+D2T","",_sips._tcp.phreg.access4.com.au',
        'naptr-record=phreg.access4.com.au,20,10,"s","SIP+D2T","",_sip._tcp.phreg.access4.com.au',
        'naptr-record=phreg.access4.com.au,30,10,"s","SIP+D2U","",_sip._udp.phreg.access4.com.au',
        'naptr-record=phregudp.access4.com.au,10,10,"s","SIP+D2U","",_sip._udp.phregudp.access4.com.au',
        "srv-host=_sips._tcp.phreg.access4.com.au,sip1.access4.com.au,5061,10,60",
        f"srv-host=_sip._tcp.phreg.access4.com.au,sip1.access4.com.au,{naptr_port},10,60",
        f"srv-host=_sip._tcp.phreg.access4.com.au,sip2.access4.com.au,{naptr_port},20,40",
        f"srv-host=_sip._udp.phreg.access4.com.au,sip1.access4.com.au,{naptr_port},10,60",
        f"srv-host=_sip._udp.phreg.access4.com.au,sip2.access4.com.au,{naptr_port},10,40",
        f"srv-host=_sip._udp.phregudp.access4.com.au,sip1.access4.com.au,{naptr_port},10,100",
        "srv-host=_xmpp-client._tcp.spirit.com.au,xmpp.spirit.com.au,5222,0,5",
        f"host-record=sip1.access4.com.au,{SIP1}",
        f"host-record=sip2.access4.com.au,{SIP2}",
        f"host-record=xmpp.spirit.com.au,{XMPP}",
        f"host-record=xsp.access4.com.au,{XSP}",
        "cname=xsi.access4.com.au,xsp.access4.com.au",
        f"host-record=uss.a4uc.com.au,{USS}",
        f"host-record=ourdms.access4.com.au,{INTERNET if drift else OURDMS}",
        *([] if drift else [f"host-record=xsp.a4uc.com.au,{XSP_A4UC}"]),
        *[f"host-record={n},{INTERNET}" for n in (*ZTP_NAMES, "pool.ntp.org")],
    ]
    return "\n".join(lines) + "\n"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d: Path) -> dict[str, tuple[str, str]]:
    """A test CA and three leaf certificates (Spirit names, ZTP names, a wrong name); returns key -> (cert, key)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=spirit-infra probe test CA", "-keyout", "ca.key", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    out = {}
    for key, names in (("spirit", SPIRIT_NAMES), ("ztp", ZTP_NAMES), ("wrong", ("wrong.example.net",))):
        (d / f"{key}.ext").write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n"
                                      "extendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                 f"/CN={names[0]}", "-keyout", f"{key}.key", "-out", f"{key}.csr", cwd=d)
        _openssl("x509", "-req", "-in", f"{key}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{key}.ext", "-out", f"{key}.pem", cwd=d)
        out[key] = (str(d / f"{key}.pem"), str(d / f"{key}.key"))
    return out


class Deployment:
    """Topology + peers. ``with Deployment() as dep: dep.load_nat("phones"); dep.probe("phones", ...)``."""

    def __init__(self):
        self.topo = Topology()
        self.dir = Path(tempfile.mkdtemp(prefix="spirit-probe-"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.certs: dict[str, tuple[str, str]] = {}
        self.ca = str(self.dir / "ca.pem")

    # -- lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> Deployment:
        try:
            self.build()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()

    def build(self) -> None:
        problem = requirements_problem()
        if problem:
            raise HarnessError(problem)
        self.topo.build()
        for ip in EXTRA_SPIRIT_IPS:
            self.topo.exec("spirit", "ip", "addr", "add", f"{ip}/32", "dev", "lo")
        self.certs = make_certs(self.dir)
        self.start_dns()
        for ip in (SIP1, SIP2):
            for t in ("u1", "t1"):
                self._start(f"sipp-{ip}-{t}", "spirit", ["sipp", "-sn", "uas", "-aa", "-i", ip, "-p", "5060", "-t", t,
                                                          "-nostdin"],
                            wait_port=("udp" if t == "u1" else "tcp", ip, 5060))
        self.start_spirit_peers()
        self.start_internet_peers()
        self.start_chrony()

    def destroy(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        try:
            self.topo.destroy()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _start(self, name: str, ns: str, cmd: list[str], *, wait_port=None, ready_line: bool = False,
               stdin: bool = False) -> subprocess.Popen:
        self.stop(name)
        log = open(self.dir / f"{name}.log", "wb")
        proc = subprocess.Popen(["ip", "netns", "exec", self.topo.netns(ns), *cmd], stdout=subprocess.PIPE
                                if ready_line else log, stderr=log, stdin=subprocess.PIPE if stdin else
                                subprocess.DEVNULL, cwd=self.dir)
        log.close()
        self.procs[name] = proc
        if ready_line:
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            line = proc.stdout.readline() if ready else b""
            if not line:
                raise HarnessError(f"{name} did not start: {self.log(name)}")
        if wait_port:
            self.wait_listening(ns, *wait_port, name=name)
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)

    def log(self, name: str) -> str:
        p = self.dir / f"{name}.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""

    def wait_listening(self, ns: str, proto: str, ip: str, port: int, name: str = "", limit: float = 10.0) -> None:
        deadline = time.monotonic() + limit
        flag = "-lnu" if proto == "udp" else "-lnt"
        while time.monotonic() < deadline:
            out = self.topo.exec(ns, "ss", "-H", flag, check=False).stdout
            if any(f"{ip}:{port} " in line or f"0.0.0.0:{port} " in line for line in out.splitlines()):
                return
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
        raise HarnessError(f"{name or 'peer'} not listening on {proto} {ip}:{port} in {ns}: {self.log(name)}")

    # -- peers -------------------------------------------------------------------------------------
    def start_dns(self, **kw) -> None:
        conf = self.dir / "dnsmasq.conf"
        conf.write_text(dnsmasq_config(**kw))
        self._start("dnsmasq", "nat", ["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}"],
                    wait_port=("udp", RESOLVER, 53))

    def start_spirit_peers(self, *, sni: dict[str, str] | None = None, sips_status: str = "200 OK") -> None:
        cfg = {"timeout": 900, "tls": [
            {"addr": "0.0.0.0", "port": p, "default": "spirit", "certs": self.certs, "sni": sni or {}}
            for p in (443, 8443)] + [
            {"addr": "0.0.0.0", "port": 5061, "default": "spirit", "certs": self.certs, "sni": sni or {}, "sip": True,
             "status": sips_status}],
            "tcp": [{"addr": "0.0.0.0", "port": p} for p in (5222, 1081, 1082)]}
        self._start("peers-spirit", "spirit", [sys.executable, "-I", "-S", str(PEERS), json.dumps(cfg)],
                    ready_line=True, stdin=True)

    def start_internet_peers(self) -> None:
        cfg = {"timeout": 900, "tls": [{"addr": INTERNET, "port": 443, "default": "ztp", "certs": self.certs}],
               "tcp": [{"addr": INTERNET, "port": p} for p in (80, 10000)]}
        self._start("peers-internet", "internet", [sys.executable, "-I", "-S", str(PEERS), json.dumps(cfg)],
                    ready_line=True, stdin=True)

    def start_chrony(self) -> None:
        conf = self.dir / "chrony.conf"
        conf.write_text(f"local stratum 8\nallow all\nbindaddress {INTERNET}\nport 123\ncmdport 0\n"
                        f"bindcmdaddress /\npidfile {self.dir}/chronyd.pid\n")
        self._start("chronyd", "internet", [chronyd_path(), "-d", "-x", "-u", "root", "-f", str(conf)],
                    wait_port=("udp", INTERNET, 123))

    def start_reflector(self, token: str, *, duration: float = 300) -> None:
        self._start("reflector", "spirit", [*SPIRIT_INFRA, "probe", "reflect", "--listen",
                                            f"{REFLECTOR_IP}:{REFLECTOR_PORT}", "--token", token, "--duration",
                                            str(duration)], ready_line=True)

    # -- the NAT ------------------------------------------------------------------------------------
    def load_nat(self, profile: str, *, extra: str = "", udp_timeout: int | None = None,
                 extra_flows: str | None = None) -> str:
        """The project's QoS NAT ruleset for ``profile`` (strict) in the nat namespace, FQDN sets filled with the
        Internet host (as the resolver service would), plus ``extra`` nft text (a test's middlebox).
        ``udp_timeout`` (s) replaces the ruleset's UDP conntrack timeout (NatOptions refuses values below its
        5 s keepalive minimum, so shorter ones are edited into the rendered ``ct timeout`` object)."""
        import re

        from spirit_infra import build_profile
        from spirit_infra.nat import NatOptions, render_ruleset
        from spirit_infra.nat.ruleset import TABLE, fqdn_sets
        from spirit_infra.profiles import with_extra_flows

        prof = build_profile(profile, with_extra_flows(None, extra_flows))
        opts = {} if udp_timeout is None else {"udp_timeout": max(udp_timeout, 6), "sip_keepalive_seconds": 5}
        text = render_ruleset(prof, NatOptions(lan_if=Topology.lan_if, wan_if=Topology.wan_if, **opts))
        if udp_timeout is not None:
            text, n = re.subn(r"policy = \{ unreplied : \d+, replied : \d+ \}",
                              f"policy = {{ unreplied : {udp_timeout}, replied : {udp_timeout} }}", text)
            assert n == 1, "the rendered ruleset has no ct timeout policy to edit"
        self.topo.reset()
        self.topo.load_ruleset(text + extra)
        for name in fqdn_sets(prof):
            self.topo.nft("add", "element", "ip", TABLE, name, "{ " + INTERNET + " timeout 1h }")
        return text

    # -- the probe -----------------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        """``spirit-infra ARGS`` in the client namespace (the probe's host): (exit code, stdout, stderr)."""
        res = self.topo.exec("client", *SPIRIT_INFRA, *args, check=False, timeout=timeout)
        return res.returncode, res.stdout, res.stderr

    def probe_faulted(self, profile: str, fault, restore, *args: str) -> tuple[int, dict]:
        """Load the profile's NAT ruleset, apply ``fault()`` to a peer, probe, and always ``restore()``."""
        self.load_nat(profile)
        fault()
        try:
            rc, data, _ = self.probe(profile, *args)
        finally:
            restore()
        return rc, data

    def probe(self, profile: str, *args: str, timeout: float = 120) -> tuple[int, dict, str]:
        rc, out, err = self.run("probe", "--profile", profile, "--resolver", RESOLVER, "--ca-file", self.ca,
                                "--timeout", "2", "--json", *args, timeout=timeout)
        try:
            data = json.loads(out)
        except ValueError as e:
            raise HarnessError(f"probe printed no JSON (rc {rc}): {err.strip() or out[:500]}") from e
        return rc, data, err


def flows_by_id(result: dict) -> dict[str, dict]:
    return {f["flow"]: f for f in result["flows"]}


