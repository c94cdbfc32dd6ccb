"""Pulumi components for GCP (the only module of this package that imports pulumi and pulumi_gcp).

Thin by design: each component renders its resources with the pure modules (:mod:`.rules`,
:mod:`.policy`, :mod:`.natcfg`) and registers exactly those specs, children of the component named
``f"{name}-{spec name}"``. Inputs stay as rendered (camelCase on the wire); ``refs`` are filled in from
the Args (``arg:network``) or from sibling resources (``res:policy.name``), never inside ``apply``.

- :class:`GcpVpcFirewallRules` (``spirit:index:GcpVpcFirewallRules``): VPC firewall rules for a profile.
- :class:`GcpFirewallPolicy` (``spirit:index:GcpFirewallPolicy``): a global network firewall policy with
  its rules (DNS names as ``destFqdns``) and its association with the VPC.
- :class:`GcpVoiceNat` (``spirit:index:GcpVoiceNat``): Cloud Router + Cloud NAT tuned for SIP/RTP, with
  static NAT addresses output as ``nat_ips`` for Spirit's allowlist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

import pulumi

from .. import management
from ..errors import ConfigError
from ..extras import sdk
from ..naming import current_stack, physical_prefix
from ..profiles import PROFILES, Overrides, build_profile, with_extra_flows
from .natcfg import NatOptions, render_nat
from .policy import PolicyOptions, render_policy
from .rules import VpcOptions, render

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["VpcFirewallArgs", "GcpVpcFirewallRules", "FirewallPolicyArgs", "GcpFirewallPolicy", "VoiceNatArgs",
           "GcpVoiceNat"]

_CLASSES = {
    "gcp:compute/firewall:Firewall": gcp.compute.Firewall,
    "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy": gcp.compute.NetworkFirewallPolicy,
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule": gcp.compute.NetworkFirewallPolicyRule,
    "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation":
        gcp.compute.NetworkFirewallPolicyAssociation,
    "gcp:compute/address:Address": gcp.compute.Address,
    "gcp:compute/router:Router": gcp.compute.Router,
    "gcp:compute/routerNat:RouterNat": gcp.compute.RouterNat,
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _prefix(explicit: str | None, component: str) -> str:
    """The name prefix: the caller's, else ``<stack>-<component>`` (unique per stack and component)."""
    return explicit if explicit is not None else physical_prefix(current_stack(), component)


def _check_network(network) -> None:
    if network is None or (isinstance(network, str) and not network.strip()):
        raise ConfigError("the VPC network (name, id or self link) is required", field="network")


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r} (allowed: {', '.join(PROFILES)})", field="profile")


def _register(parent: pulumi.ComponentResource, name: str, specs, args: dict) -> dict[str, pulumi.CustomResource]:
    """Register ``specs`` as children of ``parent``; resolve refs; return resources by spec name."""
    created: dict[str, pulumi.CustomResource] = {}

    def resolve(ref):
        if isinstance(ref, list):
            return [resolve(r) for r in ref]
        kind, _, target = ref.partition(":")
        if kind == "arg":
            return args[target]
        res, _, attr = target.rpartition(".")
        return getattr(created[res], _snake(attr))

    pending = list(specs)
    while pending:
        progressed = False
        for spec in list(pending):
            refs = spec.get("refs", {})
            needed = {r.partition(":")[2].rpartition(".")[0] for v in refs.values()
                      for r in (v if isinstance(v, list) else [v]) if r.startswith("res:")}
            if not needed <= created.keys():
                continue
            kwargs = {_snake(k): v for k, v in spec["inputs"].items()}
            kwargs.update({_snake(k): resolve(v) for k, v in refs.items()})
            created[spec["name"]] = _CLASSES[spec["type"]](f"{name}-{spec['name']}", **kwargs,
                                                          opts=pulumi.ResourceOptions(parent=parent))
            pending.remove(spec)
            progressed = True
        if not progressed:  # pragma: no cover - a render bug
            raise RuntimeError(f"unresolvable refs in {[s['name'] for s in pending]}")
    return created


