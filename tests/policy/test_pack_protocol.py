"""The Spirit policy pack (policypack/) driven over the Pulumi analyzer protocol, as the CLI drives it.

One pack process for the module; each case reconfigures it (``Configure``) with the stack's policy config.
Good example stacks pass with zero violations; every mutation-corpus case is flagged by exactly the expected
policy at the expected level; hand-written foreign stacks are judged correctly; per-policy enforcement
levels are overridable through the pack config.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spirit_infra.policy.offline import pack_config, run_resources
from spirit_infra.policy.runner import PolicyPackServer
from spirit_infra.policy.spec import POLICIES

from .corpus import foreign, mutations, stacks

pytestmark = pytest.mark.grpc

PACK = Path(__file__).resolve().parents[2] / "policypack"


@pytest.fixture(scope="module")
def pack():
    with PolicyPackServer(PACK, timeout=60) as server:
        yield server
    assert not server.alive


def _merge(base: dict, extra: dict) -> dict:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k].update(v)
        else:
            out[k] = v
    return out


def test_info_lists_every_policy_with_kind_level_and_schema(pack):
    info = pack.info()
    assert info["name"] == "spirit-infra" and info["supports_config"]
    got = {p["name"]: (p["policy_type"], p["enforcement_level"]) for p in info["policies"]}
    assert got == {p.name: (p.kind, p.level) for p in POLICIES}
    schema = {p["name"]: p["config_schema"]["properties"] for p in info["policies"]}
    assert set(schema["spirit-egress-covers-profile"]) >= {"profile", "extraSpiritCidrs", "ztpVendorsDrop"}
    assert schema["spirit-sg-quota"]["quota"]["default"] == 60
    assert "sipKeepaliveSeconds" in schema["spirit-nat-voice-safe"]


@pytest.mark.parametrize("name", stacks.STACKS)
def test_example_stack_has_zero_violations(pack, name):
    pack.configure(pack_config(stacks.config(name)))
    resources = stacks.good(name)
    assert len(resources) >= 5
    assert run_resources(pack, resources) == []


def test_corpus_is_large_and_covers_every_policy():
    assert len(mutations.CASES) >= 20
    assert {c.expect for c in mutations.CASES} == {p.name for p in POLICIES}
    assert len({c.id for c in mutations.CASES}) == len(mutations.CASES)


@pytest.mark.parametrize("case", mutations.CASES, ids=lambda c: c.id)
def test_mutation_flagged_by_exactly_the_expected_policy(pack, case):
    pack.configure(_merge(pack_config(stacks.config(case.stack)), case.config))
    violations = run_resources(pack, case.mutate(stacks.good(case.stack)))
    assert {v.policy_name for v in violations} == {case.expect}, [v.message for v in violations]
    assert {v.enforcement_level for v in violations} == {case.level}
    text = "\n".join(v.message for v in violations)
    for word in case.mentions:
        assert word in text


@pytest.mark.parametrize("case", foreign.FOREIGN, ids=lambda c: c[0])
def test_foreign_stack_judged(pack, case):
    _, resources, profile, expected = case
    pack.configure({p.name: {"profile": profile} for p in POLICIES if "profile" in p.properties})
    violations = run_resources(pack, resources)
    assert {v.policy_name for v in violations} == expected, [v.message for v in violations]


def test_missing_flows_are_named_one_violation_each(pack):
    case = next(c for c in mutations.CASES if c.id == "aws-rtp-missing")
    pack.configure(pack_config(stacks.config(case.stack)))
    violations = run_resources(pack, case.mutate(stacks.good(case.stack)))
    named = sorted(f for v in violations for f in ("sbc-audio-out", "sbc-video-out") if f"flow {f} " in v.message)
    assert named == ["sbc-audio-out", "sbc-video-out"] and len(violations) == 2


@pytest.mark.parametrize("level", ["advisory", "disabled"])
def test_per_policy_enforcement_level_override(pack, level):
    case = next(c for c in mutations.CASES if c.id == "aws-sip-ingress-rule")
    cfg = _merge(pack_config(stacks.config(case.stack)), {})
    cfg["spirit-no-open-voice-ingress"] = {**cfg.get("spirit-no-open-voice-ingress", {}), "enforcementLevel": level}
    pack.configure(cfg)
    violations = run_resources(pack, case.mutate(stacks.good(case.stack)))
    if level == "disabled":
        assert violations == []
    else:
        assert {(v.policy_name, v.enforcement_level) for v in violations} == {("spirit-no-open-voice-ingress",
                                                                                "advisory")}


def test_advisory_policy_made_mandatory(pack):
    case = next(c for c in mutations.CASES if c.id == "gcp-broader")
    pack.configure(_merge(pack_config(stacks.config(case.stack)), {"spirit-egress-not-broader": "mandatory"}))
    violations = run_resources(pack, case.mutate(stacks.good(case.stack)))
    assert {(v.policy_name, v.enforcement_level) for v in violations} == {("spirit-egress-not-broader", "mandatory")}


def test_keepalive_and_quota_come_from_config(pack):
    # the good gcp-communicator NAT (udp timeout 300 s) is unsafe for a 300 s keepalive
    pack.configure(_merge(pack_config(stacks.config("gcp-communicator")),
                          {"spirit-nat-voice-safe": {"sipKeepaliveSeconds": 300}}))
    assert {v.policy_name for v in run_resources(pack, stacks.good("gcp-communicator"))} == {"spirit-nat-voice-safe"}
    # a quota of 5: the good aws-sbc group counts 3 prefix-list rules x 10 entries per direction
    pack.configure(_merge(pack_config(stacks.config("aws-sbc")), {"spirit-sg-quota": {"quota": 5}}))
    v = run_resources(pack, stacks.good("aws-sbc"))
    assert {x.policy_name for x in v} == {"spirit-sg-quota"} and "30 egress ipv4" in v[0].message


def test_profile_falls_back_to_stack_config():
    """No policy config at all: the pack reads spirit:profile etc. from PULUMI_CONFIG, as the CLI passes it."""
    from spirit_infra.policy.offline import stack_config

    cfg = stacks.config("aws-phones")
    with PolicyPackServer(PACK, timeout=60, stack_config=stack_config(cfg), project="spirit-infra",
                          stack="aws-phones") as server:
        assert run_resources(server, stacks.good("aws-phones")) == []
        broken = mutations.drop_flows(mutations.SG_OUT, "phone-sip")(stacks.good("aws-phones"))
        assert {v.policy_name for v in run_resources(server, broken)} == {"spirit-egress-covers-profile"}


def test_preview_unknowns_do_not_break_stack_policies(pack):
    """In a real preview, ids are unknown: rules find their group and prefix list through property dependencies."""
    from spirit_infra.policy.runner import UNKNOWN

    pack.configure(pack_config(stacks.config("aws-sbc")))
    items = []
    for r in stacks.good("aws-sbc"):
        props = dict(r["inputs"])
        deps = {}
        for key in ("securityGroupId", "prefixListId"):
            if key in props:
                target = props[key][: -len("-id")]
                deps[key] = [x["urn"] for x in stacks.good("aws-sbc") if x["name"] == target]
                props[key] = UNKNOWN
        item = {"type": r["type"], "name": r["name"], "urn": r["urn"], "properties": props}
        if deps:
            item["propertyDependencies"] = deps
        items.append(item)
    assert pack.analyze_stack(items) == []
    # without the dependencies the rules cannot be tied to the marked group: the SBC flows are reported missing
    for it in items:
        it.pop("propertyDependencies", None)
    assert {v.policy_name for v in pack.analyze_stack(items)} == {"spirit-egress-covers-profile"}
