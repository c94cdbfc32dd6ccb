"""What an edit changes: compare two previews' resources (pure; used by ``preview --against`` and the
churn corpus).

:func:`diff` matches the resources of two previews (the JSON ``spirit-infra preview --json`` prints):

- by **URN** first (same type, same logical name, same parent chain: the engine's own identity);
- then a resource only in the old preview and one only in the new are a **rename** when they have the
  same **stable key** (:func:`stable_key`): the same type and the same inputs once the inputs that only
  label a resource are left out (its names, ``description``, ``tags``, ``labels``; see
  :data:`LABEL_INPUTS`). That is what a rename is to a cloud: the engine deletes and creates a resource
  whose content did not change;
- what is left is **added** or **removed**;
- a resource in both whose inputs differ is **changed**, with each changed input (a dotted path, its old
  and new value) and whether the change **replaces** the resource (:func:`replaces`).

**Which inputs force a replacement** (:data:`REPLACE_ON`): the inputs the providers mark
"forces new resource" / "Update requires: Replacement" (Terraform AWS and Google providers' ``ForceNew``
schema fields, which the Pulumi bridged providers inherit; the CloudFormation and ARM references for
the same properties), plus, on purpose conservatively, the content of an AWS security-group rule
(protocol, ports, peer): AWS can modify a rule in place, but the provider's support for it is recent and
the identity spirit-infra promises is stronger. For every ``azure-native`` resource, its own name, its
parents' names (``*Name``) and ``location`` force a replacement (they are the resource's ARM id), and so
does a VM's ``osProfile`` (Azure refuses to change ``customData`` on an existing VM). A type not in the
table is judged by its name inputs only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REPLACE_ON", "LABEL_INPUTS", "Change", "Diff", "diff", "changes", "replaces", "stable_key", "flows_of",
           "identity_inputs", "load_previous", "render_diff"]

#: type token -> top-level inputs whose change replaces the resource (see the module docstring)
REPLACE_ON: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    # AWS (Terraform aws provider ForceNew; CloudFormation "Update requires: Replacement")
    "aws:ec2/securityGroup:SecurityGroup": {"name", "namePrefix", "vpcId", "description"},
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        "securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "prefixListId",
        "referencedSecurityGroupId"},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        "securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "prefixListId",
        "referencedSecurityGroupId"},
    "aws:ec2/securityGroupRule:SecurityGroupRule": {
        "securityGroupId", "type", "protocol", "fromPort", "toPort", "cidrBlocks", "ipv6CidrBlocks",
        "prefixListIds", "sourceSecurityGroupId", "self"},
    "aws:ec2/managedPrefixList:ManagedPrefixList": {"addressFamily"},
    "aws:ec2/vpc:Vpc": {"cidrBlock", "instanceTenancy"},
    "aws:ec2/subnet:Subnet": {"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6CidrBlock"},
    "aws:ec2/routeTable:RouteTable": {"vpcId"},
    "aws:ec2/route:Route": {"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock",
                            "destinationPrefixListId"},
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {"subnetId", "gatewayId"},
    "aws:ec2/internetGateway:InternetGateway": set(),
    "aws:ec2/eip:Eip": {"domain", "vpc", "networkBorderGroup", "publicIpv4Pool"},
    "aws:ec2/natGateway:NatGateway": {"subnetId", "allocationId", "connectivityType", "privateIp"},
    "aws:ec2/instance:Instance": {"ami", "subnetId", "availabilityZone", "privateIp", "keyName",
                                  "userDataReplaceOnChange", "userDataBase64"},
    "aws:ec2/networkInterface:NetworkInterface": {"subnetId"},
    "aws:networkfirewall/ruleGroup:RuleGroup": {"name", "type", "capacity"},
    "aws:networkfirewall/firewallPolicy:FirewallPolicy": {"name"},
    "aws:networkfirewall/firewall:Firewall": {"name", "vpcId"},
    "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList": {"name"},
    "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup": {"name"},
    "aws:route53/resolverFirewallRule:ResolverFirewallRule": {"firewallRuleGroupId", "firewallDomainListId"},
    "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation": {
        "firewallRuleGroupId", "vpcId"},
    # GCP (Terraform google provider ForceNew)
    "gcp:compute/firewall:Firewall": {"name", "network", "direction", "project"},
    "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy": {"name", "project"},
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule": {"firewallPolicy", "priority", "project"},
    "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation": {
        "name", "firewallPolicy", "attachmentTarget", "project"},
    "gcp:compute/router:Router": {"name", "network", "region", "project"},
    "gcp:compute/routerNat:RouterNat": {"name", "router", "region", "project"},
    "gcp:compute/address:Address": {"name", "addressType", "networkTier", "region", "subnetwork", "purpose",
                                    "project"},
    "gcp:compute/network:Network": {"name", "autoCreateSubnetworks", "project"},
    "gcp:compute/subnetwork:Subnetwork": {"name", "network", "region", "project"},
    "gcp:compute/instance:Instance": {"name", "zone", "bootDisk", "project"},
    "gcp:compute/route:Route": {"name", "network", "destRange", "priority", "nextHopInstance", "nextHopIp",
                                "nextHopGateway", "tags", "project"},
}.items()}

#: inputs that only label a resource: left out of the stable key that recognises a rename
LABEL_INPUTS = frozenset({"name", "ruleName", "description", "tags", "labels"})


def replaces(type_token: str, key: str, inputs: Mapping[str, Any] | None = None) -> bool:
    """Does a change of the top-level input ``key`` replace a ``type_token`` resource?"""
    if type_token.startswith("azure-native:"):
        return key.endswith("Name") or key in ("location", "osProfile")
    if type_token == "aws:ec2/instance:Instance" and key == "userData":
        return bool((inputs or {}).get("userDataReplaceOnChange"))
    table = REPLACE_ON.get(type_token)
    if table is None:
        return key in ("name", "namePrefix")
    return key in table


def identity_inputs(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs of ``resource`` whose change would replace it."""
    inputs = resource.get("inputs") or {}
    return {k: v for k, v in sorted(inputs.items()) if replaces(resource["type"], k, inputs)}


