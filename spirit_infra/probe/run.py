"""The probe: every flow of a profile, resolved as its client resolves it and checked for real.

Per flow: DNS (each address marked in or out of the flow's server ranges), then the check its transport
and protocol call for, against every address DNS gave. Media has no server without a call: with a
reflector it is tested end to end (DSCP included), without one it is "not tested". Ingress flows are
opened by Spirit, not from inside: "not tested". With a reflector the path itself is checked too (SIP
ALG, NAT mapping, optionally the UDP binding lifetime).
"""

from __future__ import annotations

import concurrent.futures as cf
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import netaddr

from ..catalogue.model import DSCP_VALUES
from ..profiles import Profile, ProfileFlow
from ..settings import SIP_KEEPALIVE
from . import checks as C
from .dns import Resolution, Resolver, Target
from .drift import in_ranges

__all__ = ["ProbeOptions", "FlowResult", "ProbeResult", "run_probe", "PASS", "FAIL", "NOT_TESTED"]

PASS, FAIL, NOT_TESTED = "pass", "fail", "not tested"
MAX_PORTS_PER_RANGE = 4
MAX_HOSTS = 8
TLS_PORTS = (443, 8443)


@dataclass(frozen=True)
class ProbeOptions:
    resolver: tuple[str, int] | None = None
    reflector: tuple[str, int] | None = None
    token: str | None = None
    timeout: float = 3.0
    only: tuple[str, ...] = ()
    cafile: str | None = None
    binding_max: float | None = None
    sip_keepalive: float = float(SIP_KEEPALIVE.default)
    workers: int = 16


@dataclass(frozen=True)
class FlowResult:
    flow: str
    application: str
    direction: str
    verdict: str
    reason: str | None
    resolutions: tuple[tuple[Resolution, tuple[str, ...] | None], ...] = ()
    checks: tuple[C.Check, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "flow": self.flow, "application": self.application, "direction": self.direction,
            "verdict": self.verdict, "reason": self.reason,
            "dns": [dict(r.to_json(), addresses=[{"address": t.address, "in_range": None if rng is None else
                                                  in_ranges(t.address, rng)} for t in r.targets],
                         ranges=None if rng is None else list(rng)) for r, rng in self.resolutions],
            "checks": [c.to_json() for c in self.checks], "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ProbeResult:
    profile: str
    host: str
    started: str
    seconds: float
    resolver: str
    reflector: str | None
    flows: tuple[FlowResult, ...]
    catalogue: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if any(f.verdict == FAIL for f in self.flows) else 0

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, NOT_TESTED: 0}
        for f in self.flows:
            out[f.verdict] += 1
        return out

    def to_json(self) -> dict:
        return {"profile": self.profile, "host": self.host, "started": self.started,
                "seconds": round(self.seconds, 3), "resolver": self.resolver, "reflector": self.reflector,
                "catalogue": self.catalogue, "counts": self.counts(), "exit_code": self.exit_code,
                "flows": [f.to_json() for f in self.flows]}


# ---- planning -----------------------------------------------------------------------------------

def _catalogue_rows(profile: Profile, pf: ProfileFlow):
    """The guideline rows a profile flow comes from, or the customer's own row (an extra flow)."""
    rows = []
    for fid in pf.derived_from:
        try:
            rows.append(profile.catalogue.flow(fid))
        except KeyError:
            pass
    extra = getattr(profile.overrides, "extra_flows", None)
    if not rows and extra is not None:
        rows = [f for f in extra.flows if f.id == pf.id]
    return rows


def _names(profile: Profile, pf: ProfileFlow) -> list[tuple[str, str]]:
    """(name, type) the client resolves for this flow: its FQDN peers, else its catalogue rows' names."""
    rows = _catalogue_rows(profile, pf)
    types = {d.name: d.type for r in rows for d in r.dns}
    if pf.peer_fqdns:
        return [(n, types.get(n, "A/CNAME")) for n in pf.peer_fqdns]
    seen, out = set(), []
    for r in rows:
        for d in r.dns:
            if d.name not in seen:
                seen.add(d.name)
                out.append((d.name, d.type))
    return out


