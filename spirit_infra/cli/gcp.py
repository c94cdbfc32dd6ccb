"""``spirit-infra gcp render`` and ``spirit-infra gcp nat`` (pure: no pulumi import)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ConfigError
from ..settings import (
    DYNAMIC_PORT_ALLOCATION,
    ENDPOINT_INDEPENDENT_MAPPING,
    EXPECTED_CALLS,
    GCP_MAX_RANGES,
    GCP_PRIORITY_SLOTS,
    MAX_PORTS_PER_VM,
    MIN_PORTS_PER_VM,
    NAME_PREFIX,
    NAT_IP_COUNT,
    NAT_LOGGING,
    SIP_KEEPALIVE,
    STRICT,
    TCP_ESTABLISHED_IDLE_TIMEOUT,
    UDP_IDLE_TIMEOUT,
    VPC_PRIORITY_BASE,
    options_of,
)
from ..text import table
from .args import add_flag, flag_error

__all__ = ["register"]

#: option fields whose flags are no declared setting's (the declared ones are named by their add_flag)
_FLAGS = {"target_tags": "--target-tag", "target_service_accounts": "--target-service-account",
          "deny_priority": "--priority-base"}


def _flag_error(e: ConfigError, args: argparse.Namespace) -> ConfigError:
    return flag_error(e, args, _FLAGS)


def _rule_row(spec: dict) -> tuple:
    i = spec["inputs"]
    if spec["type"].endswith("Firewall"):
        peers = i.get("destinationRanges") or i.get("sourceRanges") or []
        entries = i.get("allows") or i.get("denies") or []
        action = "allow" if "allows" in i else "deny"
        proto_key = "protocol"
    else:
        m = i.get("match", {})
        peers = m.get("destIpRanges") or m.get("srcIpRanges") or m.get("destFqdns") or []
        entries, action, proto_key = m.get("layer4Configs", []), i["action"], "ipProtocol"
    l4 = " ".join(f"{e[proto_key]}:{','.join(e['ports'])}" if e.get("ports") else f"{e[proto_key]}:any"
                  for e in entries)
    name = i.get("name") or i.get("ruleName")
    return (i["priority"], i["direction"], action, name, l4, " ".join(peers))


def _cmd_render(args: argparse.Namespace) -> int:
    from ..gcp.fqdn import PolicyOptions, model_policy
    from ..gcp.rules import VpcOptions, model
    from .args import profile_from_args

    prof = profile_from_args(args)
    try:
        out = {}
        if args.kind in ("vpc", "all"):
            out["vpc_firewall"] = model(prof, VpcOptions(
                target_tags=tuple(args.target_tag or ()), target_service_accounts=tuple(args.target_service_account or ()),
                priority_base=args.priority_base, strict=args.strict,
                max_ranges=args.max_ranges, name_prefix=args.name_prefix, network=args.network))
        if args.kind in ("policy", "all"):
            out["firewall_policy"] = model_policy(prof, PolicyOptions(
                name_prefix=args.name_prefix, priority_base=args.priority_base, priority_slots=args.priority_slots, strict=args.strict, max_ranges=args.max_ranges,
                target_service_accounts=tuple(args.target_service_account or ()), network=args.network))
    except ConfigError as e:
        raise _flag_error(e, args) from None
    if args.json:
        sys.stdout.write(json.dumps({k: v.to_json() for k, v in out.items()}, indent=2, sort_keys=True) + "\n")
        return 0
    for kind, r in out.items():
        counts = ", ".join(f"{n} {t}" for t, n in r.counts().items())
        print(f"{kind} for profile {r.profile}: {counts}")
        sys.stdout.write(table(("priority", "direction", "action", "name", "ports", "peers"),
                               (_rule_row(s) for s in r.specs if "priority" in s["inputs"]), right=("priority",)))
        for w in r.widened:
            print(f"  widened: {w}")
    return 0


def _cmd_nat(args: argparse.Namespace) -> int:
    from ..gcp.nat import NatOptions, model_nat_specs

    try:
        plan, specs = model_nat_specs(options_of(NatOptions, args))
    except ConfigError as e:
        raise _flag_error(e, args) from None
    if args.json:
        data = plan.to_json() | {"resources": [dict(s) for s in specs]}
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return 0
    print(f"Cloud NAT for voice ({args.nat_ip_count} static NAT address(es), output for Spirit's allowlist):")
    for key, value in plan.settings.items():
        print(f"  {key} = {json.dumps(value, sort_keys=True)}")
        if key in plan.reasons:
            print(f"      because {plan.reasons[key]}")
    return 0


def register(subparsers, common: argparse.ArgumentParser) -> None:
    from .args import add_profile_args, command_group

    sub = command_group(subparsers, "gcp", "GCP: VPC firewall rules, network firewall policy, Cloud NAT")

    p = sub.add_parser("render", parents=[common], help="VPC firewall rules and the network firewall policy")
    add_profile_args(p)
    p.add_argument("--kind", choices=("vpc", "policy", "all"), default="all", help="what to render (default all)")
    p.add_argument("--target-tag", action="append", metavar="T", help="network tag the VPC rules target "
                   "(repeatable; default spirit-<role>)")
    p.add_argument("--target-service-account", action="append", metavar="SA", help="target service account "
                   "instead of tags (repeatable)")
    for setting in (VPC_PRIORITY_BASE, GCP_PRIORITY_SLOTS, STRICT, GCP_MAX_RANGES, NAME_PREFIX):
        add_flag(p, setting)
    p.add_argument("--network", metavar="NET", help="VPC name or self link to put in the output")
    p.add_argument("--json", action="store_true", help="resource specs as sorted JSON")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("nat", parents=[common], help="Cloud NAT settings for SIP/RTP, with reasons")
    add_flag(p, SIP_KEEPALIVE, "--keepalive", required=True)
    for setting in (UDP_IDLE_TIMEOUT, TCP_ESTABLISHED_IDLE_TIMEOUT, DYNAMIC_PORT_ALLOCATION,
                    ENDPOINT_INDEPENDENT_MAPPING, EXPECTED_CALLS, MIN_PORTS_PER_VM, MAX_PORTS_PER_VM, NAT_IP_COUNT,
                    NAT_LOGGING, NAME_PREFIX):
        add_flag(p, setting)
    p.add_argument("--region", metavar="R")
    p.add_argument("--json", action="store_true", help="settings, reasons and resource specs as JSON")
    p.set_defaults(func=_cmd_nat)
