"""Azure components: :class:`AzureNsg` for a profile, :class:`AzureFirewallPolicy` for its egress/FQDN flows,
:class:`AzureNatGateway` (managed NAT), :class:`AzureNsgManagement` (the SBC's management rules), and
:class:`AzureNetwork` / :class:`AzureSiteSubnets` (the VNet, and the site subnets with every association, as
:mod:`.network` renders them).

Thin: each component renders with the pure modules (:mod:`.rules`, :mod:`.fqdn`) while its
Args are validated, so every limit (band, collisions, 80-character names, rule count) fails *before*
any resource is registered, and then registers exactly what the render returned.

Rule style: **separate ``SecurityRule`` resources, never inline ``securityRules``.** Each rule is its
own resource with its own identity (``<name>-<rule name>``), so adding, removing or editing one flow
creates, deletes or updates one resource and the NSG itself is untouched; an inline list would make
every change a diff of the whole NSG. The two styles must never be mixed: azure-native treats inline
``securityRules`` as the complete list and removes separate rules on the next update (and vice versa,
pulumi-azure-native #1087, #3359), so the NSG registered here never sets ``securityRules``.

Managed NAT: a NAT Gateway (Standard) with static public IP(s) and/or a prefix, on a subnet; the plan (and
every check) is pure (:mod:`.nat`). Outputs: ``publicIps`` (the static addresses Spirit allowlists),
``publicIpPrefix`` (when a prefix is used), ``tcpIdleTimeoutMinutes`` and ``udpIdleTimeoutSeconds`` (always
240: Azure's fixed UDP idle timeout), and ``warnings``; a SIP keepalive of 240 s or more is also logged as a
warning. Subnet association: in azure-native the association is a property of the subnet, so the
component registers the ``Subnet`` (``natGateway.id``) when ``subnet`` is given. That resource then owns
the subnet's settings: pass the subnet's NSG and route table ids too, or they would be detached.

Every component registers through the one binder (:func:`spirit_infra.binder.bind`) with :data:`CLASSES`,
this cloud's ``type -> class`` table: the pure renderers emit camelCase inputs, exactly as Pulumi registers
them, and the binder turns the top-level keys into the SDK's snake_case keywords; the azure-native SDK is
imported when a class is first looked up, so importing the components does not load it.

Type tokens ``spirit:index:<class name>``, each aliasing its old token (``SpiritNsg``, ...); Args and outputs
follow :mod:`spirit_infra.args` (real annotations: no ``from __future__ import annotations`` here).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NotRequired

import netaddr
import pulumi

from .. import management
from ..args import (
    OverridesArgs,
    ProfileName,
    args_of,
    built_profile,
    component_options,
    known,
    planned_management,
    profile_name,
    register_declared,
    require,
    site_map,
    site_network,
)
from ..binder import bind
from ..errors import ConfigError
from ..plan import Param, Plan, ResourceSpec
from ..planning import planned
from ..settings import (
    FW_GROUP_PRIORITY,
    FW_PRIORITY_START,
    FW_PRIORITY_WIDTH,
    NAME_PREFIX,
    NSG_PRIORITY_START,
    NSG_PRIORITY_WIDTH,
    PUBLIC_IP_COUNT,
    PUBLIC_IP_PREFIX_LENGTH,
    SIP_KEEPALIVE,
    STRICT,
    TCP_IDLE_TIMEOUT_MINUTES,
    check_fields,
    options_of,
)
from ..zones import edge_cidr
from . import fqdn as fw
from . import network as _network
from . import rules as nsg_rules
from .nat import (
    NAT_GATEWAY_TYPE,
    PUBLIC_IP_PREFIX_TYPE,
    PUBLIC_IP_TYPE,
    UDP_IDLE_TIMEOUT_SECONDS,
    NatOptions,
    NatPlan,
    model_nat,
)
from .nat import as_plan as nat_as_plan

__all__ = ["CLASSES", "TYPES", "sdk_class", "AzureNsgArgs", "AzureNsg",
           "AzureFirewallPolicyArgs", "AzureFirewallPolicy", "SubnetAssociation", "AzureNatGatewayArgs",
           "AzureNatGateway", "AzureNsgManagementArgs", "AzureNsgManagement", "FirewallTier", "AzureNetworkArgs",
           "AzureNetwork", "AzureSiteSubnetsArgs", "AzureSiteSubnets",
           # deprecated names (before the uniform component names)
           "NsgArgs", "SpiritNsg", "FirewallPolicyArgs", "SpiritFirewallPolicy", "NsgManagementArgs",
           "NatGatewayArgs", "SpiritNatGateway", "SpiritNsgManagement"]

#: every azure-native type the Azure components register
TYPES = (
    "azure-native:network:ApplicationSecurityGroup",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:SecurityRule",
    "azure-native:network:FirewallPolicy",
    "azure-native:network:FirewallPolicyRuleCollectionGroup",
    "azure-native:network:PublicIPAddress",
    "azure-native:network:PublicIPPrefix",
    "azure-native:network:NatGateway",
    "azure-native:network:Subnet",
    # the QoS NAT VM (nat.render_qos_nat)
    "azure-native:network:NetworkInterface",
    "azure-native:compute:VirtualMachine",
    "azure-native:network:RouteTable",
    "azure-native:network:Route",
    "azure-native:network:VirtualNetwork",
    "azure-native:resources:ResourceGroup",
)


def sdk_class(type_token: str):
    from ..extras import sdk

    azure_native = sdk("azure")  # one line naming the extra when it is not installed
    pkg, module, cls = type_token.split(":")
    assert pkg == "azure-native", type_token
    return getattr(getattr(azure_native, module), cls)


class _Classes(Mapping):
    """:data:`TYPES` -> their SDK classes, imported on first use."""

    def __getitem__(self, type_token: str) -> type:
        if type_token not in TYPES:
            raise KeyError(type_token)
        return sdk_class(type_token)

    def __contains__(self, type_token: object) -> bool:  # without importing the SDK
        return type_token in TYPES

    def __iter__(self) -> Iterator[str]:
        return iter(TYPES)

    def __len__(self) -> int:
        return len(TYPES)


CLASSES: Mapping[str, type] = _Classes()


@dataclass
class AzureProfileArgs:
    """What the Args of the profile-driven Azure components (:class:`AzureNsg`, :class:`AzureFirewallPolicy`)
    share: the profile and where its resources go."""

    profile: ProfileName
    """The Spirit profile."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the component's resources."""
    location: NotRequired[pulumi.Input[str]] = None
    """The Azure region (default: the provider's)."""
    overrides: NotRequired[OverridesArgs] = None
    """Customer overrides (extra Spirit CIDRs, ZTP vendors dropped, SBC ports)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.resource_group_name, "resource_group_name")
        built_profile(self)


@dataclass
class AzureNsgArgs(AzureProfileArgs):
    """Arguments of :class:`AzureNsg`. Validated (and rendered) at construction: ConfigError/QuotaError."""

    priority_start: NSG_PRIORITY_START.arg = NSG_PRIORITY_START.field()
    priority_width: NSG_PRIORITY_WIDTH.arg = NSG_PRIORITY_WIDTH.field()
    strict: STRICT.arg = STRICT.field()
    asg_id: NotRequired[pulumi.Input[str]] = None
    """An existing application security group as the rules' local side (follows the SBC/VDI NICs)."""
    create_asg: NotRequired[bool] = False
    """Create an application security group <name>-asg and use it as the local side."""
    extra_rules: NotRequired[list[str]] = field(default_factory=list)
    """The user's own rules in this NSG, as NAME:PRIORITY[:in|out] (their names and priorities must not collide)."""
    priority_pins: NotRequired[dict[str, int]] = field(default_factory=dict)
    """Fixed priorities by rule name (settle a reported collision)."""
    name_prefix: NAME_PREFIX.arg = NAME_PREFIX.field()
    nsg_name: str | None = None
    """The NSG's Azure name (default: auto-named)."""
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Extra tags on the NSG (the spirit-* marks are always set)."""
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.create_asg and self.asg_id is not None:
            raise ConfigError("give asg_id or create_asg, not both", field="asg_id")
        self.plan()

    def parsed_extra_rules(self) -> tuple[nsg_rules.ExtraRule, ...]:
        """``extra_rules`` as :class:`~spirit_infra.azure.rules.ExtraRule` (an ExtraRule is taken as it is)."""
        if isinstance(self.extra_rules, str) or not isinstance(self.extra_rules, list | tuple):
            raise ConfigError(f"expected a list of NAME:PRIORITY[:in|out], got {self.extra_rules!r}",
                              field="extra_rules")
        return tuple(e if isinstance(e, nsg_rules.ExtraRule) else nsg_rules.ExtraRule.parse(str(e), "extra_rules")
                     for e in self.extra_rules)

    def options(self) -> nsg_rules.NsgOptions:
        asg = None
        if self.create_asg or (self.asg_id is not None and not isinstance(self.asg_id, str)):
            asg = nsg_rules.ASG_PLACEHOLDER
        elif self.asg_id is not None:
            asg = self.asg_id
        return options_of(nsg_rules.NsgOptions, self, asg_id=asg, extra_rules=self.parsed_extra_rules(),
                          priority_pins=dict(self.priority_pins), profile=None)

    def plan(self, name: str | None = None) -> nsg_rules.NsgPlan:
        """The NSG's render (pure, cached; the same for every component name)."""
        return planned(self, "nsg", lambda: nsg_rules.model(built_profile(self), self.options()))


