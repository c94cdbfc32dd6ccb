"""Issue 12 section 6: ``spirit-infra preview --stack S --against PREVIOUS.json`` lists what an edit changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spirit_infra.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _preview_json(capsys, *argv) -> dict:
    assert main(["preview", *argv, "--json"]) in (0, 1)
    return json.loads(capsys.readouterr().out)


def _variant(tmp_path: Path, stack: str, change) -> str:
    """A copy of stacks/Pulumi.<stack>.yaml (same file name: same stack, same URNs) with ``change(config)``."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    change(data["config"])
    d = tmp_path / "variant"
    d.mkdir(exist_ok=True)
    path = d / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def sbc_before(tmp_path_factory):
    out = tmp_path_factory.mktemp("before") / "aws-sbc.json"
    p = subprocess.run([sys.executable, "-m", "spirit_infra", "preview", "--stack", "aws-sbc", "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    out.write_text(p.stdout, encoding="utf-8")
    return out


def test_unchanged_stack_lists_nothing_and_exits_0(sbc_before):
    p = subprocess.run([sys.executable, "-m", "spirit_infra", "preview", "--stack", "aws-sbc", "--against",
                        str(sbc_before)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "0 added, 0 removed, 0 renamed, 0 changed (0 replaced)" in p.stdout and "no change" in p.stdout


def test_an_extra_spirit_cidr_changes_the_prefix_list_in_place(tmp_path, sbc_before, capsys):
    cfg = _variant(tmp_path, "aws-sbc", lambda c: c.setdefault("spirit:overrides", {}).update(
        extra_spirit_cidrs=["198.51.100.0/24"]))
    assert main(["preview", "--config", cfg, "--against", str(sbc_before), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["stack"] == got["previous_stack"] == "aws-sbc"
    assert got["summary"] == {"added": 0, "removed": 0, "renamed": 0, "changed": 1, "replaced": 0}
    (pl,) = got["changed"]
    assert pl["type"] == "aws:ec2/managedPrefixList:ManagedPrefixList" and not pl["replaces"]
    assert [c["input"] for c in pl["inputs"]] == ["entries"]
    assert pl["inputs"][0]["after"][-1] == {"cidr": "198.51.100.0/24", "description": "Spirit Cloud UC range"}
    # the text form says the same, one line per resource and per input
    assert main(["preview", "--config", cfg, "--against", str(sbc_before)]) == 0
    text = capsys.readouterr().out
    assert "0 added, 0 removed, 0 renamed, 1 changed (0 replaced)" in text
    assert "~ aws:ec2/managedPrefixList:ManagedPrefixList  spirit-spirit-ipv4  (in place)" in text
    assert "entries:" in text


def test_a_changed_sbc_port_lists_added_removed_and_replace_triggering_inputs(tmp_path, sbc_before, capsys):
    cfg = _variant(tmp_path, "aws-sbc", lambda c: c.update({"spirit:sbcMediaPorts": "20000-29999"}))
    assert main(["preview", "--config", cfg, "--against", str(sbc_before), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    added = {r["name"] for r in got["added"]}
    removed = {r["name"] for r in got["removed"]}
    assert any("20000-29999" in n for n in added) and any("16384-32767" in n for n in removed)
    # one rule replaced by another; nothing else (no rule of another flow, not the group) changed
    assert got["summary"] == {"added": 1, "removed": 1, "renamed": 0, "changed": 0, "replaced": 0}


def test_a_rename_is_recognised_by_content(tmp_path, sbc_before, capsys):
    """The previous preview as the pre-issue-12 names had it: the same rule under another name."""
    prev = json.loads(sbc_before.read_text())
    old = next(r for r in prev["resources"] if r["name"].startswith("spirit-out-udp-any-"))
    new_name = "spirit-sbc-audio-out-out-udp-any-e078f03b"
    old["urn"] = old["urn"].replace(old["name"], new_name)
    old["name"] = new_name
    old["inputs"]["description"] = "old description"
    path = tmp_path / "prev.json"
    path.write_text(json.dumps(prev))
    got = _preview_json(capsys, "--stack", "aws-sbc", "--against", str(path))
    assert got["summary"]["renamed"] == 1 and got["summary"]["added"] == got["summary"]["removed"] == 0
    (r,) = got["renamed"]
    assert r["from"] == new_name and r["to"].startswith("spirit-out-udp-any-")
    assert [c["input"] for c in r["inputs"]] == ["description"]
    assert main(["preview", "--stack", "aws-sbc", "--against", str(path)]) == 0
    assert f"> aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule  {new_name} -> spirit-out-udp-any-" in \
        capsys.readouterr().out


@pytest.mark.parametrize("content,message", [
    (None, "cannot read"),
    ("{not json", ":1: not JSON"),
    ('{"stack": "x"}', "not a preview"),
    ('{"resources": [{"urn": 1}]}', "resources[0]: expected urn, type, name"),
])
def test_bad_previous_file_is_one_line_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "prev.json"
    if content is not None:
        path.write_text(content)
    assert main(["preview", "--stack", "aws-sbc", "--against", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and message in err, err


def test_against_needs_one_stack(tmp_path, capsys, sbc_before):
    assert main(["preview", "--all", "--against", str(sbc_before)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --against:") and err.count("\n") == 1
