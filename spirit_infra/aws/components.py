"""Pulumi components for AWS (imports pulumi and pulumi_aws; the render is in the pure modules).

- :class:`SpiritSecurityGroups`: security group(s), the Spirit prefix list and one separate rule resource
  per rule, exactly as :func:`spirit_infra.aws.rules.render` planned them (quota-checked, split if needed).
- :class:`SpiritNetworkFirewall`: Network Firewall rule groups, policy, optional firewall and optional
  Route 53 Resolver DNS Firewall, exactly as :func:`spirit_infra.aws.fqdn.render_firewall` planned them.
- :class:`SpiritManagedNat` (in :mod:`spirit_infra.aws.nat`): Elastic IPs and NAT gateways.

The components are thin: they register the specs the pure render returned, in order, resolving
``{"$ref": name, "attr": a}`` to the output of the child already created and ``{"$param": ...}`` to an
Args value, and converting the camelCase wire keys to the SDK's snake_case keyword arguments. Children
are parented to the component and named ``f"{name}-{spec name}"``; no resource is created inside an
``apply``; ``register_outputs`` comes last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import management
from ..errors import ConfigError
from ..extras import sdk
from ..naming import current_stack, physical_prefix
from ..planning import planned
from ..profiles import Overrides, Profile, resolve_args_profile
from . import fqdn as _fqdn
from . import rules as _rules
from .quota import DEFAULT_GROUPS_PER_INTERFACE, DEFAULT_QUOTA

aws = sdk("aws")  # one line naming the extra when it is not installed

__all__ = ["SpiritSecurityGroupsArgs", "SpiritSecurityGroups", "SpiritNetworkFirewallArgs", "SpiritNetworkFirewall",
           "SpiritManagementAccessArgs", "SpiritManagementAccess", "register_specs", "resolve_profile"]

CLASSES = {
    _rules.TYPE_SG: aws.ec2.SecurityGroup,
    _rules.TYPE_EGRESS: aws.vpc.SecurityGroupEgressRule,
    _rules.TYPE_INGRESS: aws.vpc.SecurityGroupIngressRule,
    _rules.TYPE_PREFIX_LIST: aws.ec2.ManagedPrefixList,
    _fqdn.TYPE_RULE_GROUP: aws.networkfirewall.RuleGroup,
    _fqdn.TYPE_POLICY: aws.networkfirewall.FirewallPolicy,
    _fqdn.TYPE_FIREWALL: aws.networkfirewall.Firewall,
    _fqdn.TYPE_DNS_DOMAIN_LIST: aws.route53.ResolverFirewallDomainList,
    _fqdn.TYPE_DNS_RULE_GROUP: aws.route53.ResolverFirewallRuleGroup,
    _fqdn.TYPE_DNS_RULE: aws.route53.ResolverFirewallRule,
    _fqdn.TYPE_DNS_ASSOCIATION: aws.route53.ResolverFirewallRuleGroupAssociation,
    "aws:ec2/eip:Eip": aws.ec2.Eip,
    "aws:ec2/natGateway:NatGateway": aws.ec2.NatGateway,
    "aws:ec2/route:Route": aws.ec2.Route,
}
#: map-valued inputs whose keys are data, not property names
_DATA_MAPS = {"tags"}
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(key: str) -> str:
    return _CAMEL.sub(lambda m: "_" + m.group(1).lower(), key)


def _convert(value: Any, created: Mapping[str, pulumi.CustomResource], params: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if "$ref" in value:
            return getattr(created[value["$ref"]], value.get("attr", "id"))
        if "$managedPrefixList" in value:  # an AWS-managed prefix list, by name: the data source finds its id
            return aws.ec2.get_managed_prefix_list_output(name=value["$managedPrefixList"]).id
        if "$param" in value:
            v = params[value["$param"]]
            if "index" in value:
                return v[value["index"]]
            if "key" in value:
                return v[value["key"]]
            return v
        return {(k if k in _DATA_MAPS else _snake(k)): (dict(v) if k in _DATA_MAPS else _convert(v, created, params))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v, created, params) for v in value]
    return value


def register_specs(parent: pulumi.Resource, name: str, specs, params: Mapping[str, Any]) -> dict[str, pulumi.CustomResource]:
    """Register ``specs`` (already in dependency order: referenced specs come first) as children."""
    created: dict[str, pulumi.CustomResource] = {}
    pending = list(specs)
    while pending:
        progressed = False
        for spec in list(pending):
            deps = _refs(spec["inputs"])
            if not deps <= created.keys():
                continue
            cls = CLASSES[spec["type"]]
            kwargs = {_snake(k): (dict(v) if k in _DATA_MAPS else _convert(v, created, params))
                      for k, v in spec["inputs"].items()}
            aliases = [pulumi.Alias(name=f"{name}-{a}") for a in spec.get("aliases", ())]
            created[spec["name"]] = cls(f"{name}-{spec['name']}", **kwargs,
                                        opts=pulumi.ResourceOptions(parent=parent, aliases=aliases or None))
            pending.remove(spec)
            progressed = True
        if not progressed:  # pragma: no cover - the renders never emit cycles
            raise ValueError(f"unresolvable references in {[s['name'] for s in pending]}")
    return created


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        if "$ref" in value:
            return {value["$ref"]}
        return set().union(*(_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def resolve_profile(profile: str | Profile, overrides: Overrides | None, extra_flows: str | None = None) -> Profile:
    return resolve_args_profile(profile, overrides, extra_flows)


def _require(value: Any, field: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError("is required", field=field)


# ---- security groups ---------------------------------------------------------------------------------

@dataclass
class SpiritSecurityGroupsArgs:
    """Security groups for one Spirit profile.

    :param vpc_id: the VPC the groups belong to (an id or an Output).
    :param profile: ``"phones"``, ``"communicator"``, ``"sbc"`` or a built :class:`~spirit_infra.Profile`.
    :param overrides: customer overrides (extra Spirit CIDRs, SBC ports, ...) when ``profile`` is a name.
    :param strict: no allow-all egress (default). ``False`` adds one (reported as a warning).
    :param fqdn_firewall: ``True`` when you also deploy an FQDN layer (:class:`SpiritNetworkFirewall`) and
        route this egress through it: the warnings then say the firewall narrows the FQDN flows. Off by
        default, because this component alone deploys no such layer: the FQDN flows' ports are open to
        any address and the warnings say the stack is NOT STRICT. It only changes the warnings; the
        rules are the same either way.
    :param quota: rules per group, per direction and family (AWS default 60).
    :param groups_per_interface: at most this many groups (AWS default 5, up to 16).
    :param prefix_list: reference a customer-managed prefix list for the Spirit ranges where it fits.
    :param prefix_list_max_entries: the list's size (default: ``max(10, 2 x ranges)``).
    :param extra_flows: the customer's extra-flow file (the catalogue's format), merged into the profile.
    """

    vpc_id: pulumi.Input[str]
    profile: str | Profile = "sbc"
    overrides: Overrides | None = None
    strict: bool = True
    fqdn_firewall: bool = False
    quota: int = DEFAULT_QUOTA
    groups_per_interface: int = DEFAULT_GROUPS_PER_INTERFACE
    prefix_list: bool = True
    prefix_list_max_entries: int | None = None
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        _require(self.vpc_id, "vpc_id")
        self.resolved = resolve_profile(self.profile, self.overrides, self.extra_flows)
        self.options = _rules.SgOptions(strict=self.strict, fqdn_firewall=self.fqdn_firewall, quota=self.quota,
                                        groups_per_interface=self.groups_per_interface, prefix_list=self.prefix_list,
                                        prefix_list_max_entries=self.prefix_list_max_entries)

    def plan(self, name: str) -> _rules.SgRender:
        """The render for a component named ``name`` (pure, cached): quota errors surface here, first."""
        return planned(self, name, lambda: _rules.render(self.resolved, _rules.SgOptions(
            **{**self.options.__dict__, "name": physical_prefix(current_stack(), name)})))


class SpiritSecurityGroups(pulumi.ComponentResource):
    """The profile's security groups; attach every id in ``security_group_ids`` to the interface.

    Outputs: ``security_group_ids`` (in group order), ``prefix_list_id`` (or None), ``widened`` and
    ``warnings`` (lines), ``rule_count`` (rule resources) and ``quota`` (the planner's figures).
    """

    def __init__(self, name: str, args: SpiritSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        self.render = args.plan(name)  # before anything is registered, this component included
        super().__init__("spirit:index:SpiritSecurityGroups", name, None, opts)
        self.resources = register_specs(self, name, self.render.resources, {"vpcId": args.vpc_id})
        self.security_group_ids = pulumi.Output.all(*[self.resources[g["name"]].id for g in self.render.groups])
        pls = [self.resources[p["name"]].id for p in self.render.prefix_lists]
        self.prefix_list_id = pls[0] if pls else None
        self.widened = [str(w) for w in self.render.widened]
        self.warnings = list(self.render.warnings)
        for w in self.warnings:
            pulumi.log.warn(f"{name}: {w}", self)
        self.rule_count = len(self.render.rules)
        self.register_outputs({
            "security_group_ids": self.security_group_ids,
            "prefix_list_id": self.prefix_list_id,
            "widened": self.widened,
            "warnings": self.warnings,
            "rule_count": self.rule_count,
            "quota": self.render.quota,
        })


# ---- network firewall --------------------------------------------------------------------------------

@dataclass
class SpiritNetworkFirewallArgs:
    """AWS Network Firewall (and optionally Route 53 Resolver DNS Firewall) for a profile's flows.

    :param profile: profile name or built Profile; ``overrides`` as for the security groups.
    :param vpc_id: needed for the firewall (``subnet_ids``) and the DNS Firewall association.
    :param subnet_ids: firewall endpoint subnets, one per zone; empty: rule groups and policy only.
    :param strict: stateful default action drop (default); ``False``: alert only.
    :param dns_firewall: add a Route 53 Resolver DNS Firewall allow list of the profile's DNS names.
    :param dns_block_others: the DNS Firewall also blocks every other name (off by default).
    :param extra_flows: the customer's extra-flow file, merged into the profile.
    """

    profile: str | Profile = "phones"
    overrides: Overrides | None = None
    vpc_id: pulumi.Input[str] | None = None
    subnet_ids: tuple = ()
    strict: bool = True
    dns_firewall: bool = False
    dns_block_others: bool = False
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        self.resolved = resolve_profile(self.profile, self.overrides, self.extra_flows)
        self.subnet_ids = tuple(self.subnet_ids)
        if (self.subnet_ids or self.dns_firewall) and self.vpc_id is None:
            raise ConfigError("is required with subnet_ids or dns_firewall", field="vpc_id")
        self.options = _fqdn.FirewallOptions(strict=self.strict, subnet_count=len(self.subnet_ids),
                                             dns_firewall=self.dns_firewall, dns_block_others=self.dns_block_others)

    def plan(self, name: str) -> _fqdn.FirewallRender:
        """The render for a component named ``name`` (pure, cached)."""
        return planned(self, name, lambda: _fqdn.render_firewall(self.resolved, _fqdn.FirewallOptions(
            **{**self.options.__dict__, "name": physical_prefix(current_stack(), name)})))


class SpiritNetworkFirewall(pulumi.ComponentResource):
    """Outputs: ``firewall_policy_arn``, ``rule_group_arns``, ``firewall_id`` (or None), ``widened``, ``warnings``."""

    def __init__(self, name: str, args: SpiritNetworkFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        self.render = args.plan(name)
        super().__init__("spirit:index:SpiritNetworkFirewall", name, None, opts)
        self.resources = register_specs(self, name, self.render.resources,
                                        {"vpcId": args.vpc_id, "subnetIds": list(args.subnet_ids)})
        self.firewall_policy_arn = self.resources["nfw-policy"].arn
        self.rule_group_arns = [self.resources[n].arn for n in ("nfw-domains", "nfw-rules") if n in self.resources]
        self.firewall_id = self.resources["nfw"].id if "nfw" in self.resources else None
        self.widened = [str(w) for w in self.render.widened]
        self.warnings = list(self.render.warnings)
        for w in self.warnings:
            pulumi.log.warn(f"{name}: {w}", self)
        self.register_outputs({
            "firewall_policy_arn": self.firewall_policy_arn,
            "rule_group_arns": self.rule_group_arns,
            "firewall_id": self.firewall_id,
            "widened": self.widened,
            "warnings": self.warnings,
        })


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class SpiritManagementAccessArgs:
    """Management access for an SBC: a security group of its own admitting the operator's CIDRs on SSH
    (tcp/22) and HTTPS (tcp/443); attach it to the SBC's interface next to the Spirit groups, which it
    does not touch. Never from the world, never wider than a /16 (IPv6 /48) per CIDR.

    :param vpc_id: the VPC of the SBC.
    :param management_cidrs: the operator's CIDRs.
    """

    vpc_id: pulumi.Input[str]
    management_cidrs: tuple = ()

    def __post_init__(self) -> None:
        _require(self.vpc_id, "vpc_id")
        self.cidrs = management.check_cidrs(self.management_cidrs)
        self.specs = management.aws_specs(self.cidrs)


class SpiritManagementAccess(pulumi.ComponentResource):
    """Outputs: ``security_group_id`` (the management group), ``cidrs``."""

    def __init__(self, name: str, args: SpiritManagementAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritManagementAccess", name, None, opts)
        self.resources = register_specs(self, name, args.specs, {"vpcId": args.vpc_id})
        self.security_group_id = self.resources["mgmt"].id
        self.cidrs = list(args.cidrs)
        self.register_outputs({"security_group_id": self.security_group_id, "cidrs": self.cidrs})