@dataclass
class VpcFirewallArgs:
    """Args of :class:`GcpVpcFirewallRules` (validated at construction, ConfigError on bad values).

    ``network``: the VPC (name or self link; an Output is fine). ``profile``: phones | communicator | sbc.
    ``overrides``: customer overrides. The rest as :class:`~spirit_infra.gcp.rules.VpcOptions`:
    targets default to the network tag ``spirit-<role>``; strict egress (deny-all at 65534) is on.
    """

    network: pulumi.Input[str]
    profile: str = "sbc"
    overrides: Overrides | None = None
    target_tags: tuple[str, ...] = ()
    target_service_accounts: tuple[str, ...] = ()
    priority_base: int = 1000
    deny_priority: int = 65534
    strict: bool = True
    max_ranges: int = 5000
    #: first part of every GCP name; default: derived from the stack's and the component's names
    name_prefix: str | None = None
    enable_logging: bool = False
    #: the customer's extra-flow file (the catalogue's format), merged into the profile
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        _check_network(self.network)
        _check_profile(self.profile)
        self.overrides = with_extra_flows(self.overrides, self.extra_flows)
        self.options().validate()
        self.rendered = render(build_profile(self.profile, self.overrides), self.options())  # plan first

    def options(self, component: str = "spirit") -> VpcOptions:
        return VpcOptions(tuple(self.target_tags), tuple(self.target_service_accounts), self.priority_base,
                          self.deny_priority, self.strict, self.max_ranges, _prefix(self.name_prefix, component),
                          None, self.enable_logging, self.profile)


