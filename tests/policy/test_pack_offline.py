"""``spirit-infra preview --policy-pack policypack``: the pack on the offline preview, one line per violation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from spirit_infra.policy.offline import pack_config, property_dependencies, run_pack

from .corpus import mutations, stacks

pytestmark = pytest.mark.grpc

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policypack"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spirit_infra", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _pack_policies() -> list[tuple[str, str]]:
    from spirit_infra.policy.spec import POLICIES

    return [(p.name, p.level) for p in POLICIES]


def test_clean_stack_passes_the_pack_and_says_what_it_checked():
    r = _cli("preview", "--stack", "gcp-communicator", "--policy-pack", "policypack", "--json")
    assert r.returncode == 0, r.stderr
    assert "mandatory:" not in r.stderr and "advisory:" not in r.stderr
    # one line: passed, the stack, how many resources, every policy at its level
    [line] = r.stderr.splitlines()
    import json

    n = len(json.loads(r.stdout)["resources"])
    policies = _pack_policies()
    m = re.fullmatch(r"policy pack (\S+) (\S+): passed on stack gcp-communicator: (\d+) policies checked "
                     r"(\d+) resources and the stack; violations: none; policies: (.*)", line)
    assert m, line
    assert (int(m.group(3)), int(m.group(4))) == (len(policies), n)
    listed = dict(re.findall(r"(advisory|mandatory|disabled) ([^;]+)", m.group(5)))
    assert {(name, level) for level, names in listed.items() for name in names.split(", ")} == set(policies)


def test_advisory_violation_is_one_line_and_exit_zero(tmp_path):
    text = (ROOT / "stacks" / "Pulumi.aws-communicator.yaml").read_text()
    cfg = tmp_path / "Pulumi.slow-keepalive.yaml"
    cfg.write_text(text.replace("spirit:sipKeepaliveSeconds: 30", "spirit:sipKeepaliveSeconds: 360"))
    r = _cli("preview", "--config", str(cfg), "--policy-pack", "policypack", "--json")
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(("advisory:", "mandatory:"))]
    assert r.returncode == 0, r.stderr
    *violations, summary = r.stderr.strip().splitlines()
    assert lines == violations and len(lines) >= 1
    assert all(ln.startswith("advisory: spirit-managed-nat-keepalive: urn:pulumi:") and "360 s" in ln for ln in lines)
    # an advisory finding does not fail the run, and the last line says so and counts it
    assert re.match(rf"policy pack \S+ \S+: passed on stack slow-keepalive: .*; violations: {len(lines)} advisory;",
                    summary), summary


def test_mandatory_violation_exits_non_zero(capsys):
    from spirit_infra.cli.preview import _policy

    case = next(c for c in mutations.CASES if c.id == "azure-rule-internet")
    result = SimpleNamespace(stack=case.stack, config=stacks.config(case.stack),
                             resources=case.mutate(stacks.good(case.stack)))
    assert _policy(str(PACK), result) == 1
    *err, summary = capsys.readouterr().err.splitlines()
    # 'Internet' is every IPv4 and IPv6 address: one line per family
    assert len(err) == 2 and all(e.startswith("mandatory: spirit-no-open-voice-ingress: urn:pulumi:") for e in err)
    assert re.match(rf"policy pack \S+ \S+: FAILED on stack {case.stack}: .*; violations: 2 mandatory;", summary), summary
    assert "from 0.0.0.0/0 to media ports 16384-32767" in err[0] and "from ::/0" in err[1]


def test_run_pack_returns_single_line_messages():
    case = next(c for c in mutations.CASES if c.id == "aws-rtp-missing")
    result = SimpleNamespace(stack=case.stack, config=stacks.config(case.stack),
                             resources=case.mutate(stacks.good(case.stack)))
    violations = run_pack(PACK, result)
    assert {v.policy_name for v in violations} == {"spirit-egress-covers-profile"}
    assert all("\n" not in v.message and v.message.startswith("profile sbc: egress flow ") for v in violations)


def test_pack_config_only_declared_keys():
    cfg = pack_config(stacks.config("aws-phones"))
    assert cfg["spirit-egress-covers-profile"]["profile"] == "phones"
    assert cfg["spirit-egress-covers-profile"]["ztpVendorsDrop"] == ["root.pnn.obihai.com", "devpf.obitalk.com"]
    assert cfg["spirit-nat-voice-safe"] == {"sipKeepaliveSeconds": 30}
    assert "spirit-sg-quota" not in cfg  # its only key (quota) is not stack config


def test_property_dependencies_from_mock_ids():
    rs = [{"urn": "u:sg", "name": "sg", "type": "t", "inputs": {}},
          {"urn": "u:pl", "name": "pl", "type": "t", "inputs": {}, "id": "pl-123"},
          {"urn": "u:rule", "name": "rule", "type": "t",
           "inputs": {"securityGroupId": "sg-id", "prefixListId": "pl-123", "description": "sg-id is text"}}]
    assert property_dependencies(rs)["u:rule"] == {"securityGroupId": ["u:sg"], "prefixListId": ["u:pl"]}
