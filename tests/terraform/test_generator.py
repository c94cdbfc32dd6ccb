"""The Terraform generator (issue 17): checked-in modules equal to it, deterministic, no ``count``, every
module exact when read back with the project's readers, and the churn corpus re-addresses nothing of
an unedited flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spirit_infra import Overrides, build_profile, project
from spirit_infra.aws import SG_CAPS
from spirit_infra.aws import read as aws_read
from spirit_infra.aws.fqdn import FirewallOptions, model_firewall
from spirit_infra.aws.read import read_firewall
from spirit_infra.azure import fqdn as az_fw
from spirit_infra.azure import rules as az_rules
from spirit_infra.azure.read import (
    read_firewall_policy,
    read_nsg,
)
from spirit_infra.gcp import rules as gcp_rules
from spirit_infra.gcp.fqdn import POLICY_CAPS, POLICY_RULE_TYPE
from spirit_infra.gcp.read import read as gcp_read
from spirit_infra.profiles import with_extra_flows
from spirit_infra.terraform import read_back, render_module, resources_of
from spirit_infra.terraform.regenerate import expected_files

ROOT = Path(__file__).resolve().parents[2]
CLOUDS = ("aws", "azure", "gcp")
PROFILES = ("phones", "communicator", "sbc")
CASES = [(c, p) for c in CLOUDS for p in PROFILES]


EXTRA_CIDR = "198.51.100.0/24"  # TEST-NET-2, as an extra Spirit range


def _profile(name: str, extra: str | None = None):
    if extra == "extra-cidr":
        return build_profile(name, Overrides(extra_spirit_cidrs=(EXTRA_CIDR,)))
    ov = Overrides()
    if extra:
        ov = with_extra_flows(ov, str(ROOT / "presets" / extra))
    return build_profile(name, ov)


def test_checked_in_modules_and_examples_equal_the_generator():
    want = expected_files()
    got = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
           for p in (ROOT / "terraform").rglob("*") if p.is_file()}
    stale = sorted(k for k in want if got.get(k) != want[k])
    extra = sorted(set(got) - set(want))
    assert not stale and not extra, (f"regenerate with `python -m spirit_infra.terraform.regenerate`: differing "
                                     f"{stale}, not generated {extra}")
    assert {k.split("/")[2] for k in want if k.startswith("terraform/modules/")} == {
        f"{c}-{p}" for c, p in CASES}


def test_byte_identical_for_the_same_input():
    a = render_module(_profile("sbc"), "aws").files
    b = render_module(_profile("sbc"), "aws").files
    assert a == b
    for name, text in a.items():
        if name.endswith(".json"):
            assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", name


_DIGEST = """
import hashlib, json, sys
from spirit_infra import Overrides, build_profile
from spirit_infra.profiles import with_extra_flows
from spirit_infra.terraform import render_module
from spirit_infra.terraform.regenerate import expected_files
files = expected_files()
ov = with_extra_flows(Overrides(extra_spirit_cidrs=("198.51.100.0/24",)), sys.argv[1])
for cloud in ("aws", "azure", "gcp"):
    files.update({f"custom/{cloud}/{k}": v for k, v in render_module(build_profile("sbc", ov), cloud).files.items()})