def _protocols(profile: Profile, pf: ProfileFlow) -> set[str]:
    return {p.upper() for r in _catalogue_rows(profile, pf) for p in r.protocols}


def _kind(profile: Profile, pf: ProfileFlow) -> str:
    protos = _protocols(profile, pf)
    if any(p.startswith("RTP") for p in protos):
        return "media"
    if protos & {"SIP", "SIP-TLS"}:
        return "sip"
    if "NTP" in protos:
        return "ntp"
    if "DNS" in protos:
        return "dns"
    return "tcp"


def _dns_query(profile: Profile) -> tuple[str, str]:
    names = [(d.name, d.type) for f in profile.catalogue.flows for d in f.dns]
    first = next((n for n in names if n[1] == "NAPTR"), names[0] if names else (".", "NS"))
    return first[0], "A" if first[1] == "A/CNAME" else first[1]


def _ports(ranges) -> list[int]:
    out = []
    for lo, hi in ranges or ():
        out += list(range(lo, hi + 1)) if hi - lo < MAX_PORTS_PER_RANGE else [lo, hi]
    return out


def _in_ports(port: int, ranges) -> bool:
    return ranges is None or any(lo <= port <= hi for lo, hi in ranges)


def _ports_text(ranges) -> str:
    return ", ".join(f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in ranges or ())


