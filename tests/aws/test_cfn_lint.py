"""External check: the CloudFormation twin of everything the program registers on AWS passes cfn-lint.

cfn-lint carries AWS's CloudFormation registry schemas (patterns, enums, lengths, types, required
properties, valid GetAtt attributes); the twin maps each Pulumi input to its CFN property explicitly
(tests/aws/twins.py). Zero errors are expected; every warning is either fixed or listed in ACCEPTED
with the reason it is deliberate.
"""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from .cases import AWS_CASES, mutated, resources_of
from .twins import cfn_template

REGION = "ap-southeast-2"
#: warnings we accept on purpose, with the reason
ACCEPTED = {
    # sites are pinned to zones by name (stable placement: an edit never moves a subnet to another AZ)
    "W3010": "availability zones are pinned on purpose",
}


def _lint(resources: list[dict]) -> list:
    template = cfn_template(resources)
    return lint(json.dumps(template), config=ManualArgs(regions=[REGION]))


def _fmt(m) -> str:
    return f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}"


@pytest.mark.parametrize("case", AWS_CASES)
def test_cfn_twin_passes_cfn_lint(case):
    resources = resources_of(case)
    template = cfn_template(resources)
    aws = [r for r in resources if r["type"].startswith("aws:")]
    folded = sum(1 for r in aws if r["type"].endswith(":ResolverFirewallRule"))
    attached = sum(1 for r in aws if r["type"].endswith(":InternetGateway") and "vpcId" in r["inputs"])
    assert len(template["Resources"]) == len(aws) - folded + attached  # every registered resource has its twin
    found = [m for m in lint(json.dumps(template), config=ManualArgs(regions=[REGION]))
             if m.rule.id not in ACCEPTED]
    assert not found, "\n".join(map(_fmt, found))


BAD = [
    # EC2 refuses "'" in a group description (the defect issue 11 found in the QoS NAT's LAN group)
    ("stack-aws-phones", "spirit-net-lan", ("description",), "the NAT's own ruleset", "E3031",
     "Resources/SpiritNetLan/Properties/GroupDescription"),
    ("stack-aws-sbc", "spirit-sg-1", ("description",), "x" * 256, "E3033",
     "Resources/SpiritSg1/Properties/GroupDescription"),
    ("stack-aws-phones", "spirit-fw-nfw-rules", ("type",), "STATEFULL", "E3030",
     "Resources/SpiritFwNfwRules/Properties/Type"),
    ("stack-aws-phones", "spirit-fw-nfw-policy", ("firewallPolicy", "statefulEngineOptions", "ruleOrder"), "STRICT",
     "E3030", "Resources/SpiritFwNfwPolicy/Properties/FirewallPolicy/StatefulEngineOptions/RuleOrder"),
    ("stack-aws-phones", "spirit-fw-dnsfw-group", ("name",), "n" * 65, "E3033",
     "Resources/SpiritFwDnsfwGroup/Properties/Name"),
    ("stack-aws-phones", "spirit-fw-dnsfw-allow", ("action",), "PERMIT", "E3030",
     "Resources/SpiritFwDnsfwGroup/Properties/FirewallRules/0/Action"),
    ("stack-aws-communicator", "spirit-nat-natgw-a", ("connectivityType",), "internet", "E3030",
     "Resources/SpiritNatNatgwA/Properties/ConnectivityType"),
    ("stack-aws-sbc", "spirit-spirit-ipv4", ("maxEntries",), "ten", "E3012",
     "Resources/SpiritSpiritIpv4/Properties/MaxEntries"),
    # the QoS NAT's live channel: the SSM parameter's tier, the instance role's name (IAM: at most 64)
    ("stack-aws-phones", "spirit-qos-nat-ruleset", ("tier",), "Premium", "E3030",
     "Resources/SpiritQosNatRuleset/Properties/Tier"),
    ("stack-aws-phones", "spirit-qos-nat-role", ("name",), "r" * 65, "E3033",
     "Resources/SpiritQosNatRole/Properties/RoleName"),
    ("stack-aws-phones", "spirit-qos-nat-ssm", ("vpcEndpointType",), "Interfaces", "E3030",
     "Resources/SpiritQosNatSsm/Properties/VpcEndpointType"),
]


@pytest.mark.parametrize("case,resource,path,value,rule,where", BAD, ids=[f"{b[1]}-{b[4]}" for b in BAD])
def test_cfn_lint_bites(case, resource, path, value, rule, where):
    found = [(m.rule.id, "/".join(map(str, m.path))) for m in _lint(mutated(case, resource, path, value))]
    assert (rule, where) in found, found

