"""``suricata -T`` (Suricata 7, as AWS Network Firewall runs) over the Suricata rules we emit.

:func:`check` loads rule files into a real Suricata in test mode with ``--strict-rule-keywords=all``
and a minimal configuration written to a temporary directory (no interface, no network, no system
rule files): the address variables AWS defines, empty classification/reference/threshold files, stats
off. Every ``Error``/``Warning`` line Suricata prints, a non-zero exit, or fewer rules loaded than
given is a finding. :func:`policies` finds, in one case's registrations, each Network Firewall policy
with the rule groups it references, and the variables AWS would give them.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"
FIREWALL = "aws:networkfirewall/firewall:Firewall"
VPC = "aws:ec2/vpc:Vpc"
SID = re.compile(r"(?:^|[;(\s])sid\s*:\s*(\d+)\s*;")


def binary() -> str:
    exe = shutil.which("suricata") or "/usr/bin/suricata"
    if not Path(exe).is_file():
        raise AssertionError("suricata is not installed: `make debs` installs Suricata 7 from bookworm-backports")
    return exe


@functools.cache
def version() -> str:
    out = subprocess.run([binary(), "-V"], capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else out.strip()


def rules_of(text: str) -> list[str]:
    """The rule lines of a rulesString (blank lines and # comments are not rules)."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def sids(text: str) -> list[int]:
    out = []
    for ln in rules_of(text):
        found = SID.findall(ln)
        out.append(int(found[0]) if len(found) == 1 else -1)  # -1: no sid, or several (both wrong)
    return out


def _yaml_list(values: tuple[str, ...]) -> str:
    return '"[' + ",".join(values) + ']"'


@functools.cache
def check(groups: tuple[tuple[str, str], ...], variables: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str, ...]:
    """Findings of ``suricata -T`` over ``groups`` ((name, rulesString) pairs loaded together, as one
    policy) with address ``variables`` ((name, CIDRs) pairs; EXTERNAL_NET defaults to ``!$HOME_NET``).
    Cached: identical policies are run once per session."""
    findings: list[str] = []
    seen: dict[int, str] = {}
    for name, text in groups:
        for sid, line in zip(sids(text), rules_of(text), strict=True):
            if sid < 0:
                findings.append(f"{name}: a rule without exactly one sid: {line}")
            elif sid in seen:
                findings.append(f"{name}: sid {sid} is also used by {seen[sid]} (sids are unique across a policy)")
            else:
                seen[sid] = name
    want = sum(len(rules_of(t)) for _, t in groups)
    with tempfile.TemporaryDirectory(prefix="spirit-suricata-") as d:
        root = Path(d)
        files = []
        for i, (name, text) in enumerate(groups):
            f = root / f"{i:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.rules"
            f.write_text(text, encoding="utf-8")
            files.append(f.name)
        for empty in ("classification.config", "reference.config", "threshold.config"):
            (root / empty).write_text("", encoding="utf-8")
        var = dict(variables)
        var.setdefault("EXTERNAL_NET", ("!$HOME_NET",))
        addr = "".join(f"    {k}: {v[0]!r}\n" if len(v) == 1 and v[0].startswith(("!", "$")) else
                       f"    {k}: {_yaml_list(v)}\n" for k, v in sorted(var.items()))
        (root / "suricata.yaml").write_text(
            "%YAML 1.1\n---\n"
            f"vars:\n  address-groups:\n{addr}  port-groups: {{}}\n"
            f"default-log-dir: {root}\n"
            f"default-rule-path: {root}\n"
            "rule-files:\n" + "".join(f"  - {f}\n" for f in files) +
            f"classification-file: {root / 'classification.config'}\n"
            f"reference-config-file: {root / 'reference.config'}\n"
            f"threshold-file: {root / 'threshold.config'}\n"
            "stats:\n  enabled: no\n"
            "outputs: []\n", encoding="utf-8")
        r = subprocess.run([binary(), "-T", "-c", str(root / "suricata.yaml"), "-l", str(root),
                            "--strict-rule-keywords=all"], capture_output=True, text=True, timeout=120)
    out = (r.stdout + r.stderr).splitlines()
    findings += [ln for ln in out if ln.startswith(("Error", "Warning", "E:", "W:"))]
    m = next((re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", ln) for ln in out
              if "rules successfully loaded" in ln), None)
    if r.returncode != 0:
        findings.append(f"suricata -T exited {r.returncode}")
    if m is None or int(m.group(1)) != want or int(m.group(2)) != 0:
        findings.append(f"suricata loaded {m.group(0) if m else 'nothing'}; {want} rules given")
    return tuple(findings)


@dataclass(frozen=True)
class Policy:
    name: str
    groups: tuple[tuple[str, str], ...]  # (rule group name, rulesString), in the policy's priority order
    variables: tuple[tuple[str, tuple[str, ...]], ...]


def _ip_sets(d: dict | None) -> dict[str, tuple[str, ...]]:
    out = {}
    for k, v in ((d or {}).get("ipSets") or (d or {}).get("ruleVariables") or {}).items():
        defs = v.get("ipSet", v).get("definitions") or v.get("ipSet", v).get("definition") or []
        out[k] = tuple(defs)
    return out


def policies(case) -> list[Policy]:
    """Every firewall policy of a case with the Suricata rule groups it references (rulesString only:
    AWS writes the rules of a domain list itself), plus each unreferenced rule group on its own.

    The mock runtime's ARNs end in ``/<logical name>``, which is how a reference finds its group.
    HOME_NET is what AWS uses when the policy does not override it: the CIDR of the firewall's VPC.
    """
    groups = {r.name: r for r in case.of_type(RULE_GROUP)}
    vpcs = {f"{r.name}-id": r.inputs.get("cidrBlock") for r in case.of_type(VPC)}
    firewalls = case.of_type(FIREWALL)
    used: set[str] = set()
    out = []

    def home(policy_name: str | None) -> tuple[str, ...]:
        for fw in firewalls:
            if policy_name is None or str(fw.inputs.get("firewallPolicyArn", "")).endswith(f"/{policy_name}"):
                cidr = vpcs.get(fw.inputs.get("vpcId"))
                if cidr:
                    return (cidr,)
        return (case.config.network_cidr,)

    for p in case.of_type(POLICY):
        fp = p.inputs.get("firewallPolicy", {})
        refs = sorted(fp.get("statefulRuleGroupReferences", []), key=lambda x: x.get("priority", 0))
        texts = []
        variables = {"HOME_NET": home(p.name), **_ip_sets(fp.get("policyVariables"))}
        for ref in refs:
            name = str(ref["resourceArn"]).rsplit("/", 1)[-1]
            g = groups.get(name)
            assert g is not None, f"{case.id}: {p.name} references {ref['resourceArn']}, which is not registered"
            used.add(name)
            src = g.inputs.get("ruleGroup", {})
            variables.update(_ip_sets(src.get("ruleVariables")))
            text = src.get("rulesSource", {}).get("rulesString") or g.inputs.get("rules")
            if text:
                texts.append((name, text))
        if texts:
            out.append(Policy(p.name, tuple(texts), tuple(sorted(variables.items()))))
    for name, g in sorted(groups.items()):
        src = g.inputs.get("ruleGroup", {})
        text = src.get("rulesSource", {}).get("rulesString") or g.inputs.get("rules")
        if name not in used and text:
            variables = {"HOME_NET": home(None), **_ip_sets(src.get("ruleVariables"))}
            out.append(Policy(f"(unreferenced) {name}", ((name, text),), tuple(sorted(variables.items()))))
    return out