class AzureNsg(pulumi.ComponentResource):
    """The NSG of a profile: one NetworkSecurityGroup, optional ApplicationSecurityGroup, one SecurityRule per
    (flow, transport), plus the strict deny."""

    nsg_id: pulumi.Output[str]
    """The NSG's id (associate it with the site subnets)."""
    nsg_name: pulumi.Output[str]
    """The NSG's Azure name."""
    asg_id: pulumi.Output[str | None]
    """The application security group used as the local side (absent without one)."""
    priorities: pulumi.Output[dict[str, int]]
    """Rule name -> priority."""
    widened: pulumi.Output[list[str]]
    """One line per widening (the FQDN flows opened to 0.0.0.0/0 on an IP-only NSG)."""

    def __init__(self, name: str, args: AzureNsgArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNsgArgs, args)
        plan = args.plan(name)
        super().__init__("spirit:index:AzureNsg", name, None, component_options(opts, "SpiritNsg"))
        created = bind(nsg_rules.as_plan(plan, create_asg=args.create_asg, tags=args.tags), self, name, CLASSES,
                       {"resourceGroupName": args.resource_group_name, "location": args.location,
                        "nsgName": args.nsg_name, "asgId": args.asg_id})
        nsg = created["nsg"]
        asg_id: Any = created["asg"].id if args.create_asg else args.asg_id
        for w in plan.widened:
            pulumi.log.info(f"spirit: {w}", resource=self)
        self.nsg_id = nsg.id
        self.nsg_name = nsg.name
        self.asg_id = asg_id if asg_id is None or isinstance(asg_id, pulumi.Output) else known(asg_id)
        self.priorities = known({r.name: r.priority for r in plan.rules})
        self.widened = known([str(w) for w in plan.widened])
        register_declared(self)


