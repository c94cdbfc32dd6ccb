"""Global network firewall policy (Cloud NGFW): the pure render of the name layer.

Render: a ``NetworkFirewallPolicy``, one ``NetworkFirewallPolicyRule`` per flow and peer kind (IPv4
ranges, IPv6 ranges, DNS names: ``match.destFqdns``), and a ``NetworkFirewallPolicyAssociation`` with
the VPC. Rules are separate resources, never the inline ``NetworkFirewallPolicyWithRules`` list, so one
flow's change touches one resource (and the two styles never fight). Firewall policy rules match DNS
names but not source ports (:data:`POLICY_CAPS`).

Priorities are stable per flow id: ``priority_base + slot * slot_width + k``, where ``slot`` is a hash
of the flow id into ``priority_slots`` slots and ``k`` numbers the flow's own rules (at most
``slot_width``). Adding, removing or editing one flow never renumbers another; two flow ids that hash
to one slot are refused with both names (:class:`QuotaError`). Strict mode (default) ends the policy
with deny-all egress rules (IPv4, IPv6) at ``deny_priority``.

Read: :mod:`.read`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .. import marks
from ..errors import ConfigError, QuotaError
from ..flows import ANY_IPV4, ANY_IPV6, AllowedSet, Capabilities, project
from ..plan import Plan
from ..profiles import Profile
from ..settings import (
    ENABLE_LOGGING,
    GCP_MAX_FQDNS,
    GCP_MAX_RANGES,
    GCP_PRIORITY_SLOTS,
    GCP_SLOT_WIDTH,
    NAME_PREFIX,
    POLICY_DENY_PRIORITY,
    POLICY_PRIORITY_BASE,
    STRICT,
    check_fields,
)
from ..values import is_int
from .common import PLATFORM_REFUSED, check_name, everything, specs_plan
from .rules import (
    KIND_TEXT,
    Rendered,
    _resolve,
    check_ingress_peer,
    check_prefix,
    check_ranges,
    group_flow,
    l4,
    physical,
    rule_name,
    rule_suffix,
)

__all__ = ["POLICY_CAPS", "POLICY_TYPE", "POLICY_RULE_TYPE", "ASSOCIATION_TYPE", "POLICY_RULE_TYPES",
           "PolicyOptions", "model_policy", "flow_slot", "as_plan"]

POLICY_CAPS = Capabilities("gcp-network-firewall-policy", source_ports=False, fqdn=True, **PLATFORM_REFUSED)
POLICY_TYPE = "gcp:compute/networkFirewallPolicy:NetworkFirewallPolicy"
POLICY_RULE_TYPE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"
ASSOCIATION_TYPE = "gcp:compute/networkFirewallPolicyAssociation:NetworkFirewallPolicyAssociation"
#: rule types the reader understands -> evaluation rank (0: hierarchical, 1: global, 2: regional)
POLICY_RULE_TYPES = {
    "gcp:compute/firewallPolicyRule:FirewallPolicyRule": 0,
    "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules": 0,
    POLICY_RULE_TYPE: 1,
    "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules": 1,
    "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule": 2,
    "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules": 2,
}
#: GCP reserves the priorities above this one for the policy's own default rules
PRIORITY_MAX = 2147483547
MAX_FQDNS = GCP_MAX_FQDNS.default


def flow_slot(flow: str, slots: int) -> int:
    """The flow's slot: a hash of its id only (never of its position or content)."""
    return int.from_bytes(hashlib.sha256(flow.encode()).digest()[:8], "big") % slots


