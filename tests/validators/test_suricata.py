"""Every Network Firewall Suricata rule we register passes Suricata 7's own parser (``suricata -T``, strict
rule keywords), with the variables AWS defines, and sids are unique across each policy."""

from __future__ import annotations

import pytest

from . import matrix, suricata

# the cases that register an AWS Network Firewall (selected from the validated config, not run yet)
NFW_CASES = [c for c in matrix.case_ids() if matrix.config(c).cloud == "aws" and matrix.config(c).fqdn_firewall]
HOME = (("HOME_NET", ("10.42.0.0/16",)),)
GOOD = 'pass tcp $HOME_NET any -> 203.0.113.0/24 443 (msg:"ok"; sid:1000001; rev:1;)\n'


def test_suricata_is_version_7():
    assert suricata.version().split(".")[0] == "7", suricata.version()


def test_the_matrix_has_network_firewall_cases():
    assert len(NFW_CASES) >= 12 and "stack-aws-phones" in NFW_CASES


@pytest.mark.parametrize("case_id", NFW_CASES)
def test_every_rules_string_passes_suricata(case_id):
    case = matrix.case(case_id)
    pols = suricata.policies(case)
    assert pols, f"{case_id}: fqdn-firewall on AWS registers a Suricata rule group"
    for p in pols:
        assert dict(p.variables)["HOME_NET"] == (case.config.network_cidr,)
        assert sum(len(suricata.rules_of(t)) for _, t in p.groups) > 0
        findings = suricata.check(p.groups, p.variables)
        assert findings == (), f"{case_id}: {p.name}:\n" + "\n".join(findings)


def test_a_good_rule_passes():
    assert suricata.check((("g", GOOD),), HOME) == ()


@pytest.mark.parametrize("bad,expect", [
    # an unknown keyword (a typo of http.host)
    ('pass http $HOME_NET any -> $EXTERNAL_NET 80 (http.hots; content:"x"; msg:"m"; sid:1000002; rev:1;)',
     "unknown rule keyword"),
    # strict rule keywords: an unknown classtype is only a warning (exit 0) without --strict-rule-keywords
    ('pass tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"m"; classtype:no-such-class; sid:1000003; rev:1;)',
     "Error: detect-classtype"),
    # a variable AWS does not define
    ('pass tcp $HOME_NET any -> $SPIRIT_NET 80 (msg:"m"; sid:1000004; rev:1;)', "SPIRIT_NET"),
    # a malformed port range
    ('pass tcp $HOME_NET 70000 -> $EXTERNAL_NET 80 (msg:"m"; sid:1000005; rev:1;)', "rules failed"),
])
def test_a_bad_rule_fails(bad, expect):
    findings = suricata.check((("g", GOOD + bad + "\n"),), HOME)
    assert findings and any(expect in f for f in findings), findings


def test_a_sid_used_twice_in_one_policy_fails():
    twice = GOOD.replace("443", "80")  # another rule, the same sid
    findings = suricata.check((("a", GOOD), ("b", twice)), HOME)
    assert any("sid 1000001 is also used by a" in f for f in findings), findings
    # Suricata itself refuses the duplicate too, when the groups load together
    assert any("Duplicate signature" in f for f in findings), findings


def test_a_rule_without_a_sid_fails():
    findings = suricata.check((("g", 'pass tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"m"; rev:1;)\n'),), HOME)
    assert any("without exactly one sid" in f for f in findings), findings
