"""``spirit-infra terraform render``: a profile's Terraform module for one cloud, written to a directory."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from ..terraform.module import CLOUDS, LAYERS
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "terraform", "Terraform / OpenTofu modules", parents=[common])
    p = sub.add_parser("render", parents=[common], help="write a profile's Terraform module for one cloud")
    p.add_argument("--cloud", choices=tuple(CLOUDS), required=True)
    add_profile_args(p)
    p.add_argument("--layers", default=",".join(LAYERS),
                   help=f"comma-separated, of {', '.join(LAYERS)} (default: all)")
    p.add_argument("--out", metavar="DIR",
                   help="the module's directory (created); without it the files are printed as JSON")
    p.set_defaults(func=_cmd_render)


def _cmd_render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import ConfigError
    from ..terraform.module import check_out, parse_layers, render_module, write_module
    from .args import profile_from_args

    layers = parse_layers(args.layers)
    for flag, value in (("--catalogue", args.catalogue), ("--overrides", args.overrides),
                        ("--extra-flows", args.extra_flows)):
        if args.out is not None and value is not None and Path(value).resolve() == Path(args.out).resolve():
            raise ConfigError(f"{args.out!r} is also given as {flag}: the module needs a directory of its own",
                              field="--out")
    out = check_out(args.out) if args.out is not None else None  # refused before the flows are even read
    module = render_module(profile_from_args(args), args.cloud, layers)
    if out is None:
        sys.stdout.write(json.dumps({"cloud": module.cloud, "profile": module.profile, "layers": list(module.layers),
                                     "counts": module.counts(), "files": module.files}, indent=2, sort_keys=True)
                         + "\n")
        return 0
    try:
        written = write_module(module, out)
    except OSError as e:
        where = f"{e.filename}: " if e.filename and str(e.filename) != args.out else ""
        raise ConfigError(f"{args.out!r}: {where}{e.strerror or e}", field="--out") from None
    sys.stdout.write(f"{module.cloud}-{module.profile}: {module.resource_count} resources "
                     f"({', '.join(f'{n} {t}' for t, n in module.counts().items())}) -> "
                     f"{', '.join(repr(str(p)) if chr(10) in str(p) else str(p) for p in written)}\n")
    return 0
