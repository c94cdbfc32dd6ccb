"""Issue 12 section 5: physical names derive from the stack's and the component's names, within each
cloud's limits, and the recording double refuses two resources with one physical name in one scope."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_aws as aws
import pytest

from spirit_infra import testing
from spirit_infra.aws.components import (
    AwsNetworkFirewall,
    AwsNetworkFirewallArgs,
    AwsSecurityGroups,
    AwsSecurityGroupsArgs,
)
from spirit_infra.azure.components import AzureNsg, AzureNsgArgs
from spirit_infra.gcp.common import NAME_RE
from spirit_infra.gcp.components import (
    GcpCloudNat,
    GcpCloudNatArgs,
    GcpFirewallPolicy,
    GcpFirewallPolicyArgs,
    GcpVpcFirewall,
    GcpVpcFirewallArgs,
)
from spirit_infra.naming import fit, join, physical_prefix
from spirit_infra.preview import load_stack, preview_stack, stack_names

ROOT = Path(__file__).resolve().parents[1]


def _gcp(component: str, profile: str = "sbc", **kw):
    GcpVpcFirewall(f"{component}-fw", GcpVpcFirewallArgs(network="voice-vpc", profile=profile, **kw))
    GcpFirewallPolicy(f"{component}-pol", GcpFirewallPolicyArgs(network="voice-vpc", profile=profile, **kw))
    GcpCloudNat(f"{component}-nat", GcpCloudNatArgs(network="voice-vpc", region="australia-southeast1", **kw))


def _aws(component: str, profile: str = "phones"):
    AwsSecurityGroups(component, AwsSecurityGroupsArgs(vpc_id="vpc-1", profile=profile))
    AwsNetworkFirewall(f"{component}-fw", AwsNetworkFirewallArgs(profile=profile, vpc_id="vpc-1",
                                                                       subnet_ids=("subnet-a",), dns_firewall=True))


def _named(rec):
    return {r.inputs["name"] for r in rec.resources if r.custom and isinstance(r.inputs.get("name"), str)}


def test_two_components_of_one_profile_side_by_side_do_not_collide():
    rec = testing.run(lambda: (_gcp("edge"), _gcp("lab"), _aws("edge"), _aws("lab")), stack="prod")
    assert not rec.errors
    gcp_names = {n for (scope, _, n) in rec.physical_names if scope.startswith("gcp")}
    # the router, the NAT address, the policy and every firewall rule: once per component, none shared
    assert {"prod-edge-nat-nat-router", "prod-lab-nat-nat-router", "prod-edge-nat-nat-ip-0",
            "prod-edge-pol-sbc", "prod-lab-pol-sbc"} <= gcp_names
    assert len(gcp_names) == len([k for k in rec.physical_names if k[0].startswith("gcp")])
    names = _named(rec)
    assert "prod-edge-fw-phones" in names and "prod-lab-fw-phones" in names  # DNS Firewall rule groups


@pytest.mark.parametrize("stack", [s for s in stack_names(ROOT) if not s.startswith("azure")])
def test_two_stacks_of_the_example_program_share_no_physical_name(stack):
    """The real program, previewed as two stacks with the same config (say prod and staging in one GCP
    project, one AWS account and region): no name meets. (The Azure program names nothing in the
    resource group itself: the NSG, policy and NAT are auto-named, their children live inside them.)"""
    name, cfg, merged = load_stack(ROOT, stack)
    a = preview_stack(ROOT, f"{name}-a", cfg, merged)
    b = preview_stack(ROOT, f"{name}-b", cfg, merged)

    def names(res):
        return {(r["type"], r["inputs"]["name"]) for r in res.resources
                if isinstance(r["inputs"].get("name"), str) and r["type"].split(":")[0] in ("gcp", "aws")}

    assert not names(a) & names(b)
    if stack.startswith("gcp"):  # every GCP rule, policy, router and address is explicitly named
        assert len(names(a)) >= 5 and len(names(a)) == len(names(b))


def test_the_double_refuses_one_physical_name_twice_in_one_scope():
    # GCP: two components told to use the same prefix (the pre-issue-12 default was "spirit" for all)
    with pytest.raises(testing.EngineError, match="physical name collision: gcp:compute/router:Router "
                                                  "'spirit-nat-router' in gcp project mock-project"):
        testing.run(lambda: (_gcp("edge", name_prefix="spirit"), _gcp("lab", name_prefix="spirit")))
    # GCP: the same name in two projects is fine
    rec = testing.run(lambda: (_gcp("edge"), _gcp("edge-2")))
    assert not rec.errors
    # Azure: two NSGs named alike in one resource group; fine in two groups
    with pytest.raises(testing.EngineError, match="NetworkSecurityGroup 'voice' in azure resourceGroupName rg-1"):
        testing.run(lambda: (AzureNsg("a", AzureNsgArgs(profile="sbc", resource_group_name="rg-1", nsg_name="voice")),
                             AzureNsg("b", AzureNsgArgs(profile="sbc", resource_group_name="rg-1", nsg_name="voice"))))
    rec = testing.run(lambda: (AzureNsg("a", AzureNsgArgs(profile="sbc", resource_group_name="rg-1", nsg_name="voice")),
                               AzureNsg("b", AzureNsgArgs(profile="sbc", resource_group_name="rg-2", nsg_name="voice"))))
    assert not rec.errors
    # AWS: two Network Firewall policies with one name in one account and region
    policy = {"stateless_default_actions": ["aws:forward_to_sfe"],
              "stateless_fragment_default_actions": ["aws:forward_to_sfe"]}
    with pytest.raises(testing.EngineError, match="firewallPolicy:FirewallPolicy 'voice' in aws account "
                                                  "123456789012 region us-east-1"):
        testing.run(lambda: [aws.networkfirewall.FirewallPolicy(n, name="voice", firewall_policy=policy)
                             for n in ("a", "b")])
    # auto-named resources (no explicit name) never collide
    rec = testing.run(lambda: [aws.networkfirewall.FirewallPolicy(n, firewall_policy=policy) for n in ("a", "b")])
    assert not rec.errors and not rec.physical_names


def test_names_fit_each_cloud_for_long_stack_and_component_names():
    stack, comp = "customer-production-australia-southeast1-blue", "spirit-voice-firewall-for-the-sbc-fleet"
    prefix = physical_prefix(stack, comp)
    assert len(prefix) <= 30 and NAME_RE.match(prefix)
    assert physical_prefix(stack, comp + "-2") != prefix  # the hash of the whole keeps them apart
    rec = testing.run(lambda: (_gcp(comp, profile="communicator"), _aws(comp, profile="communicator")), stack=stack)
    assert not rec.errors
    for r in rec.resources:
        n = r.inputs.get("name") if r.custom else None
        if isinstance(n, str) and r.type.startswith("gcp:"):
            assert len(n) <= 63 and NAME_RE.match(n), n
        if isinstance(n, str) and r.type.startswith("aws:"):
            assert len(n) <= 64 and NAME_RE.match(n), n


def test_naming_helpers():
    assert fit("Prod_Stack.1") == "prod-stack-1"
    assert fit("1abc") == "s-1abc"
    assert len(fit("a" * 100)) == 63 and fit("a" * 100) != fit("a" * 101)
    assert physical_prefix("spirit", "spirit-fw") == "spirit-fw"  # no stutter
    assert physical_prefix("", "edge") == "edge"
    assert join("test-spirit", "spirit-ipv4") == "test-spirit-ipv4"
    assert join("fw", "sbc-names") == "fw-sbc-names"


def _qos(name: str, **kw):
    from spirit_infra.aws.qos_nat import AwsQosNat, AwsQosNatArgs

    return AwsQosNat(name, AwsQosNatArgs(profile="phones", subnet_id="subnet-1", region="ap-southeast-2",
                                         route_tables={"hub": "rtb-1"}, **kw))


def test_the_qos_nat_live_channel_names_derive_from_stack_and_component_and_never_collide():
    rec = testing.run(lambda: (_qos("edge"), _qos("lab")), stack="prod")
    assert not rec.errors
    named = {(t, n) for (_scope, t, n) in rec.physical_names}
    assert {("aws:ssm/parameter:Parameter", "/spirit-infra/prod-edge/ruleset"),
            ("aws:ssm/parameter:Parameter", "/spirit-infra/prod-lab/ruleset"),
            ("aws:iam/role:Role", "prod-edge-ap-southeast-2-nat"),
            ("aws:iam/instanceProfile:InstanceProfile", "prod-lab-ap-southeast-2-nat")} <= named
    # IAM is account-wide: the double checks it without a region; a name given twice is refused
    scopes = {s for (s, t, _n) in rec.physical_names if t == "aws:iam/role:Role"}
    assert scopes == {"aws account 123456789012"}
    with pytest.raises(testing.EngineError, match="physical name collision: aws:ssm/parameter:Parameter "
                                                  "'/spirit-infra/shared' in aws account 123456789012 region"):
        testing.run(lambda: (_qos("a", parameter_name="/spirit-infra/shared"),
                             _qos("b", parameter_name="/spirit-infra/shared")))
    # long stack and component names still fit IAM's 64 characters and SSM's character set
    stack, comp = "customer-production-australia-southeast1-blue", "spirit-voice-qos-nat-for-the-phone-fleet"
    rec = testing.run(lambda: _qos(comp), stack=stack)
    assert not rec.errors
    for (_s, t, n) in rec.physical_names:
        if t.startswith("aws:iam/"):
            assert len(n) <= 64 and re.match(r"^[\w+=,.@-]+$", n), n
        if t == "aws:ssm/parameter:Parameter":
            assert re.match(r"^(/[A-Za-z0-9_.-]+)+$", n) and len(n) <= 1011, n
