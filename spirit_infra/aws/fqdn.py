"""AWS Network Firewall and Route 53 Resolver DNS Firewall for a profile: the pure render of the name layer
(its reader is :func:`spirit_infra.aws.read.read_firewall`).

A security group cannot match DNS names, so it opens the FQDN flows (``phone-ztp``: tcp 80/443/10000 to
five vendor names; ``phone-ntp``: udp 123 to pool.ntp.org) to any address on their ports. The Network
Firewall, with egress routed through its endpoints, narrows them again. Its layout:

- ``nfw-domains``: a stateful rule group with a **domain list** (``ALLOWLIST``, target types ``TLS_SNI``
  and ``HTTP_HOST``) holding the names of the TCP FQDN flows that use ports 80/443. (AWS generates the
  domain list's Suricata rules for HTTP and TLS on any port; the reader models it as HTTP on 80 and
  TLS on 443, the ports the security group in front opens for it.)
- ``nfw-rules``: a stateful Suricata rule group (``rulesString``) with

  * one ``pass`` rule per IP flow term, exact: source *and* destination ports and CIDRs (Suricata can
    express source ports, so the firewall is exact where the security group widened them). Without
    them the policy's default drop would cut the calls that also traverse the firewall;
  * **TCP FQDN ports other than 80/443** (ZTP's 10000): ``pass tls ... (tls.sni; content:"<name>";
    startswith; endswith;)`` and ``pass http ... (http.host; ...)`` per name, on that port only.
    A service on such a port that speaks neither TLS nor HTTP is dropped (it has no name on the wire);
  * **UDP FQDN flows** (NTP to pool.ntp.org): NTP carries no name on the wire and Network Firewall has
    no DNS-driven IP sets, so this is a **named widening**: ``pass udp $HOME_NET <client ports> ->
    $EXTERNAL_NET 123``, i.e. pool.ntp.org widened to any address on udp 123 (client ports kept).
    It is returned in ``widened`` (target ``aws-network-firewall``) and as a warning.

- ``nfw-policy``: firewall policy, strict rule order, stateless traffic forwarded to the stateful
  engine, stateful default ``aws:drop_established`` + ``aws:alert_established`` in strict mode
  (``drop_established`` rather than ``drop_strict`` so that TCP handshakes complete and the SNI/Host
  can be inspected); non-strict: ``aws:alert_established`` only (log, do not drop). Rule group
  priorities come from the group's role (domains 100, rules 200), never from a position.
- ``nfw``: the firewall itself, only when subnets are given (routing egress through its endpoints is
  the network owner's job: route tables are not touched).

Optional **DNS Firewall** (``dns_firewall=True``): a Route 53 Resolver domain list of every DNS name in
the profile (the catalogue rows' NAPTR/SRV/A names and the FQDN flows' names; NAPTR and SRV names also
as ``*.<name>`` for the records they point to), a rule group with an ``ALLOW`` rule for it and, with
``dns_block_others=True``, a ``BLOCK``/``NODATA`` rule for every other name; associated with the VPC.
It filters name resolution only: traffic to an address it never resolved is not stopped.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from .. import marks
from ..errors import ConfigError
from ..flows import ANY_IPV4, AllowedSet, Capabilities, Peer, PortSet, Term, Widening, project
from ..naming import join
from ..plan import Plan
from ..settings import DNS_BLOCK_OTHERS, DNS_FIREWALL, STRICT, Setting, check_fields
from .rules import PARAM_VPC, ref, specs_plan

__all__ = ["NFW_TARGET", "TYPE_RULE_GROUP", "TYPE_POLICY", "TYPE_FIREWALL", "TYPE_DNS_DOMAIN_LIST",
           "TYPE_DNS_RULE_GROUP", "TYPE_DNS_RULE", "TYPE_DNS_ASSOCIATION", "FirewallOptions", "FirewallRender",
           "model_firewall", "dns_names", "as_plan", "NFW_CAPS_TCP", "NFW_CAPS_UDP"]

NFW_TARGET = "aws-network-firewall"
TYPE_RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
TYPE_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"
TYPE_FIREWALL = "aws:networkfirewall/firewall:Firewall"
TYPE_DNS_DOMAIN_LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
TYPE_DNS_RULE_GROUP = "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup"
TYPE_DNS_RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"
TYPE_DNS_ASSOCIATION = "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation"

DOMAIN_PORTS = {"HTTP_HOST": 80, "TLS_SNI": 443}
#: platform destinations on the Network Firewall: AWS-managed prefix lists widen to any address on the
#: flow's ports (named; the security group in front keeps them exact), Azure service tags are refused
PLATFORM_CAPS = {"platform": (), "platform_refused": ("azure-service-tag",),
                 "platform_reason": "an Azure service tag exists only on Azure; on AWS use a managed prefix list"}
NFW_PLATFORM_CAPS = Capabilities(NFW_TARGET, source_ports=True, fqdn=True, **PLATFORM_CAPS)
#: what the Network Firewall expresses, per transport: names match by TLS SNI / HTTP Host (TCP); a UDP flow
#: to a name (NTP carries none on the wire) widens to any address
NFW_CAPS_TCP = Capabilities("aws network firewall", source_ports=True, fqdn=True, **PLATFORM_CAPS)
NFW_CAPS_UDP = Capabilities("aws network firewall", source_ports=True, fqdn=False, **PLATFORM_CAPS)
PRIORITY = {"nfw-domains": 100, "nfw-rules": 200}


#: the render's own knob (the components pass len(subnet_ids)): declared like the shared settings
_SUBNET_COUNT = Setting("subnet_count", int, 0, "Firewall endpoint subnets; 0 renders the rule groups and "
                        "policy only.", ge=0)


@dataclass(frozen=True)
class FirewallOptions:
    """How to render the FQDN layer.

    - ``strict``: stateful default action drop (default); ``False``: alert only.
    - ``subnet_count``: firewall endpoint subnets (``{"$param": "subnetIds", "index": i}``); 0 renders
      the rule groups and policy only.
    - ``dns_firewall``: also render a Route 53 Resolver DNS Firewall for the profile's names.
    - ``dns_block_others``: the DNS Firewall blocks every other name (NODATA). Off by default: it also
      blocks the names of everything else in the VPC.
    - ``name``: prefix of the AWS names (DNS Firewall resources need one).
    """

    strict: bool = STRICT.field()
    subnet_count: int = _SUBNET_COUNT.field()
    dns_firewall: bool = DNS_FIREWALL.field()
    dns_block_others: bool = DNS_BLOCK_OTHERS.field()
    name: str = "spirit"

    def __post_init__(self) -> None:
        check_fields(self)
        if self.dns_block_others and not self.dns_firewall:
            raise ConfigError("needs dns_firewall", field="dns_block_others")


@dataclass(frozen=True)
class FirewallRender:
    profile: str
    resources: tuple[dict, ...]
    widened: tuple[Widening, ...]
    warnings: tuple[str, ...]
    #: what :func:`read_firewall` reads from these resources: the profile's set with only the widenings
    projected: AllowedSet = field(repr=False, compare=False, default_factory=AllowedSet)

    def to_json(self) -> dict:
        return {"profile": self.profile, "resources": list(self.resources),
                "widened": [w.to_json() for w in self.widened], "warnings": list(self.warnings)}


# ---- Suricata ---------------------------------------------------------------------------------------

def _sport(ps: PortSet) -> str:
    if ps.is_any:
        return "any"
    parts = [str(lo) if lo == hi else f"{lo}:{hi}" for lo, hi in ps.ranges]
    return parts[0] if len(parts) == 1 else "[" + ",".join(parts) + "]"


def _addr(cidrs: tuple[str, ...]) -> str:
    if cidrs == (ANY_IPV4,):
        return "$EXTERNAL_NET"
    return cidrs[0] if len(cidrs) == 1 else "[" + ",".join(cidrs) + "]"


def _sid(text: str) -> int:
    """A stable sid from the rule's content (never a position): 1,000,000-268,435,455."""
    return 1_000_000 + int(hashlib.sha256(text.encode()).hexdigest()[:7], 16) % 267_435_455


