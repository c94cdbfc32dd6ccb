"""AWS readers: what the security groups and Network Firewall rule groups of a stack allow (pure, no pulumi).

They read registered resources (``{"type", "name", "inputs"}``, camelCase inputs, as the mock runtime and
the policy pack see them), from spirit-infra or any other stack.

**Security groups** (:func:`read`, :func:`read_groups`): any stack, not only ours: inline ``ingress`` /
``egress`` on ``aws.ec2.SecurityGroup``, ``aws.vpc.SecurityGroupIngressRule``/``EgressRule``, the older
``aws.ec2.SecurityGroupRule``, ``aws.ec2.ManagedPrefixList`` (``entries[].cidr``) and
``ManagedPrefixListEntry``. The flow algebra models TCP and UDP only: protocol ``-1``/``all`` reads as
tcp+udp on any port (exact for comparing TCP/UDP traffic, and conservative for the policy pack); ICMP and
other protocols are ignored. Peers the reader cannot resolve (another security group, an AWS-managed or
unknown prefix list) are skipped, or read as any address with ``unknown_peer="any"`` (conservative).
Terms are labelled with the ``spirit-flow`` tag (or ``spirit-flow=`` in the description), else ``""``.

**Network Firewall** (:func:`read_firewall`): stateful rule groups' domain lists, Suricata ``pass`` rules
and 5-tuple ``statefulRules`` (see the function).
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from collections.abc import Iterable

from .. import marks
from ..errors import ConfigError
from ..flows import ANY_IPV4, ANY_IPV6, AllowedSet, Peer, PortSet, Term
from .fqdn import DOMAIN_PORTS, TYPE_RULE_GROUP
from .rules import (
    MANAGED,
    TYPE_EGRESS,
    TYPE_INGRESS,
    TYPE_PREFIX_LIST,
    TYPE_PREFIX_LIST_ENTRY,
    TYPE_SG,
    TYPE_SG_RULE,
)

__all__ = ["read", "read_groups", "read_firewall"]


# ---- security groups ---------------------------------------------------------------------------------

_PROTOCOLS = {"-1": ("tcp", "udp"), "all": ("tcp", "udp"), "tcp": ("tcp",), "6": ("tcp",),
              "udp": ("udp",), "17": ("udp",)}


class _Index:
    def __init__(self, resources: list[dict]):
        self.by_key: dict[str, dict] = {}
        for r in resources:
            for k in (r.get("name"), r.get("urn"), r.get("id")):
                if isinstance(k, str) and k:
                    self.by_key[k] = r
        self.pl_entries: dict[int, list[str]] = defaultdict(list)
        for r in resources:
            if r.get("type") == TYPE_PREFIX_LIST:
                self.pl_entries[id(r)].extend(e.get("cidr") for e in (r.get("inputs") or {}).get("entries") or []
                                              if isinstance(e, dict) and e.get("cidr"))
        for r in resources:
            if r.get("type") == TYPE_PREFIX_LIST_ENTRY:
                inp = r.get("inputs") or {}
                target = self.resolve(inp.get("prefixListId"))
                if target is not None and inp.get("cidr"):
                    self.pl_entries[id(target)].append(inp["cidr"])

    def resolve(self, value) -> dict | None:
        if isinstance(value, dict) and "$ref" in value:
            value = value["$ref"]
        return self.by_key.get(value) if isinstance(value, str) else None

    def group_key(self, value) -> str:
        r = self.resolve(value)
        if r is not None:
            return r.get("name") or r.get("id") or ""
        return str(value.get("$ref") if isinstance(value, dict) else value)

    def prefix_list(self, value) -> list[str] | None:
        r = self.resolve(value)
        if r is None or r.get("type") != TYPE_PREFIX_LIST:
            return None
        return self.pl_entries[id(r)]


def _flows_of(inputs: dict, fallback: dict | None = None) -> list[str]:
    for src in (inputs, fallback or {}):
        tags = src.get("tags") or {}
        value = tags.get(marks.FLOW_KEY) if isinstance(tags, dict) else None
        if not value:
            value = marks.parse_description(src.get("description")).get(marks.FLOW_KEY)
        if value:
            return sorted({f for f in str(value).split(",") if f})
    return [""]


def _terms(direction: str, protocol, from_port, to_port, peers: list[str], flows: list[str]) -> list[Term]:
    transports = _PROTOCOLS.get(str(protocol).lower())
    if not transports or not peers:
        return []  # ICMP and other protocols are outside the algebra (TCP/UDP only)
    if str(protocol).lower() in ("-1", "all") or from_port is None or to_port is None or int(from_port) < 0:
        ports = PortSet.of(None)
    else:
        ports = PortSet.of([(int(from_port), int(to_port))])
    atoms = [p for p in peers if p.startswith(MANAGED + ":")]
    peer = Peer.of([p for p in peers if not p.startswith(MANAGED + ":")], (), atoms)
    return [Term(direction, t, peer, PortSet.of(None), ports, f) for t in transports for f in flows]


def _managed_name(value, tags) -> str | None:
    """The AWS-managed prefix list a rule references: ``{"$managedPrefixList": name}`` in a plan, else
    (an opaque ``pl-...`` id that is no resource of the stack) the name the rule's
    ``spirit-prefix-list`` tag gives."""
    if isinstance(value, dict) and isinstance(value.get("$managedPrefixList"), str):
        return value["$managedPrefixList"]
    name = tags.get(marks.PREFIX_LIST_KEY) if isinstance(tags, dict) else None
    return name if isinstance(name, str) and name.startswith("com.amazonaws.") else None


def _peers(idx: _Index, cidrs: Iterable, pl_ids: Iterable, others: int, unknown_peer: str,
           tags: dict | None = None) -> list[str]:
    out = [c for c in cidrs if c]
    unknown = others
    for p in pl_ids:
        entries = idx.prefix_list(p)
        managed = _managed_name(p, tags) if entries is None and idx.resolve(p) is None else None
        if managed is not None:
            out.append(f"{MANAGED}:{managed}")
        elif entries is None:
            unknown += 1
        else:
            out.extend(entries)
    if unknown and unknown_peer == "any":
        out.extend((ANY_IPV4, ANY_IPV6))
    return out


def read_groups(resources: list[dict], *, unknown_peer: str = "skip") -> dict[str, AllowedSet]:
    """Allowed traffic per security group (keyed by the group's logical name, else its id)."""
    if unknown_peer not in ("skip", "any"):
        raise ConfigError(f"must be 'skip' or 'any', not {unknown_peer!r}", field="unknown_peer")
    idx = _Index(resources)
    terms: dict[str, list[Term]] = defaultdict(list)
    for r in resources:
        typ, inp = r.get("type"), r.get("inputs") or {}
        if typ == TYPE_SG:
            key = r.get("name") or r.get("id") or ""
            terms.setdefault(key, [])
            for direction in ("ingress", "egress"):
                for rule in inp.get(direction) or []:
                    others = len(rule.get("securityGroups") or []) + (1 if rule.get("self") else 0)
                    peers = _peers(idx, list(rule.get("cidrBlocks") or []) + list(rule.get("ipv6CidrBlocks") or []),
                                   rule.get("prefixListIds") or [], others, unknown_peer)
                    terms[key].extend(_terms(direction, rule.get("protocol"), rule.get("fromPort"),
                                             rule.get("toPort"), peers, _flows_of(rule, inp)))
        elif typ in (TYPE_EGRESS, TYPE_INGRESS):
            direction = "egress" if typ == TYPE_EGRESS else "ingress"
            others = 1 if inp.get("referencedSecurityGroupId") else 0
            pls = [inp["prefixListId"]] if inp.get("prefixListId") else []
            peers = _peers(idx, [inp.get("cidrIpv4"), inp.get("cidrIpv6")], pls, others, unknown_peer,
                           inp.get("tags"))
            terms[idx.group_key(inp.get("securityGroupId"))].extend(
                _terms(direction, inp.get("ipProtocol"), inp.get("fromPort"), inp.get("toPort"), peers,
                       _flows_of(inp)))
        elif typ == TYPE_SG_RULE:
            direction = inp.get("type")
            if direction not in ("ingress", "egress"):
                continue
            others = (1 if inp.get("sourceSecurityGroupId") else 0) + (1 if inp.get("self") else 0)
            peers = _peers(idx, list(inp.get("cidrBlocks") or []) + list(inp.get("ipv6CidrBlocks") or []),
                           inp.get("prefixListIds") or [], others, unknown_peer)
            terms[idx.group_key(inp.get("securityGroupId"))].extend(
                _terms(direction, inp.get("protocol"), inp.get("fromPort"), inp.get("toPort"), peers,
                       _flows_of(inp)))
    return {k: AllowedSet(v) for k, v in sorted(terms.items())}


def read(resources: list[dict], *, unknown_peer: str = "skip") -> AllowedSet:
    """All traffic the security groups in ``resources`` allow (union over groups)."""
    out: list[Term] = []
    for s in read_groups(resources, unknown_peer=unknown_peer).values():
        out.extend(s.terms)
    return AllowedSet(out)


# ---- Network Firewall --------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\w+)\s+(\w+)\s+(\S+|\[[^\]]*\])\s+(\S+|\[[^\]]*\])\s+(->|<>)\s+"
                     r"(\S+|\[[^\]]*\])\s+(\S+|\[[^\]]*\])\s*\((.*)\)\s*$")
