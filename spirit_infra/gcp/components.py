"""Pulumi components for GCP (the only module of this package that imports pulumi and pulumi_gcp).

Thin by design: each component renders its resources with the pure modules (:mod:`.rules`,
:mod:`.fqdn`, :mod:`.nat`) and registers exactly those specs, children of the component named
``f"{name}-{spec name}"``. Inputs stay as rendered (camelCase on the wire); ``refs`` are filled in from
the Args (``arg:network``) or from sibling resources (``res:policy.name``), never inside ``apply``.

- :class:`GcpVpcFirewall` (``spirit:index:GcpVpcFirewall``, was ``GcpVpcFirewallRules``): VPC firewall
  rules for a profile.
- :class:`GcpFirewallPolicy` (``spirit:index:GcpFirewallPolicy``): a global network firewall policy with
  its rules (DNS names as ``destFqdns``) and its association with the VPC.
- :class:`GcpCloudNat` (``spirit:index:GcpCloudNat``, was ``GcpVoiceNat``): Cloud Router + Cloud NAT tuned
  for SIP/RTP, with static NAT addresses output as ``natIps`` for Spirit's allowlist.
- :class:`GcpManagementFirewall`: the SBC's management rule.
- :class:`GcpNetwork`: a minimal custom-mode network, exactly as :func:`spirit_infra.gcp.network.render_network`
  planned it (a :class:`~spirit_infra.plan.Plan` already, bound as it is).

A renamed component aliases its old type token, so a deployed stack is not replaced. Args and outputs follow
:mod:`spirit_infra.args` (real annotations: no ``from __future__ import annotations`` here).
"""

import warnings
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
    DYNAMIC_PORT_ALLOCATION,
    ENABLE_LOGGING,
    ENDPOINT_INDEPENDENT_MAPPING,
    EXPECTED_CALLS,
    GCP_MAX_FQDNS,
    GCP_MAX_RANGES,
    GCP_PRIORITY_SLOTS,
    GCP_SLOT_WIDTH,
    HEADROOM,
    MAX_PORTS_PER_VM,
    MIN_PORTS_PER_VM,
    NAT_IP_COUNT,
    NAT_LOGGING,
    POLICY_DENY_PRIORITY,
    POLICY_PRIORITY_BASE,
    PORTS_PER_CALL,
    SIP_KEEPALIVE,
    STRICT,
    TCP_ESTABLISHED_IDLE_TIMEOUT,
    UDP_IDLE_TIMEOUT,
    VPC_DENY_PRIORITY,
    VPC_PRIORITY_BASE,
    check_fields,
    options_of,
)
from ..zones import edge_cidr
from . import network as _network
from .common import specs_plan
from .fqdn import PolicyOptions, model_policy
from .fqdn import as_plan as policy_plan
from .nat import NatOptions, NatPlan, model_nat_specs
from .nat import as_plan as nat_plan
from .rules import Rendered, VpcOptions, model
from .rules import as_plan as rules_plan

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["GcpVpcFirewallArgs", "GcpVpcFirewall", "GcpFirewallPolicyArgs", "GcpFirewallPolicy", "GcpCloudNatArgs",
           "GcpCloudNat", "CloudNatLogging", "GcpManagementFirewallArgs", "GcpManagementFirewall",
           # deprecated names (before the uniform component names)
           "VpcFirewallArgs", "GcpVpcFirewallRules", "FirewallPolicyArgs", "VoiceNatArgs", "GcpVoiceNat",
           "ManagementFirewallArgs", "GcpNetworkArgs", "GcpNetwork"]

CLASSES = {
    "gcp:compute/firewall:Firewall": gcp.compute.Firewall,
    "gcp:compute/network:Network": gcp.compute.Network,
    "gcp:compute/subnetwork:Subnetwork": gcp.compute.Subnetwork,
    "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy": gcp.compute.NetworkFirewallPolicy,
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule": gcp.compute.NetworkFirewallPolicyRule,
    "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation":
        gcp.compute.NetworkFirewallPolicyAssociation,
    "gcp:compute/address:Address": gcp.compute.Address,
    "gcp:compute/router:Router": gcp.compute.Router,
    "gcp:compute/routerNat:RouterNat": gcp.compute.RouterNat,
    # the QoS NAT instance (render_qos_nat)
    "gcp:compute/instance:Instance": gcp.compute.Instance,
    "gcp:compute/route:Route": gcp.compute.Route,
}


