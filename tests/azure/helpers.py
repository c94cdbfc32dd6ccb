"""Shared helpers for the Azure tests: run components under the mock runtime, reader-ready dicts."""

from __future__ import annotations

from spirit_infra import testing

AZURE_TYPES = ("azure-native:network:", "spirit:index:")


def run_components(build) -> testing.Recording:
    """Run ``build()`` (which creates components) under the recording mock runtime."""
    return testing.run(build)


def as_reader_input(rec: testing.Recording) -> list[dict]:
    """The registered resources the way the readers and the policy pack take them."""
    return [{"type": r.type, "name": r.name, "inputs": r.inputs, "urn": r.urn} for r in rec.resources]


def rule_layout(rec: testing.Recording) -> dict[str, tuple[str, int]]:
    """securityRuleName -> (logical resource name, priority) of every registered SecurityRule."""
    return {r.inputs["securityRuleName"]: (r.name, r.inputs["priority"])
            for r in rec.by_type("azure-native:network:SecurityRule")}


def collection_layout(rec: testing.Recording) -> dict[str, tuple[int, str]]:
    """collection name -> (priority, canonical rules) of every registered rule collection."""
    out = {}
    for g in rec.by_type("azure-native:network:FirewallPolicyRuleCollectionGroup"):
        for c in g.inputs["ruleCollections"]:
            out[c["name"]] = (c["priority"], repr(c["rules"]))
    return out


def golden_view(rec: testing.Recording) -> list[dict]:
    return sorted(({"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs,
                    "outputs": r.outputs} for r in rec.resources), key=lambda d: (d["type"], d["name"]))
