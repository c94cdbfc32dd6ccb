"""AWS security groups: the pure render of the IP layer (no pulumi import).

**What a security group rule can express** (:data:`SG_CAPS`): one IP protocol, one destination port
range (``fromPort``-``toPort``; for ingress these are the local listening ports), and one peer: an IPv4
CIDR, an IPv6 CIDR or a prefix list. There is **no source port** and **no DNS name**, so
``project(allowed, SG_CAPS)`` widens source ports to any and FQDN destinations to ``0.0.0.0/0``; both
are reported, nothing else widens.

**Model** (:func:`model`) turns a profile into resource specs, plain JSON-able dicts in the shape
Pulumi registers them (type token, logical name suffix, camelCase ``inputs``). References between specs
are ``{"$ref": <name>, "attr": "id"}``; the VPC id is ``{"$param": "vpcId"}``. Design decisions:

- Rules are separate ``aws.vpc.SecurityGroupEgressRule``/``IngressRule`` resources, never inline (mixing
  the two styles makes them fight). The group itself is created without inline ``egress``: Pulumi (like
  Terraform) then **removes the allow-all egress rule AWS adds to every new group**. Strict mode (the
  default) never adds one back; ``strict=False`` adds an explicit ``-1`` to ``0.0.0.0/0`` egress rule.
- One rule resource per (direction, protocol, port range, peer). Rules that would be identical for
  several flows (``phone-audio`` and ``phone-video``: udp, any port, the same ranges) become **one** rule,
  because AWS rejects duplicates (``InvalidPermission.Duplicate``). A rule's logical name is
  ``<out|in>-<protocol>-<ports>-<peer>-<hash of its content>`` (:func:`_rule_name`): it says what the
  rule allows and derives from nothing else (not the flows sharing it, not a list position), so a flow
  joining or leaving a rule changes only its ``spirit-flow`` tag and description, in place.
- The Spirit ranges go into a customer-managed prefix list (``spirit-ipv4``) whose ``maxEntries`` is sized
  with headroom (``max(10, 2 x entries)``), so a new Spirit range is one entry, not a rule per flow. A
  rule whose peer covers all Spirit ranges references the list (plus raw CIDR rules for any other
  addresses of that peer). The list is created only when a rule references it.
- **Quota**: a rule referencing the prefix list costs ``maxEntries``; a CIDR rule costs 1 (per direction
  and family). The planner prefers, in this order: the fewest groups (interface slots are the scarcest:
  5 per interface, shared with everything else), then the most prefix-list rules. For each number of
  groups from 1 up to ``groups_per_interface`` it converts prefix-list units to raw CIDR rules one at a
  time, per direction and family, in **content-hash order** (a hash of the unit's own content, never a
  flow name or a list position), until the rules fit; then it packs the rules first-fit in content-hash
  order (see :mod:`.quota`). So an edit keeps every other rule where it was (prefix list or CIDRs, which
  group) while it still fits, and when the quota forces a move, ``quota["placement"]`` and the warnings
  name each rule that uses raw CIDRs or sits outside the first group, and why. When even raw CIDRs in
  every allowed group do not fit, it raises :class:`QuotaError` with the figures; nothing is rendered,
  so nothing can be applied.
- Least privilege: an ingress rule from ``0.0.0.0/0`` or ``::/0`` is refused (:class:`CapabilityError`).

**Read**: :mod:`.read` (:func:`~spirit_infra.aws.read.read`, :func:`~spirit_infra.aws.read.read_groups`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import netaddr

from .. import marks
from ..errors import CapabilityError, ConfigError, QuotaError
from ..flows import (
    ANY_IPV4,
    ANY_IPV6,
    AllowedSet,
    Capabilities,
    Peer,
    Term,
    Widening,
    compact_cidrs,
    project,
)
from ..naming import join
from ..plan import Lookup, Param, Plan, Ref, ResourceSpec
from ..settings import GROUPS_PER_INTERFACE, PREFIX_LIST, PREFIX_LIST_MAX_ENTRIES, QUOTA, STRICT, check_fields
from .quota import (
    QuotaItem,
    check_limits,
    dims_total,
    overflow_notes,
    pack,
)

__all__ = ["SG_CAPS", "TYPE_SG", "TYPE_SG_RULE", "TYPE_INGRESS", "TYPE_EGRESS", "TYPE_PREFIX_LIST",
           "TYPE_PREFIX_LIST_ENTRY", "SgOptions", "SgRender", "model", "ref",
           "default_max_entries", "PARAM_VPC", "as_plan", "specs_plan", "ALLOW_ALL_EGRESS"]

SG_CAPS = Capabilities("aws-security-group", source_ports=False, fqdn=False, platform=("aws-prefix-list",),
                       platform_refused=("azure-service-tag",),
                       platform_reason="an Azure service tag exists only on Azure; on AWS use a managed prefix list")

#: AWS-managed prefix lists a rule may reference, by service (``com.amazonaws.<region>.<service>``), with
#: the weight each reference counts against the security group's rule quota. Source: Amazon VPC User Guide,
#: "AWS-managed prefix lists" (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
#: A name not listed is refused: its weight is unknown, and under-counting it is a quota surprise at apply.
MANAGED_PREFIX_LIST_WEIGHTS = {
    "s3": 1, "dynamodb": 1, "ec2-instance-connect": 2, "ipv6.ec2-instance-connect": 2, "s3express": 6,
    "vpc-lattice": 10, "ipv6.vpc-lattice": 10, "route53-healthchecks": 25, "ipv6.route53-healthchecks": 25,
    "global.cloudfront.origin-facing": 55, "global.ipv6.cloudfront.origin-facing": 55, "global.groundstation": 5,
}
MANAGED = "aws-prefix-list"


def managed_prefix_list_weight(name: str) -> int:
    """The quota weight of an AWS-managed prefix list (``com.amazonaws.ap-southeast-2.s3`` -> 1)."""
    rest = name.removeprefix("com.amazonaws.")
    if rest.startswith("global."):
        key = rest
    else:
        key = rest.partition(".")[2]
    if key not in MANAGED_PREFIX_LIST_WEIGHTS:
        known = ", ".join(sorted(MANAGED_PREFIX_LIST_WEIGHTS))
        raise CapabilityError(f"aws: AWS-managed prefix list {name!r} is not one spirit-infra knows the quota "
                              f"weight of (services: {known})")
    return MANAGED_PREFIX_LIST_WEIGHTS[key]


def _managed_family(name: str) -> str:
    return "ipv6" if ".ipv6." in name else "ipv4"

TYPE_SG = "aws:ec2/securityGroup:SecurityGroup"
TYPE_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
TYPE_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TYPE_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
TYPE_PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
TYPE_PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"

PARAM_VPC = {"$param": "vpcId"}
#: AWS: a customer-managed prefix list holds at most 1000 entries.
MAX_PREFIX_LIST_ENTRIES = PREFIX_LIST_MAX_ENTRIES.le


def ref(name: str, attr: str = "id") -> dict:
    """A reference to another spec's output (resolved by the component, and by the reader by name)."""
    return {"$ref": name, "attr": attr}