@dataclass(frozen=True)
class PolicyOptions:
    """How to render the network firewall policy.

    - ``policy_name``: the policy's GCP name (default ``<name_prefix>-<profile>``).
    - ``priority_base``, ``priority_slots``, ``slot_width``: the priority band
      ``[base, base + slots * width)``; each flow owns one slot of ``slot_width`` priorities.
    - ``strict``: deny-all egress rules at ``deny_priority`` and ``deny_priority + 1`` (after the band).
    - ``target_service_accounts`` / ``target_secure_tags`` (``tagValues/...``): the instances the rules
      apply to. Neither: every instance of the associated VPC (network policies do not take network tags).
    - ``max_ranges`` / ``max_fqdns``: per-rule limits (quotas, so parameters).
    - ``network``: the VPC for the association (``None``: the component's ``network`` Arg).
    - ``slot_pins``: flow id -> slot, for the rare flow whose hashed slot collides with another's: pin
      one of the two and nothing else moves (changing ``priority_slots`` would renumber every rule).
    """

    policy_name: str | None = None
    name_prefix: str = NAME_PREFIX.field()
    priority_base: int = POLICY_PRIORITY_BASE.field()
    priority_slots: int = GCP_PRIORITY_SLOTS.field()
    slot_width: int = GCP_SLOT_WIDTH.field()
    deny_priority: int = POLICY_DENY_PRIORITY.field()
    strict: bool = STRICT.field()
    target_service_accounts: tuple[str, ...] = ()
    target_secure_tags: tuple[str, ...] = ()
    max_ranges: int = GCP_MAX_RANGES.field()
    max_fqdns: int = GCP_MAX_FQDNS.field()
    enable_logging: bool = ENABLE_LOGGING.field()
    network: str | None = None
    profile: str | None = None
    slot_pins: tuple[tuple[str, int], ...] = ()

    def validate(self) -> PolicyOptions:
        check_fields(self)
        for flow, slot in self.slot_pins:
            if not is_int(slot) or not 0 <= slot < self.priority_slots:
                raise ConfigError(f"{flow}={slot!r}: a slot is 0..{self.priority_slots - 1}", field="slot_pins")
        check_prefix(self.name_prefix)
        if self.policy_name is not None:
            check_name(self.policy_name, field="policy_name")
        top = self.priority_base + self.priority_slots * self.slot_width - 1
        if top > PRIORITY_MAX:
            raise ConfigError(f"the priority band ends at {top}, above GCP's maximum {PRIORITY_MAX}",
                              field="priority_slots")
        if self.strict and not top < self.deny_priority < PRIORITY_MAX:
            raise ConfigError(f"the strict deny priority {self.deny_priority} must lie after the band (> {top}) "
                              f"and below {PRIORITY_MAX}", field="deny_priority")
        if self.target_service_accounts and self.target_secure_tags:
            raise ConfigError("GCP rules take target service accounts or secure tags, not both",
                              field="target_secure_tags")
        for i, t in enumerate(self.target_secure_tags):
            if not isinstance(t, str) or not t.startswith("tagValues/"):
                raise ConfigError(f"{t!r} is not a secure tag value (tagValues/<id>)", field=f"target_secure_tags[{i}]")
        return self

    def targets(self) -> dict:
        if self.target_service_accounts:
            return {"targetServiceAccounts": sorted(self.target_service_accounts)}
        if self.target_secure_tags:
            return {"targetSecureTags": [{"name": t} for t in sorted(self.target_secure_tags)]}
        return {}