#: Suricata rule protocols -> the transports they pass (``ip`` passes everything; app-layer keywords
#: pass the transport they run over; ICMP and others are outside the algebra).
_PROTO = {"ip": ("tcp", "udp"), "tcp": ("tcp",), "udp": ("udp",), "tls": ("tcp",), "ssl": ("tcp",),
          "http": ("tcp",), "http2": ("tcp",), "ftp": ("tcp",), "ssh": ("tcp",), "smtp": ("tcp",),
          "imap": ("tcp",), "smb": ("tcp",), "dcerpc": ("tcp", "udp"), "dns": ("tcp", "udp"),
          "krb5": ("tcp", "udp"), "ntp": ("udp",), "tftp": ("udp",), "dhcp": ("udp",), "ikev2": ("udp",),
          "sip": ("tcp", "udp")}
_NAME_BUFFERS = ("tls.sni", "http.host", "tls_sni", "http_host")
_HOME = ("$HOME_NET", "any")


def _ports_of(text: str) -> PortSet | None:
    text = text.strip()
    if text in ("any", "$ANY"):
        return PortSet.of(None)
    if text.startswith("!"):
        return None
    ranges = []
    for part in text.strip("[]").split(","):
        part = part.strip()
        if not part or part.startswith("!") or part.startswith("$"):
            return None
        if ":" in part:
            lo, _, hi = part.partition(":")
            ranges.append((int(lo or 0), int(hi or 65535)))
        else:
            ranges.append((int(part), int(part)))
    return PortSet.of(ranges)