def _prefix(explicit: str | None, component: str | None) -> str:
    """The name prefix: the caller's, else ``<stack>-<component>`` (unique per stack and component)."""
    return explicit if explicit is not None else physical_prefix(current_stack(), component or "spirit")


def _check_network(network) -> None:
    if network is None or (isinstance(network, str) and not network.strip()):
        raise ConfigError("the VPC network (name, id or self link) is required", field="network")


def _register(parent: pulumi.ComponentResource, name: str, specs, args: dict) -> dict[str, pulumi.CustomResource]:
    """Register spec dicts as children of ``parent`` through the one binder; the resources by spec name."""
    return bind(specs_plan(specs), parent, name, CLASSES, args)


@dataclass
class GcpProfileArgs:
    """What the Args of the profile-driven GCP firewalls (:class:`GcpVpcFirewall`, :class:`GcpFirewallPolicy`)
    share: the network and the profile; validated and rendered at construction (one-line ConfigError)."""

    network: pulumi.Input[str]
    """The VPC network (name, id or self link); a firewall policy is associated with it."""
    profile: NotRequired[ProfileName] = ProfileName.SBC
    """The Spirit profile (default sbc)."""
    overrides: NotRequired[OverridesArgs] = None
    """Customer overrides (extra Spirit CIDRs, ZTP vendors dropped, SBC ports)."""

    def __post_init__(self) -> None:
        check_fields(self)
        _check_network(self.network)
        built_profile(self)
        self.options().validate()
        self.plan(None)  # plan first

    def options(self, component: str | None = None) -> Any:
        raise NotImplementedError

    def plan(self, name: str | None) -> Any:
        raise NotImplementedError


@dataclass
class GcpVpcFirewallArgs(GcpProfileArgs):
    """Args of :class:`GcpVpcFirewall` (validated and rendered at construction: one-line ConfigError).

    Targets default to the network tag spirit-<role>; strict egress (deny-all at 65534) is on."""

    target_tags: NotRequired[list[str]] = field(default_factory=list)
    """Network tags of the instances the rules apply to (default spirit-<role>)."""
    target_service_accounts: NotRequired[list[str]] = field(default_factory=list)
    """Service accounts of the instances the rules apply to (instead of tags)."""
    priority_base: VPC_PRIORITY_BASE.arg = VPC_PRIORITY_BASE.field()
    deny_priority: VPC_DENY_PRIORITY.arg = VPC_DENY_PRIORITY.field()
    strict: STRICT.arg = STRICT.field()
    max_ranges: GCP_MAX_RANGES.arg = GCP_MAX_RANGES.field()
    name_prefix: str | None = None
    """First part of every GCP name (default: derived from the stack's and the component's names)."""
    enable_logging: ENABLE_LOGGING.arg = ENABLE_LOGGING.field()
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""

    def options(self, component: str | None = None) -> VpcOptions:
        return options_of(VpcOptions, self, target_tags=tuple(self.target_tags),
                          target_service_accounts=tuple(self.target_service_accounts),
                          name_prefix=_prefix(self.name_prefix, component), network=None,
                          profile=profile_name(self.profile))

    def plan(self, name: str | None) -> Rendered:
        """The rules under the physical names of a component named ``name`` (pure, cached)."""
        return planned(self, ("vpc", name), lambda: model(built_profile(self), self.options(name)))


class GcpVpcFirewall(pulumi.ComponentResource):
    """VPC firewall rules for one Spirit profile."""

    rule_names: pulumi.Output[list[str]]
    """The rules' GCP names."""
    widened: pulumi.Output[list[str]]
    """One line per widening."""

    def __init__(self, name: str, args: GcpVpcFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpVpcFirewallArgs, args)
        rendered = args.plan(name)  # under this component's physical names, before anything is registered
        super().__init__("spirit:index:GcpVpcFirewall", name, None, component_options(opts, "GcpVpcFirewallRules"))
        bind(rules_plan(rendered), self, name, CLASSES, {"network": args.network})
        self.rule_names = known([s["inputs"]["name"] for s in rendered.specs])
        self.widened = known([str(w) for w in rendered.widened])
        register_declared(self)