class GcpVpcFirewallRules(pulumi.ComponentResource):
    """VPC firewall rules for one Spirit profile. Outputs: ``rule_names``, ``widened``."""

    def __init__(self, name: str, args: VpcFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        # checked by the Args already; rendered again under this component's physical names, still before
        # anything is registered
        rendered = self.rendered = render(build_profile(args.profile, args.overrides), args.options(name))
        super().__init__("spirit:index:GcpVpcFirewallRules", name, None, opts)
        self.rules = _register(self, name, rendered.specs, {"network": args.network})
        self.rule_names = [s["inputs"]["name"] for s in rendered.specs]
        self.widened = [str(w) for w in rendered.widened]
        self.register_outputs({"ruleNames": self.rule_names, "widened": self.widened})


@dataclass
class FirewallPolicyArgs:
    """Args of :class:`GcpFirewallPolicy`; fields as :class:`~spirit_infra.gcp.policy.PolicyOptions`.

    Without ``target_service_accounts`` or ``target_secure_tags`` the rules (and the strict deny-all
    egress) apply to every instance of ``network``: associate the policy with the voice VPC only.
    """

    network: pulumi.Input[str]
    profile: str = "sbc"
    overrides: Overrides | None = None
    policy_name: str | None = None
    #: first part of every GCP name; default: derived from the stack's and the component's names
    name_prefix: str | None = None
    priority_base: int = 1000
    priority_slots: int = 10000
    slot_width: int = 10
    deny_priority: int = 2000000000
    strict: bool = True
    target_service_accounts: tuple[str, ...] = ()
    target_secure_tags: tuple[str, ...] = ()
    max_ranges: int = 5000
    max_fqdns: int = 100
    enable_logging: bool = False
    #: flow id -> priority slot, to resolve a hash collision without renumbering anything else
    slot_pins: dict[str, int] = field(default_factory=dict)
    #: the customer's extra-flow file (the catalogue's format), merged into the profile
    extra_flows: str | None = None

    def __post_init__(self) -> None:
        _check_network(self.network)
        _check_profile(self.profile)
        self.overrides = with_extra_flows(self.overrides, self.extra_flows)
        self.options().validate()
        self.rendered = render_policy(build_profile(self.profile, self.overrides), self.options())  # plan first

    def options(self, component: str = "spirit") -> PolicyOptions:
        return PolicyOptions(self.policy_name, _prefix(self.name_prefix, component), self.priority_base, self.priority_slots,
                             self.slot_width, self.deny_priority, self.strict, tuple(self.target_service_accounts),
                             tuple(self.target_secure_tags), self.max_ranges, self.max_fqdns, self.enable_logging,
                             None, self.profile, tuple(sorted(self.slot_pins.items())))


class GcpFirewallPolicy(pulumi.ComponentResource):
    """A global network firewall policy for one profile. Outputs: ``policy_name``, ``rule_names``, ``widened``."""

    def __init__(self, name: str, args: FirewallPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        rendered = self.rendered = render_policy(build_profile(args.profile, args.overrides), args.options(name))
        super().__init__("spirit:index:GcpFirewallPolicy", name, None, opts)
        self.resources = _register(self, name, rendered.specs, {"network": args.network})
        self.policy = self.resources["policy"]
        self.policy_name = self.policy.name
        self.rule_names = [s["inputs"]["ruleName"] for s in rendered.specs if "ruleName" in s["inputs"]]
        self.widened = [str(w) for w in rendered.widened]
        self.register_outputs({"policyName": self.policy_name, "ruleNames": self.rule_names,
                               "widened": self.widened})


@dataclass(frozen=True, kw_only=True)
class VoiceNatArgs(NatOptions):
    """Args of :class:`GcpVoiceNat`: every :class:`~spirit_infra.gcp.natcfg.NatOptions` field, plus ``network``.

    Secure, voice-safe defaults: endpoint-independent mapping on, dynamic port allocation off, UDP idle
    timeout ``max(2 x keepalive, 300)``, min ports per VM sized for ``expected_calls``, one static
    NAT address, error logging. Validated at construction (ConfigError).
    """

    network: pulumi.Input[str]
    #: first part of every GCP name; default: derived from the stack's and the component's names
    name_prefix: str | None = None

    def __post_init__(self) -> None:
        _check_network(self.network)
        plan, specs = render_nat(self.options())
        object.__setattr__(self, "plan", plan)
        object.__setattr__(self, "specs", specs)

    def options(self, component: str = "spirit") -> NatOptions:
        return NatOptions(**{f.name: getattr(self, f.name) for f in fields(NatOptions)
                             if f.name != "name_prefix"}, name_prefix=_prefix(self.name_prefix, component))


class GcpVoiceNat(pulumi.ComponentResource):
    """Cloud Router + Cloud NAT for SIP/RTP. Outputs: ``nat_ips`` (Spirit's allowlist), ``settings``, ``reasons``."""

    def __init__(self, name: str, args: VoiceNatArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:GcpVoiceNat", name, None, opts)
        _, specs = render_nat(args.options(name))  # the names now carry the stack's and this component's
        self.resources = _register(self, name, specs, {"network": args.network})
        self.router = self.resources["router"]
        self.nat = self.resources["nat"]
        self.addresses = [r for k, r in sorted(self.resources.items()) if k.startswith("nat-ip-")]
        self.nat_ips = pulumi.Output.all(*[a.address for a in self.addresses])
        self.settings = args.plan.settings
        self.reasons = args.plan.reasons
        self.register_outputs({"natIps": self.nat_ips, "settings": self.settings, "reasons": self.reasons})


# ---- management access (SBC) ---------------------------------------------------------------------------

@dataclass
class ManagementFirewallArgs:
    """Management access for an SBC on GCP: one VPC firewall rule, ingress from the operator's CIDRs on
    tcp 22 and 443, targeting a network tag of its own (default ``spirit-mgmt``): tag the SBC with it.
    Never from the world, never wider than a /16 (IPv6 /48) per CIDR."""

    network: pulumi.Input[str]
    management_cidrs: tuple = ()
    target_tag: str = management.DEFAULT_GCP_TAG
    name: str = "spirit-mgmt"

    def __post_init__(self) -> None:
        _check_network(self.network)
        self.cidrs = management.check_cidrs(self.management_cidrs)
        self.spec = management.gcp_spec(self.cidrs, self.target_tag, self.name)


class GcpManagementFirewall(pulumi.ComponentResource):
    """Outputs: ``target_tag`` (put it on the SBC instance), ``rule_name``."""

    def __init__(self, name: str, args: ManagementFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:GcpManagementFirewall", name, None, opts)
        self.rules = _register(self, name, [args.spec], {"network": args.network})
        self.target_tag = args.target_tag
        self.rule_name = args.spec["inputs"]["name"]
        self.register_outputs({"targetTag": self.target_tag, "ruleName": self.rule_name})
