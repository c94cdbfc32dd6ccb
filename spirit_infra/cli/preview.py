"""``spirit-infra preview``: the offline preview of one stack, a config file, or every stack."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from .console import Progress

__all__ = ["register"]


def register(sub, common) -> None:
    p = sub.add_parser("preview", parents=[common], help="offline preview of a stack under the mock runtime")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--stack", metavar="NAME", help="a stack in stacks/ (e.g. aws-sbc)")
    g.add_argument("--config", metavar="FILE", help="a stack config file (Pulumi.<stack>.yaml)")
    g.add_argument("--all", action="store_true", help="preview every stack in stacks/")
    p.add_argument("--json", action="store_true", help="the stable JSON contract instead of text")
    p.add_argument("--policy-pack", metavar="DIR", help="run this policy pack on the preview, as "
                   "`pulumi preview --policy-pack` would; violations exit non-zero")
    p.add_argument("--against", metavar="PREVIOUS.json", help="compare with a previous `preview --json`: list "
                   "the resources added, removed, renamed and changed (with the changed inputs); exits 0")
    p.add_argument("--project", metavar="DIR", help="project directory (default: the one holding Pulumi.yaml)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..preview import find_project, load_stack, preview_stack, render_text, stack_names

    if args.catalogue:
        raise ConfigError("preview reads the catalogue from the stack's spirit:overrides.catalogue",
                          field="--catalogue")
    project = find_project(Path(args.project), explicit=True) if args.project else find_project()
    if args.against and args.all:
        raise ConfigError("compares one stack: use it with --stack or --config, not --all", field="--against")
    if args.against and args.policy_pack:
        raise ConfigError("lists changes only: run --policy-pack without --against", field="--against")
    previous = None
    if args.against:
        from ..changes import load_previous

        previous = load_previous(args.against)  # before the preview: a bad file costs nothing
    if args.all:
        names = stack_names(project)
        results = []
        with Progress(len(names), "preview") as progress:  # a bar on a terminal, plain lines in a CI log
            for i, name in enumerate(names):
                progress.step(i, name)
                n, cfg, merged = load_stack(project, name)
                results.append(preview_stack(project, n, cfg, merged))
            progress.step(len(names), "done")
        if args.json:
            import json

            sys.stdout.write(json.dumps([r.to_dict() for r in results], indent=2, sort_keys=True) + "\n")
        else:
            for r in results:
                sys.stdout.write(f"{r.stack:<24} {len(r.resources):>4} resources  "
                                 f"{'exact' if r.exact else 'NOT EXACT'}  widened {len(r.widened)}\n")
        rc = 0 if all(r.exact for r in results) else 1
        if args.policy_pack:
            rc = max(rc, *(_policy(args.policy_pack, r) for r in results))
        return rc
    name, cfg, merged = load_stack(project, args.stack, args.config)
    result = preview_stack(project, name, cfg, merged)
    if previous is not None:
        import json

        from ..changes import diff, render_diff

        d = diff(previous["resources"], result.resources)
        if args.json:
            sys.stdout.write(json.dumps({"stack": name, "against": args.against,
                                         "previous_stack": previous.get("stack"), **d.to_json()},
                                        indent=2, sort_keys=True) + "\n")
        else:
            sys.stdout.write(render_diff(d, name, args.against, previous.get("stack")))
        return 0
    sys.stdout.write(result.to_json() if args.json else render_text(result))
    rc = 0 if result.exact else 1
    if args.policy_pack:
        rc = max(rc, _policy(args.policy_pack, result))
    return rc


def _policy(pack: str, result) -> int:
    """One line per violation, then one line saying whether the pack passed and what it checked."""
    from ..policy.offline import run_pack_report

    run = run_pack_report(pack, result)
    for v in run.violations:
        where = f"{v.urn}: " if v.urn else ""  # stack policies may name no resource
        sys.stderr.write(f"{v.enforcement_level}: {v.policy_name}: {where}{v.message}\n")
    sys.stderr.write(run.summary() + "\n")
    return 0 if run.passed else 1
