"""Build the Spirit CrossGuard ``PolicyPack`` from the pure checks (imports ``pulumi_policy``).

The adapter layer: property values arrive through ``pulumi_policy``'s unknown-checking proxies as protobuf
numbers (floats); they are unwrapped without tripping on preview unknowns, normalised
(:func:`~spirit_infra.policy.resources.normalize`) and handed to the pure checks as resource dicts. In a
stack policy, references the engine knows as property dependencies (``securityGroupId``, ``prefixListId``,
``networkSecurityGroupName``, ``firewallPolicy``...) are replaced by the referenced resource's URN (Azure:
its logical name), so rules find their group and prefix list even while ids are unknown in a preview.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ..errors import SpiritError
from . import coverage, ingress, nat, quota
from .resources import normalize
from .settings import Settings, settings_from
from .spec import PACK_NAME, POLICIES, PolicySpec

__all__ = ["build", "plain", "stack_resources"]

_LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}

#: reference properties resolved through property dependencies: property -> the types it may point at
_REFS = {
    "securityGroupId": ("aws:ec2/securityGroup:SecurityGroup",),
    "prefixListId": ("aws:ec2/managedPrefixList:ManagedPrefixList",),
    "networkSecurityGroupName": ("azure-native:network:NetworkSecurityGroup",),
    "firewallPolicyName": ("azure-native:network:FirewallPolicy",),
    "firewallPolicy": ("gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy",
                       "gcp:compute/regionNetworkFirewallPolicy:RegionNetworkFirewallPolicy",
                       "gcp:compute/firewallPolicy:FirewallPolicy"),
}


def plain(value: Any) -> Any:
    """Plain dicts/lists from ``pulumi_policy`` proxies, reading the raw targets (unknowns do not raise)."""
    name = type(value).__name__
    if name in ("_DictProxy", "_ListProxy"):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def _stack_config() -> dict[str, Any]:
    try:
        data = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def stack_resources(resources) -> list[dict]:
    """Resource dicts for the pure checks from ``StackValidationArgs.resources``."""
    out = []
    for r in resources:
        inputs = normalize(plain(r.props))
        for prop, targets in _REFS.items():
            deps = [d for d in (r.property_dependencies or {}).get(prop, []) if d.resource_type in targets]
            if len(deps) == 1 and prop in inputs:
                d = deps[0]
                inputs[prop] = d.name if d.resource_type.startswith("azure-native:") else d.urn
        out.append({"type": r.resource_type, "name": r.name, "urn": r.urn, "inputs": inputs})
    return out


def _settings(args, stack_config: dict[str, Any]) -> Settings:
    return settings_from(normalize(plain(args.get_config() or {})), stack_config)


def _resource_policy(spec: PolicySpec, check, stack_config) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = {"type": args.resource_type, "name": args.name, "urn": args.urn,
                    "inputs": normalize(plain(args.props))}
        try:
            messages = check(resource, _settings(args, stack_config))
        except SpiritError as e:
            messages = [f"configuration: {e}"]
        for m in messages:
            report_violation(m)

    return ResourceValidationPolicy(name=spec.name, description=spec.description, validate=validate,
                                    enforcement_level=_LEVELS[spec.level],
                                    config_schema=PolicyConfigSchema(properties=spec.schema()))


def _stack_policy(spec: PolicySpec, check, stack_config) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            findings = check(stack_resources(args.resources), _settings(args, stack_config))
        except SpiritError as e:
            findings = [(f"configuration: {e}", None)]
        for message, urn in findings:
            if urn:
                report_violation(message, urn)
            else:
                report_violation(message)

    return StackValidationPolicy(name=spec.name, description=spec.description, validate=validate,
                                 enforcement_level=_LEVELS[spec.level],
                                 config_schema=PolicyConfigSchema(properties=spec.schema()))


def _pairs(findings):
    return [(f.message, f.urn) for f in findings]


CHECKS = {
    "spirit-no-open-voice-ingress": ingress.open_voice_ingress,
    "spirit-no-open-voice-ingress-via-prefix-list": ingress.open_voice_ingress_via_prefix_lists,
    "spirit-egress-covers-profile": lambda rs, s: _pairs(coverage.egress_coverage(rs, s)),
    "spirit-egress-not-broader": lambda rs, s: _pairs(coverage.egress_broader(rs, s)),
    "spirit-nat-voice-safe": nat.nat_voice_safe,
    "spirit-managed-nat-keepalive": nat.managed_nat_keepalive,
    "spirit-sg-quota": lambda rs, s: quota.sg_quota(rs, s.quota),
}


def build(stack_config: Mapping[str, Any] | None = None) -> PolicyPack:
    """The pack (constructing a ``PolicyPack`` registers it: call once, from the pack's ``__main__.py``)."""
    sc = dict(stack_config) if stack_config is not None else _stack_config()
    policies = []
    for spec in POLICIES:
        make = _resource_policy if spec.kind == "resource" else _stack_policy
        policies.append(make(spec, CHECKS[spec.name], sc))
    return PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=policies)