@dataclass
class GcpFirewallPolicyArgs(GcpProfileArgs):
    """Args of :class:`GcpFirewallPolicy`.

    Without targetServiceAccounts or targetSecureTags the rules (and the strict deny-all egress) apply to every
    instance of network: associate the policy with the voice VPC only."""

    policy_name: str | None = None
    """The policy's GCP name (default <namePrefix>-<profile>)."""
    name_prefix: str | None = None
    """First part of every GCP name (default: derived from the stack's and the component's names)."""
    priority_base: POLICY_PRIORITY_BASE.arg = POLICY_PRIORITY_BASE.field()
    priority_slots: GCP_PRIORITY_SLOTS.arg = GCP_PRIORITY_SLOTS.field()
    slot_width: GCP_SLOT_WIDTH.arg = GCP_SLOT_WIDTH.field()
    deny_priority: POLICY_DENY_PRIORITY.arg = POLICY_DENY_PRIORITY.field()
    strict: STRICT.arg = STRICT.field()
    target_service_accounts: NotRequired[list[str]] = field(default_factory=list)
    """Service accounts of the instances the rules apply to."""
    target_secure_tags: NotRequired[list[str]] = field(default_factory=list)
    """Secure tags (tagValues/...) of the instances the rules apply to."""
    max_ranges: GCP_MAX_RANGES.arg = GCP_MAX_RANGES.field()
    max_fqdns: GCP_MAX_FQDNS.arg = GCP_MAX_FQDNS.field()
    enable_logging: ENABLE_LOGGING.arg = ENABLE_LOGGING.field()
    slot_pins: NotRequired[dict[str, int]] = field(default_factory=dict)
    """Flow id -> priority slot, to resolve a hash collision without renumbering anything else."""
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""

    def options(self, component: str | None = None) -> PolicyOptions:
        return options_of(PolicyOptions, self, name_prefix=_prefix(self.name_prefix, component),
                          target_service_accounts=tuple(self.target_service_accounts),
                          target_secure_tags=tuple(self.target_secure_tags), network=None,
                          profile=profile_name(self.profile), slot_pins=tuple(sorted(self.slot_pins.items())))

    def plan(self, name: str | None) -> Rendered:
        """The policy under the physical names of a component named ``name`` (pure, cached)."""
        return planned(self, ("policy", name), lambda: model_policy(built_profile(self), self.options(name)))


class GcpFirewallPolicy(pulumi.ComponentResource):
    """A global network firewall policy for one profile (DNS names as destFqdns), associated with the VPC."""

    policy_name: pulumi.Output[str]
    """The policy's GCP name."""
    rule_names: pulumi.Output[list[str]]
    """The rules' names."""
    widened: pulumi.Output[list[str]]
    """One line per widening."""

    def __init__(self, name: str, args: GcpFirewallPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpFirewallPolicyArgs, args)
        rendered = args.plan(name)
        super().__init__("spirit:index:GcpFirewallPolicy", name, None, opts)
        created = bind(policy_plan(rendered), self, name, CLASSES, {"network": args.network})
        self.policy_name = created["policy"].name
        self.rule_names = known([s["inputs"]["ruleName"] for s in rendered.specs if "ruleName" in s["inputs"]])
        self.widened = known([str(w) for w in rendered.widened])
        register_declared(self)


class CloudNatLogging(StrEnum):
    """What Cloud NAT logs."""

    OFF = "off"
    """Nothing."""
    ERRORS = "errors"
    """Port exhaustion and dropped packets (the default)."""
    TRANSLATIONS = "translations"
    """Every translation."""
    ALL = "all"
    """Errors and translations."""

    @classmethod
    def _missing_(cls, value: object) -> "CloudNatLogging":
        NAT_LOGGING.check(value)  # the declaration's one line (a value it takes is one of the members)
        raise AssertionError(value)


assert tuple(CloudNatLogging) == NAT_LOGGING.choices


