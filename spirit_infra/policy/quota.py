"""``spirit-sg-quota``: AWS security groups over the rules-per-group quota (pure, whole stack).

AWS counts rules per group, per direction and per address family; a rule referencing a customer-managed
prefix list counts as the list's ``maxEntries`` (not its current size). Counted:

- inline ``ingress``/``egress`` of ``aws.ec2.SecurityGroup``: each CIDR of ``cidrBlocks`` and
  ``ipv6CidrBlocks`` is one rule, each prefix list its ``maxEntries``, each referenced group (or ``self``) one;
- ``aws.vpc.SecurityGroupIngressRule``/``EgressRule``: one rule, or the prefix list's ``maxEntries``;
- ``aws.ec2.SecurityGroupRule``: like an inline rule.

A prefix list the stack does not define (AWS-managed, or an unresolved reference) counts as 1 and is named.
"""

from __future__ import annotations

from collections import defaultdict

from .resources import AWS_RULE_TYPES, AWS_SG, ref_key

__all__ = ["sg_quota", "count_rules"]

PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"


def _index(resources: list[dict]) -> tuple[dict[str, dict], dict[str, dict]]:
    groups, lists = {}, {}
    for r in resources:
        target = groups if r.get("type") == AWS_SG else lists if r.get("type") == PREFIX_LIST else None
        if target is None:
            continue
        for k in (r.get("name"), r.get("urn"), r.get("id")):
            if isinstance(k, str) and k:
                target[k] = r
    return groups, lists


def _pl(lists: dict[str, dict], value, notes: set[str]) -> tuple[int, str]:
    r = lists.get(ref_key(value) or "")
    if r is None:
        notes.add(f"prefix list {ref_key(value) or value!r} is not in the stack (counted as 1)")
        return 1, "ipv4"
    inputs = r.get("inputs") or {}
    family = "ipv6" if str(inputs.get("addressFamily", "IPv4")).lower() == "ipv6" else "ipv4"
    try:
        return int(inputs.get("maxEntries") or len(inputs.get("entries") or []) or 1), family
    except (TypeError, ValueError):
        return 1, family


def _inline(rule: dict, lists, notes) -> list[tuple[str, int]]:
    out = [("ipv4", 1) for c in rule.get("cidrBlocks") or [] if c]
    out += [("ipv6", 1) for c in rule.get("ipv6CidrBlocks") or [] if c]
    for p in rule.get("prefixListIds") or []:
        n, fam = _pl(lists, p, notes)
        out.append((fam, n))
    out += [("ipv4", 1) for _ in rule.get("securityGroups") or []]
    if rule.get("self") or rule.get("sourceSecurityGroupId"):
        out.append(("ipv4", 1))
    return out


def count_rules(resources: list[dict]) -> tuple[dict[str, dict[tuple[str, str], int]], list[str]]:
    """Per security group (logical name), counted rules per (direction, family); and notes."""
    groups, lists = _index(resources)
    notes: set[str] = set()
    counts: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))

    def owner(value) -> str:
        r = groups.get(ref_key(value) or "")
        return r["name"] if r is not None else str(ref_key(value) or value)

    for r in resources:
        t, inputs = r.get("type"), r.get("inputs") or {}
        if t == AWS_SG:
            counts[r["name"]]
            for direction in ("ingress", "egress"):
                for rule in inputs.get(direction) or []:
                    for fam, n in _inline(rule, lists, notes):
                        counts[r["name"]][(direction, fam)] += n
        elif t in AWS_RULE_TYPES[:2]:
            direction = "ingress" if "Ingress" in t else "egress"
            if inputs.get("prefixListId"):
                n, fam = _pl(lists, inputs["prefixListId"], notes)
            else:
                n, fam = 1, "ipv6" if inputs.get("cidrIpv6") else "ipv4"
            counts[owner(inputs.get("securityGroupId"))][(direction, fam)] += n
        elif t == AWS_RULE_TYPES[2] and inputs.get("type") in ("ingress", "egress"):
            for fam, n in _inline(inputs, lists, notes):
                counts[owner(inputs.get("securityGroupId"))][(inputs["type"], fam)] += n
    return {k: dict(v) for k, v in sorted(counts.items())}, sorted(notes)


def sg_quota(resources: list[dict], quota: int) -> list[tuple[str, str | None]]:
    """(message, security group URN or None) per group over ``quota`` in some direction and family."""
    groups, _ = _index(resources)
    counts, notes = count_rules(resources)
    out = []
    for name, dims in counts.items():
        over = {d: n for d, n in sorted(dims.items()) if n > quota}
        if not over:
            continue
        figures = ", ".join(f"{n} {d[0]} {d[1]}" for d, n in over.items())
        extra = f" ({'; '.join(notes)})" if notes else ""
        g = groups.get(name)
        out.append((f"security group {name}: {figures} rules counted (prefix lists at their maxEntries) "
                    f"exceed the quota of {quota} per direction and family{extra}", g.get("urn") if g else None))
    return out
