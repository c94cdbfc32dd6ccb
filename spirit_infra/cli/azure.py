"""``spirit-infra azure render``: the NSG and firewall-policy layout of a profile (pure, no SDK import).

    spirit-infra azure render --profile P [--priority-start N] [--priority-width N] [--no-strict]
        [--asg-id ID] [--extra-rule NAME:PRIORITY[:in|out] ...] [--pin NAME=PRIORITY ...]
        [--name-prefix P] [--no-firewall] [--json]

Constraint errors (band too small, collision with a user rule, a name over 80 characters) print one
line ``error: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ConfigError
from ..settings import NAME_PREFIX, NSG_PRIORITY_START, NSG_PRIORITY_WIDTH, STRICT
from ..text import table
from .args import add_flag, flag_error

__all__ = ["register"]


def register(subparsers, common) -> None:
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "azure", "Azure NSG / firewall policy / NAT gateway")
    r = sub.add_parser("render", parents=[common], help="the NSG rules and priorities of a profile")
    add_profile_args(r)
    for setting in (NSG_PRIORITY_START, NSG_PRIORITY_WIDTH, STRICT):
        add_flag(r, setting)
    r.add_argument("--asg-id", metavar="ID", help="application security group id as the rules' local side")
    r.add_argument("--extra-rule", action="append", default=[], metavar="NAME:PRIORITY",
                   help="a user rule in the same NSG (NAME:PRIORITY or NAME:PRIORITY:in|out); repeatable")
    r.add_argument("--pin", action="append", default=[], metavar="NAME=PRIORITY",
                   help="fix one rule's priority (settles a reported collision); repeatable")
    add_flag(r, NAME_PREFIX)
    r.add_argument("--no-firewall", action="store_true", help="leave out the firewall policy layout")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=_cmd_render)


def _pins(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, sep, prio = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name] = int(prio)
        except ValueError:
            raise ConfigError(f"{item!r} is not NAME=PRIORITY", field="--pin") from None
    return out


def _cmd_render(args: argparse.Namespace) -> int:
    from ..azure import fqdn as fw
    from ..azure import rules
    from .args import profile_from_args

    prof = profile_from_args(args)
    extra = tuple(rules.ExtraRule.parse(e) for e in args.extra_rule)
    opts = rules.NsgOptions(priority_start=args.priority_start, priority_width=args.priority_width,
                            strict=args.strict, asg_id=args.asg_id, extra_rules=extra,
                            priority_pins=_pins(args.pin), name_prefix=args.name_prefix)
    try:
        plan = rules.model(prof, opts)
    except ConfigError as e:  # name CLI flags the way the user typed them
        raise flag_error(e, args, {"asg_id": "--asg-id", "extra_rules": "--extra-rule", "priority_pins": "--pin"}) from None
    fwplan = None if args.no_firewall else fw.model(prof, fw.FirewallOptions(name_prefix=args.name_prefix))
    if args.json:
        out = {"nsg": plan.to_json()}
        if fwplan is not None:
            out["firewall_policy"] = fwplan.to_json()
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
        return 0
    print(f"profile {prof.name}: NSG band {plan.band} (deny slot {plan.band.deny_priority}), "
          f"{len(plan.rules)} rules, strict={'yes' if plan.strict else 'no'}")
    rows = []
    for row in plan.layout():
        r = next(x for x in plan.rules if x.name == row["name"])
        i = r.inputs
        remote = "destination" if r.direction == "Outbound" else "source"
        peer = i.get(f"{remote}AddressPrefix") or ",".join(i.get(f"{remote}AddressPrefixes", []))
        sport = i.get("sourcePortRange") or ",".join(i.get("sourcePortRanges", []))
        dport = i.get("destinationPortRange") or ",".join(i.get("destinationPortRanges", []))
        rows.append((r.direction, r.priority, r.access, i["protocol"], r.name, peer, sport, dport))
    sys.stdout.write(table(("direction", "priority", "access", "proto", "name", "peer", "sport", "dport"), rows,
                           right=("priority",)))
    for w in plan.widened:
        print(f"  ! widened: {w}")
    if fwplan is not None:
        print(f"firewall policy: group priority {fwplan.group_priority}, collection band {fwplan.band}, "
              f"DNS proxy {'on' if fwplan.policy_inputs.get('dnsSettings', {}).get('enableProxy') else 'off'}")
        sys.stdout.write(table(("priority", "kind", "name", "rules"),
                               ((r["priority"], r["kind"], r["name"], ",".join(r["rules"])) for r in fwplan.layout()),
                               right=("priority",)))
        for w in fwplan.widened:
            print(f"  ! widened: {w}")
    return 0
