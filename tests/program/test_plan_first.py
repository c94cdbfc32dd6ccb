"""Plan first: the whole hostile corpus through the program (what ``pulumi up`` runs) under the recording test
double. Every refused input registers nothing (not one resource, not even a component) and is one line.

The corpus: every malformed catalogue (as the stack's override catalogue) and override file (as the stack's
``spirit:overrides``) in tests/malformed, every bad stack config of test_config_errors, the hostile stack
inputs of test_hostile_files, the bad CIDRs of test_entry_points, and the render-time refusals that used to
come after a part of the deployment was registered (AWS quota after 12 resources, the QoS NAT's live
ruleset payload over its channel's limit (AWS SSM parameter 8 KB, Azure userData 48 KB), a bad GCP tag
after 3). (The QoS NAT's boot user data no longer grows with the catalogue: the ruleset travels live.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hostile import BAD_CIDRS

from spirit_infra import testing
from spirit_infra.errors import InputError, QuotaError, SpiritError
from spirit_infra.preview import find_project
from spirit_infra.preview.stack import _project_defaults, _pulumi_config
from spirit_infra.program import main as program
from spirit_infra.yamlsrc import load_yaml

from . import ROOT
from .test_config_errors import BASE, CASES
from .test_hostile_files import STACK_REFUSALS

MALFORMED = ROOT / "tests" / "malformed"
BASES = {
    "aws": {"spirit:cloud": "aws", "spirit:profile": "phones"},
    "azure": {"spirit:cloud": "azure", "spirit:profile": "communicator"},
    "gcp": {"spirit:cloud": "gcp", "spirit:profile": "phones"},
}
CLOUDS = sorted(BASES)


def spread(n: int) -> list[str]:
    """``n`` disjoint ranges that no compaction merges (every other /16)."""
    return [f"{100 + i // 100}.{(i % 100) * 2}.0.0/16" for i in range(n)]


RENDER_REFUSALS = {
    # AWS: the security groups cannot hold the rules (used to come after the VPC, subnets and routes)
    "aws-quota": {**BASES["aws"], "spirit:overrides": {"extra_spirit_cidrs": spread(1000)}},
    "aws-sbc-quota": {"spirit:cloud": "aws", "spirit:profile": "sbc", "spirit:nat": "none",
                      "spirit:overrides": {"extra_spirit_cidrs": spread(200)}},
    # AWS phones with 200 extra CIDRs and the QoS NAT: the ruleset is too big for an SSM parameter (8 KB)
    "aws-qos-payload-size": {**BASES["aws"], "spirit:nat": "qos-instance",
                             "spirit:overrides": {"extra_spirit_cidrs": spread(200)}},
    # Azure: 3,000 extra CIDRs, the ruleset is too big for the VM's userData
    "azure-qos-payload-size": {**BASES["azure"], "spirit:nat": "qos-instance",
                                   "spirit:natSshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample",
                                   "spirit:overrides": {"extra_spirit_cidrs": spread(3000)}},
    "gcp-tag-trailing-hyphen": {**BASES["gcp"], "spirit:targetTags": ["spirit-"]},
}


def _corpus() -> list[tuple[str, dict]]:
    cases: list[tuple[str, dict]] = sorted(RENDER_REFUSALS.items())
    for i, p in enumerate(sorted(MALFORMED.glob("catalogue-*.yaml"))):
        cloud = CLOUDS[i % 3]
        cases.append((f"{cloud}-{p.stem}", {**BASES[cloud], "spirit:overrides": {"catalogue": str(p)}}))
    for i, p in enumerate(sorted(MALFORMED.glob("override-*.yaml"))):
        try:
            data = load_yaml(p).data  # bounded: an alias bomb must not be expanded here either
        except InputError:
            continue  # not a mapping a stack could hold (the file-level cases are in test_malformed)
        if not isinstance(data, dict) or not data or "catalogue" in data:
            continue
        cloud = CLOUDS[i % 3]
        profile = "sbc" if "# profile: sbc" in p.read_text(encoding="utf-8") else BASES[cloud]["spirit:profile"]
        nat = {"spirit:nat": "none"} if profile == "sbc" else {}
        cases.append((f"{cloud}-{p.stem}", {**BASES[cloud], "spirit:profile": profile, **nat,
                                            "spirit:overrides": data}))
    for case_id, edit, *_ in CASES:
        cases.append((f"config-{case_id}", yaml.safe_load(edit(BASE))["config"]))
    for case_id, cloud, extra, *_ in STACK_REFUSALS:
        profile = "phones" if cloud != "azure" else "communicator"
        text = f"config:\n  spirit:cloud: {cloud}\n  spirit:profile: {profile}\n{extra}\n"
        cases.append((f"hostile-{case_id}", yaml.safe_load(text)["config"]))
    for i, (case_id, values, _fragment) in enumerate(BAD_CIDRS):
        cloud = CLOUDS[i % 3]
        cases.append((f"{cloud}-cidr-{case_id}", {**BASES[cloud], "spirit:overrides": {"extra_spirit_cidrs": values}}))
    return cases


CORPUS = _corpus()


def _run(config: dict) -> testing.Recording:
    merged = {**_project_defaults(find_project(ROOT)), **config}
    return testing.run(program, config=_pulumi_config(merged), root_directory=str(ROOT), raise_program_errors=False)


def test_the_corpus_is_the_whole_corpus():
    names = " ".join(c[0] for c in CORPUS)
    assert len(CORPUS) >= 150
    for topic in ("aws-quota", "aws-qos-payload-size", "azure-qos-payload-size", "gcp-tag-trailing-hyphen", "catalogue-yaml-alias-bomb",
                  "override-cidr-everything-in-halves", "config-bad-cloud", "hostile-overrides-sbc",
                  "cidr-everything-in-halves", "catalogue-cidr-ipv6-while-ipv4-only"):
        assert topic in names, topic


@pytest.mark.parametrize("case", CORPUS, ids=[c[0] for c in CORPUS])
def test_refused_with_nothing_registered(case):
    _id, config = case
    rec = _run(config)
    assert rec.program_error is not None, f"{_id}: accepted ({len(rec.resources)} resources)"
    assert rec.resources == [], f"{_id}: registered {[r.name for r in rec.resources]} before: {rec.program_error}"
    err = rec.program_error
    assert isinstance(err.__cause__, SpiritError), repr(err)  # one of ours, not a traceback
    line = str(err)
    assert "\n" not in line and line.strip() == line and line, repr(line)


@pytest.mark.parametrize("name", sorted(RENDER_REFUSALS))
def test_render_refusals_name_the_stack_key(name, tmp_path, capsys):
    """A refusal found while planning names the stack file, the line and the key behind it."""
    from spirit_infra.cli import main

    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text(yaml.safe_dump({"config": RENDER_REFUSALS[name]}, sort_keys=False))
    key = "targetTags" if "tag" in name else "overrides"
    text = stack.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.strip().startswith(f"spirit:{key}:"))
    line += text[line - 1].rstrip().endswith(":")  # a block value: its first line (where a file's error points)
    assert main(["preview", "--config", str(stack)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {stack}:{line}: spirit:{key}: "), err


def test_the_same_stacks_without_the_bad_part_register(tmp_path):
    """Guard: the bases the corpus edits deploy (the refusals are about the edit, not the base)."""
    for cloud, base in BASES.items():
        rec = _run(base)
        assert rec.program_error is None, (cloud, rec.program_error)
        assert len(rec.resources) > 5
    rec = _run({**BASES["gcp"], "spirit:nat": "qos-instance",
                "spirit:overrides": {"extra_spirit_cidrs": spread(20)}})
    assert rec.program_error is None and any(r.type == "gcp:compute/instance:Instance" for r in rec.resources)


# ---- the components themselves: a refusal registers nothing, not even the component ----

def _component_refusals():
    from spirit_infra.aws.components import AwsSecurityGroups, AwsSecurityGroupsArgs
    from spirit_infra.gcp.components import GcpFirewallPolicy, GcpVpcFirewall

    yield "aws-security-groups-quota", lambda: AwsSecurityGroups(
        "sg", AwsSecurityGroupsArgs(vpc_id="vpc-1", profile="phones", quota=2))
    yield "gcp-vpc-rules-ranges", lambda: GcpVpcFirewall("fw", _gcp_args("GcpVpcFirewallArgs"))
    yield "gcp-policy-ranges", lambda: GcpFirewallPolicy("pol", _gcp_args("GcpFirewallPolicyArgs"))


def _gcp_args(cls: str):
    """Args whose render is refused (more ranges than max_ranges): built inside the program, as a user would."""
    from spirit_infra.gcp import components
    from spirit_infra.profiles import Overrides

    return getattr(components, cls)(network="n", profile="phones", max_ranges=1,
                                    overrides=Overrides(extra_spirit_cidrs=tuple(spread(3))))


@pytest.mark.parametrize("case", list(_component_refusals()), ids=lambda c: c[0] if isinstance(c, tuple) else "")
def test_component_refusal_registers_nothing(case):
    _id, build = case
    rec = testing.run(build, raise_program_errors=False)
    assert isinstance(rec.program_error, SpiritError), rec.program_error
    assert rec.resources == []


@pytest.mark.parametrize("cloud,n", [("aws", 200), ("azure", 3000)])
def test_qos_nat_args_refuse_an_oversized_ruleset_payload_at_construction(cloud, n):
    """The size check runs when the Args are built: a program building every Args first meets it first.
    (The live channel's limit: AWS SSM 8 KB, Azure userData 48 KB; the boot user data no longer grows.)"""
    from spirit_infra.profiles import Overrides

    ov = Overrides(extra_spirit_cidrs=tuple(spread(n)))
    with pytest.raises(QuotaError, match="the ruleset payload .* over the .*-byte limit"):
        if cloud == "aws":
            from spirit_infra.aws.qos_nat import AwsQosNatArgs
            AwsQosNatArgs(profile="phones", subnet_id="subnet-1", overrides=ov)
        else:
            from spirit_infra.azure.qos_nat import AzureQosNatArgs
            AzureQosNatArgs(profile="phones", resource_group_name="rg", subnet_id="s", overrides=ov,
                            ssh_public_key="ssh-ed25519 AAAA")


def test_gcp_qos_nat_boot_user_data_does_not_grow_with_the_catalogue():
    """GCP's metadata value takes 256 KB: 3,000 extra CIDRs fit in the payload, and the boot user data is the
    same bytes as with none (it used to carry the ruleset and was refused here)."""
    from spirit_infra.gcp.qos_nat import GcpQosNatArgs
    from spirit_infra.profiles import Overrides

    def plan(**kw):
        return GcpQosNatArgs(profile="phones", network="n", subnetwork="s", zone="europe-west1-b",
                             route_tags=("spirit",), **kw).plan()
    big, small = plan(overrides=Overrides(extra_spirit_cidrs=tuple(spread(3000)))), plan()
    assert big.boot == small.boot and len(big.payload) > 10 * len(small.payload)


def test_plan_is_the_registration(tmp_path):
    """Binding outputs after planning changes nothing the render saw: the registered rules are the plan's."""
    from spirit_infra.aws.components import AwsSecurityGroupsArgs
    from spirit_infra.planning import PENDING, bind

    args = AwsSecurityGroupsArgs(vpc_id=PENDING, profile="sbc")
    plan = args.plan("spirit")
    bind(args, vpc_id="vpc-real")
    assert args.plan("spirit") is plan
    with pytest.raises(TypeError, match="was not planned as PENDING"):
        bind(args, vpc_id="vpc-other")
    with pytest.raises(TypeError, match="planned"):
        bind(AwsSecurityGroupsArgs(vpc_id="v", profile="sbc"), vpc_id="w")


def test_the_malformed_catalogues_in_the_corpus_exist():
    paths = [Path(c[1]["spirit:overrides"]["catalogue"]) for c in CORPUS if c[0].split("-", 1)[1].startswith("catalogue-")]
    assert len(paths) >= 70 and all(p.is_file() for p in paths)
