"""`spirit-infra nat render` through the real CLI entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from spirit_infra import build_profile
from spirit_infra.cli import main
from spirit_infra.nat import NatOptions, render_cloud_init, render_ruleset

BASE = ["nat", "render", "--lan-if", "eth1", "--wan-if", "eth0"]


@pytest.mark.parametrize("profile", ["phones", "communicator", "sbc"])
def test_render_nftables_is_the_pure_render(profile, capsys):
    assert main([*BASE, "--profile", profile]) == 0
    assert capsys.readouterr().out == render_ruleset(build_profile(profile), NatOptions("eth1", "eth0"))


def test_render_cloud_init_with_options(capsys):
    argv = [*BASE, "--profile", "phones", "--format", "cloud-init", "--snat-address", "192.0.2.9", "--no-strict",
            "--sip-keepalive", "200"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    opts = NatOptions("eth1", "eth0", snat_address="192.0.2.9", strict=False, sip_keepalive_seconds=200)
    assert out == render_cloud_init(build_profile("phones"), opts)
    conf = {f["path"]: f["content"] for f in yaml.safe_load(out)["write_files"]}["/etc/nftables.conf"]
    assert "snat to 192.0.2.9" in conf and "policy accept;" in conf and "unreplied : 400" in conf


@pytest.mark.parametrize(("extra", "message"), [
    (["--lan-if", "eth/1"], "error: --lan-if: 'eth/1' is not a Linux interface name"),
    (["--wan-if", "averyveryverylongname"], "error: --wan-if: 'averyveryverylongname' is not a Linux interface name"),
    (["--snat-address", "10.0.0.300"], "error: --snat-address: '10.0.0.300' is not an IPv4 address"),
    (["--sip-keepalive", "0"], "error: --sip-keepalive: 0 is out of range (5-3600 seconds)"),
    (["--sip-keepalive", "9000"], "error: --sip-keepalive: 9000 is out of range (5-3600 seconds)"),
    (["--sip-keepalive", "60", "--udp-timeout", "30"], "error: --udp-timeout: 30 must outlive the SIP keepalive"),
    (["--sip-keepalive", "soon"], "error: spirit-infra nat render: argument --sip-keepalive: invalid int value"),
    (["--format", "yaml"], "error: spirit-infra nat render: argument --format: invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(extra, message, capsys):
    assert _exit(main, [*BASE, "--profile", "sbc", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), captured.err


def test_missing_interface_and_unknown_profile(capsys):
    assert _exit(main, ["nat", "render", "--profile", "sbc", "--lan-if", "eth1"]) == 2
    assert capsys.readouterr().err.strip().endswith("the following arguments are required: --wan-if")
    assert _exit(main, [*BASE, "--profile", "pbx"]) == 2
    assert "invalid choice: 'pbx'" in capsys.readouterr().err


def test_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "spirit_infra", *BASE, "--profile", "sbc", "--lan-if", "bad if"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "error: --lan-if: 'bad if' is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ : + -)\n"


def _exit(fn, argv) -> int:
    try:
        return fn(argv)
    except SystemExit as e:  # argparse errors exit through sys.exit(2)
        return e.code