def model_policy(allowed_or_profile: AllowedSet | Profile, options: PolicyOptions | None = None) -> Rendered:
    """Render the policy, its rules and the association (specs sorted by name)."""
    opts = (options or PolicyOptions()).validate()
    allowed, profile = _resolve(allowed_or_profile, opts.profile)
    proj = project(allowed, POLICY_CAPS)
    policy_name = opts.policy_name or physical(opts.name_prefix, profile)
    specs: list[dict] = [{
        "type": POLICY_TYPE, "name": "policy",
        "inputs": {"name": policy_name,
                   "description": marks.description(profile, [], "Spirit Cloud UC firewall policy.")},
    }]
    assoc = {"type": ASSOCIATION_TYPE, "name": "association",
             "inputs": {"name": physical(policy_name, "association", field="policy_name")},
             "refs": {"firewallPolicy": "res:policy.name"}}
    if opts.network is None:
        assoc["refs"]["attachmentTarget"] = "arg:network"
    else:
        assoc["inputs"]["attachmentTarget"] = opts.network
    specs.append(assoc)

    owner: dict[int, str] = {}
    pins = dict(opts.slot_pins)
    for flow, fset in proj.allowed.by_flow().items():
        slot = pins.get(flow, flow_slot(flow, opts.priority_slots))
        if slot in owner:
            raise QuotaError(f"flows {owner[slot]!r} and {flow!r} hash to the same priority slot {slot} of "
                             f"{opts.priority_slots}; pin one with slot_pins (e.g. {flow}={(slot + 1) % opts.priority_slots}) "
                             "or change priority_slots (renumbers every rule)")
        owner[slot] = flow
        groups = sorted(group_flow(fset.terms, fqdn_ok=True).items())
        if len(groups) > opts.slot_width:
            raise QuotaError(f"flow {flow!r} needs {len(groups)} rules; a slot holds {opts.slot_width} (slot_width)")
        for k, ((direction, kind, values), ports) in enumerate(groups):
            match: dict = {"layer4Configs": l4(ports, "ipProtocol")}
            if kind == "fqdn":
                if direction != "egress":  # pragma: no cover - profiles have no ingress names
                    raise ConfigError(f"flow {flow!r}: DNS names are rendered for egress only", field="flows")
                if len(values) > opts.max_fqdns:
                    raise QuotaError(f"flow {flow!r} has {len(values)} DNS names; the limit per rule is "
                                     f"{opts.max_fqdns} (max_fqdns)")
                match["destFqdns"] = list(values)
            else:
                if direction == "ingress":
                    check_ingress_peer(values, flow)
                match["destIpRanges" if direction == "egress" else "srcIpRanges"] = list(values)
            content = {"direction": direction, "match": match}
            name = rule_name(opts.name_prefix, flow, content)
            check_ranges(0 if kind == "fqdn" else len(values), opts.max_ranges, f"rule {name}")
            inputs = {
                "ruleName": name,
                "description": marks.description(profile, [flow] if flow else [],
                                                 f"Spirit {flow or 'rule'}: {direction} {KIND_TEXT[kind]}."),
                "action": "allow",
                "direction": direction.upper(),
                "priority": opts.priority_base + slot * opts.slot_width + k,
                "match": match,
                "enableLogging": opts.enable_logging,
                **opts.targets(),
            }
            specs.append({"type": POLICY_RULE_TYPE, "name": rule_suffix(flow, content), "inputs": inputs,
                          "refs": {"firewallPolicy": "res:policy.name"}})
    if opts.strict:
        for i, (version, anyaddr) in enumerate(((4, ANY_IPV4), (6, ANY_IPV6))):
            logical = f"{profile}-deny-egress-ipv{version}"
            name = physical(opts.name_prefix, logical)
            inputs = {
                "ruleName": name,
                "description": marks.description(profile, [], f"Spirit strict egress: deny all other IPv{version} "
                                                 "egress."),
                "action": "deny",
                "direction": "EGRESS",
                "priority": opts.deny_priority + i,
                "match": {"layer4Configs": [{"ipProtocol": "all"}], "destIpRanges": [anyaddr]},
                "enableLogging": opts.enable_logging,
                **opts.targets(),
            }
            specs.append({"type": POLICY_RULE_TYPE, "name": logical, "inputs": inputs,
                          "refs": {"firewallPolicy": "res:policy.name"}})
    specs.sort(key=lambda s: (s["type"] != POLICY_TYPE, s["name"]))
    return Rendered(profile, tuple(specs), proj.widened, proj.allowed, opts.strict)


def as_plan(rendered: Rendered) -> Plan:
    """The policy's render as a :class:`~spirit_infra.plan.Plan` (parameter: ``network``, unless the options
    named it). ``expected``: what the layer's reader gives back for the policy with GCP's implied rules (every
    egress too unless strict)."""
    return specs_plan(rendered.specs, rendered.widened, (),
                      rendered.expected if rendered.strict else rendered.expected | everything("egress"))
