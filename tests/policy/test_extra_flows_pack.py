"""The policy pack and customer extra flows: a stack is judged against profile + extra flows; without them
the customer's rules are reported as broader than the profile (advisory), never as a mandatory failure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from spirit_infra.policy.offline import pack_config, run_pack

from .corpus import stacks

pytestmark = pytest.mark.grpc

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policypack"
BROADER = "spirit-egress-not-broader"
COVERS = "spirit-egress-covers-profile"


@pytest.fixture(scope="module")
def avd():
    cfg = stacks.config("azure-avd-communicator")
    assert cfg.overrides.extra_flows is not None
    return cfg, stacks.good("azure-avd-communicator")


def test_stack_with_its_extra_flows_passes(avd):
    cfg, resources = avd
    assert pack_config(cfg)[BROADER]["extraFlows"].endswith("presets/avd-session-hosts.yaml")
    violations = run_pack(PACK, SimpleNamespace(stack="azure-avd-communicator", config=cfg, resources=resources))
    assert violations == [], [v.message for v in violations]


def test_without_the_extra_flows_the_customer_rules_are_broader_advisory(avd):
    cfg, resources = avd
    bare = replace(cfg, overrides=replace(cfg.overrides, extra_flows=None))
    violations = run_pack(PACK, SimpleNamespace(stack="azure-avd-communicator", config=bare, resources=resources))
    assert {(v.policy_name, v.enforcement_level) for v in violations} == {(BROADER, "advisory")}
    text = " ".join(v.message for v in violations)
    assert "broader than the profile (customer flows? give them as extraFlows)" in text
    for fid in ("avd-service", "avd-authentication", "avd-windows-activation", "avd-instance-metadata"):
        assert f"[{fid}]" in text
    assert "azure-service-tag:WindowsVirtualDesktop" in text
    # Spirit's own flows are not what is broader
    assert "[communicator-" not in text


def test_a_missing_customer_rule_is_a_coverage_gap(avd):
    cfg, resources = avd
    cut = [r for r in resources if not (r["type"] == "azure-native:network:SecurityRule"
                                        and "spirit-flow=avd-service" in (r["inputs"].get("description") or ""))]
    assert len(cut) == len(resources) - 1
    violations = run_pack(PACK, SimpleNamespace(stack="azure-avd-communicator", config=cfg, resources=cut))
    assert {v.policy_name for v in violations} == {COVERS}
    assert "egress flow avd-service is not covered" in " ".join(v.message for v in violations)