def flows_of(resource: Mapping[str, Any]) -> set[str]:
    """The flow ids a resource carries (``spirit-flow`` tag or label, or ``spirit-flow=`` in a description)."""
    from .marks import FLOW_KEY, parse_description

    inputs = resource.get("inputs") or {}
    for key in ("tags", "labels"):
        v = inputs.get(key)
        if isinstance(v, dict) and v.get(FLOW_KEY):
            return set(str(v[FLOW_KEY]).split(","))
    for v in (inputs.get("description"), (inputs.get("properties") or {}).get("description")
              if isinstance(inputs.get("properties"), dict) else None):
        found = parse_description(v if isinstance(v, str) else None).get(FLOW_KEY)
        if found:
            return set(found.split(","))
    return set()


def stable_key(resource: Mapping[str, Any]) -> str:
    """Type plus inputs without the ones that only label it (:data:`LABEL_INPUTS`), as canonical JSON."""
    inputs = {k: v for k, v in (resource.get("inputs") or {}).items() if k not in LABEL_INPUTS}
    return json.dumps([resource["type"], inputs], sort_keys=True)


@dataclass(frozen=True)
class Change:
    """One changed input of one resource."""

    path: str
    before: Any
    after: Any
    replaces: bool

    def to_json(self) -> dict:
        return {"input": self.path, "before": self.before, "after": self.after, "replaces": self.replaces}