def default_max_entries(n: int) -> int:
    """Prefix list size with headroom: room for the Spirit ranges to double, at least 10."""
    return max(10, 2 * n)


@dataclass(frozen=True)
class SgOptions:
    """How to render security groups.

    - ``strict``: no allow-all egress (default). ``False`` adds an explicit allow-all egress rule.
    - ``fqdn_firewall``: an FQDN-capable layer (AWS Network Firewall) narrows the FQDN flows that the
      security group must open to any address on their ports; without it that widening is a warning.
    - ``quota``, ``groups_per_interface``, ``prefix_list``, ``prefix_list_max_entries``: as declared in
      :mod:`spirit_infra.settings` (type, default, range, doc).
    - ``name``: the prefix of the prefix list's AWS name.
    """

    strict: bool = STRICT.field()
    fqdn_firewall: bool = True
    quota: int = QUOTA.field()
    groups_per_interface: int = GROUPS_PER_INTERFACE.field()
    prefix_list: bool = PREFIX_LIST.field()
    prefix_list_max_entries: int | None = PREFIX_LIST_MAX_ENTRIES.field()
    name: str = "spirit"

    def __post_init__(self) -> None:
        check_fields(self)
        check_limits(self.quota, self.groups_per_interface)
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ConfigError(f"must be letters, digits, '-', '_' or '.', not {self.name!r}", field="name")


