"""Azure readers: what the NSGs and firewall policies of a stack allow (pure, no pulumi).

NSG
---
:func:`read_nsg` takes registered resources (``{"type", "name", "inputs"}``, camelCase inputs, as the
mock runtime and the policy pack see them), from spirit-infra or any other stack, and returns the
allowed set they permit:

- NSGs with inline ``securityRules`` and separate ``SecurityRule`` resources (matched to their NSG by
  ``networkSecurityGroupName``; a lone NSG owns every separate rule).
- First match by priority, per direction: what an Allow rule adds is its box minus everything Deny
  rules of a lower priority number already matched. This handles allow rules, a final deny-all, and
  denies placed before allows.
- Address words: ``*``, ``Any``, ``Internet`` and ``0.0.0.0/0`` read as every address (0.0.0.0/0 and
  ::/0 for the words). Other service tags (``VirtualNetwork``, ``AzureLoadBalancer``, ``Storage`` ...)
  and peer-side application security groups are not addresses: such rules add nothing and are listed
  in the notes of :func:`read_nsg_report`. The local side (destination of Inbound, source of Outbound
  rules) is not a dimension of the allowed set and is ignored.
- Protocols: ``Tcp``, ``Udp``; ``*``/``Any`` count as both; ICMP/ESP/AH are outside the model.
- ``include_default_rules=True`` adds Azure's built-in rules (65000+): AllowInternetOutBound makes a
  non-strict NSG read as "all egress allowed", which is what it does.
- Labels come from the ``spirit-flow`` mark in the rule's description, else "".

Firewall policy
---------------
The firewall policy reader (:func:`read_firewall_policy`) understands rule collection groups from any stack: filter collections
(Allow and Deny) with network and application rules, evaluated network rules first, then
application rules, each by (group priority, collection priority); a Deny removes what it matches
from later collections whose sources it covers (``*``, or the same sources). ``*`` addresses read as everything; ``targetFqdns: ["*"]`` as every address;
service tags, IP groups, FQDN tags, web categories and URLs are not modelled (notes).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..flows import ANY_IPV4, ANY_IPV6, AllowedSet, Peer, PortSet, Term
from .common import addresses_and_tags, as_list, flow_label, ports_from_azure, tag_of, to_int
from .fqdn import GROUP_TYPE, HTTP_PORTS
from .rules import DEFAULT_RULES, NSG_TYPE, SECURITY_RULE_TYPE

__all__ = ["read_nsg", "read_nsg_report", "read_firewall_policy", "read_firewall_policy_report"]


# ---- NSG ---------------------------------------------------------------------------------------------

def _rule_field(rule: dict, key: str):
    """A rule field, flat (azure-native inputs) or under ``properties`` (ARM JSON)."""
    if key in rule:
        return rule[key]
    props = rule.get("properties")
    return props.get(key) if isinstance(props, dict) else None


#: Local-side words that cover every address an NSG can apply to (its NICs and subnets are in the VNet).
_ANY_LOCAL = ("*", "any", "virtualnetwork", "0.0.0.0/0", "::/0")


def _local_side(rule: dict, direction: str) -> tuple:
    """The rule's local side (source of Outbound, destination of Inbound) as a comparable key;
    ``("any",)`` when it covers every local address."""
    here = "source" if direction == "Outbound" else "destination"
    asgs = as_list(_rule_field(rule, f"{here}ApplicationSecurityGroups"))
    words = [str(w).strip().lower() for w in as_list(_rule_field(rule, f"{here}AddressPrefix"))
             + as_list(_rule_field(rule, f"{here}AddressPrefixes"))]
    if not asgs and (not words or any(w in _ANY_LOCAL for w in words)):
        return ("any",)
    ids = sorted(repr(_rule_field(a, "id") if isinstance(a, dict) else a) for a in asgs)
    return ("local", tuple(ids), tuple(sorted(words)))


def _enum(value, choices: tuple[str, ...]) -> str:
    """An ARM enum word, case-insensitively (``allow`` -> ``Allow``); the raw text when unknown."""
    text = str(value or "")
    return next((c for c in choices if c.lower() == text.lower()), text)


def _rule_set(rule: dict, notes: list[str]) -> tuple[str, str, int, AllowedSet]:
    """(direction, access, priority, allowed box) of one rule dict; direction "" if unreadable."""
    g = lambda k: _rule_field(rule, k)  # noqa: E731
    name = g("securityRuleName") or g("name") or "(unnamed)"
    direction = _enum(g("direction"), ("Inbound", "Outbound"))
    access = _enum(g("access"), ("Allow", "Deny"))
    priority = to_int(g("priority"), 0)
    if direction not in ("Inbound", "Outbound") or access not in ("Allow", "Deny"):
        notes.append(f"rule {name}: direction {direction!r} / access {access!r} not understood (ignored)")
        return "", access, priority, AllowedSet()
    proto = str(g("protocol") or "*").lower()
    transports = {"tcp": ("tcp",), "udp": ("udp",), "*": ("tcp", "udp"), "any": ("tcp", "udp")}.get(proto)
    if transports is None:
        notes.append(f"rule {name}: protocol {g('protocol')!r} is outside the model (ignored)")
        return direction, access, priority, AllowedSet()
    remote = "destination" if direction == "Outbound" else "source"
    words = as_list(g(f"{remote}AddressPrefix")) + as_list(g(f"{remote}AddressPrefixes"))
    cidrs, tags = addresses_and_tags(words, f"rule {name}", notes)
    if as_list(g(f"{remote}ApplicationSecurityGroups")):
        notes.append(f"rule {name}: a remote-side application security group is not modelled")
    src, n1 = ports_from_azure(g("sourcePortRange"), g("sourcePortRanges"))
    dst, n2 = ports_from_azure(g("destinationPortRange"), g("destinationPortRanges"))
    notes.extend(f"rule {name}: {n}" for n in n1 + n2)
    if not cidrs and not tags:
        return direction, access, priority, AllowedSet()
    flow = flow_label(g("description"))
    peer = Peer.of(cidrs, (), tags)
    d = "egress" if direction == "Outbound" else "ingress"
    src = src if src is not None else PortSet.of(None)
    dst = dst if dst is not None else PortSet.of(None)
    return direction, access, priority, AllowedSet(Term(d, t, peer, src, dst, flow) for t in transports)


def _evaluate(rules: list[dict], notes: list[str]) -> list[Term]:
    """First match by priority, per direction: Allow adds its box minus earlier denies.

    A Deny subtracts from a later Allow only when it covers the Allow's local side (its own local side
    is any address, or the same as the Allow's): a deny for one local host or another application
    security group leaves the Allow open for the rest, and reading less than Azure allows would hide
    an open rule from the policy pack.
    """
    out: list[Term] = []
    parsed = []
    for r in rules:
        direction, access, priority, box = _rule_set(r, notes)
        if direction:
            parsed.append((direction, priority, str(_rule_field(r, "securityRuleName") or _rule_field(r, "name")
                                                     or ""), access, box, _local_side(r, direction)))
    for direction in ("Inbound", "Outbound"):
        denies: dict[tuple, AllowedSet] = {}
        seen: dict[int, str] = {}
        for _, priority, name, access, box, local in sorted((p for p in parsed if p[0] == direction),
                                                            key=lambda p: (p[1], p[2])):
            if priority in seen:
                notes.append(f"rules {seen[priority]} and {name} share priority {priority} ({direction}); "
                             "Azure rejects this")
            seen[priority] = name
            if access == "Deny":
                denies[local] = denies.get(local, AllowedSet()) | box
                continue
            out.extend(_not_denied(box, denies, local))
    return out



def _not_denied(box: AllowedSet, denies: dict[tuple, AllowedSet], side: tuple) -> list[Term]:
    """The terms of an Allow ``box`` that no earlier Deny hides, each kept under its flow: a Deny hides an
    Allow only when it covers the Allow's side (any, or the same)."""
    denied = denies.get(("any",), AllowedSet())
    if side != ("any",):
        denied = denied | denies.get(side, AllowedSet())
    if denied.is_empty:
        return list(box.terms)
    return [t for flow, part in box.by_flow().items() for t in (part - denied).relabel(flow).terms]