@dataclass
class Diff:
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    renamed: list[tuple[dict, dict, list[Change]]] = field(default_factory=list)
    changed: list[tuple[dict, list[Change]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.changed)

    def to_json(self) -> dict:
        def brief(r):
            return {"type": r["type"], "name": r["name"], "urn": r["urn"]}

        return {
            "summary": {"added": len(self.added), "removed": len(self.removed), "renamed": len(self.renamed),
                        "changed": len(self.changed),
                        "replaced": sum(1 for _, cs in self.changed if any(c.replaces for c in cs))},
            "added": [brief(r) for r in self.added],
            "removed": [brief(r) for r in self.removed],
            "renamed": [{"type": a["type"], "from": a["name"], "to": b["name"], "from_urn": a["urn"],
                         "to_urn": b["urn"], "inputs": [c.to_json() for c in cs]} for a, b, cs in self.renamed],
            "changed": [dict(brief(r), inputs=[c.to_json() for c in cs],
                             replaces=any(c.replaces for c in cs)) for r, cs in self.changed],
        }


def _leaves(before: Any, after: Any, path: str) -> Iterable[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for k in sorted(set(before) | set(after)):
            yield from _leaves(before.get(k), after.get(k), f"{path}.{k}" if path else k)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from _leaves(a, b, f"{path}[{i}]")
    elif before != after:
        yield path, before, after


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every changed input (dotted paths) between two versions of one resource."""
    a, b = before.get("inputs") or {}, after.get("inputs") or {}
    out = []
    for path, x, y in _leaves(a, b, ""):
        top = path.split(".", 1)[0].split("[", 1)[0]
        out.append(Change(path, x, y, replaces(after["type"], top, b) or before["type"] != after["type"]))
    return out


def diff(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]) -> Diff:
    """Compare two previews' resource lists (each ``{"urn", "type", "name", "parent", "inputs"}``)."""
    old = {r["urn"]: dict(r) for r in before}
    new = {r["urn"]: dict(r) for r in after}
    out = Diff()
    for urn in sorted(old.keys() & new.keys()):
        cs = changes(old[urn], new[urn])
        if cs:
            out.changed.append((new[urn], cs))
    gone = [old[u] for u in sorted(old.keys() - new.keys())]
    came = [new[u] for u in sorted(new.keys() - old.keys())]
    by_key: dict[str, list[dict]] = {}
    for r in came:
        by_key.setdefault(stable_key(r), []).append(r)
    for r in gone:
        twins = by_key.get(stable_key(r))
        if twins:
            twin = twins.pop(0)
            out.renamed.append((r, twin, changes(r, twin)))
        else:
            out.removed.append(r)
    renamed_to = {b["urn"] for _, b, _ in out.renamed}
    out.added = [r for r in came if r["urn"] not in renamed_to]
    return out


def load_previous(path: str) -> dict:
    """A previous ``preview --json`` file; :class:`~spirit_infra.errors.ConfigError` naming the file and
    what is wrong (the CLI exits 2)."""
    from pathlib import Path

    from .errors import ConfigError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}", field="--against") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}: not JSON: {e.msg}", field="--against") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise ConfigError(f"{path}: not a preview: expected the object `spirit-infra preview --json` prints, "
                          "with a \"resources\" list", field="--against")
    for i, r in enumerate(data["resources"]):
        if not (isinstance(r, dict) and all(isinstance(r.get(k), str) for k in ("urn", "type", "name"))
                and isinstance(r.get("inputs", {}), dict)):
            raise ConfigError(f"{path}: resources[{i}]: expected urn, type, name (strings) and inputs (an object)",
                              field="--against")
    return data


def _value(v: Any) -> str:
    text = json.dumps(v, sort_keys=True) if v is not None else "(absent)"
    return text if len(text) <= 80 else text[:77] + "..."


def render_diff(d: Diff, stack: str, against: str, previous_stack: str | None = None) -> str:
    """The diff as text: one line per resource, then one per changed input."""
    j = d.to_json()["summary"]
    head = (f"Compared with {against}" + (f" (stack {previous_stack})" if previous_stack else "") +
            f": stack {stack}: {j['added']} added, {j['removed']} removed, {j['renamed']} renamed, "
            f"{j['changed']} changed ({j['replaced']} replaced)")
    out = [head]
    if d.empty:
        out.append("  no change")
    out += [f"  + {r['type']}  {r['name']}" for r in d.added]
    out += [f"  - {r['type']}  {r['name']}" for r in d.removed]
    for a, b, cs in d.renamed:
        out.append(f"  > {a['type']}  {a['name']} -> {b['name']} (same content: the engine replaces it)")
        out += [f"      {c.path}: {_value(c.before)} -> {_value(c.after)}" for c in cs]
    for r, cs in d.changed:
        rep = any(c.replaces for c in cs)
        out.append(f"  ~ {r['type']}  {r['name']}" + ("  (REPLACED)" if rep else "  (in place)"))
        out += [f"      {c.path}: {_value(c.before)} -> {_value(c.after)}" + ("  [replaces]" if c.replaces else "")
                for c in cs]
    return "\n".join(out) + "\n"
