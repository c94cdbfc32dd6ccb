"""What every subcommand shares: integer flags in ASCII digits, the flags that pick a profile, and the flags
of declared settings (:mod:`spirit_infra.settings`)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from typing import Any

from ..errors import ConfigError
from ..settings import Setting

__all__ = ["Parser", "ascii_int", "add_profile_args", "profile_from_args", "command_group", "add_flag", "flag_error"]


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


# ---- flags of declared settings ---------------------------------------------------------------------------------------------

_FLAG_OF = "_spirit_flags"


def add_flag(parser: Any, setting: Setting, flag: str | None = None, *, required: bool = False,
             default: Any = dataclasses.MISSING, metavar: str | None = None) -> None:
    """An argparse option for ``setting`` (dest: its name): a bool with default true is ``--no-<flag>``,
    one with default false ``--<flag>``; others take a value (integers in ASCII digits). The parser keeps
    the flag of each setting so :func:`flag_error` names what the user typed."""
    import argparse

    flag = flag or setting.flag or "--" + setting.name.replace("_", "-")
    value = setting.default if default is dataclasses.MISSING else default
    doc = setting.doc.rstrip(".").replace("%", "%%")
    if setting.type is bool and not setting.optional:
        if flag.startswith("--no-"):  # the flag turns a default-on setting off
            parser.add_argument(flag, dest=setting.name, action="store_false", help=f"off: {doc}")
        elif value:
            parser.add_argument(flag, dest=setting.name, action=argparse.BooleanOptionalAction, default=True,
                                help=doc)
        else:
            parser.add_argument(flag, dest=setting.name, action="store_true", help=doc)
    else:
        kind = {int: ascii_int}.get(setting.type, setting.type)
        shown = "" if required or value is None else f" (default {value})"
        parser.add_argument(flag, dest=setting.name, type=kind, required=required,
                            default=None if required else value, choices=setting.choices or None,
                            metavar=metavar or (None if setting.choices else "N" if setting.type is int else "S"),
                            help=f"{doc}{shown}")
    flags = dict(parser.get_default(_FLAG_OF) or {})
    flags[setting.name] = flag
    parser.set_defaults(**{_FLAG_OF: flags})


def flag_error(e: ConfigError, args: Any, fields: dict[str, str] | None = None) -> ConfigError:
    """``e`` naming the CLI flag of its field (the flags :func:`add_flag` made, plus ``fields``)."""
    flags = {**(getattr(args, _FLAG_OF, None) or {}), **(fields or {})}
    base = re.split(r"[\[.]", e.field or "", maxsplit=1)[0]
    if e.file is None and base in flags:
        return ConfigError(e.what, field=flags[base])
    return e