def read_nsg_report(resources: Iterable[dict], *, include_default_rules: bool = False) -> tuple[AllowedSet, list[str]]:
    """The allowed set the NSGs among ``resources`` permit (union over NSGs), and reading notes."""
    resources = list(resources)
    notes: list[str] = []
    nsgs = [r for r in resources if r.get("type") == NSG_TYPE]
    separate = [r for r in resources if r.get("type") == SECURITY_RULE_TYPE]
    groups: dict[str, list[dict]] = {}
    aliases: dict[str, str] = {}
    for n in nsgs:
        key = f"nsg:{n.get('urn') or n.get('name')}"
        inputs = n.get("inputs") or {}
        rules = as_list(inputs.get("securityRules"))
        groups[key] = list(rules)
        for alias in (inputs.get("networkSecurityGroupName"), n.get("name")):
            if isinstance(alias, str):
                aliases.setdefault(alias, key)
        if rules and separate and len(nsgs) == 1:
            notes.append(f"NSG {n.get('name')} has inline securityRules and separate SecurityRule resources: "
                         "they fight each other on every update")
    for r in separate:
        inputs = r.get("inputs") or {}
        owner = inputs.get("networkSecurityGroupName")
        if len(nsgs) == 1:
            key = next(iter(groups))
        elif isinstance(owner, str) and owner in aliases:
            key = aliases[owner]
        else:
            key = f"name:{owner}"
        groups.setdefault(key, []).append(inputs)
    terms: list[Term] = []
    for key in sorted(groups):
        rules = groups[key] + (list(DEFAULT_RULES) if include_default_rules else [])
        terms.extend(_evaluate(rules, notes))
    return AllowedSet(terms), notes


