"""Azure components: the NSG for a profile and the Azure Firewall Policy for its egress/FQDN flows.

Thin: each component renders with the pure modules (:mod:`.rules`, :mod:`.firewall_policy`) while its
Args are validated, so every limit (band, collisions, 80-character names, rule count) fails *before*
any resource is registered, and then registers exactly what the render returned.

Rule style: **separate ``SecurityRule`` resources, never inline ``securityRules``.** Each rule is its
own resource with its own identity (``<name>-<rule name>``), so adding, removing or editing one flow
creates, deletes or updates one resource and the NSG itself is untouched; an inline list would make
every change a diff of the whole NSG. The two styles must never be mixed: azure-native treats inline
``securityRules`` as the complete list and removes separate rules on the next update (and vice versa,
pulumi-azure-native #1087, #3359), so the NSG registered here never sets ``securityRules``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .. import management
from ..errors import ConfigError
from ..profiles import Overrides, Profile, resolve_args_profile
from . import firewall_policy as fw
from . import rules as nsg_rules
from ._register import register

__all__ = ["NsgArgs", "SpiritNsg", "FirewallPolicyArgs", "SpiritFirewallPolicy"]

_ASG_PLACEHOLDER = "${spirit-asg}"


def _profile(value: Any, overrides: Overrides | None, extra_flows: str | None = None) -> Profile:
    return resolve_args_profile(value, overrides, extra_flows)


def _substitute(value: Any, placeholder: str, replacement: Any) -> Any:
    if value == placeholder:
        return replacement
    if isinstance(value, dict):
        return {k: _substitute(v, placeholder, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, placeholder, replacement) for v in value]
    return value


@dataclass
class NsgArgs:
    """Arguments of :class:`SpiritNsg`. Validated (and rendered) at construction: ConfigError/QuotaError."""

    #: "phones" | "communicator" | "sbc", or a built Profile
    profile: str | Profile
    #: resource group of the NSG (and ASG)
    resource_group_name: pulumi.Input[str]
    #: Azure region; None = the provider's location
    location: pulumi.Input[str] | None = None
    #: customer overrides (when ``profile`` is a name)
    overrides: Overrides | None = None
    #: reserved priority band (start, width); the last priority is the strict deny
    priority_start: int = 1000
    priority_width: int = 2000
    #: deny outbound Internet at the end of the band (default: least privilege)
    strict: bool = True
    #: an existing application security group as the rules' local side (follows the SBC/VDI NICs)
    asg_id: pulumi.Input[str] | None = None
    #: create an application security group ``<name>-asg`` and use it as the local side
    create_asg: bool = False
    #: the user's own rules in this NSG (ExtraRule or "NAME:PRIORITY[:in|out]")
    extra_rules: Sequence[nsg_rules.ExtraRule | str] = ()
    #: fixed priorities by rule name (settle a reported collision)
    priority_pins: Mapping[str, int] = field(default_factory=dict)
    name_prefix: str = "spirit"
    #: the NSG's Azure name; None = auto-named
    nsg_name: str | None = None
    #: extra tags on the NSG (the spirit-* marks are always set)
    tags: Mapping[str, str] = field(default_factory=dict)
    #: the customer's extra-flow file (the catalogue's format), merged into the profile
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        self._profile = _profile(self.profile, self.overrides, self.extra_flows)
        if self.create_asg and self.asg_id is not None:
            raise ConfigError("give asg_id or create_asg, not both", field="asg_id")
        self.extra_rules = tuple(e if isinstance(e, nsg_rules.ExtraRule) else nsg_rules.ExtraRule.parse(str(e),
                                 "extra_rules") for e in self.extra_rules)
        self.plan = self.render()

    @property
    def profile_obj(self) -> Profile:
        return self._profile

    def options(self) -> nsg_rules.NsgOptions:
        asg = None
        if self.create_asg or (self.asg_id is not None and not isinstance(self.asg_id, str)):
            asg = _ASG_PLACEHOLDER
        elif self.asg_id is not None:
            asg = self.asg_id
        return nsg_rules.NsgOptions(priority_start=self.priority_start, priority_width=self.priority_width,
                                    strict=self.strict, asg_id=asg, extra_rules=tuple(self.extra_rules),
                                    priority_pins=dict(self.priority_pins), name_prefix=self.name_prefix)

    def render(self) -> nsg_rules.NsgPlan:
        return nsg_rules.render(self._profile, self.options())


class SpiritNsg(pulumi.ComponentResource):
    """The NSG of a profile: one NetworkSecurityGroup, optional ApplicationSecurityGroup, one
    SecurityRule per (flow, transport), plus the strict deny.

    Outputs: ``nsg_id``, ``nsg_name``, ``asg_id``, ``priorities`` (rule name -> priority),
    ``widened`` (one line per widening: the FQDN flows opened to 0.0.0.0/0 on an IP-only NSG).
    """

    def __init__(self, name: str, args: NsgArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritNsg", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        asg_id: Any = args.asg_id
        if args.create_asg:
            asg = register("azure-native:network:ApplicationSecurityGroup", f"{name}-asg",
                           {"tags": dict(plan.nsg_inputs.get("tags", {}))}, child,
                           resource_group_name=args.resource_group_name, location=args.location)
            asg_id = asg.id
        nsg_inputs = dict(plan.nsg_inputs)
        nsg_inputs["tags"] = {**dict(args.tags), **nsg_inputs.get("tags", {})}
        self.nsg = register(nsg_rules.NSG_TYPE, f"{name}-nsg", nsg_inputs, child,
                            resource_group_name=args.resource_group_name, location=args.location,
                            network_security_group_name=args.nsg_name)
        self.rules: dict[str, pulumi.CustomResource] = {}
        for r in plan.rules:
            inputs = _substitute(r.inputs, _ASG_PLACEHOLDER, asg_id)
            self.rules[r.name] = register(nsg_rules.SECURITY_RULE_TYPE, f"{name}-{r.name}", inputs, child,
                                          resource_group_name=args.resource_group_name,
                                          network_security_group_name=self.nsg.name)
        for w in plan.widened:
            pulumi.log.info(f"spirit: {w}", resource=self)
        self.nsg_id = self.nsg.id
        self.nsg_name = self.nsg.name
        self.asg_id = asg_id
        self.priorities = {r.name: r.priority for r in plan.rules}
        self.widened = [str(w) for w in plan.widened]
        self.register_outputs({"nsgId": self.nsg_id, "nsgName": self.nsg_name, "asgId": asg_id,
                               "priorities": self.priorities, "widened": self.widened})


@dataclass
class FirewallPolicyArgs:
    """Arguments of :class:`SpiritFirewallPolicy` (validated and rendered at construction)."""

    profile: str | Profile
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str] | None = None
    overrides: Overrides | None = None
    #: priority of the rule collection group (100-65000)
    group_priority: int = 1000
    #: band of the rule collection priorities
    priority_start: int = 10000
    priority_width: int = 10000
    priority_pins: Mapping[str, int] = field(default_factory=dict)
    #: the clients' addresses (source of every rule)
    source_addresses: Sequence[str] = ("*",)
    #: also carry the IP flows (when all egress is routed through the firewall)
    include_ip_flows: bool = True
    tier: str = "Standard"
    name_prefix: str = "spirit"
    #: the policy's Azure name; None = auto-named
    policy_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: the customer's extra-flow file (the catalogue's format), merged into the profile
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        self._profile = _profile(self.profile, self.overrides, self.extra_flows)
        self.plan = fw.render(self._profile, self.options())

    def options(self) -> fw.FirewallOptions:
        return fw.FirewallOptions(group_priority=self.group_priority, priority_start=self.priority_start,
                                  priority_width=self.priority_width, priority_pins=dict(self.priority_pins),
                                  source_addresses=tuple(self.source_addresses),
                                  include_ip_flows=self.include_ip_flows, tier=self.tier,
                                  name_prefix=self.name_prefix)


class SpiritFirewallPolicy(pulumi.ComponentResource):
    """An Azure Firewall Policy (DNS proxy on) with one rule collection group holding the profile's
    egress flows: network rules for IP flows and non-HTTP FQDN flows, application rules for HTTP/HTTPS
    FQDN flows. Attach ``policy_id`` to an Azure Firewall (``firewallPolicy.id``), route the clients'
    egress to it and point the VNet's DNS at the firewall.

    Outputs: ``policy_id``, ``group_id``, ``priorities`` (collection name -> priority), ``widened``.
    """

    def __init__(self, name: str, args: FirewallPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritFirewallPolicy", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        policy_inputs = dict(plan.policy_inputs)
        policy_inputs["tags"] = {**dict(args.tags), **policy_inputs.get("tags", {})}
        self.policy = register(fw.POLICY_TYPE, f"{name}-policy", policy_inputs, child,
                               resource_group_name=args.resource_group_name, location=args.location,
                               firewall_policy_name=args.policy_name)
        self.group = register(fw.GROUP_TYPE, f"{name}-rules", plan.group_inputs,
                              pulumi.ResourceOptions(parent=self),
                              resource_group_name=args.resource_group_name,
                              firewall_policy_name=self.policy.name,
                              rule_collection_group_name=f"{args.name_prefix}-rules")
        self.policy_id = self.policy.id
        self.group_id = self.group.id
        self.priorities = {c["name"]: c["priority"] for c in plan.collections}
        self.widened = [str(w) for w in plan.widened]
        self.register_outputs({"policyId": self.policy_id, "groupId": self.group_id,
                               "priorities": self.priorities, "widened": self.widened})


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class NsgManagementArgs:
    """Management access for an SBC on Azure: inbound SSH and HTTPS from the operator's CIDRs, as rules in
    the Spirit NSG but in a priority band of their own (3000-3099: ``mgmt-ssh`` 3010, ``mgmt-https`` 3020),
    never in the Spirit band. Never from the world, never wider than a /16 (IPv6 /48) per CIDR."""

    resource_group_name: pulumi.Input[str]
    network_security_group_name: pulumi.Input[str]
    management_cidrs: tuple = ()

    def __post_init__(self) -> None:
        self.cidrs = management.check_cidrs(self.management_cidrs)
        self.rules = management.azure_rules(self.cidrs)


class SpiritNsgManagement(pulumi.ComponentResource):
    """Outputs: ``priorities`` (rule name -> priority)."""

    def __init__(self, name: str, args: NsgManagementArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritNsgManagement", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rules = {r["securityRuleName"]: register(nsg_rules.SECURITY_RULE_TYPE, f"{name}-{r['securityRuleName']}",
                                                      r, child, resource_group_name=args.resource_group_name,
                                                      network_security_group_name=args.network_security_group_name)
                      for r in args.rules}
        self.priorities = {r["securityRuleName"]: r["priority"] for r in args.rules}
        self.register_outputs({"priorities": self.priorities})