def _rule(action_proto: str, src: str, sport: str, dst: str, dport: str, flows: list[str], extra: str = "") -> str:
    head = f"pass {action_proto} {src} {sport} -> {dst} {dport}"
    msg = "spirit-flow=" + ",".join(sorted(flows))
    body = f"{extra}msg:\"{msg}\";"
    return f"{head} ({body} sid:{_sid(head + body)}; rev:1;)"


def dns_names(profile) -> list[str]:
    """Every DNS name of a profile for the DNS Firewall (NAPTR/SRV names also as ``*.<name>``)."""
    names: set[str] = set()
    for f in profile.flows:
        names.update(f.peer_fqdns)
        for fid in f.derived_from:
            try:
                row = profile.catalogue.flow(fid)
            except KeyError:
                continue
            for d in row.dns:
                names.add(d.name.lower())
                if d.type in ("NAPTR", "SRV"):
                    names.add("*." + d.name.lower())
    return sorted(names)


def model_firewall(profile, options: FirewallOptions | None = None) -> FirewallRender:
    """Render the Network Firewall (and optional DNS Firewall) for a :class:`~spirit_infra.Profile`."""
    opts = options or FirewallOptions()
    pname = profile.name
    # a platform destination: an AWS-managed prefix list widens to any address (named), a service tag is refused
    proj = project(profile.allowed, NFW_PLATFORM_CAPS)
    allowed = proj.allowed
    domain_names: dict[str, set[str]] = defaultdict(set)  # name -> flows
    lines: list[str] = []
    flows_in_rules: set[str] = set()
    widened: list[Widening] = list(proj.widened)
    warnings: list[str] = [f"{w.flow}: {w.before} is widened to any address on its ports on the Network "
                           "Firewall (its rules cannot reference an AWS-managed prefix list here); the security "
                           "group keeps it exact" for w in proj.widened]
    expected: list[Term] = []
    for t in allowed.terms:
        if t.peer.fqdns:
            names = t.peer.fqdns
            if t.transport == "udp":
                lines.append(_rule("udp", "$HOME_NET", _sport(t.src_ports), "$EXTERNAL_NET", _sport(t.dst_ports),
                                   [t.flow]))
                flows_in_rules.add(t.flow)
                widened.append(Widening(t.flow, "destination", ",".join(names), ANY_IPV4, NFW_TARGET))
                warnings.append(f"{t.flow}: udp {t.dst_ports} to {','.join(names)} is widened to any address on "
                                "the Network Firewall: the protocol carries no name it could match")
                expected.append(Term(t.direction, t.transport, Peer.of([ANY_IPV4]), t.src_ports, t.dst_ports, t.flow))
                continue
            std = PortSet.of([(80, 80), (443, 443)])
            if not (t.dst_ports & std).is_empty:
                for n in names:
                    domain_names[n].add(t.flow)
                expected.append(Term(t.direction, t.transport, t.peer, PortSet.of(None), t.dst_ports & std, t.flow))
            other = t.dst_ports - std
            if not other.is_empty:
                for n in names:
                    for proto, key in (("tls", "tls.sni"), ("http", "http.host")):
                        lines.append(_rule(proto, "$HOME_NET", _sport(t.src_ports), "$EXTERNAL_NET", _sport(other),
                                           [t.flow], f"{key}; content:\"{n}\"; startswith; endswith; "
                                                     "flow:to_server, established; "))
                flows_in_rules.add(t.flow)
                expected.append(Term(t.direction, t.transport, t.peer, t.src_ports, other, t.flow))
            if not t.src_ports.is_any and not (t.dst_ports & std).is_empty:
                widened.append(Widening(t.flow, "source_ports", str(t.src_ports), "any", NFW_TARGET))
            continue
        if t.direction == "egress":
            lines.append(_rule(t.transport, "$HOME_NET", _sport(t.src_ports), _addr(t.peer.cidrs),
                               _sport(t.dst_ports), [t.flow]))
        else:
            lines.append(_rule(t.transport, _addr(t.peer.cidrs), _sport(t.src_ports), "$HOME_NET",
                               _sport(t.dst_ports), [t.flow]))
        flows_in_rules.add(t.flow)
        expected.append(t)
    lines = sorted(set(lines))

    specs: list[dict] = []
    refs: list[dict] = []
    if domain_names:
        dflows = sorted({f for fs in domain_names.values() for f in fs})
        specs.append({"type": TYPE_RULE_GROUP, "name": "nfw-domains", "inputs": {
            "type": "STATEFUL",
            "capacity": max(100, 4 * len(domain_names)),
            "description": marks.description(pname, dflows, "Spirit FQDN flows (TLS SNI, HTTP Host)"),
            "ruleGroup": {
                "rulesSource": {"rulesSourceList": {
                    "generatedRulesType": "ALLOWLIST",
                    "targetTypes": ["HTTP_HOST", "TLS_SNI"],
                    "targets": sorted(domain_names),
                }},
                "statefulRuleOptions": {"ruleOrder": "STRICT_ORDER"},
            },
            "tags": marks.tags(pname, dflows),
        }})
        refs.append({"resourceArn": ref("nfw-domains", "arn"), "priority": PRIORITY["nfw-domains"]})
    if lines:
        rflows = sorted(flows_in_rules)
        specs.append({"type": TYPE_RULE_GROUP, "name": "nfw-rules", "inputs": {
            "type": "STATEFUL",
            "capacity": max(100, 2 * len(lines)),
            "description": marks.description(pname, rflows, "Spirit flows (Suricata)"),
            "ruleGroup": {
                "rulesSource": {"rulesString": "\n".join(lines) + "\n"},
                "statefulRuleOptions": {"ruleOrder": "STRICT_ORDER"},
            },
            "tags": marks.tags(pname, rflows),
        }})
        refs.append({"resourceArn": ref("nfw-rules", "arn"), "priority": PRIORITY["nfw-rules"]})
    specs.append({"type": TYPE_POLICY, "name": "nfw-policy", "inputs": {
        "description": marks.description(pname, (), "Spirit firewall policy"),
        "firewallPolicy": {
            "statelessDefaultActions": ["aws:forward_to_sfe"],
            "statelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "statefulDefaultActions": (["aws:drop_established", "aws:alert_established"] if opts.strict
                                       else ["aws:alert_established"]),
            "statefulEngineOptions": {"ruleOrder": "STRICT_ORDER"},
            "statefulRuleGroupReferences": refs,
        },
        "tags": marks.tags(pname),
    }})
    if not opts.strict:
        warnings.append("non-strict: the Network Firewall only alerts on traffic outside the profile")
    if opts.subnet_count:
        specs.append({"type": TYPE_FIREWALL, "name": "nfw", "inputs": {
            "vpcId": PARAM_VPC,
            "firewallPolicyArn": ref("nfw-policy", "arn"),
            "subnetMappings": [{"subnetId": {"$param": "subnetIds", "index": i}} for i in range(opts.subnet_count)],
            "description": marks.description(pname, (), "Spirit egress firewall"),
            "tags": marks.tags(pname),
        }})
    if opts.dns_firewall:
        names = dns_names(profile)
        specs.append({"type": TYPE_DNS_DOMAIN_LIST, "name": "dnsfw-domains", "inputs": {
            "name": join(opts.name, f"{pname}-names"), "domains": names, "tags": marks.tags(pname)}})
        specs.append({"type": TYPE_DNS_RULE_GROUP, "name": "dnsfw-group", "inputs": {
            "name": join(opts.name, pname), "tags": marks.tags(pname)}})
        specs.append({"type": TYPE_DNS_RULE, "name": "dnsfw-allow", "inputs": {
            "name": join(opts.name, f"{pname}-allow"), "action": "ALLOW", "priority": 100,
            "firewallDomainListId": ref("dnsfw-domains"), "firewallRuleGroupId": ref("dnsfw-group")}})
        if opts.dns_block_others:
            specs.append({"type": TYPE_DNS_DOMAIN_LIST, "name": "dnsfw-everything", "inputs": {
                "name": join(opts.name, f"{pname}-everything"), "domains": ["*"], "tags": marks.tags(pname)}})
            specs.append({"type": TYPE_DNS_RULE, "name": "dnsfw-block", "inputs": {
                "name": join(opts.name, f"{pname}-block"), "action": "BLOCK", "blockResponse": "NODATA",
                "priority": 200, "firewallDomainListId": ref("dnsfw-everything"),
                "firewallRuleGroupId": ref("dnsfw-group")}})
        specs.append({"type": TYPE_DNS_ASSOCIATION, "name": "dnsfw-vpc", "inputs": {
            "name": join(opts.name, pname), "firewallRuleGroupId": ref("dnsfw-group"), "vpcId": PARAM_VPC,
            "priority": 101, "mutationProtection": "DISABLED", "tags": marks.tags(pname)}})
    return FirewallRender(pname, tuple(sorted(specs, key=lambda s: (s["type"], s["name"]))),
                          tuple(sorted(set(widened))), tuple(warnings), AllowedSet(expected))


# ---- the plan ----------------------------------------------------------------------------------------

def as_plan(render: FirewallRender) -> Plan:
    """The firewall's render as a Plan (parameters: ``vpcId``, ``subnetIds``); ``expected`` is what
    :func:`~spirit_infra.aws.read.read_firewall` gives back (the profile with only the named widenings)."""
    return specs_plan(render.resources, render.widened, render.warnings, render.projected)
