"""``spirit-infra aws render`` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spirit_infra.cli import main


@pytest.mark.parametrize("profile,rules,resources", [("sbc", 6, 10), ("phones", 8, 13), ("communicator", 7, 10)])
def test_render_json_figures(profile, rules, resources, capsys):
    assert main(["aws", "render", "--profile", profile, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sg = out["security_groups"]
    assert sg["quota"]["rule_resources"] == rules and out["resource_count"] == resources
    assert all(g["counted"][k] <= 60 for g in sg["quota"]["groups"] for k in g["counted"])
    assert {w["dimension"] for w in sg["widened"]} <= {"source_ports", "destination"}


def test_render_table(capsys):
    assert main(["aws", "render", "--profile", "phones", "--no-fqdn-firewall"]) == 0
    out = capsys.readouterr().out
    assert "sg-1: 8 rules; counted egress/ipv4 35/60" in out
    assert "phone-audio,phone-video" in out and "NOT STRICT" in out and "network firewall" not in out


def test_split_and_extra_cidr(capsys):
    assert main(["aws", "render", "--profile", "sbc", "--quota", "5", "--extra-cidr", "198.51.100.0/24"]) == 0
    out = capsys.readouterr().out
    assert "2 security group(s), 18 rule resources" in out and "198.51.100.0/24" in out


@pytest.mark.parametrize("argv,message", [
    (["--quota", "2", "--profile", "phones"], "error: aws: profile phones needs 11 egress ipv4 rules"),
    (["--quota", "0", "--profile", "sbc"], "error: --quota: 0 is out of range (1-1000)"),
    (["--extra-cidr", "10.0.0.1/33", "--profile", "sbc"], "error: --extra-cidr: '10.0.0.1/33' is not a valid CIDR"),
    (["--extra-cidr", "10.0.0.1/24", "--profile", "sbc"], "error: --extra-cidr: '10.0.0.1/24' has host bits set (did you mean 10.0.0.0/24?)"),
    (["--extra-cidr", "0.0.0.0/0", "--profile", "sbc"], "error: --extra-cidr: '0.0.0.0/0' is not a Spirit range"),
    (["--groups-per-interface", "20", "--profile", "sbc"], "error: --groups-per-interface: 20 is out of range (1-16)"),
])
def test_bad_options_exit_2_one_line(argv, message, capsys):
    assert main(["aws", "render", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_subprocess_exit_status():
    p = subprocess.run([sys.executable, "-m", "spirit_infra", "aws", "render", "--profile", "sbc", "--quota", "1"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("error: aws: profile sbc needs") and p.stdout == ""
    assert "minimum quota for 5 groups is 2" in p.stderr and p.stderr.count("\n") == 1


def test_pure_modules_do_not_import_pulumi():
    code = ("import sys, spirit_infra.aws, spirit_infra.cli.aws, spirit_infra.aws.fqdn, spirit_infra.aws.nat, "
            "spirit_infra.cli; spirit_infra.cli.build_parser(); "
            "assert not [m for m in sys.modules if m.startswith('pulumi')], 'pulumi imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