class FirewallTier(StrEnum):
    """The Azure Firewall Policy's tier (Basic has no DNS proxy, which FQDN network rules need)."""

    STANDARD = "Standard"
    """Standard (the default)."""
    PREMIUM = "Premium"
    """Premium."""

    @classmethod
    def _missing_(cls, value: object) -> "FirewallTier":
        raise ConfigError(f"{value!r} is not Standard or Premium (Basic has no DNS proxy)", field="tier")


@dataclass
class AzureFirewallPolicyArgs(AzureProfileArgs):
    """Arguments of :class:`AzureFirewallPolicy` (validated and rendered at construction)."""

    group_priority: FW_GROUP_PRIORITY.arg = FW_GROUP_PRIORITY.field()
    priority_start: FW_PRIORITY_START.arg = FW_PRIORITY_START.field()
    priority_width: FW_PRIORITY_WIDTH.arg = FW_PRIORITY_WIDTH.field()
    priority_pins: NotRequired[dict[str, int]] = field(default_factory=dict)
    """Fixed collection priorities by collection name (settle a reported collision)."""
    source_addresses: NotRequired[list[str]] = field(default_factory=lambda: ["*"])
    """The clients' addresses (source of every rule; "*" = whatever the firewall sees)."""
    include_ip_flows: NotRequired[bool] = True
    """Also carry the IP flows (when all egress is routed through the firewall)."""
    tier: NotRequired[FirewallTier] = FirewallTier.STANDARD
    """Standard or Premium (Basic has no DNS proxy)."""
    name_prefix: NAME_PREFIX.arg = NAME_PREFIX.field()
    policy_name: str | None = None
    """The policy's Azure name (default: auto-named)."""
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Extra tags on the policy (the spirit-* marks are always set)."""
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.source_addresses, str) or not isinstance(self.source_addresses, list | tuple):
            raise ConfigError(f"expected a list of addresses, got {self.source_addresses!r}", field="source_addresses")
        self.plan()

    def options(self) -> fw.FirewallOptions:
        return options_of(fw.FirewallOptions, self, priority_pins=dict(self.priority_pins),
                          source_addresses=tuple(self.source_addresses), profile=None)

    def plan(self, name: str | None = None) -> Any:
        """The policy's render (pure, cached; the same for every component name)."""
        return planned(self, "policy", lambda: fw.model(built_profile(self), self.options()))


