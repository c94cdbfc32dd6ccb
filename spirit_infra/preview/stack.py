"""Offline preview: run the project's own program under Pulumi's mock runtime, record the resource graph,
and judge it with the same readers the policy pack uses. No Pulumi CLI, no credentials.

The JSON form is a stable contract::

    {"stack", "resources": [{"urn", "type", "name", "parent", "inputs"}], "outputs": {...},
     "exact": true|false, "widened": [...], "layers": [...], "assumptions": [...], "warnings": [...]}

``inputs`` is exactly what the program registered; the output is byte-identical across runs.
"""

from __future__ import annotations

import json
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SpiritError
from ..profiles import Profile, build_profile
from ..stackconfig import StackConfig, load_stack_file
from ..text import Node, table, tree
from ..verdict import LayerVerdict

__all__ = ["ProgramError", "PreviewResult", "find_project", "stack_names", "load_stack", "preview_stack", "render_text"]


class ProgramError(SpiritError):
    """The program stopped with :class:`pulumi.RunError` (its own one-line error); the CLI exits 2."""


def find_project(start: Path | None = None, *, explicit: bool = False) -> Path:
    """The directory holding Pulumi.yaml and __main__.py: the cwd or a parent, else this checkout.

    With ``explicit`` (``--project DIR``), DIR itself must be the project: no search, no fallback.
    """
    if explicit and start is not None:
        d = start.resolve()
        if not d.is_dir():
            raise ConfigError(f"{str(start)!r} is not a directory", field="--project")
        missing = [f for f in ("Pulumi.yaml", "__main__.py") if not (d / f).is_file()]
        if missing:
            raise ConfigError(f"{str(start)!r} is not a Pulumi project (no {' or '.join(missing)})",
                              field="--project")
        return d
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "Pulumi.yaml").is_file() and (d / "__main__.py").is_file():
            return d
    pkg_root = Path(__file__).resolve().parent.parent
    if (pkg_root / "Pulumi.yaml").is_file():
        return pkg_root
    raise ConfigError("no Pulumi.yaml with a __main__.py here or above; run from the project", field="project")


def _project_file(project: Path) -> dict:
    from ..yamlsrc import load_yaml

    doc = load_yaml(project / "Pulumi.yaml", ConfigError)
    if not isinstance(doc.data, dict):
        raise doc.error(ConfigError, (), "a Pulumi.yaml is a mapping")
    return doc.data


def stack_names(project: Path) -> list[str]:
    d = project / _project_file(project).get("stackConfigDir", ".")
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in d.glob("Pulumi.*.yaml"))


def _project_defaults(project: Path) -> dict[str, Any]:
    out = {}
    for k, v in (_project_file(project).get("config") or {}).items():
        out[k] = v["value"] if isinstance(v, dict) and "value" in v else v
    return out


def load_stack(project: Path, stack: str | None = None, config_file: str | None = None
               ) -> tuple[str, StackConfig, dict[str, Any]]:
    """Validated config and the merged raw config (project defaults, then the stack file)."""
    if config_file:
        path = Path(config_file)
        name = path.name[len("Pulumi."):-len(".yaml")] if path.name.startswith("Pulumi.") else path.stem
    else:
        path = project / _project_file(project).get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
        name = stack or ""
        if not path.is_file():
            known = ", ".join(stack_names(project)) or "none"
            raise ConfigError(f"no stack {stack!r} (known: {known})", field="--stack")
    cfg, raw = load_stack_file(path, project)
    merged = {**_project_defaults(project), **raw}
    return name, cfg, merged


def _pulumi_config(merged: dict[str, Any]) -> dict[str, str]:
    """Pulumi hands programs strings; objects and lists travel as JSON."""
    out = {}
    for k, v in merged.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, bool):
            out[k] = "true" if v else "false"
        else:
            out[k] = json.dumps(v, sort_keys=True)
    return out