@dataclass(frozen=True)
class SgRender:
    """The rendered security groups: specs, what widened, warnings and the quota figures."""

    profile: str
    resources: tuple[dict, ...]
    widened: tuple[Widening, ...]
    warnings: tuple[str, ...]
    quota: dict
    projected: AllowedSet = field(repr=False, compare=False, default_factory=AllowedSet)
    #: rendered strict (no allow-all egress rule)
    strict: bool = True

    def of_type(self, token: str) -> list[dict]:
        return [r for r in self.resources if r["type"] == token]

    @property
    def groups(self) -> list[dict]:
        return self.of_type(TYPE_SG)

    @property
    def rules(self) -> list[dict]:
        return [r for r in self.resources if r["type"] in (TYPE_EGRESS, TYPE_INGRESS)]

    @property
    def prefix_lists(self) -> list[dict]:
        return self.of_type(TYPE_PREFIX_LIST)

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "resources": list(self.resources),
            "widened": [w.to_json() for w in self.widened],
            "warnings": list(self.warnings),
            "quota": self.quota,
        }


# ---- render ------------------------------------------------------------------------------------------

def _family(cidr: str) -> str:
    return "ipv6" if ":" in cidr else "ipv4"


@dataclass(frozen=True, order=True)
class _Unit:
    """One (direction, protocol, port range, family) slice of a peer, before choosing prefix list or CIDRs."""

    direction: str
    protocol: str
    lo: int
    hi: int
    family: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True, order=True)
class _Key:
    """The content of one AWS rule (what AWS compares to detect duplicates)."""

    direction: str
    protocol: str  # tcp | udp | -1
    lo: int
    hi: int
    kind: str  # cidr | prefix-list | managed (an AWS-managed prefix list)
    target: str  # a CIDR, a prefix list spec name or an AWS-managed prefix list's name

    @property
    def family(self) -> str:
        if self.kind == "managed":
            return _managed_family(self.target)
        return self.target.rsplit("-", 1)[-1] if self.kind == "prefix-list" else _family(self.target)


def _ports(lo: int, hi: int) -> str:
    if (lo, hi) == (0, 65535) or lo < 0:
        return "any"
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _key_digest(key: _Key) -> str:
    return _digest(key.direction, key.protocol, key.lo, key.hi, key.kind, key.target)


def _unit_digest(u: _Unit) -> str:
    return _digest(u.direction, u.protocol, u.lo, u.hi, u.family, *u.cidrs)


def _peer_label(key: _Key) -> str:
    if key.kind == "prefix-list":
        return key.target  # the list's spec name: spirit-ipv4 | spirit-ipv6
    if key.kind == "managed":
        return key.target  # an AWS-managed prefix list's name: com.amazonaws.<region>.<service>
    if key.target in (ANY_IPV4, ANY_IPV6):
        return f"any-{key.family}"
    return key.target.replace("/", "-").replace(":", ".")  # a logical name has no '/' and no '::'


def _rule_name(key: _Key) -> str:
    """``<out|in>-<proto>-<ports>-<peer>-<content hash>``: what the rule allows, nothing else.

    The name is a function of the rule's content only (direction, protocol, port range, peer), never of
    the flows that share it: a flow joining or leaving a rule changes its ``spirit-flow`` tag and its
    description, in place, and never renames it (a rename would create the new rule before deleting the
    old one, and AWS would reject the duplicate with ``InvalidPermission.Duplicate``). The peer is
    ``spirit-ipv4``/``spirit-ipv6`` (the Spirit prefix list), ``any-ipv4``/``any-ipv6`` or the CIDR
    (``/`` and ``:`` written as ``-`` and ``.``). The hash keeps two contents apart even if their labels
    were to read alike.
    """
    proto = "all" if key.protocol == "-1" else key.protocol
    ports = "" if key.protocol == "-1" else f"-{_ports(key.lo, key.hi)}"
    return (f"{'out' if key.direction == 'egress' else 'in'}-{proto}{ports}-{_peer_label(key)}-"
            f"{_key_digest(key)[:8]}")