@dataclass(kw_only=True)
class GcpCloudNatArgs:
    """Args of :class:`GcpCloudNat`: Cloud Router + Cloud NAT for SIP/RTP.

    Secure, voice-safe defaults: endpoint-independent mapping on, dynamic port allocation off, UDP idle timeout
    max(2 x keepalive, 300), min ports per VM sized for expectedCalls, one static NAT address, error logging.
    Validated at construction (ConfigError)."""

    network: pulumi.Input[str]
    """The VPC network (name, id or self link)."""
    sip_keepalive_seconds: SIP_KEEPALIVE.arg = SIP_KEEPALIVE.field()
    udp_idle_timeout_sec: UDP_IDLE_TIMEOUT.arg = UDP_IDLE_TIMEOUT.field()
    tcp_established_idle_timeout_sec: TCP_ESTABLISHED_IDLE_TIMEOUT.arg = TCP_ESTABLISHED_IDLE_TIMEOUT.field()
    endpoint_independent_mapping: ENDPOINT_INDEPENDENT_MAPPING.arg = ENDPOINT_INDEPENDENT_MAPPING.field()
    dynamic_port_allocation: DYNAMIC_PORT_ALLOCATION.arg = DYNAMIC_PORT_ALLOCATION.field()
    expected_calls: EXPECTED_CALLS.arg = EXPECTED_CALLS.field()
    ports_per_call: PORTS_PER_CALL.arg = PORTS_PER_CALL.field()
    headroom: HEADROOM.arg = HEADROOM.field()
    min_ports_per_vm: MIN_PORTS_PER_VM.arg = MIN_PORTS_PER_VM.field()
    max_ports_per_vm: MAX_PORTS_PER_VM.arg = MAX_PORTS_PER_VM.field()
    nat_ip_count: NAT_IP_COUNT.arg = NAT_IP_COUNT.field()
    logging: NotRequired[CloudNatLogging] = CloudNatLogging.ERRORS
    """off, errors (default: port exhaustion and dropped packets), translations or all."""
    region: str | None = None
    """The router's region (default: the provider's)."""
    subnetworks: NotRequired[list[str]] = field(default_factory=list)
    """NAT only these subnetworks (self links or names); default every subnetwork range of the network."""
    name_prefix: str | None = None
    """First part of every GCP name (default: derived from the stack's and the component's names)."""
    profile: NotRequired[ProfileName] = ProfileName.SBC
    """The Spirit profile (for the marks)."""
    sip_keepalive_sec: int | None = None
    """Deprecated: the former name of ``sip_keepalive_seconds`` (the name every other component uses); still
    accepted so programs written before keep working. Giving both with different values is refused."""

    def __post_init__(self) -> None:
        if self.sip_keepalive_sec is not None:
            SIP_KEEPALIVE.check(self.sip_keepalive_sec, "sip_keepalive_sec")
            new = self.sip_keepalive_seconds
            if new != SIP_KEEPALIVE.default and new != self.sip_keepalive_sec:
                raise ConfigError(f"sip_keepalive_sec (deprecated) is {self.sip_keepalive_sec!r} but "
                                  f"sip_keepalive_seconds is {new!r}: give only sip_keepalive_seconds",
                                  field="sip_keepalive_sec")
            warnings.warn("GcpCloudNatArgs.sip_keepalive_sec is deprecated: use sip_keepalive_seconds",
                          DeprecationWarning, stacklevel=3)
            self.sip_keepalive_seconds = self.sip_keepalive_sec
        check_fields(self)
        _check_network(self.network)
        profile_name(self.profile)
        self.plan(None)

    def options(self, component: str | None = None) -> NatOptions:
        return options_of(NatOptions, self, subnetworks=tuple(self.subnetworks),
                          name_prefix=_prefix(self.name_prefix, component), profile=profile_name(self.profile))

    def plan(self, name: str | None) -> tuple[NatPlan, list]:
        """(settings and reasons, specs) under the physical names of a component named ``name`` (cached)."""
        return planned(self, ("nat", name), lambda: model_nat_specs(self.options(name)))


class GcpCloudNat(pulumi.ComponentResource):
    """Cloud Router + Cloud NAT for SIP/RTP, with static NAT addresses for Spirit's allowlist."""

    nat_ips: pulumi.Output[list[str]]
    """The static NAT addresses (Spirit's allowlist)."""
    settings: pulumi.Output[dict[str, Any]]
    """The RouterNat settings chosen."""
    reasons: pulumi.Output[dict[str, str]]
    """One reason per setting."""

    def __init__(self, name: str, args: GcpCloudNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpCloudNatArgs, args)
        plan, specs = args.plan(name)  # the names carry the stack's and this component's
        super().__init__("spirit:index:GcpCloudNat", name, None, component_options(opts, "GcpVoiceNat"))
        created = bind(nat_plan((plan, specs)), self, name, CLASSES, {"network": args.network})
        self.nat_ips = pulumi.Output.all(*[r.address for k, r in sorted(created.items()) if k.startswith("nat-ip-")])
        self.settings = known(plan.settings)
        self.reasons = known(plan.reasons)
        register_declared(self)


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class GcpManagementFirewallArgs:
    """Management access for an SBC on GCP: one VPC firewall rule, ingress from the operator's CIDRs on tcp 22
    and 443, targeting a network tag of its own (default spirit-mgmt): tag the SBC with it. Never from the world,
    never wider than a /16 (IPv6 /48) per CIDR."""

    network: pulumi.Input[str]
    """The VPC network."""
    management_cidrs: NotRequired[list[str]] = field(default_factory=list)
    """The operator's CIDRs."""
    target_tag: NotRequired[str] = management.DEFAULT_GCP_TAG
    """The network tag the rule targets (put it on the SBC)."""
    name: NotRequired[str] = "spirit-mgmt"
    """The rule's GCP name."""

    def __post_init__(self) -> None:
        _check_network(self.network)
        self.plan()

    def plan(self) -> tuple[tuple[str, ...], dict]:
        """(checked CIDRs, the rule's spec), cached."""
        return planned_management(self, lambda cidrs: management.gcp_spec(cidrs, self.target_tag, self.name))


