"""The GCP reader: what a set of GCP resources allows, VPC firewall rules and firewall policy rules
together, evaluated in GCP's order (pure).

Apart from :mod:`.rules` (VPC firewall rules) and :mod:`.policy` (network firewall policies), which it
both reads, so neither imports the other's reader. The rules each resource type is read by are in
those two modules' docstrings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..flows import AllowedSet
from .common import Rule, evaluate, everything
from .fqdn import POLICY_RULE_TYPES, read_policy_rules
from .rules import FIREWALL_TYPE, PRIORITY_MAX, read_firewall

__all__ = ["read"]


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