def _legacy_rule_name(key: _Key, flows: Iterable[str]) -> str:
    """The name this rule had before names were content-only (``<first flow>-<out|in>-<proto>-<ports>-<hash>``).

    Registered as an alias, so a stack deployed with the old names adopts each rule in place instead of
    creating it again under the new name (which AWS would refuse as ``InvalidPermission.Duplicate``).
    """
    label = min(flows) if flows else "spirit"
    proto = "all" if key.protocol == "-1" else key.protocol
    return (f"{label}-{'out' if key.direction == 'egress' else 'in'}-{proto}-{_ports(key.lo, key.hi)}-"
            f"{_key_digest(key)[:8]}")


def _units(projected: AllowedSet) -> dict[_Unit, set[str]]:
    units: dict[_Unit, set[str]] = defaultdict(set)
    for t in projected.terms:
        if t.direction == "ingress" and any(netaddr.IPNetwork(c).prefixlen == 0 for c in t.peer.cidrs):
            raise CapabilityError(f"aws: flow {t.flow or '(unlabelled)'}: ingress from any address "
                                  f"({', '.join(t.peer.cidrs)}) is refused (least privilege)")
        for family in ("ipv4", "ipv6"):
            cidrs = tuple(c for c in t.peer.cidrs if _family(c) == family)
            if not cidrs:
                continue
            for lo, hi in t.dst_ports.ranges:
                units[_Unit(t.direction, t.transport, lo, hi, family, cidrs)].add(t.flow)
        for atom in t.peer.platform:  # SG_CAPS keeps only AWS-managed prefix lists
            name = atom.partition(":")[2]
            managed_prefix_list_weight(name)  # refuses a name whose weight is unknown
            for lo, hi in t.dst_ports.ranges:
                units[_Unit(t.direction, t.transport, lo, hi, MANAGED, (name,))].add(t.flow)
    return units


def _layout(units: dict[_Unit, set[str]], pl: dict[str, tuple[str, ...]],
            converted: set[_Unit]) -> dict[_Key, set[str]]:
    """Rule contents (merged across flows) when the units in ``converted`` use raw CIDRs."""
    rules: dict[_Key, set[str]] = defaultdict(set)
    for u, flows in units.items():
        spirit = pl.get(u.family)
        keys: list[_Key] = []
        if u.family == MANAGED:
            keys.append(_Key(u.direction, u.protocol, u.lo, u.hi, "managed", u.cidrs[0]))
        elif spirit and u not in converted and _uses_pl(u, pl):
            keys.append(_Key(u.direction, u.protocol, u.lo, u.hi, "prefix-list", f"spirit-{u.family}"))
            rest = netaddr.IPSet(u.cidrs) - netaddr.IPSet(spirit)
            keys.extend(_Key(u.direction, u.protocol, u.lo, u.hi, "cidr", c) for c in compact_cidrs(rest.iter_cidrs()))
        else:
            keys.extend(_Key(u.direction, u.protocol, u.lo, u.hi, "cidr", c) for c in u.cidrs)
        for k in keys:
            rules[k] |= flows
    return rules


def _uses_pl(u: _Unit, pl: dict[str, tuple[str, ...]]) -> bool:
    """A unit may use the prefix list when its peer covers every Spirit range of its family and the list
    does not add rule resources (a peer of ``0.0.0.0/0`` is one CIDR rule, not the list plus the rest)."""
    spirit = pl.get(u.family)
    if not spirit or not netaddr.IPSet(spirit).issubset(netaddr.IPSet(u.cidrs)):
        return False
    rest = netaddr.IPSet(u.cidrs) - netaddr.IPSet(spirit)
    return 1 + len(compact_cidrs(rest.iter_cidrs())) <= len(u.cidrs)