@dataclass
class _Job:
    """One flow's planned checks (callables), filled after DNS."""

    pf: ProfileFlow
    protos: set[str] = field(default_factory=set)
    #: what a DNS flow's resolver is asked: the catalogue's first SIP (NAPTR) name, as a phone would
    query: tuple[str, str] = (".", "NS")
    resolutions: list = field(default_factory=list)
    calls: list[Callable[[], C.Check]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_tested: str | None = None


def _dscp(pf: ProfileFlow) -> int:
    return DSCP_VALUES.get(pf.dscp, 0)


def _plan(profile: Profile, pf: ProfileFlow, opts: ProbeOptions, resolve) -> _Job:
    job = _Job(pf, _protocols(profile, pf), _dns_query(profile))
    kind = _kind(profile, pf)
    tos = C.tos_of(_dscp(pf))
    if pf.direction == "ingress":
        job.not_tested = ("ingress: Spirit opens these connections to this host; a probe from inside cannot "
                          "open them (ask Spirit support to test towards the SBC)")
        return job
    if kind == "media":
        if opts.reflector is None or opts.token is None:
            job.not_tested = ("media has no server to talk to without a call; run `spirit-infra probe reflect` "
                              "on a host of yours outside the NAT and pass --reflector/--token")
            return job
        job.notes.append(f"media sent to the reflector {opts.reflector[0]}:{opts.reflector[1]} from the flow's "
                         f"client ports {_ports_text(pf.src_ports) or 'any'} with DSCP {pf.dscp}")
        from .path import media_check

        job.calls.append(lambda: media_check(opts.reflector, opts.token, dscp=_dscp(pf), src_ranges=pf.src_ports,
                                             timeout=opts.timeout))
        return job
    if kind == "tcp" and "tcp" not in pf.transports:
        job.not_tested = (f"{'/'.join(pf.transports).upper()} without a protocol the probe speaks (it checks SIP, "
                          "NTP and media over UDP)")
        return job
    names = _names(profile, pf)
    ranges = tuple(pf.peer_cidrs) if pf.peer_cidrs else None
    if not names:
        hosts = [str(c.ip) for c in map(netaddr.IPNetwork, pf.peer_cidrs) if c.prefixlen == 32][:MAX_HOSTS]
        if not hosts:
            job.not_tested = "no DNS name and no single address among the destinations to connect to"
            return job
        job.notes.append(f"no DNS name: the flow's destination addresses are checked ({', '.join(hosts)})")
        for a in hosts:
            _plan_target(job, kind, pf, Target("", a, a, None, None, ("address from the flow's destinations",)),
                         opts, tos)
        return job
    for name, rtype in names:
        res: Resolution = resolve(name, rtype)
        job.resolutions.append((res, ranges))
        if res.error:
            job.failures.append(f"{res.error}: {name}")
            continue
        for p in res.problems:
            job.notes.append(f"DNS: {p}")
        if ranges is not None:
            outside = sorted({t.address for t in res.targets if not in_ranges(t.address, ranges)})
            if outside:
                job.failures.append(f"resolved outside the ranges: {name} -> {', '.join(outside)} "
                                    f"(ranges {', '.join(ranges)})")
        for t in res.targets:
            _plan_target(job, kind, pf, t, opts, tos)
    return job


def _plan_target(job: _Job, kind: str, pf: ProfileFlow, t: Target, opts: ProbeOptions, tos: int) -> None:
    to, ca = opts.timeout, opts.cafile
    if kind == "sip":
        transport = t.transport or "udp"
        carried = "udp" if transport == "udp" else "tcp"
        if carried not in pf.transports:
            job.notes.append(f"{t.name}: {transport.upper()} target {t.address}:{t.port} is not carried by this "
                             f"flow ({'/'.join(pf.transports)})")
            return
        port = t.port or (5061 if transport == "tls" else 5060)
        if not _in_ports(port, pf.dst_ports):
            job.failures.append(f"{t.name}: DNS gives port {port} ({transport}), outside the flow's ports "
                                f"{_ports_text(pf.dst_ports)}")
            return
        job.calls.append(lambda: C.sip_options(transport, t.name, t.address, port, timeout=to,
                                               src_ranges=pf.src_ports, tos=tos, cafile=ca))
        return
    if kind == "dns":
        for port in _ports(pf.dst_ports) or [53]:
            for transport in pf.transports:
                job.calls.append(lambda port=port, transport=transport: C.dns_query(
                    t.address, port, transport, name=t.name, timeout=to, src_ranges=pf.src_ports,
                    qname=job.query[0], qtype=job.query[1]))
        return
    if kind == "ntp":
        for port in _ports(pf.dst_ports) or [123]:
            job.calls.append(lambda port=port: C.ntp_query(t.address, port, name=t.name, timeout=to,
                                                           src_ranges=pf.src_ports, tos=tos))
        return
    protos = job.protos
    ports = [t.port] if t.port else _ports(pf.dst_ports)
    if t.port and not _in_ports(t.port, pf.dst_ports):
        job.failures.append(f"{t.name}: DNS gives port {t.port}, outside the flow's ports {_ports_text(pf.dst_ports)}")
        return
    for port in ports:
        if port in TLS_PORTS and protos & {"HTTPS", "XSI"} and t.name:
            job.calls.append(lambda port=port: C.tls_handshake(t.address, port, t.name, timeout=to, cafile=ca,
                                                               src_ranges=pf.src_ports, tos=tos))
        else:
            job.calls.append(lambda port=port: C.tcp_connect(t.address, port, name=t.name, timeout=to,
                                                             src_ranges=pf.src_ports, tos=tos))


def _path_jobs(profile: Profile, opts: ProbeOptions) -> list[_Job]:
    """The reflector's path checks, as pseudo-flows: SIP ALG + mapping, and the binding lifetime."""
    from .path import binding_delays, binding_lifetime, sip_alg_check

    if opts.reflector is None or opts.token is None:
        return []
    sip = next((f for f in profile.flows if f.direction == "egress" and _kind(profile, f) == "sip"
                and "udp" in f.transports), None)
    jobs = []
    if sip is not None:
        job = _Job(ProfileFlow("path-sip-alg", "egress", "SIP ALG / NAT mapping (via reflector)", ("udp",),
                               sip.dscp, sip.src_ports, (), (), None, (sip.id,)))
        host = next((n for n, _ in _names(profile, sip)), "spirit.example")
        job.notes.append(f"SIP OPTIONS as {sip.id} sends it (client ports {_ports_text(sip.src_ports) or 'any'}, "
                         f"DSCP {sip.dscp}); the reflector echoes it byte for byte")
        job.calls.append(lambda: sip_alg_check(opts.reflector, opts.token, host, src_ranges=sip.src_ports,
                                               dscp=_dscp(sip), timeout=opts.timeout))
        jobs.append(job)
    job = _Job(ProfileFlow("path-udp-binding", "egress", "NAT UDP binding lifetime (via reflector)", ("udp",),
                           "0", None, (), (), None, ()))
    if not opts.binding_max:
        job.not_tested = "binding lifetime not measured (give --binding-max SECONDS, e.g. twice the SIP keepalive)"
    else:
        need = len(binding_delays(opts.binding_max))
        udp = [f for f in profile.flows if f.direction == "egress" and "udp" in f.transports
               and _kind(profile, f) in ("sip", "media")]
        src = next((f for f in udp if f.src_ports is None or sum(h - lo + 1 for lo, h in f.src_ports) >= need + 8),
                   None)
        ranges = src.src_ports if src is not None else None
        job.notes.append(f"{need} bindings opened in parallel from client ports of "
                         f"{src.id if src else 'the OS'} ({_ports_text(ranges) or 'any'}), answers asked after "
                         f"1-{opts.binding_max:g} s of silence")
        job.calls.append(lambda: binding_lifetime(opts.reflector, opts.token, maximum=opts.binding_max,
                                                  keepalive=opts.sip_keepalive, src_ranges=ranges,
                                                  timeout=opts.timeout).check)
    jobs.append(job)
    return jobs


def _verdict(job: _Job, results: list[C.Check]) -> tuple[str, str | None]:
    if job.not_tested:
        return NOT_TESTED, job.not_tested
    reasons = list(job.failures)
    reasons += [f"{c.kind} {c.target}{' (' + c.name + ')' if c.name else ''}: {c.reason}" for c in results
                if not c.ok]
    if reasons:
        return FAIL, "; ".join(reasons)
    if not results:
        return NOT_TESTED, "DNS gave no address this flow's transports carry"
    return PASS, None


def _guarded(call: Callable[[], C.Check]) -> C.Check:
    """A check that raised (a bug, an OS surprise) is a failed check with the error, not a traceback."""
    try:
        return call()
    except Exception as e:  # noqa: BLE001 - reported as the check's failure reason
        return C.Check("error", "", "-", 0, False, f"probe error: {type(e).__name__}: {e}")


def run_probe(profile: Profile, opts: ProbeOptions, progress: Callable[[int, int, str], None] | None = None,
              resolver: Resolver | None = None) -> ProbeResult:
    t_start = time.monotonic()
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    resolver = resolver or Resolver(opts.resolver, timeout=opts.timeout)
    cache: dict[tuple[str, str], Resolution] = {}

    def resolve(name: str, rtype: str) -> Resolution:
        if (name, rtype) not in cache:
            cache[(name, rtype)] = resolver.resolve(name, rtype)
        return cache[(name, rtype)]

    flows = [f for f in profile.flows if not opts.only or f.id in opts.only]
    jobs = []
    for pf in flows:
        jobs.append(_plan(profile, pf, opts, resolve))
    if not opts.only or any(o.startswith("path-") for o in opts.only):
        jobs += [j for j in _path_jobs(profile, opts) if not opts.only or j.pf.id in opts.only]
    total = len(jobs)
    done = 0
    out: list[FlowResult] = []
    with cf.ThreadPoolExecutor(max_workers=opts.workers) as pool:
        futures = {j.pf.id: [pool.submit(_guarded, c) for c in j.calls] for j in jobs}
        for j in jobs:
            t0 = time.monotonic()
            results = [f.result() for f in futures[j.pf.id]]
            verdict, reason = _verdict(j, results)
            out.append(FlowResult(j.pf.id, j.pf.application, j.pf.direction, verdict, reason,
                                  tuple(j.resolutions), tuple(results), tuple(j.notes), time.monotonic() - t0))
            done += 1
            if progress:
                progress(done, total, j.pf.id)
    return ProbeResult(profile.name, socket.gethostname(), started, time.monotonic() - t_start, resolver.server,
                       None if opts.reflector is None else f"{opts.reflector[0]}:{opts.reflector[1]}",
                       tuple(out), profile.catalogue.path)
