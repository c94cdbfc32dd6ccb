"""Pulumi components for AWS (imports pulumi and pulumi_aws; the render is in the pure modules).

- :class:`AwsSecurityGroups`: security group(s), the Spirit prefix list and one separate rule resource
  per rule, exactly as :func:`spirit_infra.aws.rules.model` planned them (quota-checked, split if needed).
- :class:`AwsNetworkFirewall`: Network Firewall rule groups, policy, optional firewall and optional
  Route 53 Resolver DNS Firewall, exactly as :func:`spirit_infra.aws.fqdn.model_firewall` planned them.
- :class:`AwsManagementAccess`: the SBC's management security group.
- :class:`AwsManagedNat`: Elastic IPs and NAT gateways, and the private route tables' default routes,
  exactly as :func:`spirit_infra.aws.nat.model_nat` planned them (the 350 s idle timeout is fixed: an
  output, and a warning when the SIP keepalive is not shorter).
- :class:`AwsNetwork` and :class:`AwsFirewallRouting`: a minimal VPC and the routes that put Network Firewall
  in the path, exactly as :func:`spirit_infra.aws.network.render_network` / ``render_firewall_routing``
  planned them (a :class:`~spirit_infra.plan.Plan` already, bound as it is).

Type tokens are ``spirit:index:<class name>``; a renamed component aliases its old token (``Spirit...``)
so a stack deployed before the rename is not replaced. Args and outputs follow :mod:`spirit_infra.args`
(real annotations: this module must not use ``from __future__ import annotations``).

The components are thin: each binds its layer's :class:`~spirit_infra.plan.Plan` (``as_plan`` of
:mod:`.rules`, :mod:`.fqdn` and :mod:`.nat`, the same Plan the layers of :mod:`.layers` render; the spec
dicts' markers become typed values in this cloud's one adapter, :func:`spirit_infra.aws.rules.specs_plan`)
with the one binder (:mod:`spirit_infra.binder`) and :data:`CLASSES`. Children are parented to the component and named ``f"{name}-{spec name}"``; no resource
is created inside an ``apply``; ``register_outputs`` comes last.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired

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
from ..extras import sdk
from ..naming import current_stack, physical_prefix
from ..plan import Plan
from ..planning import planned
from ..settings import (
    DNS_BLOCK_OTHERS,
    DNS_FIREWALL,
    GROUPS_PER_INTERFACE,
    PREFIX_LIST,
    PREFIX_LIST_MAX_ENTRIES,
    QUOTA,
    SIP_KEEPALIVE,
    STRICT,
    check_fields,
    options_of,
)
from ..zones import DEFAULT_ZONES, default_zone, edge_cidr, firewall_cidr, is_zone, zone_name
from . import fqdn as _fqdn
from . import nat as _nat
from . import network as _network
from . import rules as _rules
from .nat import NatRender, model_nat

aws = sdk("aws")  # one line naming the extra when it is not installed

__all__ = ["AwsSecurityGroupsArgs", "AwsSecurityGroups", "AwsNetworkFirewallArgs", "AwsNetworkFirewall",
           "AwsManagedNatArgs", "AwsManagedNat", "AwsManagementAccessArgs", "AwsManagementAccess", "AwsNetworkArgs",
           "AwsNetwork", "AwsFirewallRoutingArgs", "AwsFirewallRouting", "register_specs",
           # deprecated names (before the uniform component names)
           "SpiritSecurityGroupsArgs", "SpiritSecurityGroups", "SpiritNetworkFirewallArgs", "SpiritNetworkFirewall",
           "SpiritManagedNatArgs", "SpiritManagedNat", "SpiritManagementAccessArgs", "SpiritManagementAccess"]

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
    # the QoS NAT instance (render_qos_nat)
    "aws:ec2/instance:Instance": aws.ec2.Instance,
    "aws:ec2/vpcEndpoint:VpcEndpoint": aws.ec2.VpcEndpoint,
    "aws:ssm/parameter:Parameter": aws.ssm.Parameter,
    "aws:iam/role:Role": aws.iam.Role,
    "aws:iam/rolePolicy:RolePolicy": aws.iam.RolePolicy,
    "aws:iam/instanceProfile:InstanceProfile": aws.iam.InstanceProfile,
    _network.TYPE_VPC: aws.ec2.Vpc,
    _network.TYPE_IGW: aws.ec2.InternetGateway,
    _network.TYPE_ROUTE_TABLE: aws.ec2.RouteTable,
    _network.TYPE_SUBNET: aws.ec2.Subnet,
    _network.TYPE_RTA: aws.ec2.RouteTableAssociation,
}
LOOKUPS = {  # an AWS-managed prefix list, by name: the data source finds its id
    "managedPrefixList": lambda name: aws.ec2.get_managed_prefix_list_output(name=name).id,
}


def register_specs(parent: pulumi.Resource, name: str, specs, params: Mapping[str, Any]) -> dict[str, pulumi.CustomResource]:
    """Register AWS spec dicts (the renders' marker form) as children of ``parent`` through the one binder."""
    return bind(_rules.specs_plan(specs), parent, name, CLASSES, params, LOOKUPS)


def _warn(component: pulumi.ComponentResource, name: str, lines) -> None:
    for w in lines:
        pulumi.log.warn(f"{name}: {w}", component)


# ---- security groups ---------------------------------------------------------------------------------

@dataclass
class AwsSecurityGroupsArgs:
    """Security groups for one Spirit profile (validated at construction; rendered by ``plan(name)``)."""

    vpc_id: pulumi.Input[str]
    """The VPC the groups belong to."""
    profile: NotRequired[ProfileName] = ProfileName.SBC
    """The Spirit profile (default sbc)."""
    overrides: NotRequired[OverridesArgs] = None
    """Customer overrides (extra Spirit CIDRs, ZTP vendors dropped, SBC ports)."""
    strict: STRICT.arg = STRICT.field()
    fqdn_firewall: NotRequired[bool] = False
    """true when an FQDN layer (AwsNetworkFirewall) narrows this egress: only the warnings change (default false:
    the FQDN flows' ports are open to any address and the warnings say the stack is NOT STRICT)."""
    quota: QUOTA.arg = QUOTA.field()
    groups_per_interface: GROUPS_PER_INTERFACE.arg = GROUPS_PER_INTERFACE.field()
    prefix_list: PREFIX_LIST.arg = PREFIX_LIST.field()
    prefix_list_max_entries: PREFIX_LIST_MAX_ENTRIES.arg = PREFIX_LIST_MAX_ENTRIES.field()
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(self.vpc_id, "vpc_id")
        built_profile(self)
        self.options()  # validated here, before any plan

    def options(self, name: str = "spirit") -> _rules.SgOptions:
        return options_of(_rules.SgOptions, self, name=name)

    def plan(self, name: str) -> _rules.SgRender:
        """The render for a component named ``name`` (pure, cached): quota errors surface here, first."""
        return planned(self, name, lambda: _rules.model(built_profile(self),
                                                         self.options(physical_prefix(current_stack(), name))))


class AwsSecurityGroups(pulumi.ComponentResource):
    """The profile's security groups, the Spirit prefix list and one rule resource per rule; attach every id in
    securityGroupIds to the interface."""

    security_group_ids: pulumi.Output[list[str]]
    """The groups' ids, in group order (attach them all)."""
    prefix_list_id: pulumi.Output[str | None]
    """The Spirit prefix list's id (absent without one)."""
    widened: pulumi.Output[list[str]]
    """One line per widening (a dimension security groups cannot express)."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know (not strict, quota placement)."""
    rule_count: pulumi.Output[int]
    """Rule resources registered."""
    quota: pulumi.Output[dict[str, Any]]
    """The quota planner's figures."""

    def __init__(self, name: str, args: AwsSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsSecurityGroupsArgs, args)
        render = args.plan(name)  # before anything is registered, this component included
        super().__init__("spirit:index:AwsSecurityGroups", name, None, component_options(opts, "SpiritSecurityGroups"))
        created = bind(_rules.as_plan(render), self, name, CLASSES, {"vpcId": args.vpc_id}, LOOKUPS)
        #: the groups' ids one by one, in group order (for Args that take a list of ids)
        self.group_ids: list[pulumi.Output[str]] = [created[g["name"]].id for g in render.groups]
        self.security_group_ids = pulumi.Output.all(*self.group_ids)
        pls = [created[p["name"]].id for p in render.prefix_lists]
        self.prefix_list_id = pls[0] if pls else None
        self.widened = known([str(w) for w in render.widened])
        self.warnings = known(list(render.warnings))
        _warn(self, name, render.warnings)
        self.rule_count = known(len(render.rules))
        self.quota = known(render.quota)
        register_declared(self)


# ---- network firewall --------------------------------------------------------------------------------

@dataclass
class AwsNetworkFirewallArgs:
    """AWS Network Firewall (and optionally Route 53 Resolver DNS Firewall) for a profile's flows."""

    profile: NotRequired[ProfileName] = ProfileName.PHONES
    """The Spirit profile (default phones)."""
    overrides: NotRequired[OverridesArgs] = None
    """Customer overrides, as for the security groups."""
    vpc_id: NotRequired[pulumi.Input[str]] = None
    """The VPC: needed with subnetIds (the firewall) or dnsFirewall (its association)."""
    subnet_ids: NotRequired[list[pulumi.Input[str]]] = field(default_factory=list)
    """Firewall endpoint subnets, one per zone; empty: rule groups and policy only."""
    strict: STRICT.arg = STRICT.field()
    dns_firewall: DNS_FIREWALL.arg = DNS_FIREWALL.field()
    dns_block_others: DNS_BLOCK_OTHERS.arg = DNS_BLOCK_OTHERS.field()
    extra_flows: str | None = None
    """The customer's extra-flow file, merged into the profile."""

    def __post_init__(self) -> None:
        check_fields(self)
        if isinstance(self.subnet_ids, str) or not isinstance(self.subnet_ids, list | tuple):
            raise ConfigError(f"expected a list of subnet ids, got {type(self.subnet_ids).__name__}", field="subnet_ids")
        if (self.subnet_ids or self.dns_firewall) and self.vpc_id is None:
            raise ConfigError("is required with subnet_ids or dns_firewall", field="vpc_id")
        built_profile(self)
        self.options()

    def options(self, name: str = "spirit") -> _fqdn.FirewallOptions:
        return options_of(_fqdn.FirewallOptions, self, subnet_count=len(self.subnet_ids), name=name)

    def plan(self, name: str) -> _fqdn.FirewallRender:
        """The render for a component named ``name`` (pure, cached)."""
        return planned(self, name, lambda: _fqdn.model_firewall(built_profile(self),
                                                                 self.options(physical_prefix(current_stack(), name))))


class AwsNetworkFirewall(pulumi.ComponentResource):
    """AWS Network Firewall rule groups and policy for the profile's flows (domain lists for the FQDN flows,
    Suricata rules for the rest), optionally the firewall itself and a Route 53 Resolver DNS Firewall."""

    firewall_policy_arn: pulumi.Output[str]
    """The firewall policy's ARN."""
    rule_group_arns: pulumi.Output[list[str]]
    """The stateful rule groups' ARNs."""
    firewall_id: pulumi.Output[str | None]
    """The firewall's id (absent without subnetIds)."""
    firewall_endpoint_ids: pulumi.Output[list[str]]
    """The firewall's endpoint ids (vpce-...), one per subnet, as AWS reports them (empty without a firewall)."""
    widened: pulumi.Output[list[str]]
    """One line per widening."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know."""

    def __init__(self, name: str, args: AwsNetworkFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsNetworkFirewallArgs, args)
        render = args.plan(name)
        super().__init__("spirit:index:AwsNetworkFirewall", name, None, component_options(opts, "SpiritNetworkFirewall"))
        created = bind(_fqdn.as_plan(render), self, name, CLASSES,
                       {"vpcId": args.vpc_id, "subnetIds": list(args.subnet_ids)}, LOOKUPS)
        self.firewall_policy_arn = created["nfw-policy"].arn
        self.rule_group_arns = pulumi.Output.all(*[created[n].arn for n in ("nfw-domains", "nfw-rules")
                                                   if n in created])
        firewall = created.get("nfw")
        self.firewall_id = firewall.id if firewall is not None else None
        self.firewall_endpoint_ids = (firewall.firewall_statuses.apply(_endpoint_ids) if firewall is not None
                                      else known([]))
        self.widened = known([str(w) for w in render.widened])
        self.warnings = known(list(render.warnings))
        _warn(self, name, render.warnings)
        register_declared(self)


def _endpoint_ids(statuses) -> list[str]:
    """The firewall's endpoint ids (``vpce-...``) from its status (unknown until AWS creates it)."""
    return [att.endpoint_id for status in statuses or [] for state in getattr(status, "sync_states", None) or []
            for att in getattr(state, "attachments", None) or [] if getattr(att, "endpoint_id", None)]


# ---- managed NAT -----------------------------------------------------------------------------------

@dataclass
class AwsManagedNatArgs:
    """Managed NAT gateways (one Elastic IP each) for a profile's private subnets."""

    public_subnets: NotRequired[dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    """Public subnet ids keyed by a stable label, normally the zone letter ({"a": ..., "b": ...}): a label, not a
    list position, names each gateway."""
    one_per_zone: NotRequired[bool] = True
    """One gateway (and Elastic IP) per label (default, zone-resilient); false: a single gateway in the first
    label's subnet (cheaper; one zone's outage stops egress everywhere)."""
    route_tables: NotRequired[dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    """Private route tables to send 0.0.0.0/0 through a gateway: label -> route table id."""
    route_zones: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Which gateway label each route table uses (default: the first gateway)."""
    sip_keepalive_seconds: SIP_KEEPALIVE.arg = SIP_KEEPALIVE.field()
    profile: NotRequired[ProfileName] = ProfileName.PHONES
    """The Spirit profile (for the spirit-* tags)."""

    def __post_init__(self) -> None:
        check_fields(self)
        profile_name(self.profile)
        if not isinstance(self.public_subnets, Mapping):
            raise ConfigError("must map a stable label (the zone letter) to a subnet id", field="public_subnets")
        self.plan()

    def plan(self) -> NatRender:
        """The gateways, addresses and routes (pure, cached)."""
        return planned(self, "nat", lambda: model_nat(
            profile_name(self.profile), list(self.public_subnets), one_per_zone=self.one_per_zone,
            sip_keepalive_seconds=self.sip_keepalive_seconds,
            route_tables={k: self.route_zones.get(k, "") for k in self.route_tables}))


class AwsManagedNat(pulumi.ComponentResource):
    """Elastic IPs and NAT gateways, and the private route tables' default routes through them."""

    public_ips: pulumi.Output[list[str]]
    """The gateways' Elastic IPs, sorted by label (what Spirit allowlists)."""
    nat_gateway_ids: pulumi.Output[dict[str, str]]
    """Label -> NAT gateway id."""
    idle_timeout_seconds: pulumi.Output[int]
    """The NAT gateway's fixed idle timeout (350 s)."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know (a keepalive not below the idle timeout)."""

    def __init__(self, name: str, args: AwsManagedNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsManagedNatArgs, args)
        render = args.plan()
        super().__init__("spirit:index:AwsManagedNat", name, None, component_options(opts, "SpiritManagedNat"))
        created = bind(_nat.as_plan(render), self, name, CLASSES, {"subnetIds": dict(args.public_subnets),
                                                                "routeTableIds": dict(args.route_tables)})
        self.public_ips = pulumi.Output.all(*[created[f"eip-{lab}"].public_ip for lab in render.labels])
        self.nat_gateway_ids = pulumi.Output.all(**{lab: created[f"natgw-{lab}"].id for lab in render.labels})
        self.idle_timeout_seconds = known(render.idle_timeout_seconds)
        self.warnings = known(list(render.warnings))
        for w in render.warnings:
            pulumi.log.warn(f"{name}: {w}", self)
        register_declared(self)


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class AwsManagementAccessArgs:
    """Management access for an SBC: a security group of its own admitting the operator's CIDRs on SSH
    (tcp/22) and HTTPS (tcp/443); attach it to the SBC's interface next to the Spirit groups, which it
    does not touch. Never from the world, never wider than a /16 (IPv6 /48) per CIDR."""

    vpc_id: pulumi.Input[str]
    """The VPC of the SBC."""
    management_cidrs: NotRequired[list[str]] = field(default_factory=list)
    """The operator's CIDRs."""

    def __post_init__(self) -> None:
        require(self.vpc_id, "vpc_id")
        self.plan()

    def plan(self) -> tuple[tuple[str, ...], list]:
        """(checked CIDRs, specs), cached."""
        return planned_management(self, management.aws_specs)


class AwsManagementAccess(pulumi.ComponentResource):
    """The SBC's management security group (SSH and HTTPS from the operator's CIDRs)."""

    security_group_id: pulumi.Output[str]
    """The management group's id (attach it to the SBC's interface)."""
    cidrs: pulumi.Output[list[str]]
    """The CIDRs admitted."""

    def __init__(self, name: str, args: AwsManagementAccessArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsManagementAccessArgs, args)
        cidrs, specs = args.plan()
        super().__init__("spirit:index:AwsManagementAccess", name, None,
                         component_options(opts, "SpiritManagementAccess"))
        created = register_specs(self, name, specs, {"vpcId": args.vpc_id})
        self.security_group_id = created["mgmt"].id
        self.cidrs = known(list(cidrs))
        register_declared(self)


# deprecated names: the classes before the uniform names (same classes; the old type tokens are aliases)
SpiritSecurityGroupsArgs, SpiritSecurityGroups = AwsSecurityGroupsArgs, AwsSecurityGroups
SpiritNetworkFirewallArgs, SpiritNetworkFirewall = AwsNetworkFirewallArgs, AwsNetworkFirewall
SpiritManagedNatArgs, SpiritManagedNat = AwsManagedNatArgs, AwsManagedNat
SpiritManagementAccessArgs, SpiritManagementAccess = AwsManagementAccessArgs, AwsManagementAccess


# ---- network ---------------------------------------------------------------------------------------------

@dataclass
class AwsNetworkArgs:
    """Arguments of :class:`AwsNetwork`."""

    #: the VPC's IPv4 CIDR
    cidr: str
    #: (name, cidr) of each site subnet (VDI subnets, phone-site hub, the SBC's subnet)
    sites: dict[str, str]
    #: the deployment profile (for tags)
    profile: ProfileName
    #: route the site subnets straight to the internet gateway (an SBC with its own public IP)
    public_sites: NotRequired[bool] = False
    #: availability zone suffixes (letters) sites may use; a site not in ``site_zones`` gets
    #: :func:`~spirit_infra.zones.default_zone` of its name over them (never its list position)
    zones: NotRequired[list[str]] = field(default_factory=lambda: list(DEFAULT_ZONES))
    #: site name -> zone suffix, for sites that name their zone
    site_zones: NotRequired[dict[str, str]] = field(default_factory=dict)
    #: the zones that get an edge (public) subnet; default: the NAT's zone only
    edge_zones: NotRequired[list[str]] = field(default_factory=list)
    #: the zone of the QoS NAT instance's edge subnet and of the Network Firewall subnet (default: min(zones))
    nat_zone: NotRequired[str] = ""
    region: NotRequired[str] = "ap-southeast-2"
    #: a security group admitting all traffic from the site subnets (for a NAT instance's interface)
    lan_security_group: NotRequired[bool] = False
    #: a subnet for AWS Network Firewall endpoints, with its own route table (see AwsFirewallRouting)
    firewall_subnet: NotRequired[bool] = False
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        site_network(self.cidr, self.sites)
        if not self.sites:
            raise ConfigError("at least one site is needed", field="sites")
        self.zones = list(self.zones)
        if not self.zones or not all(is_zone(z) for z in self.zones):
            raise ConfigError(f"{self.zones!r}: zones are one lower-case letter each, at least one", field="zones")
        self.nat_zone = self.nat_zone or min(self.zones)
        self.edge_zones = sorted(set(self.edge_zones or (self.nat_zone,)))
        self.site_zones = dict(self.site_zones)
        for what, z in [("nat_zone", self.nat_zone), *(("edge_zones", z) for z in self.edge_zones),
                        *(("site_zones", z) for z in self.site_zones.values())]:
            if z not in self.zones:
                raise ConfigError(f"zone {z!r} is not one of zones ({', '.join(self.zones)})", field=what)
        for site in self.site_zones:
            if site not in self.sites:
                raise ConfigError(f"{site!r} is not a site", field="site_zones")
        for z in self.edge_zones:
            try:
                edge_cidr(self.cidr, z)
            except ValueError as e:
                raise ConfigError(str(e), field="edge_zones") from None
        self.plan("")  # a site named like one of the network's resources: refused here, before any registration

    def site_zone(self, site: str) -> str:
        """A site's zone suffix: named in ``site_zones``, else a stable hash of its name."""
        return self.site_zones.get(site) or default_zone(site, self.zones)

    @property
    def edge_cidr(self) -> str:
        """The NAT zone's edge subnet (public: NAT gateway, the QoS NAT instance)."""
        return edge_cidr(self.cidr, self.nat_zone)

    @property
    def firewall_cidr(self) -> str:
        """The Network Firewall endpoint subnet (the /28 below the zone-``a`` edge subnet)."""
        return firewall_cidr(self.cidr)

    def plan(self, name: str) -> Plan:
        """The render for a component named ``name`` (pure, cached: :func:`spirit_infra.aws.network.render_network`)."""
        return planned(self, name, lambda: _network.render_network(
            name, cidr=self.cidr, sites=self.sites, site_zones={s: self.site_zone(s) for s in self.sites},
            region=self.region, edge_zones=self.edge_zones, nat_zone=self.nat_zone, profile=self.profile,
            public_sites=self.public_sites, lan_security_group=self.lan_security_group,
            firewall_subnet=self.firewall_subnet, tags=self.tags))


class AwsNetwork(pulumi.ComponentResource):
    """A minimal VPC for a Spirit deployment: an internet gateway, a subnet and route table per site and a public
    edge subnet (NAT)."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    edge_subnet_id: pulumi.Output[str]
    """The NAT zone's public edge subnet (a single NAT gateway, the QoS NAT instance)."""
    edge_subnet_ids: dict[str, pulumi.Output[str]]
    """Zone letter -> public edge subnet, one per zone that needs one (a NAT gateway per zone)."""
    edge_route_table_id: pulumi.Output[str]
    """The edge subnet's route table."""
    internet_gateway_id: pulumi.Output[str]
    """The internet gateway."""
    site_subnet_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnet id."""
    site_route_table_ids: dict[str, pulumi.Output[str]]
    """Site name -> route table id."""
    lan_security_group_id: pulumi.Output[str | None]
    """The group admitting the sites' traffic into a NAT instance (absent without lanSecurityGroup)."""
    firewall_subnet_id: pulumi.Output[str | None]
    """The Network Firewall endpoint subnet (absent without firewallSubnet)."""
    firewall_route_table_id: pulumi.Output[str | None]
    """The firewall subnet's route table (absent without firewallSubnet)."""

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsNetworkArgs, args)
        plan = args.plan(name)
        super().__init__("spirit:index:AwsNetwork", name, None, opts)
        created = bind(plan, self, name, CLASSES)

        def output(spec: str, attr: str = "id"):
            return getattr(created[spec], attr) if spec in created else None

        self.vpc_id = output("vpc")
        #: zone suffix -> edge subnet id
        self.edge_subnet_ids = {z: output(_network.edge_subnet(z)) for z in args.edge_zones}
        #: the NAT zone's edge subnet (the QoS NAT instance, a single NAT gateway)
        self.edge_subnet_id = self.edge_subnet_ids.get(args.nat_zone)
        self.edge_route_table_id = output("edge-rt")
        self.internet_gateway_id = output("igw")
        self.site_subnet_ids = {site: output(site) for site in args.sites}
        self.site_route_table_ids = {site: output(f"{site}-rt") for site in args.sites}
        self.site_zones = {site: zone_name("aws", args.region, args.site_zone(site)) for site in args.sites}
        self.firewall_subnet_id, self.firewall_route_table_id = output("fw"), output("fw-rt")
        self.lan_security_group_id = output("lan")
        register_declared(self)


@dataclass
class AwsFirewallRoutingArgs:
    """Routes that put AWS Network Firewall in the path: sites -> firewall endpoint -> NAT -> internet.

    The site route tables send ``0.0.0.0/0`` to the firewall endpoint; the edge (NAT) subnet sends each
    site's CIDR back through the same endpoint, so both directions pass the stateful engine (asymmetric
    routing would make it drop the replies). The NAT component routes the firewall subnet's default.
    """

    #: the firewall endpoint (``vpce-...``) in the firewall subnet
    endpoint_id: pulumi.Input[str]
    #: site name -> route table id
    site_route_tables: dict[str, pulumi.Input[str]]
    #: site name -> CIDR
    site_cidrs: dict[str, str]
    #: the edge subnet's route table (where the NAT lives)
    edge_route_table_id: pulumi.Input[str]

    def __post_init__(self) -> None:
        if set(self.site_route_tables) != set(self.site_cidrs):
            raise ConfigError("site_route_tables and site_cidrs must name the same sites", field="site_cidrs")
        self.plan()

    def plan(self) -> Plan:
        """The routes (pure, cached: :func:`spirit_infra.aws.network.render_firewall_routing`)."""
        return planned(self, "", lambda: _network.render_firewall_routing(self.site_cidrs))


class AwsFirewallRouting(pulumi.ComponentResource):
    """Routes that put AWS Network Firewall in the path (sites -> firewall endpoint -> NAT -> internet, and back)."""

    def __init__(self, name: str, args: AwsFirewallRoutingArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsFirewallRoutingArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:AwsFirewallRouting", name, None, opts)
        bind(plan, self, name, CLASSES, {"endpointId": args.endpoint_id, "siteRouteTables": args.site_route_tables,
                                         "edgeRouteTableId": args.edge_route_table_id})
        register_declared(self)
