"""Resource dicts as the checks see them, and which resources belong to a Spirit role.

A resource is ``{"type", "name", "urn", "inputs", "id"?}`` (camelCase inputs, as Pulumi registers them and
as the pack receives them). :func:`normalize` makes wire values reader-friendly: integral floats (protobuf
has one number type) become ints, and preview unknowns become ``None``.

Marks (:mod:`spirit_infra.marks`): tags (AWS, Azure) or labels, else the ``spirit-role=...`` words of a
description (GCP rules, Azure security rules, firewall-policy rules). A rule resource without its own mark
belongs to the role of the group it attaches to (AWS ``securityGroupId``, Azure
``networkSecurityGroupName`` / ``firewallPolicyName``-style references, GCP ``firewallPolicy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import marks

__all__ = ["normalize", "marks_of", "role_members", "roles_in", "UNKNOWN_SENTINELS",
           "AWS_SG", "AWS_RULE_TYPES", "AWS_PREFIX_TYPES", "AZURE_NSG", "AZURE_RULE", "AZURE_FW_POLICY",
           "AZURE_FW_GROUP", "GCP_FIREWALL", "ref_key"]

# the Pulumi wire format's unknown sentinels (pulumi_policy.proxy), repeated so this module stays pure
UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
})

AWS_SG = "aws:ec2/securityGroup:SecurityGroup"
AWS_RULE_TYPES = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                  "aws:ec2/securityGroupRule:SecurityGroupRule")
AWS_PREFIX_TYPES = ("aws:ec2/managedPrefixList:ManagedPrefixList",
                    "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry")
AZURE_NSG = "azure-native:network:NetworkSecurityGroup"
AZURE_RULE = "azure-native:network:SecurityRule"
AZURE_FW_POLICY = "azure-native:network:FirewallPolicy"
AZURE_FW_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
GCP_POLICY_TYPES = ("gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy",
                    "gcp:compute/regionNetworkFirewallPolicy:RegionNetworkFirewallPolicy",
                    "gcp:compute/firewallPolicy:FirewallPolicy")


def normalize(value: Any) -> Any:
    """Integral floats -> int, unknown sentinels -> None, recursively (dicts and lists copied)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return None if value in UNKNOWN_SENTINELS else value
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


def _marks_in(inputs: dict) -> dict[str, str]:
    for key in ("tags", "labels"):
        tags = inputs.get(key)
        if isinstance(tags, dict) and tags.get(marks.ROLE_KEY):
            return {k: str(tags[k]) for k in (marks.ROLE_KEY, marks.PROFILE_KEY, marks.FLOW_KEY) if tags.get(k)}
    desc = inputs.get("description")
    return marks.parse_description(desc) if isinstance(desc, str) else {}


def marks_of(resource: dict) -> dict[str, str]:
    """The spirit-* marks of a resource (its tags/labels, else its description; for an Azure rule
    collection group, the first marked rule inside it)."""
    inputs = resource.get("inputs") or {}
    found = _marks_in(inputs)
    if found or resource.get("type") != AZURE_FW_GROUP:
        return found
    for c in inputs.get("ruleCollections") or []:
        for r in (c or {}).get("rules") or []:
            if isinstance(r, dict) and (m := _marks_in(r)):
                return m
    return {}


def ref_key(value: Any) -> str | None:
    """A reference as a string: a plain string or the ``{"$ref": name}`` of pure render specs."""
    if isinstance(value, dict) and "$ref" in value:
        value = value["$ref"]
    return value if isinstance(value, str) and value else None


def _aliases(r: dict) -> set[str]:
    inputs = r.get("inputs") or {}
    out = {r.get("name"), r.get("urn"), r.get("id"), inputs.get("name"), inputs.get("networkSecurityGroupName"),
           inputs.get("firewallPolicyName")}
    return {a for a in out if isinstance(a, str) and a}


def roles_in(resources: Iterable[dict]) -> set[str]:
    return {m[marks.ROLE_KEY] for r in resources if (m := marks_of(r)).get(marks.ROLE_KEY)}


_CONTAINERS = {AWS_SG, AZURE_NSG, AZURE_FW_POLICY, *GCP_POLICY_TYPES}
_REFS = ("securityGroupId", "networkSecurityGroupName", "firewallPolicyName", "firewallPolicy", "policy")


def role_members(resources: list[dict], role: str) -> list[dict]:
    """Resources of ``role``: marked with it, or attached to a container (group, NSG, policy) marked with it.
    Prefix lists are always included (rules resolve their entries through them)."""
    containers: set[str] = set()
    for r in resources:
        if r.get("type") in _CONTAINERS and marks_of(r).get(marks.ROLE_KEY) == role:
            containers |= _aliases(r)
    # GCP VPC rules have no container: an unmarked rule joins the role when it targets the same network
    # tags as the role's marked rules, or every instance of one of their networks (no targets at all)
    tags: set[str] = set()
    networks: set[str] = set()
    for r in resources:
        if r.get("type") == GCP_FIREWALL and marks_of(r).get(marks.ROLE_KEY) == role:
            i = r.get("inputs") or {}
            tags |= {t for t in i.get("targetTags") or [] if isinstance(t, str)}
            if isinstance(i.get("network"), str):
                networks.add(i["network"])
    out = []
    for r in resources:
        if r.get("type") in AWS_PREFIX_TYPES:
            out.append(r)
            continue
        m = marks_of(r).get(marks.ROLE_KEY)
        if m == role:
            out.append(r)
            continue
        if m:
            continue  # marked for another role
        inputs = r.get("inputs") or {}
        if any(ref_key(inputs.get(k)) in containers for k in _REFS):
            out.append(r)
        elif r.get("type") == GCP_FIREWALL:
            targets = set(inputs.get("targetTags") or [])
            everywhere = not targets and not inputs.get("targetServiceAccounts") and inputs.get("network") in networks
            if targets & tags or everywhere:
                out.append(r)
    return out
