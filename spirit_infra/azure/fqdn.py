"""Azure Firewall Policy: the pure render of the name layer, for the egress flows, FQDN flows included.

Layout (one ``FirewallPolicy`` and one ``FirewallPolicyRuleCollectionGroup``):

- one *network* rule collection per flow (``<prefix>-<flow>-net``):
  network rules with ``destinationAddresses`` for IP flows, and with ``destinationFqdns`` for the
  non-HTTP ports of FQDN flows (phone NTP udp/123, phone ZTP tcp/10000);
- one *application* rule collection per FQDN flow that uses tcp/80 or tcp/443
  (``<prefix>-<flow>-app``): an application rule with ``protocols`` ``[{Http, 80}, {Https, 443}]`` and
  ``targetFqdns`` (matched on the HTTP Host / TLS SNI);
- the policy's DNS proxy is enabled (``dnsSettings.enableProxy``): FQDN network rules need it, and
  the VNet's DNS server must point at the firewall (the firewall resolves the names the clients use).

Collection priorities are stable like the NSG's: a hash of ``<kind>:<flow>`` into a band (default
10000-19999 of 100-65000), collisions are errors, pins settle them. Every collection is Allow, so
their order does not change what is allowed; stability keeps diffs to the one flow that changed.

Capabilities: names yes (exactly, no wildcards in network rules); source ports no (network and
application rules have none), so every source-port restriction widens to "any", reported. In a
layout where egress goes through the NSG (exact source ports, FQDN widened to 0.0.0.0/0) and then
through this firewall (exact names, source ports any), each dimension is enforced exactly by one of
the two layers.

Only egress is rendered: ingress to the SBC reaches its NIC directly and is the NSG's job.

The reader is :func:`spirit_infra.azure.read.read_firewall_policy` (:mod:`.read`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import marks
from ..errors import CapabilityError, ConfigError
from ..flows import AllowedSet, Capabilities, PortSet, Term, Widening, project
from ..plan import Param, Plan, Ref, ResourceSpec
from ..settings import FW_GROUP_PRIORITY, FW_PRIORITY_START, FW_PRIORITY_WIDTH, NAME_PREFIX, check_fields
from .common import (
    NAME_RE,
    RG_LOCATION,
    parse_address,
    platform_caps,
    ports_to_azure,
    tag_of,
)
from .priorities import Band, Slot, assign_priorities

__all__ = ["FW_CAPS", "POLICY_TYPE", "GROUP_TYPE", "FirewallOptions", "FirewallPlan", "model",
           "fqdn_flow_ids", "as_plan"]

POLICY_TYPE = "azure-native:network:FirewallPolicy"
GROUP_TYPE = "azure-native:network:FirewallPolicyRuleCollectionGroup"

#: What Azure Firewall Policy rules express: DNS names yes, source ports no.
FW_CAPS = Capabilities("azure firewall policy", source_ports=False, fqdn=True, **platform_caps())
FW_PRIORITY_MIN, FW_PRIORITY_MAX = FW_GROUP_PRIORITY.ge, FW_GROUP_PRIORITY.le
HTTP_PORTS = {"Http": 80, "Https": 443, "Mssql": 1433}


@dataclass(frozen=True)
class FirewallOptions:
    """How to lay out the firewall policy (validated by :meth:`validate`)."""

    #: the rule collection group's priority and the collections' band (settings.FW_*)
    group_priority: int = FW_GROUP_PRIORITY.field()
    priority_start: int = FW_PRIORITY_START.field()
    priority_width: int = FW_PRIORITY_WIDTH.field()
    #: fixed collection priorities by collection name, to settle a reported collision
    priority_pins: Mapping[str, int] = field(default_factory=dict)
    #: the clients' addresses (the local side); "*" = whatever the firewall sees
    source_addresses: tuple[str, ...] = ("*",)
    #: also carry the IP flows (needed when all egress is routed through the firewall)
    include_ip_flows: bool = True
    #: enable the DNS proxy (required by FQDN network rules)
    dns_proxy: bool = True
    #: "Standard" or "Premium" (Basic has no DNS proxy)
    tier: str = "Standard"
    name_prefix: str = NAME_PREFIX.field()
    profile: str | None = None

    @property
    def band(self) -> Band:
        return Band(self.priority_start, self.priority_width, FW_PRIORITY_MIN, FW_PRIORITY_MAX, "collection")

    def validate(self) -> None:
        check_fields(self)
        self.band.validate()
        if self.tier not in ("Standard", "Premium"):
            raise ConfigError(f"{self.tier!r} is not Standard or Premium (Basic has no DNS proxy)", field="tier")
        if not NAME_RE.match(self.name_prefix):
            raise ConfigError(f"{self.name_prefix!r} is not a valid Azure name prefix", field="name_prefix")
        if not self.source_addresses:
            raise ConfigError("needs at least one address (\"*\" for any)", field="source_addresses")
        for a in self.source_addresses:
            got, _ = parse_address(a)
            if got is None:
                raise ConfigError(f"{a!r} is not an address, range or '*'", field="source_addresses")


@dataclass(frozen=True)
class FirewallPlan:
    profile: str | None
    band: Band
    group_priority: int
    policy_inputs: dict
    collections: tuple[dict, ...]     # ruleCollections, camelCase, sorted by name
    widened: tuple[Widening, ...]
    expected: AllowedSet

    @property
    def group_inputs(self) -> dict:
        return {"priority": self.group_priority, "ruleCollections": [dict(c) for c in self.collections]}

    def resources(self, policy_name: str = "policy") -> list[dict]:
        return [{"type": POLICY_TYPE, "name": policy_name, "inputs": dict(self.policy_inputs)},
                {"type": GROUP_TYPE, "name": f"{policy_name}-rules",
                 "inputs": dict(self.group_inputs, firewallPolicyName=policy_name)}]

    def layout(self) -> list[dict]:
        return [{"priority": c["priority"], "name": c["name"], "rules": [r["name"] for r in c["rules"]],
                 "kind": "application" if c["rules"] and c["rules"][0]["ruleType"] == "ApplicationRule"
                 else "network"} for c in sorted(self.collections, key=lambda c: c["priority"])]

    def to_json(self) -> dict:
        return {"profile": self.profile, "band": {"start": self.band.start, "end": self.band.end},
                "policy": {"inputs": self.policy_inputs}, "group": {"inputs": self.group_inputs},
                "widened": [w.to_json() for w in self.widened]}


def fqdn_flow_ids(allowed: AllowedSet) -> tuple[str, ...]:
    """Flows with a DNS-name destination (the ones only an FQDN-capable layer can hold exactly)."""
    return tuple(sorted({t.flow for t in allowed.terms if t.peer.fqdns}))


def _digest(term: Term) -> str:
    return hashlib.sha256(f"{term.peer}|{term.dst_ports}".encode()).hexdigest()[:6]


def model(source, options: FirewallOptions | None = None) -> FirewallPlan:
    """The firewall policy for the egress flows of ``source`` (Profile or labelled AllowedSet)."""
    opts = options or FirewallOptions()
    opts.validate()
    if isinstance(source, AllowedSet):
        allowed, profile = source, opts.profile
    else:
        allowed, profile = source.allowed, source.name
    egress = allowed.select(direction="egress")
    if not opts.include_ip_flows:
        egress = egress.select(flows=fqdn_flow_ids(egress))
    proj = project(egress, FW_CAPS)

    def desc(flow: str) -> dict:
        if profile:
            return {"description": marks.description(profile, [flow] if flow else [])}
        return {}

    src = list(opts.source_addresses)
    by_flow: dict[str, list[Term]] = defaultdict(list)
    for t in proj.allowed.terms:
        by_flow[t.flow].append(t)
    collections: dict[str, dict] = {}  # name -> collection (rules filled below)
    keys: dict[str, str] = {}
    fqdn_network = False
    for flow, terms in sorted(by_flow.items()):
        base = flow or "unlabelled"
        net_rules: list[dict] = []
        app_rules: list[dict] = []
        per_transport = defaultdict(int)
        for t in terms:
            per_transport[t.transport] += 1
        for t in sorted(terms):
            suffix = f"-{_digest(t)}" if per_transport[t.transport] > 1 else ""
            proto = t.transport.upper()
            if t.peer.cidrs:
                net_rules.append({"ruleType": "NetworkRule", "name": f"{base}-{t.transport}-ip{suffix}",
                                  "ipProtocols": [proto], "sourceAddresses": src,
                                  "destinationAddresses": list(t.peer.cidrs),
                                  "destinationPorts": ports_to_azure(t.dst_ports), **desc(flow)})
            if t.peer.platform:  # network rules take service tags as destination addresses
                net_rules.append({"ruleType": "NetworkRule", "name": f"{base}-{t.transport}-tag{suffix}",
                                  "ipProtocols": [proto], "sourceAddresses": src,
                                  "destinationAddresses": [tag_of(a) for a in t.peer.platform],
                                  "destinationPorts": ports_to_azure(t.dst_ports), **desc(flow)})
            if t.peer.fqdns:
                rest = t.dst_ports
                web = []
                if t.transport == "tcp":
                    for ptype in ("Http", "Https"):
                        port = HTTP_PORTS[ptype]
                        if port in t.dst_ports:
                            web.append({"protocolType": ptype, "port": port})
                            rest = rest - PortSet.single(port)
                if web:
                    app_rules.append({"ruleType": "ApplicationRule", "name": f"{base}-web{suffix}",
                                      "protocols": web, "sourceAddresses": src,
                                      "targetFqdns": list(t.peer.fqdns), **desc(flow)})
                if not rest.is_empty:
                    wild = [n for n in t.peer.fqdns if "*" in n]
                    if wild:
                        raise CapabilityError(f"azure firewall policy: flow {base}: network rules take no "
                                              f"wildcard names ({', '.join(wild)})")
                    fqdn_network = True
                    net_rules.append({"ruleType": "NetworkRule", "name": f"{base}-{t.transport}-fqdn{suffix}",
                                      "ipProtocols": [proto], "sourceAddresses": src,
                                      "destinationFqdns": list(t.peer.fqdns),
                                      "destinationPorts": ports_to_azure(rest), **desc(flow)})
        for kind, rules in (("net", net_rules), ("app", app_rules)):
            if rules:
                name = f"{opts.name_prefix}-{base}-{kind}"
                collections[name] = {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": name,
                                     "action": {"type": "Allow"},
                                     "rules": sorted(rules, key=lambda r: r["name"])}
                keys[name] = f"{kind}:{flow}"
    if fqdn_network and not opts.dns_proxy:
        raise ConfigError("FQDN network rules need the policy's DNS proxy; keep dns_proxy on", field="dns_proxy")
    prio = assign_priorities([Slot(keys[n], n) for n in collections], opts.band, pins=opts.priority_pins)
    out = []
    for name in sorted(collections):
        c = dict(collections[name], priority=prio[name])
        out.append(c)
    policy_inputs: dict = {"sku": {"tier": opts.tier}}
    if opts.dns_proxy:
        policy_inputs["dnsSettings"] = {"enableProxy": True}
    if profile:
        policy_inputs["tags"] = marks.tags(profile)
    return FirewallPlan(profile, opts.band, opts.group_priority, policy_inputs, tuple(out), proj.widened,
                        proj.allowed)


# ---- the plan ----------------------------------------------------------------------------------------

def as_plan(plan: FirewallPlan, *, tags: Mapping[str, str] | None = None,
            name_prefix: str = NAME_PREFIX.default) -> Plan:
    """The policy render as a :class:`~spirit_infra.plan.Plan`: the FirewallPolicy and its rule collection
    group ``<name_prefix>-rules``. Parameters: ``resourceGroupName``, ``location`` and ``policyName``; ``tags``
    are added to the policy's (the spirit-* marks win). ``expected``: the egress projection it holds exactly."""
    return Plan((
        ResourceSpec(POLICY_TYPE, "policy", {
            **plan.policy_inputs, "tags": {**dict(tags or {}), **plan.policy_inputs.get("tags", {})},
            **RG_LOCATION, "firewallPolicyName": Param("policyName")}),
        ResourceSpec(GROUP_TYPE, "rules", {
            **plan.group_inputs, "resourceGroupName": Param("resourceGroupName"),
            "firewallPolicyName": Ref("policy", "name"), "ruleCollectionGroupName": f"{name_prefix}-rules"}),
    ), tuple(plan.widened), expected=plan.expected)
