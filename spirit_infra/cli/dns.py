"""``spirit-infra dns check``: every catalogue name resolved, every address checked against its ranges."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from .args import command_group
    from .probe import add_resolver_args

    sub = command_group(subparsers, "dns", "DNS checks of the catalogue's names", metavar="SUBCOMMAND")
    p = sub.add_parser("check", parents=[common],
                       help="resolve every catalogue name (NAPTR -> SRV -> A); exit 1 on drift")
    p.add_argument("--overrides", metavar="FILE", help="customer overrides (their extra Spirit ranges count)")
    add_resolver_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from ..catalogue import load_catalogue
    from ..probe.drift import check_catalogue, render_text
    from ..profiles import Overrides, load_overrides
    from .probe import resolver_from_args

    resolver = resolver_from_args(args)
    ov = load_overrides(args.overrides) if args.overrides else Overrides()
    catalogue = load_catalogue(args.catalogue or ov.catalogue)
    result = check_catalogue(catalogue, resolver, ov.extra_spirit_cidrs)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 1 if result.drift else 0
