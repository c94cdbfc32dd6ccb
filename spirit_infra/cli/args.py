"""What every subcommand shares: integer flags in ASCII digits, and the flags that pick a profile."""

from __future__ import annotations

import argparse
import re
import sys

__all__ = ["Parser", "ascii_int", "add_profile_args", "profile_from_args", "command_group"]


def ascii_int(text: str) -> int:
    """An integer flag written in ASCII digits (``int()`` alone also reads '٥٠٦٠' as 5060)."""
    if not re.fullmatch(r"-?[0-9]+", text.strip()):
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}")
    return int(text)


ascii_int.__name__ = "int"  # argparse names the type in its message: "invalid int value"


class Parser(argparse.ArgumentParser):
    """argparse that reports bad flags as one line and exit status 2."""

    def error(self, message: str):  # noqa: D102
        sys.stderr.write(f"error: {self.prog}: {message}\n")
        sys.exit(2)


def add_profile_args(p: argparse.ArgumentParser, *, profile_required: bool = True) -> None:
    """``--profile``, ``--catalogue`` and ``--overrides``: the way every command picks its flows."""
    from ..profiles import PROFILES

    p.add_argument("--profile", choices=PROFILES, required=profile_required, help="deployment profile")
    p.add_argument("--overrides", metavar="FILE", help="customer overrides (YAML)")
    p.add_argument("--extra-flows", metavar="FILE", dest="extra_flows",
                   help="the customer's own flows, in the catalogue's format (e.g. presets/sbc-host.yaml)")


def profile_from_args(args: argparse.Namespace):
    """Build the profile the flags describe (catalogue, overrides, profile)."""
    from ..profiles import Overrides, build_profile, load_overrides, with_catalogue, with_extra_flows

    ov = load_overrides(args.overrides) if getattr(args, "overrides", None) else Overrides()
    ov = with_catalogue(ov, getattr(args, "catalogue", None))
    ov = with_extra_flows(ov, getattr(args, "extra_flows", None))
    return build_profile(args.profile, ov)


def command_group(subparsers, name: str, help: str, *, parents=(), metavar: str = "COMMAND"):
    """A command that only holds subcommands (``aws render``, ``dns check``): its subparsers, one required."""
    p = subparsers.add_parser(name, parents=list(parents), help=help)
    sub = p.add_subparsers(dest=f"{name}_command", metavar=metavar, parser_class=type(p))
    sub.required = True
    return sub
