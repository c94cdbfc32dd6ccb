"""``spirit-infra aws render``: the AWS render of a profile, as a rules table or JSON (pure: no pulumi import)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from ..errors import ConfigError
from ..settings import DNS_FIREWALL, GROUPS_PER_INTERFACE, PREFIX_LIST, QUOTA, STRICT
from ..text import table
from .args import add_flag, flag_error

__all__ = ["register"]


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "aws", "AWS security groups, Network Firewall, NAT", parents=[common])
    p = sub.add_parser("render", parents=[common], help="render a profile's security groups and FQDN firewall")
    add_profile_args(p)
    for setting in (QUOTA, GROUPS_PER_INTERFACE, STRICT, PREFIX_LIST, DNS_FIREWALL):
        add_flag(p, setting)
    p.add_argument("--no-fqdn-firewall", action="store_true",
                   help="no Network Firewall: FQDN flows open to any address on their ports (not strict)")
    p.add_argument("--extra-cidr", action="append", default=[], metavar="CIDR",
                   help="an extra Spirit range (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_render)


def _extra_cidrs(values: list[str]) -> tuple[str, ...]:
    """The flags, checked by the same validation as an override file's ``extra_spirit_cidrs``."""
    from ..profiles import Overrides

    try:
        return Overrides(extra_spirit_cidrs=tuple(values)).extra_spirit_cidrs
    except ConfigError as e:
        raise ConfigError(e.what, field="--extra-cidr") from None


def _cmd_render(args: argparse.Namespace) -> int:
    from ..aws.fqdn import FirewallOptions, model_firewall
    from ..aws.rules import SgOptions, model
    from ..profiles import build_profile
    from .args import profile_from_args

    try:
        opts = SgOptions(strict=args.strict, fqdn_firewall=not args.no_fqdn_firewall, quota=args.quota,
                         groups_per_interface=args.groups_per_interface, prefix_list=args.prefix_list)
    except ConfigError as e:
        raise flag_error(e, args) from None
    extra = _extra_cidrs(args.extra_cidr)
    prof = profile_from_args(args)
    if extra:
        try:  # together with the override file's (the pair 0.0.0.0/1 + 128.0.0.0/1 is refused either way)
            ov = replace(prof.overrides, extra_spirit_cidrs=tuple(prof.overrides.extra_spirit_cidrs) + extra)
        except ConfigError as e:
            raise ConfigError(e.what, field="--extra-cidr") from None
        try:
            prof = build_profile(prof.name, ov, prof.catalogue)
        except ConfigError as e:  # checked against the catalogue (IPv6 while it is IPv4 only)
            from_file = len(prof.overrides.extra_spirit_cidrs)
            if (e.field or "").startswith("extra_spirit_cidrs[") and int(e.field[19:-1]) >= from_file:
                raise ConfigError(e.what, field="--extra-cidr") from None
            raise
    sg = model(prof, opts)
    fw = None
    if not args.no_fqdn_firewall:
        fw = model_firewall(prof, FirewallOptions(strict=args.strict, dns_firewall=args.dns_firewall))
    if args.json:
        out = {"profile": prof.name, "security_groups": sg.to_json(), "firewall": fw.to_json() if fw else None,
               "resource_count": len(sg.resources) + (len(fw.resources) if fw else 0)}
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
        return 0
    q = sg.quota
    print(f"profile {prof.name}: {len(sg.groups)} security group(s), {q['rule_resources']} rule resources, "
          f"layout {q['layout']}, quota {q['quota']} per direction, {q['groups_per_interface']} groups per interface")
    for g in q["groups"]:
        counted = ", ".join(f"{k} {v}/{q['quota']}" for k, v in g["counted"].items()) or "no rules"
        print(f"  {g['name']}: {g['rules']} rules; counted {counted}")
    for pl in sg.prefix_lists:
        i = pl["inputs"]
        print(f"  prefix list {pl['name']}: {len(i['entries'])} entries, max {i['maxEntries']} "
              f"({', '.join(e['cidr'] for e in i['entries'])})")
    rows = []
    for r in sg.rules:
        i = r["inputs"]
        ports = "any" if i["ipProtocol"] == "-1" else (
            "any" if (i["fromPort"], i["toPort"]) == (0, 65535) else
            str(i["fromPort"]) if i["fromPort"] == i["toPort"] else f"{i['fromPort']}-{i['toPort']}")
        peer = (f"pl:{i['prefixListId']['$ref']}" if "prefixListId" in i else i.get("cidrIpv4") or i.get("cidrIpv6"))
        direction = "out" if r["type"].endswith("EgressRule") else "in"
        rows.append((i["securityGroupId"]["$ref"], direction, i["ipProtocol"], ports, peer,
                     i["tags"].get("spirit-flow", "-")))
    sys.stdout.write(table(("group", "dir", "proto", "ports", "peer", "flows"), rows))
    if fw:
        print(f"network firewall: {', '.join(s['name'] for s in fw.resources)}")
    widened = list(sg.widened) + (list(fw.widened) if fw else [])
    if widened:
        print("widened:")
        for w in widened:
            print(f"  ~ {w}")
    warnings = list(sg.warnings) + (list(fw.warnings) if fw else [])
    if warnings:
        print("warnings:")
        for w in warnings:
            print(f"  ! {w}")
    return 0