def _addrs(text: str) -> list[str] | None:
    """CIDRs of an address spec; ``None`` for variables (``$HOME_NET``), ``["0.0.0.0/0"]`` for any."""
    text = text.strip()
    if text in ("any", "$EXTERNAL_NET"):
        return [ANY_IPV4]
    if text.startswith("$") or text.startswith("!"):
        return None
    parts = [p.strip() for p in text.strip("[]").split(",")]
    if any(p.startswith("$") or p.startswith("!") for p in parts):
        return None
    return parts


def _options(body: str) -> list[tuple[str, str]]:
    out = []
    for item in re.findall(r'((?:[^;"]|"[^"]*")*);', body):
        key, _, value = item.strip().partition(":")
        out.append((key.strip(), value.strip()))
    return out


def _read_suricata(text: str, default_flows: list[str]) -> list[Term]:
    terms: list[Term] = []
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m or m.group(1) != "pass" or m.group(2).lower() not in _PROTO:
            continue
        proto, src, sport, arrow, dst, dport, body = m.group(2).lower(), m.group(3), m.group(4), m.group(5), \
            m.group(6), m.group(7), m.group(8)
        opts = _options(body)
        flows = default_flows
        names: list[str] = []
        sticky = None
        for key, value in opts:
            if key == "msg":
                found = marks.parse_description(shlex.split(value)[0] if value else "").get(marks.FLOW_KEY)
                if found:
                    flows = sorted(found.split(","))
            elif key in _NAME_BUFFERS:
                sticky = key
            elif "." in key or key.startswith(("http_", "tls_", "dns_", "file_")):
                sticky = None  # another sticky buffer: its contents are not names
            elif key == "content" and sticky:
                names.append(value.strip('"').lower())
        sp, dp = _ports_of(sport), _ports_of(dport)
        if sp is None or dp is None:
            continue
        sides = [(src, sp, dst, dp)] + ([(dst, dp, src, sp)] if arrow == "<>" else [])
        for a, ap, b, bp in sides:
            # egress: from the home network (or any) to a peer; ingress: from a peer to the home network
            for direction, home, peer_text, local_p, remote_p in (("egress", a, b, ap, bp), ("ingress", b, a, bp, ap)):
                if home not in _HOME:
                    continue
                peer_cidrs = _addrs(peer_text)
                if peer_cidrs is None:
                    continue
                peer = Peer.of((), names) if names else Peer.of(peer_cidrs)
                src_p, dst_p = (local_p, remote_p) if direction == "egress" else (remote_p, local_p)
                terms.extend(Term(direction, t, peer, src_p, dst_p, f) for t in _PROTO[proto] for f in flows)
    return terms


