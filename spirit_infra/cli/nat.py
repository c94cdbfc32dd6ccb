"""``spirit-infra nat render``: the QoS NAT gateway's nftables ruleset or complete cloud-init (pure)."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from .args import ascii_int

__all__ = ["register"]

_FLAG = {
    "lan_if": "--lan-if",
    "wan_if": "--wan-if",
    "snat_address": "--snat-address",
    "sip_keepalive_seconds": "--sip-keepalive",
    "udp_timeout": "--udp-timeout",
    "fqdn_refresh_seconds": "--fqdn-refresh",
}


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from ..nat.ruleset import DEFAULT_SIP_KEEPALIVE
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "nat", "the QoS NAT gateway (nftables + cloud-init)", metavar="SUBCOMMAND")
    p = sub.add_parser("render", parents=[common], help="print the nftables ruleset or the cloud-init document")
    add_profile_args(p)
    p.add_argument("--lan-if", required=True, metavar="IF", help="interface facing the private subnets")
    p.add_argument("--wan-if", required=True, metavar="IF", help="interface facing the Internet (SNAT, DSCP)")
    p.add_argument("--snat-address", metavar="A", help="SNAT to this IPv4 address (default: masquerade)")
    p.add_argument("--no-strict", dest="strict", action="store_false",
                   help="forward everything (still marks DSCP); default: only the profile's flows")
    p.add_argument("--sip-keepalive", type=ascii_int, default=DEFAULT_SIP_KEEPALIVE, metavar="S",
                   help=f"SIP keepalive interval of the clients, seconds (default {DEFAULT_SIP_KEEPALIVE})")
    p.add_argument("--udp-timeout", type=ascii_int, metavar="S",
                   help="conntrack UDP timeout, seconds (default max(300, 2 x keepalive))")
    p.add_argument("--fqdn-refresh", type=ascii_int, default=300, metavar="S",
                   help="resolver refresh period for the FQDN sets, seconds (default 300)")
    p.add_argument("--allow-sip-helper-module", dest="refuse_sip_helper", action="store_false",
                   help="do not blacklist nf_conntrack_sip in cloud-init (the ruleset never attaches it)")
    p.add_argument("--format", choices=("nftables", "cloud-init"), default="nftables")
    p.set_defaults(func=_cmd_render)


def options_from_args(args: argparse.Namespace):
    from ..nat.ruleset import NatOptions

    try:
        return NatOptions(lan_if=args.lan_if, wan_if=args.wan_if, snat_address=args.snat_address,
                          strict=args.strict, sip_keepalive_seconds=args.sip_keepalive,
                          udp_timeout=args.udp_timeout, refuse_sip_helper=args.refuse_sip_helper,
                          fqdn_refresh_seconds=args.fqdn_refresh)
    except ConfigError as e:
        raise ConfigError(e.what, field=_FLAG.get(e.field or "", e.field)) from None


def _cmd_render(args: argparse.Namespace) -> int:
    from ..nat.cloudinit import render_cloud_init
    from ..nat.ruleset import render_ruleset
    from .args import profile_from_args

    options = options_from_args(args)
    profile = profile_from_args(args)
    text = render_cloud_init(profile, options) if args.format == "cloud-init" else render_ruleset(profile, options)
    sys.stdout.write(text)
    return 0
