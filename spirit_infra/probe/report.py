"""The probe's outputs: a terminal table, and a markdown evidence report for Spirit support."""

from __future__ import annotations

from .drift import in_ranges
from .run import FAIL, PASS, ProbeResult

__all__ = ["render_table", "render_markdown"]

_MARK = {PASS: "pass", FAIL: "FAIL", "not tested": "not tested"}


def _addresses(f) -> str:
    parts = []
    for res, rng in f.resolutions:
        if res.error:
            parts.append(f"{res.name}: {res.error}")
            continue
        for a in sorted({t.address for t in res.targets}):
            parts.append(a if rng is None or in_ranges(a, rng) else f"{a} (outside)")
    return ", ".join(dict.fromkeys(parts)) or "-"


def render_table(result: ProbeResult) -> str:
    c = result.counts()
    lines = [f"spirit-infra probe: profile {result.profile} on {result.host} ({result.started}), "
             f"resolver {result.resolver}" + (f", reflector {result.reflector}" if result.reflector else ""),
             ""]
    w = max([len(f.flow) for f in result.flows] + [4])
    lines.append(f"{'FLOW':<{w}}  {'VERDICT':<10}  {'ADDRESSES':<40}  DETAIL")
    for f in result.flows:
        if f.verdict == PASS:
            detail = "; ".join(ch.summary().split(": ok", 1)[0] + " ok" +
                               (f" {ch.rtt_ms:.1f} ms" if ch.rtt_ms is not None else "") for ch in f.checks[:4])
            if len(f.checks) > 4:
                detail += f"; +{len(f.checks) - 4} more"
        else:
            detail = f.reason or ""
        lines.append(f"{f.flow:<{w}}  {_MARK[f.verdict]:<10}  {_addresses(f)[:40]:<40}  {detail}")
    lines.append("")
    lines.append(f"{c[PASS]} passed, {c[FAIL]} failed, {c['not tested']} not tested "
                 f"in {result.seconds:.1f} s; exit {result.exit_code}")
    return "\n".join(lines) + "\n"


def render_markdown(result: ProbeResult) -> str:
    c = result.counts()
    out = [
        f"# spirit-infra probe report: profile `{result.profile}`",
        "",
        f"- host: `{result.host}`",
        f"- time: {result.started}",
        f"- profile: {result.profile}",
        f"- catalogue: `{result.catalogue}`",
        f"- resolver: {result.resolver}",
        f"- reflector: {result.reflector or 'none (media and path checks not tested)'}",
        f"- result: **{c[PASS]} passed, {c[FAIL]} failed, {c['not tested']} not tested** "
        f"(exit {result.exit_code}), {result.seconds:.1f} s",
        "",
        "| flow | application | verdict | reason |",
        "|---|---|---|---|",
    ]
    for f in result.flows:
        reason = (f.reason or "").replace("|", "\\|")
        out.append(f"| {f.flow} | {f.application} | {_MARK[f.verdict]} | {reason} |")
    out += ["", "## Evidence", ""]
    for f in result.flows:
        out += [f"### {f.flow}: {_MARK[f.verdict]}", ""]
        body = []
        for res, rng in f.resolutions:
            body.append(f"dns {res.type} {res.name}" + (f" (ranges {', '.join(rng)})" if rng else ""))
            body += [f"  {e}" for e in res.evidence]
            for t in res.targets:
                verdict = "no range to check" if rng is None else ("in range" if in_ranges(t.address, rng)
                                                                   else "OUTSIDE the ranges")
                body.append(f"  -> {t.address}" + (f" {t.transport}/{t.port}" if t.port else "") + f": {verdict}")
        body += [f"note: {n}" for n in f.notes]
        for ch in f.checks:
            body.append(ch.summary())
            for k in ("rewritten", "seen_as", "port_preserved", "dscp_sent", "dscp_arrived", "summary",
                      "server"):
                if k in ch.detail and ch.detail[k] not in ("", []):
                    body.append(f"  {k}: {ch.detail[k]}")
        if f.reason and f.verdict != PASS:
            body.append(f"{_MARK[f.verdict]}: {f.reason}")
        out += ["```", *body, "```", ""]
    return "\n".join(out)
