"""``spirit-infra azure render``: layout output, JSON, and constraint errors as one line with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from spirit_infra.azure.priorities import Band, hash_slot
from spirit_infra.cli import main


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_render_text_and_json(capsys):
    code, out, err = _run(["azure", "render", "--profile", "phones"], capsys)
    assert code == 0 and err == ""
    assert "NSG band 1000-2999 (deny slot 2999)" in out
    assert "spirit-deny-internet-out" in out and "widened" in out
    assert "spirit-phone-ztp-app" in out
    code, out, _ = _run(["azure", "render", "--profile", "sbc", "--json", "--no-strict"], capsys)
    data = json.loads(out)
    assert code == 0 and data["nsg"]["strict"] is False
    assert all(r["access"] == "Allow" for r in data["nsg"]["rules"])


def test_band_and_start_options_move_the_band(capsys):
    code, out, _ = _run(["azure", "render", "--profile", "communicator", "--priority-start", "200",
                         "--priority-width", "500", "--json"], capsys)
    prios = [r["priority"] for r in json.loads(out)["nsg"]["rules"]]
    assert code == 0 and all(200 <= p <= 699 for p in prios) and 699 in prios


def _sbc_rule_priority(name_key: str) -> int:
    return hash_slot(name_key, Band(1000, 2000))


@pytest.mark.parametrize("argv,needle", [
    (["--priority-width", "3"], "error: priority band 1000-1002 is too small"),
    (["--extra-rule", f"mine:{_sbc_rule_priority('egress:sbc-sip-udp-out:udp')}:out"],
     "error: priority collision in band 1000-2999 (Outbound): rule spirit-sbc-sip-udp-out-udp gets"),
    (["--extra-rule", "mine:2999"], "strict deny slot"),
    (["--name-prefix", "p" * 70], "is 88 characters; Azure allows 80"),
    (["--priority-start", "4000"], "error: --priority-width: band 4000-5999 ends after 4096"),
    (["--priority-start", "99"], "error: --priority-start: 99 is outside 100-4096"),
    (["--extra-rule", "oops"], "error: --extra-rule: 'oops' is not NAME:PRIORITY[:in|out]"),
    (["--extra-rule", "spirit-sbc-media-in-udp:4000"], "already used by a user-supplied rule"),
    (["--pin", "nope=1500"], "error: --pin: 'nope' is not a rule of this layout"),
])
def test_constraint_errors_exit_2_with_one_line(capsys, argv, needle):
    code, out, err = _run(["azure", "render", "--profile", "sbc", *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert needle in err


def test_pin_settles_a_user_rule_collision(capsys):
    p = _sbc_rule_priority("egress:sbc-sip-udp-out:udp")
    code, out, err = _run(["azure", "render", "--profile", "sbc", "--extra-rule", f"mine:{p}:out",
                           "--pin", f"spirit-sbc-sip-udp-out-udp={p + 1}", "--json"], capsys)
    assert code == 0, err
    got = {r["name"]: r["priority"] for r in json.loads(out)["nsg"]["rules"]}
    assert got["spirit-sbc-sip-udp-out-udp"] == p + 1


def test_subprocess_exit_status():
    proc = subprocess.run([sys.executable, "-m", "spirit_infra", "azure", "render", "--profile", "sbc",
                           "--priority-width", "2"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: priority band 1000-1001 is too small")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_module_imports_no_sdk():
    code = ("import sys, spirit_infra.cli.azure, spirit_infra.azure.rules, spirit_infra.azure.fqdn, "
            "spirit_infra.azure.nat; import spirit_infra.azure; "
            "assert 'pulumi' not in sys.modules and 'pulumi_azure_native' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