class AzureFirewallPolicy(pulumi.ComponentResource):
    """An Azure Firewall Policy (DNS proxy on) with one rule collection group holding the profile's egress flows:
    network rules for IP flows and non-HTTP FQDN flows, application rules for HTTP/HTTPS FQDN flows. Attach
    policyId to an Azure Firewall (firewallPolicy.id), route the clients' egress to it and point the VNet's DNS
    at the firewall."""

    policy_id: pulumi.Output[str]
    """The policy's id."""
    group_id: pulumi.Output[str]
    """The rule collection group's id."""
    priorities: pulumi.Output[dict[str, int]]
    """Collection name -> priority."""
    widened: pulumi.Output[list[str]]
    """One line per widening."""

    def __init__(self, name: str, args: AzureFirewallPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureFirewallPolicyArgs, args)
        plan = args.plan(name)
        super().__init__("spirit:index:AzureFirewallPolicy", name, None, component_options(opts, "SpiritFirewallPolicy"))
        created = bind(fw.as_plan(plan, tags=args.tags, name_prefix=args.name_prefix), self, name, CLASSES,
                       {"resourceGroupName": args.resource_group_name, "location": args.location,
                        "policyName": args.policy_name})
        policy, group = created["policy"], created["rules"]
        self.policy_id = policy.id
        self.group_id = group.id
        self.priorities = known({c["name"]: c["priority"] for c in plan.collections})
        self.widened = known([str(w) for w in plan.widened])
        register_declared(self)


# ---- managed NAT -----------------------------------------------------------------------------------

@dataclass
class SubnetAssociation:
    """The subnet to put behind the gateway (registered as a Subnet resource that this stack owns)."""

    virtual_network_name: pulumi.Input[str]
    """The subnet's virtual network."""
    address_prefix: str
    """The subnet's CIDR."""
    subnet_name: str | None = None
    """The subnet's Azure name (default: auto-named)."""
    network_security_group_id: NotRequired[pulumi.Input[str]] = None
    """Keep this NSG attached (the Subnet resource owns all of the subnet's associations)."""
    route_table_id: NotRequired[pulumi.Input[str]] = None
    """Keep this route table attached."""

    def __post_init__(self) -> None:
        try:
            netaddr.IPNetwork(self.address_prefix)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.address_prefix!r} is not a CIDR", field="subnet.address_prefix") from None


@dataclass
class AzureNatGatewayArgs:
    """Arguments of :class:`AzureNatGateway`; validated at construction (ConfigError)."""

    resource_group_name: pulumi.Input[str]
    """The resource group of the gateway and its addresses."""
    location: NotRequired[pulumi.Input[str]] = None
    """The Azure region (default: the provider's)."""
    tcp_idle_timeout_minutes: TCP_IDLE_TIMEOUT_MINUTES.arg = TCP_IDLE_TIMEOUT_MINUTES.field()
    public_ip_count: PUBLIC_IP_COUNT.arg = PUBLIC_IP_COUNT.field()
    public_ip_prefix_length: PUBLIC_IP_PREFIX_LENGTH.arg = PUBLIC_IP_PREFIX_LENGTH.field()
    zones: NotRequired[list[str]] = field(default_factory=list)
    """At most one availability zone (empty: regional)."""
    sip_keepalive_seconds: SIP_KEEPALIVE.arg = SIP_KEEPALIVE.field()
    profile: ProfileName | None = None
    """The Spirit profile, for the spirit-* tags (absent: no marks)."""
    subnet: SubnetAssociation | None = None
    """The subnet to put behind the gateway."""
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Extra tags (the spirit-* marks are always set)."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.resource_group_name, "resource_group_name")
        if isinstance(self.subnet, Mapping):
            self.subnet = args_of(SubnetAssociation, self.subnet, "subnet")
        self.plan()

    def plan(self) -> NatPlan:
        """The gateway, its addresses and their checks (pure, cached)."""
        return planned(self, "nat", lambda: model_nat(options_of(
            NatOptions, self, zones=tuple(self.zones),
            profile=profile_name(self.profile) if self.profile is not None else None)))