def _pl_units(units: dict[_Unit, set[str]], pl: dict[str, tuple[str, ...]]) -> list[_Unit]:
    """The units that may use the prefix list, in the order they give it up (content-hash order).

    The order is a function of each unit's own content, never of flow names or of the other units, so
    which unit converts to raw CIDRs under quota pressure does not shift when an unrelated flow sorts
    before it.
    """
    return sorted((u for u in units if _uses_pl(u, pl)), key=lambda u: (_unit_digest(u), u))


def _items(rules: dict[_Key, set[str]], max_entries: dict[str, int]) -> list[QuotaItem]:
    """Quota items in content-hash order (the packer's first-fit order)."""
    items = [QuotaItem(_rule_name(k), (k.direction, k.family),
                       max_entries[k.family] if k.kind == "prefix-list"
                       else managed_prefix_list_weight(k.target) if k.kind == "managed" else 1, _key_digest(k))
             for k in rules]
    return sorted(items, key=lambda it: (it.rank, it.name))


def _conversions(units: dict[_Unit, set[str]], pl: dict[str, tuple[str, ...]], allow_all: dict,
                 candidates: list[_Unit], max_entries: dict[str, int], quota: int, n_groups: int) -> list[_Unit] | None:
    """The fewest prefix-list units to convert to raw CIDRs so every (direction, family) fits ``n_groups``.

    Each (direction, family) is decided on its own (AWS counts them apart), giving up its candidates in
    content-hash order: an egress edit never converts an ingress rule, and a unit keeps the prefix list
    as long as the units ranked before it leave room. ``None`` when even all of them do not fit.
    """
    converted: list[_Unit] = []
    for dim in sorted({(u.direction, u.family) for u in candidates}):
        mine = [u for u in candidates if (u.direction, u.family) == dim]
        for k in range(len(mine) + 1):
            rules = _layout(units, pl, set(converted + mine[:k])) | allow_all
            if pack([it for it in _items(rules, max_entries) if it.dim == dim], quota, n_groups) is not None:
                converted += mine[:k]
                break
        else:
            return None
    return converted


def _conversion_notes(converted: list[_Unit], max_entries: dict[str, int], quota: int, n_groups: int) -> list[str]:
    """Why each unit that could reference the prefix list uses raw CIDR rules instead (named)."""
    notes = []
    for u in converted:
        cidr_rules = ", ".join(_rule_name(_Key(u.direction, u.protocol, u.lo, u.hi, "cidr", c)) for c in u.cidrs)
        pl_rule = _rule_name(_Key(u.direction, u.protocol, u.lo, u.hi, "prefix-list", f"spirit-{u.family}"))
        notes.append(f"quota: {cidr_rules} instead of {pl_rule}: a prefix-list rule counts the list's "
                     f"{max_entries[u.family]} max entries, and with it the rules do not fit {n_groups} group(s) "
                     f"of {quota} {u.direction} {u.family} (prefix-list rules give way in content-hash order)")
    return notes


def _fmt_dims(d: dict) -> str:
    return ", ".join(f"{n} {dim[0]} {dim[1]}" for dim, n in sorted(d.items()))