@dataclass
class PreviewResult:
    stack: str
    config: StackConfig
    profile: Profile
    resources: list[dict]
    outputs: dict
    layers: list[LayerVerdict]
    warnings: list[str]

    @property
    def exact(self) -> bool:
        return bool(self.layers) and all(v.exact for v in self.layers)

    @property
    def widened(self) -> list[dict]:
        seen, out = set(), []
        for v in self.layers:
            for w in v.widened:
                if w not in seen:
                    seen.add(w)
                    out.append(w.to_json())
        return sorted(out, key=lambda d: (d["target"], d["flow"], d["dimension"]))

    def to_dict(self) -> dict:
        return {
            "stack": self.stack,
            "resources": self.resources,
            "outputs": self.outputs,
            "exact": self.exact,
            "widened": self.widened,
            "layers": [v.to_json() for v in self.layers],
            "assumptions": [{"id": a.id, "text": a.text} for a in self.profile.assumptions],
            "warnings": self.warnings,
            # what the customer added (spirit:extraFlows), apart from Spirit's flows
            "customer_flows": [f.to_json() for f in self.profile.customer_flows],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def _verify(cfg: StackConfig, profile: Profile, resources: list[dict]) -> list[LayerVerdict]:
    from ..registry import cloud

    return list(cloud(cfg.cloud).load("verify").verify(resources, profile, cfg))


def preview_stack(project: Path, name: str, cfg: StackConfig, merged: dict[str, Any]) -> PreviewResult:
    """Run ``__main__.py`` under the mock runtime and judge what it registered."""
    from pulumi import RunError

    from .. import program
    from .engine import run

    main = project / "__main__.py"
    sys_path_added = str(project) not in sys.path
    if sys_path_added:
        sys.path.insert(0, str(project))
    program.STACK_FILE.append(Path(cfg.file))  # the program's late errors name the file this config came from
    try:
        rec = run(lambda: runpy.run_path(str(main), run_name="__main__"), project="spirit-infra", stack=name,
                  config=_pulumi_config(merged), root_directory=str(project))
    except RunError as e:  # the program's own one-line refusal (spirit_infra.program.main)
        if isinstance(e.__cause__, SpiritError):
            raise e.__cause__ from None
        raise ProgramError(f"{main}: {e}") from None
    finally:
        program.STACK_FILE.pop()
        if sys_path_added:
            sys.path.remove(str(project))
    resources = [{"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs}
                 for r in rec.resources]
    profile = build_profile(cfg.profile, cfg.overrides)
    layers = _verify(cfg, profile, [dict(r, id=getattr(x, "id", None)) for r, x in zip(resources, rec.resources,
                                                                                    strict=True)])
    warnings = rec.outputs.get("warnings", []) if isinstance(rec.outputs.get("warnings"), list) else []
    return PreviewResult(name, cfg, profile, resources, rec.outputs, layers, sorted(set(map(str, warnings))))


# ---- terminal rendering ----------------------------------------------------------------------------

def _tree(resources: list[dict]) -> list[Node]:
    """The resources as a tree: components above their children, siblings by type then name."""
    children: dict[str | None, list[dict]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        children.setdefault(r["parent"] if r["parent"] in urns else None, []).append(r)

    def nodes(parent: str | None) -> list[Node]:
        return [(f"{r['type']}  {r['name']}", nodes(r["urn"]))
                for r in sorted(children.get(parent, []), key=lambda r: (r["type"], r["name"]))]

    return nodes(None)


def render_text(res: PreviewResult) -> str:
    out = [f"Previewing stack {res.stack!r} offline (mock runtime): cloud {res.config.cloud}, "
           f"profile {res.config.profile}, nat {res.config.nat}, strict {str(res.config.strict).lower()}", ""]
    out += tree(f"Resources ({len(res.resources)}):", _tree(res.resources)).splitlines()
    customer = {f.id: f.provenance for f in res.profile.customer_flows}
    if customer:
        out += ["", "Customer flows (spirit:extraFlows; not Spirit's, marked + below):"]
        out += [f"  + {fid}: {origin}" for fid, origin in customer.items()]
    for v in res.layers:
        out += ["", f"Rules: {v.layer}"]
        rows = [(("+" if t.flow in customer else "") + (t.flow or "-"), t.direction, t.transport, str(t.peer),
                 str(t.src_ports), str(t.dst_ports)) for t in v.actual.terms]
        out += table(("flow", "dir", "proto", "peer", "sport", "dport"), rows).splitlines()
    out += ["", "Outputs (placeholders where the cloud assigns the value: ids '<name>-id', account 123456789012, "
            "public addresses from 203.0.113.0/24, '<computed>'; not real addresses to allowlist):"]
    for k in sorted(res.outputs):
        out.append(f"  {k}: {json.dumps(res.outputs[k], sort_keys=True)}")
    out += ["", "Widening (what a layer cannot express, named):"]
    out += [f"  {w['target']}: {w['flow']}: {w['dimension']} {w['before']} -> {w['after']}" for w in res.widened] \
        or ["  none"]
    if res.warnings:
        out += ["", "Warnings:"] + [f"  ! {w}" for w in res.warnings]
    out += ["", "Assumptions:"] + [f"  ! {a.id}: {a.text}" for a in res.profile.assumptions]
    out += ["", "Exactness (reader on the registered resources vs the profile's projected allowed set):"]
    for v in res.layers:
        out.append(f"  {'exact' if v.exact else 'NOT EXACT'}: {v.layer}")
        if not v.exact:
            out += [f"    missing: {t}" for t in v.missing.terms] + [f"    extra:   {t}" for t in v.extra.terms]
    out.append(f"  verdict: {'exact' if res.exact else 'NOT EXACT'}")
    return "\n".join(out) + "\n"