class AzureNatGateway(pulumi.ComponentResource):
    """A NAT Gateway (Standard) with static public IP(s) and/or a prefix, optionally on a subnet."""

    nat_gateway_id: pulumi.Output[str]
    """The NAT gateway's id (associate it with the site subnets)."""
    public_ips: pulumi.Output[list[str]]
    """The static public addresses (what Spirit allowlists)."""
    public_ip_prefix: pulumi.Output[str | None]
    """The public IP prefix (absent without one)."""
    tcp_idle_timeout_minutes: pulumi.Output[int]
    """The TCP idle timeout."""
    udp_idle_timeout_seconds: pulumi.Output[int]
    """Azure's fixed UDP idle timeout (240 s)."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know (a keepalive not below the UDP idle timeout)."""

    def __init__(self, name: str, args: AzureNatGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNatGatewayArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:AzureNatGateway", name, None, component_options(opts, "SpiritNatGateway"))
        s = args.subnet
        created = bind(nat_as_plan(plan, tags=args.tags, subnet_prefix=s.address_prefix if s else None,
                                   keep_nsg=s is not None and s.network_security_group_id is not None,
                                   keep_route_table=s is not None and s.route_table_id is not None),
                       self, name, CLASSES, {
            "resourceGroupName": args.resource_group_name, "location": args.location,
            **({"virtualNetworkName": s.virtual_network_name, "subnetName": s.subnet_name,
                "nsgId": s.network_security_group_id, "routeTableId": s.route_table_id} if s is not None else {})})
        ips = [created[sp["name"]] for sp in plan.resources if sp["type"] == PUBLIC_IP_TYPE]
        prefix = next((created[sp["name"]] for sp in plan.resources if sp["type"] == PUBLIC_IP_PREFIX_TYPE), None)
        gateway = created[next(sp["name"] for sp in plan.resources if sp["type"] == NAT_GATEWAY_TYPE)]
        for w in plan.warnings:
            pulumi.log.warn(w, resource=self)
        self.nat_gateway_id = gateway.id
        self.public_ips = pulumi.Output.all(*[ip.ip_address for ip in ips]) if ips else known([])
        self.public_ip_prefix = prefix.ip_prefix if prefix is not None else None
        self.tcp_idle_timeout_minutes = known(plan.tcp_idle_timeout_minutes)
        self.udp_idle_timeout_seconds = known(UDP_IDLE_TIMEOUT_SECONDS)
        self.warnings = known(list(plan.warnings))
        register_declared(self)


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class AzureNsgManagementArgs:
    """Management access for an SBC on Azure: inbound SSH and HTTPS from the operator's CIDRs, as rules in the
    Spirit NSG but in a priority band of their own (3000-3099: mgmt-ssh 3010, mgmt-https 3020), never in the
    Spirit band. Never from the world, never wider than a /16 (IPv6 /48) per CIDR."""

    resource_group_name: pulumi.Input[str]
    """The NSG's resource group."""
    network_security_group_name: pulumi.Input[str]
    """The Spirit NSG's name (AzureNsg's nsgName)."""
    management_cidrs: NotRequired[list[str]] = field(default_factory=list)
    """The operator's CIDRs."""

    def __post_init__(self) -> None:
        self.plan()

    def plan(self) -> tuple[tuple[str, ...], list]:
        """(checked CIDRs, rule inputs), cached."""
        return planned_management(self, management.azure_rules)


class AzureNsgManagement(pulumi.ComponentResource):
    """The SBC's management rules (SSH and HTTPS from the operator's CIDRs) in the Spirit NSG."""

    priorities: pulumi.Output[dict[str, int]]
    """Rule name -> priority."""

    def __init__(self, name: str, args: AzureNsgManagementArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNsgManagementArgs, args)
        _cidrs, rules = args.plan()
        super().__init__("spirit:index:AzureNsgManagement", name, None, component_options(opts, "SpiritNsgManagement"))
        bind(Plan(tuple(ResourceSpec(nsg_rules.SECURITY_RULE_TYPE, r["securityRuleName"], {
            **r, "resourceGroupName": Param("resourceGroupName"), "networkSecurityGroupName": Param("nsgName")})
            for r in rules)), self, name, CLASSES,
             {"resourceGroupName": args.resource_group_name, "nsgName": args.network_security_group_name})
        self.priorities = known({r["securityRuleName"]: r["priority"] for r in rules})
        register_declared(self)


# deprecated names (before the uniform component names; the old type tokens are aliases)
NsgArgs, SpiritNsg = AzureNsgArgs, AzureNsg
FirewallPolicyArgs, SpiritFirewallPolicy = AzureFirewallPolicyArgs, AzureFirewallPolicy
NatGatewayArgs, SpiritNatGateway = AzureNatGatewayArgs, AzureNatGateway
NsgManagementArgs, SpiritNsgManagement = AzureNsgManagementArgs, AzureNsgManagement


# ---- network ---------------------------------------------------------------------------------------------

@dataclass
class AzureNetworkArgs:
    """Arguments of :class:`AzureNetwork`: the VNet and, optionally, an edge subnet for the NAT appliance."""

    resource_group_name: pulumi.Input[str]
    cidr: str
    profile: ProfileName
    location: NotRequired[pulumi.Input[str]] = None
    edge_subnet: NotRequired[bool] = False
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        site_network(self.cidr, {})

    @property
    def edge_cidr(self) -> str:
        """The NAT appliance's subnet: the top /28 of the network."""
        return edge_cidr(self.cidr)

    def plan(self) -> Plan:
        """The render (pure, cached: :func:`spirit_infra.azure.network.render_network`)."""
        return planned(self, "", lambda: _network.render_network(
            cidr=self.cidr, profile=self.profile, edge_subnet=self.edge_subnet, tags=self.tags))


class AzureNetwork(pulumi.ComponentResource):
    """A minimal VNet for a Spirit deployment and, optionally, an edge subnet for the NAT appliance."""

    vnet_id: pulumi.Output[str]
    """The VNet's id."""
    vnet_name: pulumi.Output[str]
    """The VNet's Azure name."""
    edge_subnet_id: pulumi.Output[str | None]
    """The edge subnet (absent without edgeSubnet)."""

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNetworkArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:AzureNetwork", name, None, opts)
        created = bind(plan, self, name, CLASSES, {"resourceGroupName": args.resource_group_name,
                                                   "location": args.location})
        self.edge_subnet_id = created["edge"].id if "edge" in created else None
        self.vnet_id = created["vnet"].id
        self.vnet_name = created["vnet"].name
        register_declared(self)


@dataclass
class AzureSiteSubnetsArgs:
    """Arguments of :class:`AzureSiteSubnets`: one subnet per site, each with its associations."""

    resource_group_name: pulumi.Input[str]
    virtual_network_name: pulumi.Input[str]
    network_cidr: str
    sites: dict[str, str]
    #: NSG to associate with every site subnet
    network_security_group_id: NotRequired[pulumi.Input[str]] = None
    #: NAT gateway to associate with every site subnet
    nat_gateway_id: NotRequired[pulumi.Input[str]] = None
    #: route table (the QoS NAT appliance) to associate with every site subnet
    route_table_id: NotRequired[pulumi.Input[str]] = None

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        if not self.sites:
            raise ConfigError("at least one site is needed", field="sites")
        site_network(self.network_cidr, self.sites)

    def plan(self) -> Plan:
        """The render (pure: :func:`spirit_infra.azure.network.render_site_subnets`): which associations there
        are is read when it is called (the program binds the ids it planned as PENDING before that)."""
        return _network.render_site_subnets(
            self.sites, network_security_group=self.network_security_group_id is not None,
            nat_gateway=self.nat_gateway_id is not None, route_table=self.route_table_id is not None)


class AzureSiteSubnets(pulumi.ComponentResource):
    """One subnet per site, each with its NSG, NAT gateway and route table associations."""

    site_subnet_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnet id."""

    def __init__(self, name: str, args: AzureSiteSubnetsArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureSiteSubnetsArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:AzureSiteSubnets", name, None, opts)
        created = bind(plan, self, name, CLASSES, {
            "resourceGroupName": args.resource_group_name, "virtualNetworkName": args.virtual_network_name,
            "networkSecurityGroupId": args.network_security_group_id, "natGatewayId": args.nat_gateway_id,
            "routeTableId": args.route_table_id})
        self.site_subnet_ids = {site: created[site].id for site in args.sites}
        register_declared(self)