def model(source, options: SgOptions | None = None, *, profile: str | None = None,
           spirit_cidrs: Iterable[str] | None = None) -> SgRender:
    """Render a :class:`~spirit_infra.Profile` (or an AllowedSet plus ``profile``/``spirit_cidrs``)."""
    opts = options or SgOptions()
    if isinstance(source, AllowedSet):
        allowed, pname = source, profile or "sbc"
        spirit = compact_cidrs(spirit_cidrs or ())
    else:
        allowed, pname = source.allowed, profile or source.name
        spirit = source.spirit_cidrs if spirit_cidrs is None else compact_cidrs(spirit_cidrs)
    proj = project(allowed, SG_CAPS)
    units = _units(proj.allowed)
    pl: dict[str, tuple[str, ...]] = {}
    max_entries: dict[str, int] = {}
    if opts.prefix_list:
        for family in ("ipv4", "ipv6"):
            cs = tuple(c for c in spirit if _family(c) == family)
            if cs:
                pl[family] = cs
                max_entries[family] = opts.prefix_list_max_entries or default_max_entries(len(cs))
                if max_entries[family] < len(cs):
                    raise ConfigError(f"{max_entries[family]} is fewer than the {len(cs)} Spirit {family} ranges",
                                      field="prefix_list_max_entries")
    allow_all = {} if opts.strict else {_Key("egress", "-1", -1, -1, "cidr", ANY_IPV4): set()}

    candidates = _pl_units(units, pl)
    chosen = None
    for n_groups in range(1, opts.groups_per_interface + 1):
        converted = _conversions(units, pl, allow_all, candidates, max_entries, opts.quota, n_groups)
        if converted is None:
            continue
        rules = _layout(units, pl, set(converted)) | allow_all
        groups = pack(_items(rules, max_entries), opts.quota, n_groups)
        if groups is not None:
            chosen = (rules, groups, converted)
            break
    if chosen is None:
        raw = _layout(units, pl, set(candidates)) | allow_all
        raw_need = dims_total(_items(raw, max_entries))
        pl_need = dims_total(_items(_layout(units, pl, set()) | allow_all, max_entries))
        cap = opts.quota * opts.groups_per_interface
        minimum = max(-(-n // opts.groups_per_interface) for n in raw_need.values())
        biggest = max(raw_need.items(), key=lambda kv: kv[1])
        raise QuotaError(
            f"aws: profile {pname} needs {_fmt_dims(raw_need)} rules even with raw CIDRs "
            f"({_fmt_dims(pl_need)} counted with the Spirit prefix list); quota {opts.quota} x "
            f"{opts.groups_per_interface} groups per interface holds {cap} per direction: {biggest[0][0]} "
            f"{biggest[0][1]} needs {biggest[1]}; the minimum quota for {opts.groups_per_interface} groups is "
            f"{minimum}")
    rules, groups, converted = chosen
    names = {_rule_name(k): (k, f) for k, f in rules.items()}
    placement = _conversion_notes(converted, max_entries, opts.quota, len(groups))
    placement += overflow_notes(groups, opts.quota, [f"sg-{i}" for i in range(1, len(groups) + 1)])

    specs: list[dict] = []
    group_of: dict[str, str] = {}
    quota_groups = []
    for i, members in enumerate(groups, 1):
        gname = f"sg-{i}"
        specs.append({"type": TYPE_SG, "name": gname, "inputs": {
            "vpcId": PARAM_VPC,
            "description": marks.description(pname, (), f"Spirit {pname} flows, group {i}"),
            "revokeRulesOnDelete": True,
            "tags": marks.tags(pname),
        }})
        used = dims_total(members)
        quota_groups.append({"name": gname, "rules": len(members),
                             "counted": {f"{d}/{f}": c for (d, f), c in sorted(used.items())}})
        for it in members:
            group_of[it.name] = gname
    used_pl = sorted({k.family for k, _ in names.values() if k.kind == "prefix-list"})
    for family in used_pl:
        specs.append({"type": TYPE_PREFIX_LIST, "name": f"spirit-{family}", "inputs": {
            "name": join(opts.name, f"spirit-{family}"),
            "addressFamily": "IPv4" if family == "ipv4" else "IPv6",
            "maxEntries": max_entries[family],
            "entries": [{"cidr": c, "description": "Spirit Cloud UC range"} for c in pl[family]],
            "tags": marks.tags(pname),
        }})
    for rname, (k, flows) in sorted(names.items()):
        inputs: dict = {"securityGroupId": ref(group_of[rname]), "ipProtocol": k.protocol}
        if k.protocol != "-1":
            inputs["fromPort"], inputs["toPort"] = k.lo, k.hi
        if k.kind == "prefix-list":
            inputs["prefixListId"] = ref(k.target)
        elif k.kind == "managed":
            # looked up by name when the component registers the rule (aws.ec2.get_managed_prefix_list)
            inputs["prefixListId"] = {"$managedPrefixList": k.target}
        else:
            inputs["cidrIpv4" if k.family == "ipv4" else "cidrIpv6"] = k.target
        text = "allow-all egress (non-strict)" if k.protocol == "-1" else ""
        inputs["description"] = marks.description(pname, sorted(flows), text)
        inputs["tags"] = marks.tags(pname, sorted(flows))
        if k.kind == "managed":
            inputs["tags"][marks.PREFIX_LIST_KEY] = k.target
        specs.append({"type": TYPE_EGRESS if k.direction == "egress" else TYPE_INGRESS, "name": rname,
                      "inputs": inputs, "aliases": [_legacy_rule_name(k, flows)]})

    warnings: list[str] = []
    fqdn_flows = sorted({w.flow for w in proj.widened if w.dimension == "destination"})
    for fid in fqdn_flows:
        ts = proj.allowed.select(flows=[fid]).terms
        ports = "; ".join(sorted({f"{t.transport} {t.dst_ports}" for t in ts}))
        if opts.fqdn_firewall:
            warnings.append(f"{fid}: the security group opens {ports} to any address (it cannot match DNS "
                            "names); the Network Firewall narrows it to the flow's names: route egress "
                            "through the firewall endpoints")
        else:
            warnings.append(f"{fid}: NOT STRICT: {ports} open to any address because no FQDN-capable layer "
                            "is deployed (fqdn firewall off)")
    if not opts.strict:
        warnings.append("non-strict: an allow-all egress rule is added")
    warnings += placement
    pl_units = len(candidates)
    quota = {
        "quota": opts.quota,
        "groups_per_interface": opts.groups_per_interface,
        "groups": quota_groups,
        "rule_resources": len(names),
        "prefix_list_max_entries": {f: max_entries[f] for f in used_pl},
        "prefix_list_units": pl_units,
        "units_as_cidrs": len(converted),
        "layout": ("cidr" if not used_pl else "prefix-list" if not converted else "mixed"),
        "placement": placement,
        "needed": {f"{d}/{f}": c for (d, f), c in sorted(dims_total(_items(rules, max_entries)).items())},
    }
    return SgRender(pname, tuple(sorted(specs, key=lambda s: (s["type"], s["name"]))), proj.widened,
                    tuple(warnings), quota, proj.allowed, opts.strict)


# ---- the plan ----------------------------------------------------------------------------------------

#: what the non-strict allow-all egress rule (``-1`` to 0.0.0.0/0) adds, as the reader reads it
ALLOW_ALL_EGRESS = AllowedSet(Term("egress", t, Peer.of([ANY_IPV4])) for t in ("tcp", "udp"))


def _typed(value):
    """A render's ``{"$ref"}``/``{"$param"}``/``{"$managedPrefixList"}`` markers as the plan IR's values."""
    if isinstance(value, dict):
        if "$ref" in value:
            return Ref(value["$ref"], value.get("attr", "id"))
        if "$managedPrefixList" in value:
            return Lookup("managedPrefixList", value["$managedPrefixList"])
        if "$param" in value:
            return Param(value["$param"], value.get("index", value.get("key")))
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def specs_plan(specs, widened=(), warnings=(), expected=None) -> Plan:
    """AWS spec dicts (the renders' marker form) as a :class:`~spirit_infra.plan.Plan`: this cloud's one adapter."""
    return Plan(tuple(ResourceSpec(s["type"], s["name"], _typed(dict(s["inputs"])), tuple(s.get("aliases", ())))
                      for s in specs), tuple(widened), tuple(warnings), expected)


def as_plan(render: SgRender) -> Plan:
    """The security groups' render as a Plan (parameters: ``vpcId``). ``expected`` is what the reader gives
    back: the projection, plus the allow-all egress rule of a non-strict render."""
    return specs_plan(render.resources, render.widened, render.warnings,
                      render.projected if render.strict else render.projected | ALLOW_ALL_EGRESS)