class GcpManagementFirewall(pulumi.ComponentResource):
    """The SBC's management rule (SSH and HTTPS from the operator's CIDRs to a tag of its own)."""

    target_tag: pulumi.Output[str]
    """The tag to put on the SBC instance."""
    rule_name: pulumi.Output[str]
    """The rule's GCP name."""

    def __init__(self, name: str, args: GcpManagementFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpManagementFirewallArgs, args)
        _cidrs, spec = args.plan()
        super().__init__("spirit:index:GcpManagementFirewall", name, None, opts)
        _register(self, name, [spec], {"network": args.network})
        self.target_tag = known(args.target_tag)
        self.rule_name = known(spec["inputs"]["name"])
        register_declared(self)


# deprecated names (before the uniform component names; the old type tokens are aliases)
VpcFirewallArgs, GcpVpcFirewallRules = GcpVpcFirewallArgs, GcpVpcFirewall
FirewallPolicyArgs = GcpFirewallPolicyArgs
VoiceNatArgs, GcpVoiceNat = GcpCloudNatArgs, GcpCloudNat
ManagementFirewallArgs = GcpManagementFirewallArgs


# ---- network ---------------------------------------------------------------------------------------------

@dataclass
class GcpNetworkArgs:
    """Arguments of :class:`GcpNetwork`."""

    cidr: str
    sites: dict[str, str]
    region: NotRequired[str] = "australia-southeast1"
    #: admit the site subnetworks' traffic into VMs with this tag (the QoS NAT instance forwards it), and
    #: create the NAT's own ``edge`` subnetwork
    nat_tag: str | None = None
    #: evaluate the network firewall policy before the VPC firewall rules. Needed with the FQDN policy:
    #: otherwise the VPC rules (which can only open ZTP/NTP to 0.0.0.0/0) accept that traffic first and
    #: the policy's name match never applies.
    policy_first: NotRequired[bool] = False

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        site_network(self.cidr, self.sites)
        edge = netaddr.IPNetwork(self.edge_cidr) if self.nat_tag else None
        for site, cidr in self.sites.items():
            c = netaddr.IPNetwork(cidr)
            if edge is not None and c.first <= edge.last and edge.first <= c.last:
                raise ConfigError(f"site {site!r} {cidr} overlaps the NAT's edge subnetwork {edge}", field="sites")
        self.plan()  # a site named like one of the network's resources: refused here, before any registration

    @property
    def edge_cidr(self) -> str:
        """The QoS NAT instance's subnetwork: the top /28 of the network."""
        return edge_cidr(self.cidr)

    def plan(self) -> Plan:
        """The render (pure, cached: :func:`spirit_infra.gcp.network.render_network`)."""
        return planned(self, "", lambda: _network.render_network(
            cidr=self.cidr, sites=self.sites, region=self.region, nat_tag=self.nat_tag, policy_first=self.policy_first))


class GcpNetwork(pulumi.ComponentResource):
    """A minimal custom-mode VPC network for a Spirit deployment, one subnetwork per site."""

    network_id: pulumi.Output[str]
    """The network's id."""
    network_self_link: pulumi.Output[str]
    """The network's self link."""
    site_subnetwork_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnetwork id."""
    edge_subnetwork_id: pulumi.Output[str | None]
    """The QoS NAT instance's own subnetwork (absent without natTag)."""

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpNetworkArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:GcpNetwork", name, None, opts)
        created = bind(plan, self, name, CLASSES)
        self.site_subnetwork_ids = {site: created[site].id for site in args.sites}
        self.edge_subnetwork_id = created["edge"].id if "edge" in created else None
        self.network_id = created["vpc"].id
        self.network_self_link = created["vpc"].self_link
        register_declared(self)