def _stateful_rule_lines(rules) -> str:
    """5-tuple ``statefulRules`` as Suricata lines (only what the reader needs: action and header)."""
    lines = []
    for r in rules or []:
        h = (r.get("header") or {}) if isinstance(r, dict) else {}
        if not h:
            continue
        arrow = "<>" if str(h.get("direction", "FORWARD")).upper() == "ANY" else "->"
        fields = [str(h.get(k) or "any") for k in ("source", "sourcePort", "destination", "destinationPort")]
        fields = [f if f.startswith("$") else f.lower() if f.upper() == "ANY" else f for f in fields]
        lines.append(f"{str(r.get('action', '')).lower()} {str(h.get('protocol', '')).lower()} {fields[0]} "
                     f"{fields[1]} {arrow} {fields[2]} {fields[3]} ()")
    return "\n".join(lines)


def read_firewall(resources: list[dict]) -> AllowedSet:
    """What Network Firewall stateful rule groups pass (egress from / ingress to ``$HOME_NET``).

    Understands domain lists (``ALLOWLIST``: HTTP_HOST read as tcp 80, TLS_SNI as tcp 443 to the names)
    Suricata ``pass`` rules (``rulesString``) and 5-tuple ``statefulRules`` with action PASS: ``ip``
    passes TCP and UDP, app-layer protocols the transport they run over; ``tls.sni``/``http.host``
    contents become names; ``any`` on the home side counts as the home network; ``<>`` reads both
    directions. Rules with negations or variables other than ``$HOME_NET``/``$EXTERNAL_NET`` are skipped.
    """
    terms: list[Term] = []
    for r in resources:
        if r.get("type") != TYPE_RULE_GROUP:
            continue
        inp = r.get("inputs") or {}
        if str(inp.get("type", "")).upper() != "STATEFUL":
            continue
        tags = inp.get("tags") or {}
        flows = sorted((tags.get(marks.FLOW_KEY) or "").split(",")) if tags.get(marks.FLOW_KEY) else [""]
        src = ((inp.get("ruleGroup") or {}).get("rulesSource") or {})
        lst = src.get("rulesSourceList")
        if lst and lst.get("generatedRulesType") == "ALLOWLIST":
            ports = PortSet.of([(DOMAIN_PORTS[t], DOMAIN_PORTS[t]) for t in lst.get("targetTypes") or []
                                if t in DOMAIN_PORTS])
            peer = Peer.of((), lst.get("targets") or [])
            if not ports.is_empty and not peer.is_empty:
                terms.extend(Term("egress", "tcp", peer, PortSet.of(None), ports, f) for f in flows)
        text = src.get("rulesString") or inp.get("rules")
        if text:
            terms.extend(_read_suricata(text, flows))
        if src.get("statefulRules"):
            terms.extend(_read_suricata(_stateful_rule_lines(src["statefulRules"]), flows))
    return AllowedSet(terms)
