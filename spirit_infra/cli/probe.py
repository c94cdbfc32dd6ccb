"""``spirit-infra probe`` (test every flow from inside a deployment) and ``probe reflect`` (the reflector)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ConfigError
from .console import Progress

__all__ = ["register", "add_resolver_args", "resolver_from_args"]


def _positive(flag: str, maximum: float):
    def parse(value: str) -> float:
        try:
            v = float(value)
            if not 0 < v <= maximum:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{value!r} is not a number of seconds in (0, {maximum:g}]", field=flag) from None
        return v
    return parse


def add_resolver_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resolver", metavar="IP[:PORT]", help="ask this DNS server (default: the host's resolver)")
    p.add_argument("--timeout", type=_positive("--timeout", 60), default=3.0, metavar="S",
                   help="per-check timeout in seconds (default 3)")


def resolver_from_args(args: argparse.Namespace):
    from ..probe.dns import Resolver, parse_resolver

    server = parse_resolver(args.resolver) if args.resolver else None
    return Resolver(server, timeout=args.timeout)


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from .args import add_profile_args

    p = subparsers.add_parser("probe", parents=[common],
                              help="test every flow of a profile from this host (DNS, TCP, TLS, SIP, NTP, media)")
    add_profile_args(p, profile_required=False)
    add_resolver_args(p)
    p.add_argument("--only", nargs="+", metavar="FLOW", help="probe only these flows (ids from `flows`)")
    p.add_argument("--reflector", metavar="ADDR:PORT", help="a `probe reflect` of yours outside the NAT")
    p.add_argument("--token", metavar="TOKEN", help="the reflector's token (it prints it when it starts)")
    p.add_argument("--binding-max", type=_positive("--binding-max", 900), metavar="S",
                   help="measure the NAT's UDP binding lifetime up to S seconds (needs --reflector)")
    from ..settings import SIP_KEEPALIVE

    # seconds with a fraction (a probe in a test measures short bindings); default and maximum declared once
    p.add_argument("--sip-keepalive", type=_positive("--sip-keepalive", SIP_KEEPALIVE.le),
                   default=float(SIP_KEEPALIVE.default), metavar="S",
                   help=f"the clients' SIP keepalive the binding must outlive (default {SIP_KEEPALIVE.default})")
    p.add_argument("--ca-file", metavar="FILE", help="trust these CA certificates for TLS (default: the system's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--report", metavar="FILE", help="write a markdown evidence report for Spirit support")
    p.set_defaults(func=_cmd_probe)
    sub = p.add_subparsers(dest="probe_command", metavar="SUBCOMMAND", parser_class=type(p))
    r = sub.add_parser("reflect", help="run the reflector (on a host of yours outside the NAT, never Spirit's)")
    r.add_argument("--listen", required=True, metavar="ADDR:PORT", help="UDP address and port to listen on")
    r.add_argument("--token", metavar="TOKEN", help="answer only probes carrying this token (default: random)")
    r.add_argument("--duration", type=_positive("--duration", 86400), metavar="S",
                   help="stop after S seconds (default: run until interrupted)")
    r.add_argument("--log", action="store_true", help="one JSON line per datagram on stderr")
    r.set_defaults(func=_cmd_reflect)


def _cmd_reflect(args: argparse.Namespace) -> int:
    from ..probe.reflector import check_token, new_token, parse_listen, run_reflector

    addr, port = parse_listen(args.listen)
    token = check_token(args.token) if args.token else new_token()
    try:
        return run_reflector(addr, port, token, args.duration, args.log)
    except OSError as e:
        raise ConfigError(f"cannot listen on {args.listen}: {e.strerror or e}", field="--listen") from None


def _options(args: argparse.Namespace, profile):
    from ..probe.dns import parse_resolver
    from ..probe.reflector import check_token, parse_listen
    from ..probe.run import ProbeOptions

    ids = {f.id for f in profile.flows} | {"path-sip-alg", "path-udp-binding"}
    for fid in args.only or ():
        if fid not in ids:
            raise ConfigError(f"{fid!r} is not a flow of profile {profile.name} (flows: {', '.join(sorted(ids))})",
                              field="--only")
    reflector = parse_listen(args.reflector, "--reflector") if args.reflector else None
    if reflector and not args.token:
        raise ConfigError("--reflector needs --token (the reflector prints it when it starts)", field="--token")
    token = check_token(args.token) if args.token else None
    if args.binding_max and not reflector:
        raise ConfigError(f"{args.binding_max:g} needs --reflector (the binding is measured against it)",
                          field="--binding-max")
    if args.binding_max and args.binding_max < args.sip_keepalive:
        raise ConfigError(f"{args.binding_max:g} is shorter than the SIP keepalive ({args.sip_keepalive:g} s): a "
                          "binding that outlives it proves nothing", field="--binding-max")
    if args.ca_file and not Path(args.ca_file).is_file():
        raise ConfigError(f"{args.ca_file!r}: no such file", field="--ca-file")
    if args.report:
        parent = Path(args.report).resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"{args.report!r}: directory {str(parent)!r} does not exist", field="--report")
    return ProbeOptions(resolver=parse_resolver(args.resolver) if args.resolver else None, reflector=reflector,
                        token=token, timeout=args.timeout, only=tuple(args.only or ()), cafile=args.ca_file,
                        binding_max=args.binding_max, sip_keepalive=args.sip_keepalive)


def _cmd_probe(args: argparse.Namespace) -> int:
    from ..probe.report import render_markdown, render_table
    from ..probe.run import run_probe
    from .args import profile_from_args

    if not args.profile:
        raise ConfigError("is required (phones, communicator or sbc)", field="--profile")
    profile = profile_from_args(args)
    opts = _options(args, profile)
    bar = None

    def progress(done: int, total: int, flow: str) -> None:  # a rich bar on a terminal, cleared when done
        nonlocal bar
        if bar is None:
            bar = Progress(total, "probing", transient=True).__enter__()
        bar.step(done, flow)

    try:
        result = run_probe(profile, opts, progress=progress if sys.stderr.isatty() and not args.json else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if args.report:
        try:
            Path(args.report).write_text(render_markdown(result))
        except OSError as e:
            raise ConfigError(f"{args.report!r}: {e.strerror or e}", field="--report") from None
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_table(result))
    return result.exit_code
