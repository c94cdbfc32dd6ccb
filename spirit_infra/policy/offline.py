"""Run a policy pack on an offline preview, as ``pulumi preview --policy-pack DIR`` would.

The pack is started like the CLI starts it (:class:`~spirit_infra.policy.runner.PolicyPackServer`), sent the
policy config derived from the stack (profile, keepalive, extra Spirit CIDRs, ZTP vendors dropped, SBC
ports: only the keys each policy's schema declares), then ``Analyze`` per resource and ``AnalyzeStack``
on all. Property dependencies are rebuilt from the recorded inputs: a top-level input whose value is
another resource's physical id (the mock runtime's ``<name>-id`` unless the preview recorded an ``id``) or
URN depends on that resource, as the engine would report it. The returned violations' ``message`` is the
policy's own message on one line (without the policy description the wire message starts with).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .runner import PolicyPackServer, Violation

__all__ = ["PackRun", "run_pack", "run_pack_report", "pack_config", "property_dependencies", "stack_config"]


def pack_config(cfg, info: dict | None = None) -> dict[str, dict[str, Any]]:
    """Policy config for a :class:`~spirit_infra.stackconfig.StackConfig` (only keys a policy declares)."""
    from .spec import POLICIES

    ov = cfg.overrides
    values = {
        "profile": cfg.profile,
        "sipKeepaliveSeconds": int(cfg.sip_keepalive_seconds),
        "extraSpiritCidrs": list(ov.extra_spirit_cidrs),
        "ztpVendorsDrop": list(ov.ztp_vendors_drop),
        "sbcSipPorts": ",".join(f"{a}-{b}" for a, b in ov.sbc.sip),
        "sbcMediaPorts": ",".join(f"{a}-{b}" for a, b in ov.sbc.media),
        **({"extraFlows": _extra_file(ov)} if ov.extra_flows is not None else {}),
    }
    declared = {p.name: set(p.properties) for p in POLICIES}
    if info is not None:
        declared = {p["name"]: set((p.get("config_schema") or {}).get("properties") or {}) for p in info["policies"]}
    out = {}
    for name, keys in declared.items():
        props = {k: v for k, v in values.items() if k in keys}
        if props:
            out[name] = props
    return out


def _extra_file(ov) -> str:
    return str(Path(ov.extra_flows.file or ov.extra_flows.path).resolve())


def stack_config(cfg) -> dict[str, str]:
    """``PULUMI_CONFIG`` for the pack: the stack's spirit:* values the pack reads, as strings."""
    import json

    ov = cfg.overrides
    return {
        "spirit:profile": cfg.profile,
        "spirit:sipKeepaliveSeconds": str(cfg.sip_keepalive_seconds),
        "spirit:sbcSipPorts": ",".join(f"{a}-{b}" for a, b in ov.sbc.sip),
        "spirit:sbcMediaPorts": ",".join(f"{a}-{b}" for a, b in ov.sbc.media),
        "spirit:overrides": json.dumps({"extra_spirit_cidrs": list(ov.extra_spirit_cidrs),
                                        "ztp_vendors_drop": list(ov.ztp_vendors_drop)}, sort_keys=True),
        **({"spirit:extraFlows": _extra_file(ov)} if ov.extra_flows is not None else {}),
    }


def property_dependencies(resources: list[dict]) -> dict[str, dict[str, list[str]]]:
    """urn -> {input: [urns it references]} from id/URN values of top-level inputs."""
    ids: dict[str, str] = {}
    for r in resources:
        ids[f"{r['name']}-id"] = r["urn"]
        if r.get("id"):
            ids[str(r["id"])] = r["urn"]
        ids[r["urn"]] = r["urn"]
    out: dict[str, dict[str, list[str]]] = {}
    for r in resources:
        deps: dict[str, list[str]] = {}
        for key, value in (r.get("inputs") or {}).items():
            values = value if isinstance(value, list) else [value]
            urns = sorted({ids[v] for v in values if isinstance(v, str) and v in ids and ids[v] != r["urn"]})
            if urns:
                deps[key] = urns
        out[r["urn"]] = deps
    return out


def _analyzable(resources: list[dict]) -> list[dict]:
    deps = property_dependencies(resources)
    out = []
    for r in resources:
        item = {"type": r["type"], "name": r["name"], "urn": r["urn"], "properties": r.get("inputs") or {}}
        if r.get("parent"):
            item["parent"] = r["parent"]
        if deps.get(r["urn"]):
            item["propertyDependencies"] = deps[r["urn"]]
            item["dependencies"] = sorted({u for us in deps[r["urn"]].values() for u in us})
        out.append(item)
    return out


def run_resources(pack: PolicyPackServer, resources: list[dict]) -> list[Violation]:
    """Analyze each resource, then AnalyzeStack on all (resources as in the preview JSON)."""
    items = _analyzable(resources)
    violations: list[Violation] = []
    for it in items:
        one = {k: it[k] for k in ("type", "name", "urn", "properties")}
        if it.get("parent"):
            one["options"] = {"parent": it["parent"]}
        violations.extend(pack.analyze(one))
    violations.extend(pack.analyze_stack(items))
    return violations


@dataclasses.dataclass(frozen=True)
class PackRun:
    """One pack run on one stack: what was checked (policies at their configured level, resources) and
    what it found. ``passed`` is what ``pulumi preview --policy-pack`` means: no mandatory violation."""

    pack: str
    version: str
    stack: str
    #: (policy name, enforcement level as configured for this stack), in the pack's order
    policies: tuple[tuple[str, str], ...]
    resources: int
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not any(v.enforcement_level == "mandatory" for v in self.violations)

    def summary(self) -> str:
        """One line: passed or FAILED, on which stack, how many resources, which policies at which level."""
        levels: dict[str, list[str]] = {}
        for name, level in self.policies:
            levels.setdefault(level, []).append(name)
        checked = "; ".join(f"{level} {', '.join(names)}" for level, names in sorted(levels.items()))
        counts: dict[str, int] = {}
        for v in self.violations:
            counts[v.enforcement_level] = counts.get(v.enforcement_level, 0) + 1
        found = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "none"
        enforced = sum(level != "disabled" for _, level in self.policies)
        verdict = "passed" if self.passed else "FAILED"
        return (f"policy pack {self.pack} {self.version}: {verdict} on stack {self.stack}: {enforced} policies "
                f"checked {self.resources} resources and the stack; violations: {found}; policies: {checked}")


def run_pack_report(pack_dir: str | Path, preview_result) -> PackRun:
    """Start the pack in ``pack_dir``, configure it for the preview's stack, analyse every resource."""
    cfg = preview_result.config
    with PolicyPackServer(pack_dir, config=pack_config(cfg), stack_config=stack_config(cfg),
                          project="spirit-infra", stack=preview_result.stack) as pack:
        violations = run_resources(pack, preview_result.resources)
        info = pack.info()
        applied = pack.applied_config or {}
    policies = tuple((p["name"], (applied.get(p["name"]) or {}).get("enforcementLevel") or p["enforcement_level"])
                     for p in info["policies"])
    # one line per violation: the pack sends "<policy description>\n<message>"; the CLI names the policy already
    return PackRun(pack=info["name"], version=info["version"], stack=preview_result.stack, policies=policies,
                   resources=len(preview_result.resources),
                   violations=tuple(dataclasses.replace(v, message=v.message.split("\n", 1)[-1].replace("\n", " "))
                                    for v in violations))


def run_pack(pack_dir: str | Path, preview_result) -> list[Violation]:
    """The violations of :func:`run_pack_report` (one-line messages)."""
    return list(run_pack_report(pack_dir, preview_result).violations)
