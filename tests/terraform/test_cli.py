"""``spirit-infra terraform render``: the files the generator makes, and one line with exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spirit_infra import Overrides, build_profile
from spirit_infra.cli import main
from spirit_infra.terraform import render_module

ROOT = Path(__file__).resolve().parents[2]


def test_render_writes_the_generators_module(tmp_path, capsys):
    out = tmp_path / "mod"
    assert main(["terraform", "render", "--cloud", "azure", "--profile", "communicator", "--out", str(out)]) == 0
    want = render_module(build_profile("communicator", Overrides()), "azure").files
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == want
    assert "azure-communicator: 17 resources" in capsys.readouterr().out


def test_render_without_out_prints_the_files(capsys):
    assert main(["terraform", "render", "--cloud", "gcp", "--profile", "sbc", "--layers", "rules"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"] == ["rules"] and set(doc["counts"]) == {"google_compute_firewall"}
    assert doc["files"] == render_module(build_profile("sbc", Overrides()), "gcp", ("rules",)).files


def test_layers_and_extra_flows_reach_the_module(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["terraform", "render", "--cloud", "aws", "--profile", "sbc", "--layers", "fqdn-firewall,rules",
            "--extra-flows", str(ROOT / "presets" / "sbc-host.yaml"), "--out", str(out)]
    assert main(argv) == 0
    text = (out / "main.tf.json").read_text(encoding="utf-8")
    assert "aws_nat_gateway" not in text and "aws_security_group" in text and "aws_networkfirewall" in text
    assert "sbc-host" in text  # the preset's customer flows are baked in


@pytest.mark.parametrize("argv,needle", [
    (["--cloud", "aws", "--profile", "sbc", "--layers", "rules,foo"], "--layers"),
    (["--cloud", "aws", "--profile", "sbc", "--layers", ","], "--layers"),
    (["--cloud", "oci", "--profile", "sbc"], "--cloud"),
    (["--cloud", "aws", "--profile", "desk"], "--profile"),
    (["--cloud", "aws"], "--profile"),
    (["--cloud", "aws", "--profile", "sbc", "--out", "FILE"], "--out"),
    (["--cloud", "aws", "--profile", "sbc", "--overrides", "/nonexistent/ov.yaml"], "--overrides"),
    (["--cloud", "aws", "--profile", "sbc", "--extra-flows", "BAD"], "bad.yaml"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("flows: [{id: 1}]\n")
    argv = [str(a_file) if a == "FILE" else str(bad) if a == "BAD" else a for a in argv]
    try:
        code = main(["terraform", "render", *argv])
    except SystemExit as e:  # argparse's own refusals (a bad choice, a missing flag) exit from the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and needle in err, err
    assert not (tmp_path / "out").exists()