def read_nsg(resources: Iterable[dict], *, include_default_rules: bool = False) -> AllowedSet:
    """The allowed set the NSG resources permit (see :func:`read_nsg_report`)."""
    return read_nsg_report(resources, include_default_rules=include_default_rules)[0]


# ---- firewall policy ---------------------------------------------------------------------------------

def _f(d: dict, key: str):
    if key in d:
        return d[key]
    p = d.get("properties")
    return p.get(key) if isinstance(p, dict) else None


def _addresses(words, where: str, notes: list[str]) -> list[str]:
    cidrs, tags = addresses_and_tags(words, where, notes)
    notes.extend(f"{where}: service tag {tag_of(a)!r} in an application rule is not modelled" for a in tags)
    return cidrs


def _rule_terms(rule: dict, where: str, notes: list[str]) -> list[Term]:
    rtype = _f(rule, "ruleType")
    flow = flow_label(_f(rule, "description"))
    if as_list(_f(rule, "destinationIpGroups")) or as_list(_f(rule, "sourceIpGroups")):
        notes.append(f"{where}: IP groups are not modelled")
    if rtype == "NetworkRule":
        protos = {str(p).lower() for p in as_list(_f(rule, "ipProtocols"))}
        transports = [t for t in ("tcp", "udp") if t in protos or "any" in protos]
        if protos - {"tcp", "udp", "any"}:
            notes.append(f"{where}: protocols {sorted(protos - {'tcp', 'udp', 'any'})} are outside the model")
        cidrs, tags = addresses_and_tags(_f(rule, "destinationAddresses"), where, notes)
        names = [str(n) for n in as_list(_f(rule, "destinationFqdns"))]
        dst, pn = ports_from_azure(_f(rule, "destinationPorts"))
        notes.extend(f"{where}: {n}" for n in pn)
        if dst is None:
            return []
        peer = Peer.of(cidrs, names, tags)
        if peer.is_empty:
            return []
        return [Term("egress", t, peer, PortSet.of(None), dst, flow) for t in transports]
    if rtype == "ApplicationRule":
        ports = []
        for p in as_list(_f(rule, "protocols")):
            ptype = str(_f(p, "protocolType") or "")
            port = to_int(_f(p, "port"), HTTP_PORTS.get(ptype))
            if port is not None:
                ports.append((port, port))
        for key in ("fqdnTags", "webCategories", "targetUrls"):
            if as_list(_f(rule, key)):
                notes.append(f"{where}: {key} are not modelled")
        targets = [str(n) for n in as_list(_f(rule, "targetFqdns"))]
        cidrs = [c for n in targets if n.strip() == "*" for c in (ANY_IPV4, ANY_IPV6)]
        cidrs += _addresses(_f(rule, "destinationAddresses"), where, notes)
        peer = Peer.of(cidrs, [n for n in targets if n.strip() != "*"])
        if not ports or peer.is_empty:
            return []
        return [Term("egress", "tcp", peer, PortSet.of(None), PortSet.of(ports), flow)]
    notes.append(f"{where}: rule type {rtype!r} not understood (ignored)")
    return []


