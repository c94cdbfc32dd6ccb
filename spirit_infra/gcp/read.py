"""The GCP reader: what a set of GCP resources allows, VPC firewall rules and firewall policy rules
together, evaluated in GCP's order (pure).

It reads the resources of both layers, :mod:`.rules` (VPC firewall rules) and :mod:`.fqdn` (network
firewall policies), so neither imports the other.

Both are read as registered (camelCase inputs), including stacks spirit-infra did not build.

VPC firewall rules (:func:`read_firewall`, ``gcp:compute/firewall:Firewall``):

- ``direction`` defaults to INGRESS, ``priority`` to 1000; ``disabled`` rules are ignored.
- ``allows``/``denies`` entries: ``tcp``/``6`` and ``udp``/``17`` with ``ports`` (none = every port);
  ``all`` means TCP and UDP on every port. Other protocols (icmp, esp, sctp...) are outside the
  allowed-set algebra (TCP/UDP) and are ignored.
- An egress rule without ``destinationRanges`` matches 0.0.0.0/0; an ingress rule with neither
  ``sourceRanges`` nor source tags/service accounts matches 0.0.0.0/0 (GCP's defaults). Source tags and
  service accounts name VPC-internal instances, not addresses, and are otherwise ignored.
- Targets (tags, service accounts) are ignored: every rule is assumed to apply to the instance in
  question. Precedence: lower priority number wins, deny wins ties; GCP's implied rules (allow all
  egress, deny all ingress) come last (``implied=False`` leaves them out).
- Terms are labelled with the flow ids of the ``spirit-flow=`` mark in the description, else "".

Firewall policy rules (:func:`read_policy_rules`): ``NetworkFirewallPolicyRule``, ``RegionNetworkFirewallPolicyRule``,
hierarchical ``FirewallPolicyRule`` and the ``*WithRules`` variants. ``match.srcIpRanges`` /
``destIpRanges`` / ``destFqdns`` / ``srcFqdns`` and ``layer4Configs`` (``ipProtocol`` tcp/udp/all with
``ports``); action ``allow`` / ``deny`` / ``goto_next`` (next layer decides); ``disabled`` rules are
ignored; a priority not known yet (a preview) reads as 0. A rule whose remote side uses only matchers
that are not addresses (address groups, region codes, threat lists) is read as matching any address when it allows, and is ignored when it denies or
passes on, so the reader never understates what is allowed. An ingress rule whose only sources are internal
(``srcSecureTags``, ``srcNetworks``, ``srcNetworkScope`` VPC_NETWORKS / INTRA_VPC / NON_INTERNET) matches VMs,
not internet addresses, and is ignored, like a VPC rule with source tags only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from .. import marks
from ..errors import ConfigError
from ..flows import ANY_IPV4, ANY_IPV6, ANY_PORTS, AllowedSet, Peer, Term
from .common import Rule, evaluate, everything, ports_from_gcp
from .fqdn import POLICY_RULE_TYPES
from .rules import FIREWALL_TYPE, PRIORITY_MAX

__all__ = ["read", "read_firewall", "read_policy_rules"]


def read(resources: Iterable[dict], *, implied: bool = True, policy_first: bool = False) -> AllowedSet:
    """What a set of GCP resources allows (VPC firewall rules and firewall policy rules together).

    Layers, each first-match by priority: hierarchical firewall policies, VPC firewall rules, the global
    network firewall policy, regional network firewall policies (``policy_first=True``: network
    policies before the VPC rules, GCP's BEFORE_CLASSIC_FIREWALL order), then the implied rules.
    Other resource types are ignored.
    """
    vpc: list[Rule] = []
    policies: dict[tuple[int, str], list[Rule]] = defaultdict(list)
    for r in resources:
        rtype, inputs, name = r.get("type", ""), r.get("inputs") or {}, r.get("name", "")
        if rtype == FIREWALL_TYPE:
            vpc.extend(read_firewall(inputs, name))
        elif rtype in POLICY_RULE_TYPES:
            rank = POLICY_RULE_TYPES[rtype]
            policy = str(inputs.get("firewallPolicy") or inputs.get("name") if rtype.endswith("WithRules")
                         else inputs.get("firewallPolicy") or "")
            policies[(rank, policy)].extend(read_policy_rules(rtype, inputs, name))
    hierarchical = [rules for (rank, _), rules in sorted(policies.items()) if rank == 0]
    network = [rules for (rank, _), rules in sorted(policies.items()) if rank > 0]
    layers = hierarchical + (network + [vpc] if policy_first else [vpc] + network)
    if implied:
        layers.append([Rule(PRIORITY_MAX + 1, "allow", everything("egress"), "", "implied-allow-egress"),
                       Rule(PRIORITY_MAX + 1, "deny", everything("ingress"), "", "implied-deny-ingress")])
    return evaluate(layers)


# ---- VPC firewall rules ------------------------------------------------------------------------------

_PROTO = {"tcp": ("tcp",), "6": ("tcp",), "udp": ("udp",), "17": ("udp",), "all": ("tcp", "udp")}


def _flow_label(inputs: dict) -> str:
    return marks.parse_description(inputs.get("description")).get(marks.FLOW_KEY, "")


def l4_terms(entries: Sequence[dict] | None, proto_key: str, direction: str, peer: Peer, flow: str,
             where: str) -> list[Term]:
    terms = []
    for i, e in enumerate(entries or ()):
        proto = str(e.get(proto_key, "")).lower()
        transports = _PROTO.get(proto, ())
        ports = ANY_PORTS if proto == "all" else ports_from_gcp(e.get("ports"), f"{where}[{i}].ports")
        terms.extend(Term(direction, t, peer, ANY_PORTS, ports, flow) for t in transports)
    return terms


def read_firewall(inputs: dict, name: str = "") -> list[Rule]:
    """The evaluator's view of one ``gcp:compute/firewall:Firewall``."""
    if inputs.get("disabled"):
        return []
    direction = str(inputs.get("direction") or "INGRESS").lower()
    if direction not in ("ingress", "egress"):
        raise ConfigError(f"unknown direction {inputs.get('direction')!r}", field=f"{name}.direction")
    priority = int(inputs.get("priority", 1000) if inputs.get("priority") is not None else 1000)
    if direction == "egress":
        cidrs = list(inputs.get("destinationRanges") or [ANY_IPV4])
    else:
        cidrs = list(inputs.get("sourceRanges") or [])
        if not cidrs and not inputs.get("sourceTags") and not inputs.get("sourceServiceAccounts"):
            cidrs = [ANY_IPV4]
    if not cidrs:
        return []
    peer = Peer.of(cidrs)
    flow = _flow_label(inputs)
    rules = []
    for key, action in (("allows", "allow"), ("denies", "deny")):
        terms = l4_terms(inputs.get(key), "protocol", direction, peer, flow, f"{name}.{key}")
        if terms:
            rules.append(Rule(priority, action, AllowedSet(terms), flow, name))
    return rules


# ---- firewall policy rules ---------------------------------------------------------------------------

_NON_ADDRESS = {
    "egress": ("destAddressGroups", "destRegionCodes", "destThreatIntelligences", "destNetworkScope",
               "destNetworkContext"),
    "ingress": ("srcAddressGroups", "srcRegionCodes", "srcThreatIntelligences", "srcSecureTags", "srcNetworks",
                "srcNetworkScope", "srcNetworkContext"),
}

#: ingress matchers that name VMs of the VPC (or its peers), never internet addresses
_INTERNAL_SOURCES = ("srcSecureTags", "srcNetworks")
_INTERNAL_SCOPES = ("VPC_NETWORKS", "INTRA_VPC", "NON_INTERNET")


def _internal_only(match: dict, present: list[str]) -> bool:
    """An ingress rule whose only sources are internal (secure tags, VPC networks, a non-internet scope):
    like a VPC rule with source tags only, it matches no internet address."""
    for k in present:
        if k == "srcNetworkScope" and str(match.get(k)).upper() in _INTERNAL_SCOPES:
            continue
        if k not in _INTERNAL_SOURCES:
            return False
    return True


def _one_rule(inputs: dict, where: str) -> list[Rule]:
    if inputs.get("disabled"):
        return []
    action = str(inputs.get("action") or "").lower()
    if action not in ("allow", "deny", "goto_next"):
        return []  # apply_security_profile_group and the like: not an address decision we model
    direction = str(inputs.get("direction") or "INGRESS").lower()
    match = inputs.get("match") or {}
    if direction == "egress":
        cidrs, fqdns = match.get("destIpRanges") or [], match.get("destFqdns") or []
    else:
        cidrs, fqdns = match.get("srcIpRanges") or [], match.get("srcFqdns") or []
    if not cidrs and not fqdns:
        present = [k for k in _NON_ADDRESS.get(direction, ()) if match.get(k)]
        if present and (action != "allow" or _internal_only(match, present)):
            return []
        cidrs = [ANY_IPV4, ANY_IPV6]
    flow = marks.parse_description(inputs.get("description")).get(marks.FLOW_KEY, "")
    terms = l4_terms(match.get("layer4Configs"), "ipProtocol", direction, Peer.of(cidrs, fqdns), flow,
                     f"{where}.match.layer4Configs")
    if not terms:
        return []
    priority = inputs.get("priority")
    return [Rule(int(priority) if priority is not None else 0, action, AllowedSet(terms), flow, where)]


def read_policy_rules(rtype: str, inputs: dict, name: str = "") -> list[Rule]:
    """The evaluator's view of a policy rule resource (or every rule of a ``*WithRules`` resource)."""
    if rtype.endswith("WithRules"):
        out: list[Rule] = []
        for i, r in enumerate(inputs.get("rules") or []):
            out.extend(_one_rule(r, f"{name}.rules[{i}]"))
        return out
    return _one_rule(inputs, name)