print(hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(), len(files))
"""


def test_byte_identical_across_hash_seeds():
    """Every checked-in file and a customised module (extra range, extra flows) render the same bytes
    in interpreters with different string-hash seeds (set and dict orders that leak would show)."""
    import os
    import subprocess
    import sys

    preset = str(ROOT / "presets" / "sbc-host.yaml")
    outs = set()
    for seed in ("0", "1", "2026"):
        run = subprocess.run([sys.executable, "-c", _DIGEST, preset], capture_output=True, text=True, timeout=120,
                             cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed})
        assert run.returncode == 0, run.stderr
        outs.add(run.stdout)
    assert len(outs) == 1 and int(outs.pop().split()[1]) == 48 + 15


def _walk_keys(value, out: set[str]):
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            if k not in ("tags", "labels"):
                _walk_keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _walk_keys(v, out)


@pytest.mark.parametrize("cloud,profile", CASES)
def test_no_count_and_no_inline_rules(cloud, profile):
    main = render_module(_profile(profile), cloud).main
    keys: set[str] = set()
    _walk_keys(main, keys)
    assert "count" not in keys and "count.index" not in json.dumps(main)
    for sg in main["resource"].get("aws_security_group", {}).values():
        assert "ingress" not in sg and "egress" not in sg  # separate rule resources only
    assert "security_rule" not in json.dumps(main["resource"].get("azurerm_network_security_group", {}))


def _only(resources, *types):
    return [r for r in resources if r["type"] in types]


EXACT = ([(c, p, None) for c, p in CASES] + [(c, "sbc", "sbc-host.yaml") for c in CLOUDS]
         + [(c, "phones", "extra-cidr") for c in CLOUDS]
         + [("aws", "phones", "workspaces.yaml")])  # an AWS-managed prefix list, by a data source


@pytest.mark.parametrize("cloud,profile,extra", EXACT)
def test_read_back_is_exact(cloud, profile, extra):
    """Each layer's resources, read back with the project's readers, equal the profile projected on it
    (the packaged catalogue, with the SBC host preset's customer flows, with an extra Spirit range)."""
    prof = _profile(profile, extra)
    if extra == "extra-cidr":
        assert EXTRA_CIDR in json.dumps(render_module(prof, cloud).main)
    if extra == "workspaces.yaml":
        assert render_module(prof, cloud).main["data"] == {"aws_ec2_managed_prefix_list": {
            "com_amazonaws_ap-southeast-2_s3": {"name": "com.amazonaws.ap-southeast-2.s3"}}}
    res = read_back(cloud, render_module(prof, cloud).main)
    if cloud == "aws":
        rules = _only(res, "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                      "aws:ec2/managedPrefixList:ManagedPrefixList")
        assert aws_read(rules) == project(prof.allowed, SG_CAPS).allowed
        fw = model_firewall(prof, FirewallOptions(dns_firewall=True))
        assert read_firewall(res) == fw.projected
    elif cloud == "azure":
        assert read_nsg(res) == project(prof.allowed, az_rules.NSG_CAPS).allowed
        egress = prof.allowed.select(direction="egress")
        assert read_firewall_policy(res) == project(egress, az_fw.FW_CAPS).allowed
    else:
        vpc = _only(res, gcp_rules.FIREWALL_TYPE)
        assert gcp_read(vpc) == project(prof.allowed, gcp_rules.VPC_CAPS).allowed
        assert gcp_read(_only(res, POLICY_RULE_TYPE)) == project(prof.allowed, POLICY_CAPS).allowed


def test_read_back_bites():
    """A rule edited in the module (a port widened) reads back different: the comparison can fail."""
    prof = _profile("sbc")
    main = render_module(prof, "aws").main
    rule = next(iter(main["resource"]["aws_vpc_security_group_ingress_rule"].values()))
    rule["to_port"] = 65535
    rules = [r for r in read_back("aws", main) if "Rule" in r["type"] or "Group" in r["type"] or "Prefix" in r["type"]]
    assert aws_read(rules) != project(prof.allowed, SG_CAPS).allowed
    main = render_module(prof, "azure").main
    rule = next(iter(main["resource"]["azurerm_network_security_rule"].values()))
    rule["access"] = "Deny" if rule["access"] == "Allow" else "Allow"
    assert read_nsg(read_back("azure", main)) != project(prof.allowed, az_rules.NSG_CAPS).allowed


# ---- the same voice-tuned NAT values as the Pulumi planners -------------------------------------------

def test_managed_nat_carries_the_planners_voice_settings():
    from spirit_infra.azure.nat import NatOptions as AzNat
    from spirit_infra.azure.nat import model_nat
    from spirit_infra.gcp.nat import NatOptions, model_nat_specs

    prof = _profile("sbc")
    gcp = render_module(prof, "gcp").main["resource"]
    nat = gcp["google_compute_router_nat"]["nat"]
    plan, _ = model_nat_specs(NatOptions(profile="sbc"))
    assert nat["enable_endpoint_independent_mapping"] is True
    assert nat["udp_idle_timeout_sec"] == plan.settings["udpIdleTimeoutSec"] >= 300
    assert nat["min_ports_per_vm"] == plan.settings["minPortsPerVm"]
    assert nat["for_each"] == "${var.nat_regions}" and nat["router"] == "${google_compute_router.router[each.key].name}"
    az = render_module(prof, "azure").main["resource"]["azurerm_nat_gateway"]["natgw"]
    assert az["idle_timeout_in_minutes"] == model_nat(AzNat(profile="sbc")).tcp_idle_timeout_minutes
    aws = render_module(prof, "aws").main["resource"]
    assert aws["aws_nat_gateway"]["natgw"]["for_each"] == "${var.nat_public_subnet_ids}"
    assert aws["aws_nat_gateway"]["natgw"]["allocation_id"] == "${aws_eip.eip[each.key].allocation_id}"
    from spirit_infra.aws.nat import TYPE_ROUTE
    from spirit_infra.aws.nat import model_nat as aws_nat

    (route,) = [r for r in aws_nat("sbc", ["a"], route_tables={"x": "a"}).resources if r["type"] == TYPE_ROUTE]
    assert aws["aws_route"]["route"] == {  # the planner's route, to the gateway of the route table's zone
        "for_each": "${var.nat_private_route_tables}", "route_table_id": "${each.value.route_table_id}",
        "destination_cidr_block": route["inputs"]["destinationCidrBlock"],
        "nat_gateway_id": "${aws_nat_gateway.natgw[each.value.zone].id}"}


# ---- churn: the flow-edit corpus on the generated modules ---------------------------------------------

def _churn_cases():
    from tests.churn.helpers import flow_edits

    return [(c, p, e) for c in CLOUDS for p in PROFILES for e, _ in flow_edits(p)]


CHURN = _churn_cases()


def _identity(cloud: str, r, touched: set[str]) -> dict:
    """What an edit of other flows must not change: names, priorities, and (AWS, GCP: the bridged providers'
    ForceNew arguments, spirit_infra.changes.REPLACE_ON by the read-back Pulumi type) what replaces it."""
    from spirit_infra.changes import identity_inputs

    body = r.body
    out = {k: body.get(k) for k in ("name", "name_prefix", "priority", "rule_name") if k in body}
    if cloud != "azure":
        (entry,) = read_back(cloud, {"resource": {r.type: {r.address: body}}})
        out["replaced_by"] = identity_inputs(entry)
    if r.type == "azurerm_firewall_policy_rule_collection_group":  # one collection per flow inside it
        out["collections"] = {c["name"]: c["priority"] for kind in ("network_rule_collection",
                                                                     "application_rule_collection")
                              for c in body.get(kind, []) if not set(_collection_flows(c)) & touched}
    return out


def _collection_flows(c) -> list[str]:
    from spirit_infra import marks

    return [f for rule in c["rule"] for f in marks.parse_description(rule.get("description"))
            .get(marks.FLOW_KEY, "").split(",") if f]


@pytest.mark.parametrize("cloud,profile,edit", CHURN, ids=[f"{c}-{p}-{e}" for c, p, e in CHURN])
def test_flow_edit_readdresses_no_other_flow(cloud, profile, edit, tmp_path):
    from spirit_infra.errors import ConfigError
    from tests.churn.helpers import base_config, flow_edits, profile_of, touched_flows

    cfg = base_config(cloud, profile)
    before_prof = profile_of(cfg, tmp_path / "base")
    try:
        after_prof = profile_of(dict(flow_edits(profile))[edit](cfg, tmp_path / "edit"), tmp_path / "edit")
    except ConfigError as e:  # the sbc profile cannot lose a row it is built from: refused in one line
        assert profile == "sbc" and edit.startswith("remove-") and "\n" not in str(e)
        return
    touched = touched_flows(before_prof, after_prof)
    before = resources_of(before_prof, cloud)
    after = {(r.type, r.address): r for r in resources_of(after_prof, cloud)}
    compared = replaced = 0
    for r in before:
        if r.flows and set(r.flows) <= touched:
            continue  # the edited flow's own resource may move
        compared += 1
        twin = after.get((r.type, r.address))
        assert twin is not None, f"{r.type}.{r.address} (flows {list(r.flows) or '-'}) is re-addressed or gone"
        assert _identity(cloud, twin, touched) == _identity(cloud, r, touched), (
            f"{r.type}.{r.address} changed its name, priority or an argument that replaces it")
        replaced += bool(_identity(cloud, r, touched).get("replaced_by"))
    assert compared > 0 and (cloud == "azure" or replaced > 0)


def test_churn_corpus_covers_every_cloud_and_profile():
    assert {(c, p) for c, p, _ in CHURN} == set(CASES)
    assert len(CHURN) >= 9 * 5


LIMITS = {"aws": 64, "gcp": 63}


@pytest.mark.parametrize("cloud,profile", [(c, p) for c, p in CASES if c in LIMITS])
def test_name_prefix_validation_fits_the_longest_name(cloud, profile):
    """The name_prefix input's validated maximum is exactly what the longest name leaves room for."""
    import re

    module = render_module(_profile(profile), cloud)
    cond = module.variables["variable"]["name_prefix"]["validation"][0]["condition"]
    room = int(re.search(r"length\(var\.name_prefix\) <= (\d+)", cond).group(1))
    names = [v for by in module.main["resource"].values() for body in by.values()
             for k, v in body.items() if k in ("name", "rule_name") and "${var.name_prefix}" in v]
    assert names
    # a zone label (the firewall's name per zone) at its validated maximum, 32
    longest = max(len(n.replace("${var.name_prefix}", "p" * room).replace("${each.key}", "z" * 32)) for n in names)
    assert longest == LIMITS[cloud]


# ---- what each module's README claims ---------------------------------------------------------------------

@pytest.mark.parametrize("cloud,profile", CASES)
def test_module_readme_claims_are_true(cloud, profile):
    """The checked-in README names the packaged catalogue by its real sha256, lists every assumption the
    profile rests on, the inputs, outputs and resource counts the module really has, and a usage block
    with every required input."""
    import hashlib

    from spirit_infra.catalogue.load import DEFAULT_CATALOGUE

    d = ROOT / "terraform" / "modules" / f"{cloud}-{profile}"
    text = (d / "README.md").read_text(encoding="utf-8")
    assert f"sha256 {hashlib.sha256(DEFAULT_CATALOGUE.read_bytes()).hexdigest()})" in text
    prof = _profile(profile)
    assert prof.assumptions
    for a in prof.assumptions:
        assert f"- **{a.id}**: " in text, a.id
    assert "customer flow" not in text and "additions" not in text  # the packaged catalogue alone
    main = json.loads((d / "main.tf.json").read_text(encoding="utf-8"))
    variables = json.loads((d / "variables.tf.json").read_text(encoding="utf-8"))["variable"]
    outputs = json.loads((d / "outputs.tf.json").read_text(encoding="utf-8"))["output"]
    assert {f"| `{t}` | {len(by)} |" for t, by in main["resource"].items()} <= set(text.splitlines())
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert {r.split("`")[1] for r in rows} == set(main["resource"]) | set(variables) | set(outputs)
    usage = text.split("```hcl\n", 1)[1].split("```", 1)[0]
    required = {k for k, v in variables.items() if "default" not in v}
    assert required and {line.split("=")[0].strip() for line in usage.splitlines()[2:-1]} == required


def test_a_customised_modules_readme_says_what_was_added(tmp_path):
    """Overrides and extra flows are named in the README (file names only), with the flags that built it."""
    from spirit_infra import SbcPorts

    ov = with_extra_flows(Overrides(extra_spirit_cidrs=(EXTRA_CIDR,), sbc=SbcPorts(sip=((5070, 5071),))),
                          str(ROOT / "presets" / "sbc-host.yaml"))
    text = render_module(build_profile("sbc", ov), "gcp", ("rules",)).files["README.md"]
    assert "--profile sbc --extra-flows sbc-host.yaml --layers rules`" in text
    assert f"- extra Spirit ranges: {EXTRA_CIDR}" in text and "- the SBC's ports: SIP 5070-5071, media 16384-32767" in text
    for fid in ("sbc-host-ntp", "sbc-host-dns", "sbc-host-packages"):
        assert f"- customer flow **{fid}** (" in text and "from `sbc-host.yaml` line " in text
    assert str(ROOT) not in text  # no local path
    ov_file = tmp_path / "ov.yaml"
    ov_file.write_text("ztp_vendors_drop: [ztp.polycom.com]\n", encoding="utf-8")
    from spirit_infra.profiles import load_overrides

    text = render_module(build_profile("phones", load_overrides(str(ov_file))), "aws").files["README.md"]
    assert "--overrides ov.yaml" in text and "- ZTP vendors dropped: ztp.polycom.com" in text
