"""The ``spirit-infra`` command line: the parser, the core commands (``catalogue``, ``flows``) and ``main``.

Every other subcommand is a module of this package with a ``register(subparsers, common)`` function;
only the module of the command being run is imported, so ``flows`` stays cold-fast and no command
imports an SDK it does not need. Every error a user can cause prints one line ``error: ...`` and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence

from ..errors import InputError, SpiritError
from ..registry import CLOUDS
from .args import Parser, add_profile_args, profile_from_args

__all__ = ["main", "build_parser", "COMMAND_MODULES", "CORE_COMMANDS"]

#: Subcommands of other modules of this package (each defines ``register(subparsers, common)``), in help order:
#: one per cloud of the registry's table, then the rest.
COMMAND_MODULES = {
    **{c.name: c.cli for c in CLOUDS.values()},
    "nat": "spirit_infra.cli.nat",
    "preview": "spirit_infra.cli.preview",
    "probe": "spirit_infra.cli.probe",
    "dns": "spirit_infra.cli.dns",
    "terraform": "spirit_infra.cli.terraform",
}
CORE_COMMANDS = ("catalogue", "flows")


def _cmd_catalogue(args: argparse.Namespace) -> int:
    from ..catalogue import formats, load_catalogue

    cat = load_catalogue(args.catalogue)
    if args.format == "json":
        out = formats.to_json(cat)
    elif args.format == "markdown":
        out = formats.to_markdown(cat)
    elif args.format == "mermaid":
        from ..profiles import PROFILES, Overrides, build_profile

        out = formats.to_mermaid([build_profile(p, Overrides(catalogue=args.catalogue), cat) for p in PROFILES])
    else:
        out = formats.to_table(cat)
    sys.stdout.write(out)
    return 0


def _cmd_flows(args: argparse.Namespace) -> int:
    prof = profile_from_args(args)
    if args.json:
        sys.stdout.write(json.dumps(prof.to_json(), indent=2, sort_keys=True) + "\n")
        return 0
    print(f"profile {prof.name}: {len(prof.flows)} flows, {len(prof.allowed)} terms after compaction "
          f"(catalogue {prof.catalogue.path})")
    for t in prof.allowed:
        print(f"  {t}")
    if prof.customer_flows:
        print("customer flows (not Spirit's):")
        for f in prof.customer_flows:
            print(f"  + {f.id}: {f.provenance}")
    print("assumptions:")
    for a in prof.assumptions:
        print(f"  ! {a.id}: {a.text}")
    return 0


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` (the subcommand about to run) only that command's module is imported."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalogue", metavar="FILE", help="use this catalogue instead of the packaged one")
    parser = Parser(prog="spirit-infra", description="Spirit Cloud UC firewall requirements as cloud network security.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"spirit-infra {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    p = sub.add_parser("catalogue", parents=[common], help="show the flow catalogue")
    p.add_argument("--format", choices=("table", "json", "markdown", "mermaid"), default="table")
    p.set_defaults(func=_cmd_catalogue)

    p = sub.add_parser("flows", parents=[common], help="a profile's exact allowed set, compacted")
    add_profile_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_flows)

    if command in CORE_COMMANDS:
        return parser
    for cmd, name in COMMAND_MODULES.items():
        if command in COMMAND_MODULES and cmd != command:
            continue
        importlib.import_module(name).register(sub, common)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def _name_the_flag(e: SpiritError, argv: Sequence[str] | None) -> SpiritError:
    """A file that cannot be read at all has no line to point at: say which flag named it."""
    if not isinstance(e, InputError) or e.field != "(file)" or e.lineno is not None or not argv:
        return e
    for i, a in enumerate(argv):
        flag, eq, value = a.partition("=")
        if not flag.startswith("--"):
            continue
        if (eq and value == e.file) or (not eq and i + 1 < len(argv) and argv[i + 1] == e.file):
            try:
                return type(e)(f"{e.what} (given as {flag})", file=e.file, line=None, field=e.field)
            except TypeError:  # a subclass with its own constructor: the line without the flag
                return e
    return e


def main(argv: Sequence[str] | None = None) -> int:
    # gRPC's core logs to stderr on its own (e.g. "Got goaway ... Cancelling all calls" when the policy pack
    # process shuts down under load), which would break the one-line-per-finding output; set before any
    # channel exists, and a user's own GRPC_VERBOSITY wins
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(_command(argv))
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except SpiritError as e:
        sys.stderr.write(_name_the_flag(e, argv).line() + "\n")
        return e.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
