"""Azure NSG: the pure render of the IP layer (its reader is in :mod:`.read`).

Render
------
:func:`model` turns a profile (or any labelled :class:`AllowedSet`) into the inputs of one
``azure-native:network:NetworkSecurityGroup`` and one ``azure-native:network:SecurityRule`` per
(flow, transport) of the projected set:

- **Capabilities**: an NSG matches source ports (``sourcePortRange(s)``), so nothing widens there; it
  has no FQDN match, so a flow whose destination is DNS names only (phone ZTP, phone NTP) widens to
  ``0.0.0.0/0`` with its exact ports and transport, and the widening is reported. Where the Azure
  Firewall layer is deployed (:mod:`spirit_infra.azure.fqdn`), egress is routed through it
  and it enforces the names; the NSG stays the exact projection either way (a routed firewall does not
  change the destination address the NSG sees, so the NSG cannot narrow an FQDN flow by itself).
- **Augmented rules**: one rule carries every prefix and port range of its term
  (``destinationAddressPrefixes``, ``destinationPortRanges`` ...), so a profile needs one rule per
  flow and transport: 7-9 rules against the 1000-rule limit.
- **Priorities** come from :mod:`.priorities` (a hash of direction, flow id and transport into the
  band), so adding, removing or editing one flow never moves another rule.
- **Strict mode** (default) ends the band with ``<prefix>-deny-internet-out``: Deny, Outbound, any
  protocol, to the ``Internet`` tag, which overrides the NSG's built-in AllowInternetOutBound (65001).
  Inbound needs no explicit deny: the built-in DenyAllInBound (65500) already drops what no rule
  allows, and an ingress term from 0.0.0.0/0 is refused outright (least privilege).
- **Local side**: the application security group when one is given (rules follow the SBC or VDI
  NICs), else ``*`` (the NICs/subnet the NSG is attached to).
- **Marks**: the NSG carries ``spirit-*`` tags; a SecurityRule has no tags, so each rule's
  ``description`` carries ``spirit-role=... spirit-profile=... spirit-flow=<id>``.

Read: :func:`spirit_infra.azure.read.read_nsg` (:mod:`.read`).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import marks
from ..errors import CapabilityError, ConfigError, QuotaError
from ..flows import ANY_IPV4, ANY_IPV6, AllowedSet, Capabilities, Peer, Term, Widening, project
from ..plan import Param, Plan, Ref, ResourceSpec
from ..settings import NAME_PREFIX, NSG_PRIORITY_START, NSG_PRIORITY_WIDTH, STRICT, Setting, check_fields
from .common import (
    NAME_RE,
    RG_LOCATION,
    platform_caps,
    ports_to_azure,
    tag_of,
)
from .priorities import Band, ReservedPriority, Slot, assign_priorities

__all__ = [
    "NSG_CAPS", "NSG_TYPE", "SECURITY_RULE_TYPE", "NSG_MAX_RULES", "NSG_MAX_NAME", "NSG_MAX_ADDRESSES",
    "ExtraRule", "NsgOptions", "NsgRule", "NsgPlan", "model", "DEFAULT_RULES", "ASG_PLACEHOLDER", "ASG_TYPE",
    "INTERNET_OUT", "as_plan",
]

NSG_TYPE = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE_TYPE = "azure-native:network:SecurityRule"

#: What an NSG rule can express (source ports yes, FQDN no: names widen to 0.0.0.0/0, reported; service
#: tags yes, one per rule; AWS prefix lists refused).
NSG_CAPS = Capabilities("azure nsg", source_ports=True, fqdn=False, **platform_caps())
NSG_MAX_RULES = 1000          # rules per NSG (Azure limit, a parameter)
NSG_MAX_NAME = 80             # characters in a rule name
NSG_MAX_ADDRESSES = 4000      # addresses (prefixes) per side of an augmented rule
NSG_PRIORITY_MIN, NSG_PRIORITY_MAX = 100, 4096

DIRECTION = {"egress": "Outbound", "ingress": "Inbound"}
PROTOCOL = {"tcp": "Tcp", "udp": "Udp"}

#: Azure's built-in rules, as a reader sees them (only with ``include_default_rules``).
DEFAULT_RULES = (
    {"name": "AllowVnetInBound", "priority": 65000, "direction": "Inbound", "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork",
     "sourcePortRange": "*", "destinationPortRange": "*"},
    {"name": "AllowAzureLoadBalancerInBound", "priority": 65001, "direction": "Inbound", "access": "Allow",
     "protocol": "*", "sourceAddressPrefix": "AzureLoadBalancer", "destinationAddressPrefix": "*",
     "sourcePortRange": "*", "destinationPortRange": "*"},
    {"name": "DenyAllInBound", "priority": 65500, "direction": "Inbound", "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*",
     "destinationPortRange": "*"},
    {"name": "AllowVnetOutBound", "priority": 65000, "direction": "Outbound", "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "VirtualNetwork",
     "sourcePortRange": "*", "destinationPortRange": "*"},
    {"name": "AllowInternetOutBound", "priority": 65001, "direction": "Outbound", "access": "Allow",
     "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "Internet",
     "sourcePortRange": "*", "destinationPortRange": "*"},
    {"name": "DenyAllOutBound", "priority": 65500, "direction": "Outbound", "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*",
     "destinationPortRange": "*"},
)

_EXTRA_RE = re.compile(r"^(?P<name>[^:]+):(?P<prio>-?\d+)(?::(?P<dir>in|out|inbound|outbound))?$", re.IGNORECASE)


@dataclass(frozen=True)
class ExtraRule:
    """A rule the user keeps in the same NSG: its name and priority must not collide with ours.

    ``direction`` is "Inbound", "Outbound" or None (then it is checked against both directions).
    """

    name: str
    priority: int
    direction: str | None = None

    @classmethod
    def parse(cls, text: str, field: str = "--extra-rule") -> ExtraRule:
        """``NAME:PRIORITY`` or ``NAME:PRIORITY:in|out``."""
        m = _EXTRA_RE.match(text.strip())
        if not m:
            raise ConfigError(f"{text!r} is not NAME:PRIORITY[:in|out]", field=field)
        d = m.group("dir")
        direction = None if d is None else ("Inbound" if d.lower().startswith("in") else "Outbound")
        return cls(m.group("name"), int(m.group("prio")), direction)


#: the NSG's rule limit, as a knob of the render (tests lower it)
_MAX_RULES = Setting("max_rules", int, NSG_MAX_RULES, "The NSG rule limit.", ge=1)


@dataclass(frozen=True)
class NsgOptions:
    """How to lay out the NSG. Every field is validated by :meth:`validate` (ConfigError)."""

    #: the band (100-4096; its last priority holds the strict deny) and strict: settings.NSG_PRIORITY_*, STRICT
    priority_start: int = NSG_PRIORITY_START.field()
    priority_width: int = NSG_PRIORITY_WIDTH.field()
    strict: bool = STRICT.field()
    #: application security group id: the rules' local side (follows the SBC/VDI NICs); None = "*"
    asg_id: str | None = None
    #: rules the user keeps in the same NSG (names and priorities to avoid)
    extra_rules: tuple[ExtraRule, ...] = ()
    #: fixed priorities by rule name, to settle a reported collision
    priority_pins: Mapping[str, int] = field(default_factory=dict)
    name_prefix: str = NAME_PREFIX.field()
    #: the NSG rule limit
    max_rules: int = _MAX_RULES.field()
    #: profile name for the marks when rendering a bare AllowedSet
    profile: str | None = None

    @property
    def band(self) -> Band:
        return Band(self.priority_start, self.priority_width, NSG_PRIORITY_MIN, NSG_PRIORITY_MAX, "NSG")

    def validate(self) -> None:
        check_fields(self)
        self.band.validate()
        if not NAME_RE.match(self.name_prefix):
            raise ConfigError(f"{self.name_prefix!r} is not a valid Azure name prefix (letters, digits, "
                              "'_', '.', '-'; starts with a letter or digit)", field="name_prefix")
        if self.asg_id is not None and (not isinstance(self.asg_id, str) or not self.asg_id.strip()):
            raise ConfigError("must be a non-empty application security group id", field="asg_id")
        if self.profile is not None and self.profile not in marks.ROLE_FOR_PROFILE:
            raise ConfigError(f"unknown profile {self.profile!r}", field="profile")
        names = [e.name for e in self.extra_rules]
        for e in self.extra_rules:
            if not isinstance(e, ExtraRule):
                raise ConfigError(f"{e!r} is not an ExtraRule", field="extra_rules")
            if not NSG_PRIORITY_MIN <= e.priority <= NSG_PRIORITY_MAX:
                raise ConfigError(f"{e.name}: priority {e.priority} is outside {NSG_PRIORITY_MIN}-"
                                  f"{NSG_PRIORITY_MAX}", field="extra_rules")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"rule name {dup[0]!r} appears twice", field="extra_rules")


@dataclass(frozen=True)
class NsgRule:
    """One rendered rule: its Azure name (also the child resource suffix), key, priority and inputs."""

    name: str
    key: str
    flow: str
    direction: str     # Inbound | Outbound
    access: str        # Allow | Deny
    priority: int
    inputs: dict       # camelCase, as registered (without resourceGroupName / networkSecurityGroupName)

    def to_json(self) -> dict:
        return {"name": self.name, "key": self.key, "flow": self.flow, "direction": self.direction,
                "access": self.access, "priority": self.priority, "inputs": self.inputs}


@dataclass(frozen=True)
class NsgPlan:
    profile: str | None
    band: Band
    strict: bool
    rules: tuple[NsgRule, ...]
    nsg_inputs: dict
    widened: tuple[Widening, ...]
    expected: AllowedSet      # the projection the rules implement exactly

    def resources(self, nsg_name: str = "nsg") -> list[dict]:
        """Plain resource dicts (what a reader takes): the NSG and one SecurityRule per rule."""
        out = [{"type": NSG_TYPE, "name": nsg_name, "inputs": dict(self.nsg_inputs)}]
        for r in self.rules:
            out.append({"type": SECURITY_RULE_TYPE, "name": f"{nsg_name}-{r.name}",
                        "inputs": dict(r.inputs, networkSecurityGroupName=nsg_name)})
        return out

    def layout(self) -> list[dict]:
        """The rule and priority layout, by direction then priority."""
        return [{"direction": r.direction, "priority": r.priority, "name": r.name, "access": r.access,
                 "flow": r.flow} for r in sorted(self.rules, key=lambda r: (r.direction, r.priority))]

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "band": {"start": self.band.start, "end": self.band.end, "deny": self.band.deny_priority},
            "strict": self.strict,
            "nsg": {"inputs": self.nsg_inputs},
            "rules": [r.to_json() for r in sorted(self.rules, key=lambda r: r.name)],
            "widened": [w.to_json() for w in self.widened],
        }


def _source(source) -> tuple[AllowedSet, str | None]:
    if isinstance(source, AllowedSet):
        return source, None
    allowed = getattr(source, "allowed", None)
    if not isinstance(allowed, AllowedSet):
        raise ConfigError(f"expected a Profile or an AllowedSet, not {type(source).__name__}", field="profile")
    return allowed, source.name


def _digest(term: Term) -> str:
    text = f"{term.peer}|{term.src_ports}|{term.dst_ports}"
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def check_ingress(allowed: AllowedSet, target: str = "azure nsg") -> None:
    """Least privilege: no ingress term may come from everywhere, or from names (they would widen to it)."""
    for t in allowed.terms:
        if t.direction != "ingress":
            continue
        if t.peer.fqdns:
            raise CapabilityError(f"{target}: flow {t.flow or '(unlabelled)'}: ingress from DNS names "
                                  f"({', '.join(t.peer.fqdns)}) would widen to 0.0.0.0/0; refused")
        if ANY_IPV4 in t.peer.cidrs or ANY_IPV6 in t.peer.cidrs:
            raise CapabilityError(f"{target}: flow {t.flow or '(unlabelled)'}: ingress from everywhere "
                                  f"({t.peer}) is refused (least privilege)")


def _one_tag_each(t: Term) -> list[Term]:
    """An NSG rule takes addresses or one service tag: a term with tags becomes one term per tag (and
    one for its addresses), each its own rule."""
    if not t.peer.platform:
        return [t]
    parts = [Peer(cidrs=t.peer.cidrs)] if t.peer.cidrs else []
    parts += [Peer(platform=(a,)) for a in t.peer.platform]
    return [Term(t.direction, t.transport, p, t.src_ports, t.dst_ports, t.flow) for p in parts]


def _put(inputs: dict, one: str, many: str, values: list[str]) -> None:
    """Singular field for one value, plural (augmented) field for several."""
    if len(values) == 1:
        inputs[one] = values[0]
    else:
        inputs[many] = list(values)


def model(source, options: NsgOptions | None = None) -> NsgPlan:
    """The NSG for ``source`` (a Profile or a labelled AllowedSet). Deterministic; checks every limit
    (band, collisions, names, counts) before returning, so nothing is registered on error."""
    opts = options or NsgOptions()
    opts.validate()
    allowed, profile = _source(source)
    profile = profile or opts.profile
    check_ingress(allowed)
    proj = project(allowed, NSG_CAPS)
    band = opts.band

    groups: dict[tuple[str, str, str], list[Term]] = defaultdict(list)
    for t in proj.allowed.terms:
        groups[(t.flow, t.direction, t.transport)].extend(_one_tag_each(t))
    directions_of: dict[str, set[str]] = defaultdict(set)
    for flow, direction, _ in groups:
        directions_of[flow].add(direction)

    drafts: list[tuple[str, str, str, Term]] = []  # (name, key, flow, term)
    for (flow, direction, transport), terms in sorted(groups.items()):
        base = flow or "unlabelled"
        dir_part = f"-{'in' if direction == 'ingress' else 'out'}" if len(directions_of[flow]) > 1 else ""
        for t in sorted(terms):
            extra = f"-{_digest(t)}" if len(terms) > 1 else ""
            name = f"{opts.name_prefix}-{base}-{transport}{dir_part}{extra}"
            key = f"{direction}:{flow}:{transport}{':' + _digest(t) if extra else ''}"
            drafts.append((name, key, flow, t))

    deny_name = f"{opts.name_prefix}-deny-internet-out"
    all_names = [d[0] for d in drafts] + ([deny_name] if opts.strict else [])
    for name in all_names:
        if len(name) > NSG_MAX_NAME:
            raise QuotaError(f"rule name {name!r} is {len(name)} characters; Azure allows {NSG_MAX_NAME} "
                             f"(shorten name_prefix {opts.name_prefix!r} or the flow id)")
        if not NAME_RE.match(name):
            raise ConfigError(f"rule name {name!r} is not a valid Azure name", field="name_prefix")
    if len(set(all_names)) != len(all_names):  # pragma: no cover - names derive from unique keys
        raise QuotaError("two rules would share a name")
    user = {e.name for e in opts.extra_rules}
    for name in all_names:
        if name in user:
            raise QuotaError(f"rule name {name!r} is already used by a user-supplied rule")
    total = len(all_names) + len(opts.extra_rules)
    if total > opts.max_rules:
        raise QuotaError(f"the NSG would hold {total} rules ({len(all_names)} spirit + {len(opts.extra_rules)} "
                         f"user); the limit is {opts.max_rules}")
    for name, _, _, t in drafts:
        if len(t.peer.cidrs) > NSG_MAX_ADDRESSES:
            raise QuotaError(f"rule {name} needs {len(t.peer.cidrs)} address prefixes; an augmented rule "
                             f"takes {NSG_MAX_ADDRESSES}")

    slots = [Slot(key, name, DIRECTION[t.direction]) for name, key, _, t in drafts]
    reserved = [ReservedPriority(e.name, e.priority, e.direction) for e in opts.extra_rules]
    prio = assign_priorities(slots, band, reserved=reserved, pins=opts.priority_pins,
                             deny_scopes=["Outbound"] if opts.strict else [])

    def desc(flows: list[str], text: str = "") -> str | None:
        return marks.description(profile, flows, text) if profile else (text or None)

    local = ({"kind": "asg", "value": [{"id": opts.asg_id}]} if opts.asg_id else {"kind": "prefix", "value": "*"})
    rules: list[NsgRule] = []
    for name, key, flow, t in drafts:
        direction = DIRECTION[t.direction]
        inputs: dict = {"securityRuleName": name, "priority": prio[name], "direction": direction,
                        "access": "Allow", "protocol": PROTOCOL[t.transport]}
        remote, here = ("destination", "source") if direction == "Outbound" else ("source", "destination")
        _put(inputs, f"{remote}AddressPrefix", f"{remote}AddressPrefixes",
             list(t.peer.cidrs) + [tag_of(a) for a in t.peer.platform])
        if local["kind"] == "asg":
            inputs[f"{here}ApplicationSecurityGroups"] = local["value"]
        else:
            inputs[f"{here}AddressPrefix"] = local["value"]
        _put(inputs, "sourcePortRange", "sourcePortRanges", ports_to_azure(t.src_ports))
        _put(inputs, "destinationPortRange", "destinationPortRanges", ports_to_azure(t.dst_ports))
        d = desc([flow] if flow else [])
        if d:
            inputs["description"] = d
        rules.append(NsgRule(name, key, flow, direction, "Allow", prio[name], inputs))
    if opts.strict:
        inputs = {"securityRuleName": deny_name, "priority": band.deny_priority, "direction": "Outbound",
                  "access": "Deny", "protocol": "*", "destinationAddressPrefix": "Internet",
                  "sourcePortRange": "*", "destinationPortRange": "*"}
        if local["kind"] == "asg":
            inputs["sourceApplicationSecurityGroups"] = local["value"]
        else:
            inputs["sourceAddressPrefix"] = "*"
        d = desc([], "strict: deny outbound Internet")
        if d:
            inputs["description"] = d
        rules.append(NsgRule(deny_name, "deny", "", "Outbound", "Deny", band.deny_priority, inputs))

    nsg_inputs: dict = {"tags": marks.tags(profile)} if profile else {}
    return NsgPlan(profile, band, opts.strict, tuple(sorted(rules, key=lambda r: r.name)), nsg_inputs,
                   proj.widened, proj.allowed)


# ---- the plan ----------------------------------------------------------------------------------------

ASG_TYPE = "azure-native:network:ApplicationSecurityGroup"
#: the local side of the rules when the ASG's id is known only when bound (``NsgOptions.asg_id``)
ASG_PLACEHOLDER = "${spirit-asg}"
#: what Azure's built-in AllowInternetOutBound (65001) allows, as the reader reads it (``Internet``: every address)
INTERNET_OUT = AllowedSet(Term("egress", t, Peer.of([ANY_IPV4, ANY_IPV6])) for t in ("tcp", "udp"))


def _substitute(value, placeholder: str, replacement):
    if value == placeholder:
        return replacement
    if isinstance(value, dict):
        return {k: _substitute(v, placeholder, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, placeholder, replacement) for v in value]
    return value


def as_plan(plan: NsgPlan, *, create_asg: bool = False, tags: Mapping[str, str] | None = None) -> Plan:
    """The NSG render as a :class:`~spirit_infra.plan.Plan`: the ASG (``create_asg``), the NSG and one
    SecurityRule per rule; :data:`ASG_PLACEHOLDER` becomes the ASG's id (a Ref to the ASG created here, or the
    ``asgId`` parameter). Parameters: ``resourceGroupName``, ``location``, ``nsgName`` and ``asgId``; ``tags``
    are added to the NSG's (the spirit-* marks win). ``expected`` is what the layer's reader gives back with
    Azure's built-in rules: the projection, and everything outbound unless strict (AllowInternetOutBound)."""
    asg = Ref("asg") if create_asg else Param("asgId")
    specs = [ResourceSpec(ASG_TYPE, "asg", {"tags": dict(plan.nsg_inputs.get("tags", {})), **RG_LOCATION})
             ] if create_asg else []
    specs.append(ResourceSpec(NSG_TYPE, "nsg", {
        **plan.nsg_inputs, "tags": {**dict(tags or {}), **plan.nsg_inputs.get("tags", {})}, **RG_LOCATION,
        "networkSecurityGroupName": Param("nsgName")}))
    specs += [ResourceSpec(SECURITY_RULE_TYPE, r.name, {
        **_substitute(r.inputs, ASG_PLACEHOLDER, asg), "resourceGroupName": Param("resourceGroupName"),
        "networkSecurityGroupName": Ref("nsg", "name")}) for r in plan.rules]
    return Plan(tuple(specs), tuple(plan.widened),
                expected=plan.expected if plan.strict else plan.expected | INTERNET_OUT)
