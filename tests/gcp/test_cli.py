"""Through the CLI: output, and every bad option exits 2 with one line."""

from __future__ import annotations

import json

import pytest

from spirit_infra.cli import main


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_render_text_and_json(capsys):
    code, out, err = cli(capsys, "gcp", "render", "--profile", "phones")
    assert code == 0 and not err
    assert "vpc_firewall for profile phones: 9 Firewall" in out
    assert "firewall_policy for profile phones: 1 NetworkFirewallPolicy, 1 NetworkFirewallPolicyAssociation, " \
           "9 NetworkFirewallPolicyRule" in out
    assert "phone-ztp: destination widened from" in out
    code, out, _ = cli(capsys, "gcp", "render", "--profile", "sbc", "--json", "--target-tag", "voice",
                       "--priority-base", "2000", "--no-strict", "--name-prefix", "prod", "--kind", "vpc")
    data = json.loads(out)
    rules = [r["inputs"] for r in data["vpc_firewall"]["resources"]]
    assert code == 0 and len(rules) == 7
    assert all(r["targetTags"] == ["voice"] and r["priority"] == 2000 and r["name"].startswith("prod-") for r in rules)


def test_nat_prints_settings_with_reasons(capsys):
    code, out, _ = cli(capsys, "gcp", "nat", "--keepalive", "30", "--expected-calls", "50")
    assert code == 0
    assert "udpIdleTimeoutSec = 300" in out and "minPortsPerVm = 512" in out and "because" in out
    code, out, _ = cli(capsys, "gcp", "nat", "--keepalive", "200", "--json")
    assert json.loads(out)["settings"]["udpIdleTimeoutSec"] == 400


@pytest.mark.parametrize("argv,message", [
    (["render", "--profile", "sbc", "--name-prefix", "Bad_Name"], "error: --name-prefix: 'Bad_Name' is not a valid"),
    (["render", "--profile", "sbc", "--max-ranges", "1"], "error: rule spirit-sbc-audio-out-"),
    (["render", "--profile", "sbc", "--priority-base", "70000"], "error: --priority-base: 70000 is out of range (0-65535)"),
    (["render", "--profile", "sbc", "--target-tag", "Bad Tag"], "error: --target-tag: GCP name 'Bad Tag'"),
    (["nat", "--keepalive", "120", "--udp-idle-timeout", "60"],
     "error: --udp-idle-timeout: the UDP idle timeout (60 s) must be longer than the SIP keepalive (120 s)"),
    (["nat", "--keepalive", "30", "--dynamic-port-allocation"],
     "error: --dynamic-port-allocation: GCP rejects endpoint-independent mapping together with dynamic port"),
    (["nat", "--keepalive", "30", "--no-endpoint-independent-mapping", "--dynamic-port-allocation",
      "--min-ports-per-vm", "100"], "error: --min-ports-per-vm: 100 is not a power of two"),
    (["nat", "--keepalive", "0"], "error: --keepalive: 0 is out of range (5-3600 seconds)"),
    (["nat"], "error: spirit-infra gcp nat: the following arguments are required: --keepalive"),
])
def test_bad_options_exit_2_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) if argv == ["nat"] else _nullcontext() as exc:
        code = main(["gcp", *argv])
    if exc is not None:
        code = exc.value.code
    out, err = capsys.readouterr()
    assert code == 2 and not out
    assert err.startswith(message), err
    assert err.count("\n") == 1


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def test_cli_module_imports_no_sdk():
    import subprocess
    import sys

    code = ("import sys, spirit_infra.cli.gcp, spirit_infra.gcp.rules, spirit_infra.gcp.fqdn, "
            "spirit_infra.gcp.nat; assert 'pulumi' not in sys.modules and 'pulumi_gcp' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
