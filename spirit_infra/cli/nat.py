"""``spirit-infra nat render``: the QoS NAT gateway's nftables ruleset or complete cloud-init (pure)."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..settings import FQDN_REFRESH, SIP_KEEPALIVE, STRICT, UDP_TIMEOUT
from .args import add_flag, flag_error

__all__ = ["register"]

#: the fields of flags that are no declared setting
_FLAG = {"lan_if": "--lan-if", "wan_if": "--wan-if", "snat_address": "--snat-address"}


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "nat", "the QoS NAT gateway (nftables + cloud-init)", metavar="SUBCOMMAND")
    p = sub.add_parser("render", parents=[common], help="print the nftables ruleset or the cloud-init document")
    add_profile_args(p)
    p.add_argument("--lan-if", required=True, metavar="IF", help="interface facing the private subnets")
    p.add_argument("--wan-if", required=True, metavar="IF", help="interface facing the Internet (SNAT, DSCP)")
    p.add_argument("--snat-address", metavar="A", help="SNAT to this IPv4 address (default: masquerade)")
    for setting in (STRICT, SIP_KEEPALIVE, UDP_TIMEOUT, FQDN_REFRESH):
        add_flag(p, setting)
    p.add_argument("--allow-sip-helper-module", dest="refuse_sip_helper", action="store_false",
                   help="do not blacklist nf_conntrack_sip in cloud-init (the ruleset never attaches it)")
    p.add_argument("--format", choices=("nftables", "cloud-init"), default="nftables")
    p.set_defaults(func=_cmd_render)


def options_from_args(args: argparse.Namespace):
    from ..nat.ruleset import NatOptions

    try:
        return NatOptions(lan_if=args.lan_if, wan_if=args.wan_if, snat_address=args.snat_address,
                          strict=args.strict, sip_keepalive_seconds=args.sip_keepalive_seconds,
                          udp_timeout=args.udp_timeout, refuse_sip_helper=args.refuse_sip_helper,
                          fqdn_refresh_seconds=args.fqdn_refresh_seconds)
    except ConfigError as e:
        raise flag_error(e, args, _FLAG) from None


def _cmd_render(args: argparse.Namespace) -> int:
    from ..nat.cloudinit import render_cloud_init
    from ..nat.ruleset import render_ruleset
    from .args import profile_from_args

    options = options_from_args(args)
    profile = profile_from_args(args)
    text = render_cloud_init(profile, options) if args.format == "cloud-init" else render_ruleset(profile, options)
    sys.stdout.write(text)
    return 0