def _sources(rule: dict) -> tuple:
    """The rule's clients as a comparable key; ``("any",)`` for ``*`` (or nothing given)."""
    words = sorted(str(w).strip().lower() for w in as_list(_f(rule, "sourceAddresses")))
    groups = sorted(repr(g) for g in as_list(_f(rule, "sourceIpGroups")))
    if not groups and (not words or any(w in ("*", "any", "0.0.0.0/0") for w in words)):
        return ("any",)
    return ("sources", tuple(words), tuple(groups))


def read_firewall_policy_report(resources: Iterable[dict]) -> tuple[AllowedSet, list[str]]:
    """What the firewall policy rule collection groups among ``resources`` allow (egress), and notes."""
    notes: list[str] = []
    entries = []  # (kind order, group priority, collection priority, name, action, terms)
    for res in resources:
        if res.get("type") != GROUP_TYPE:
            continue
        inputs = res.get("inputs") or {}
        gprio = to_int(_f(inputs, "priority"), 0)
        for c in as_list(_f(inputs, "ruleCollections")):
            cname = str(_f(c, "name") or "")
            ctype = _f(c, "ruleCollectionType")
            if ctype != "FirewallPolicyFilterRuleCollection":
                notes.append(f"{res.get('name')}/{cname}: {ctype} collections are not read (DNAT is ingress)")
                continue
            action = str(_f(_f(c, "action") or {}, "type") or "").capitalize()  # ARM enums ignore case
            cprio = to_int(_f(c, "priority"), 0)
            for r in as_list(_f(c, "rules")):
                where = f"{res.get('name')}/{cname}/{_f(r, 'name')}"
                kind = 0 if _f(r, "ruleType") == "NetworkRule" else 1
                entries.append((kind, gprio, cprio, cname, action, _rule_terms(r, where, notes), _sources(r)))
    terms: list[Term] = []
    denies: dict[tuple, AllowedSet] = {}
    for _, _, _, _, action, ts, sources in sorted(entries, key=lambda e: e[:4]):
        box = AllowedSet(ts)
        if action == "Deny":
            denies[sources] = denies.get(sources, AllowedSet()) | box
        elif action == "Allow":
            terms.extend(_not_denied(box, denies, sources))
    return AllowedSet(terms), notes


def read_firewall_policy(resources: Iterable[dict]) -> AllowedSet:
    """The egress the firewall policy rule collection groups permit (see :func:`read_firewall_policy_report`)."""
    return read_firewall_policy_report(resources)[0]
