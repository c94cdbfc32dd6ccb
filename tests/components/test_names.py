"""Uniform component names (issue 14 §3): ``spirit:index:<Name>``, each renamed one aliasing its old type token
so a stack deployed under the old name keeps its resources: the alias URN equals the URN the old name had."""

import json

import pytest

from spirit_infra import testing

#: new name -> (old name, a factory of the component named "c")
RENAMED = {
    "AwsSecurityGroups": "SpiritSecurityGroups", "AwsNetworkFirewall": "SpiritNetworkFirewall",
    "AwsManagedNat": "SpiritManagedNat", "AwsManagementAccess": "SpiritManagementAccess",
    "AzureNsg": "SpiritNsg", "AzureFirewallPolicy": "SpiritFirewallPolicy", "AzureNatGateway": "SpiritNatGateway",
    "AzureNsgManagement": "SpiritNsgManagement", "GcpVpcFirewall": "GcpVpcFirewallRules",
    "GcpCloudNat": "GcpVoiceNat",
}


def _make(new: str):
    from spirit_infra.aws import components as aws
    from spirit_infra.azure import components as az
    from spirit_infra.gcp import components as gcp

    return {
        "AwsSecurityGroups": lambda: aws.AwsSecurityGroups("c", aws.AwsSecurityGroupsArgs(vpc_id="vpc-1")),
        "AwsNetworkFirewall": lambda: aws.AwsNetworkFirewall("c", aws.AwsNetworkFirewallArgs()),
        "AwsManagedNat": lambda: aws.AwsManagedNat("c", aws.AwsManagedNatArgs(public_subnets={"a": "s"})),
        "AwsManagementAccess": lambda: aws.AwsManagementAccess("c", aws.AwsManagementAccessArgs(
            vpc_id="vpc-1", management_cidrs=["198.51.100.0/24"])),
        "AzureNsg": lambda: az.AzureNsg("c", az.AzureNsgArgs("sbc", "rg")),
        "AzureFirewallPolicy": lambda: az.AzureFirewallPolicy("c", az.AzureFirewallPolicyArgs("sbc", "rg")),
        "AzureNatGateway": lambda: az.AzureNatGateway("c", az.AzureNatGatewayArgs("rg")),
        "AzureNsgManagement": lambda: az.AzureNsgManagement("c", az.AzureNsgManagementArgs(
            "rg", "nsg", management_cidrs=["198.51.100.0/24"])),
        "GcpVpcFirewall": lambda: gcp.GcpVpcFirewall("c", gcp.GcpVpcFirewallArgs(network="net")),
        "GcpCloudNat": lambda: gcp.GcpCloudNat("c", gcp.GcpCloudNatArgs(network="net")),
    }[new]


def _alias_urn(res, spec: dict, by_urn: dict) -> str:
    """The URN an alias spec names: Pulumi's URN rule (``urn:pulumi:<stack>::<project>::<parent types$>type::name``),
    with the resource's own parent when the spec names none."""
    parent = spec.get("parentUrn") or res.parent
    stack, project = res.urn.split("::")[0].split(":")[2], res.urn.split("::")[1]
    qualified = spec.get("type", res.type)
    if parent and by_urn.get(parent) is not None and by_urn[parent].type != "pulumi:pulumi:Stack":
        qualified = parent.split("::")[2] + "$" + qualified
    return f"urn:pulumi:{stack}::{project}::{qualified}::{spec.get('name', res.name)}"


@pytest.mark.parametrize("new", sorted(RENAMED))
def test_renamed_component_aliases_its_old_urn(new):
    rec = testing.run(_make(new))
    comp = rec.get("c")
    assert comp.type == f"spirit:index:{new}"
    assert comp.urn == f"urn:pulumi:test::spirit-infra::spirit:index:{new}::c"
    specs = [json.loads(a)["spec"] for a in comp.options.get("aliases", [])]
    by_urn = {r.urn: r for r in rec.resources}
    urns = [_alias_urn(comp, s, by_urn) for s in specs]
    # the URN the component had under its old name (as the goldens before the rename recorded it)
    assert urns == [f"urn:pulumi:test::spirit-infra::spirit:index:{RENAMED[new]}::c"]


def test_unrenamed_components_keep_their_tokens_and_need_no_alias():
    from spirit_infra.gcp import components as gcp

    rec = testing.run(lambda: gcp.GcpFirewallPolicy("c", gcp.GcpFirewallPolicyArgs(network="net")))
    assert rec.get("c").type == "spirit:index:GcpFirewallPolicy" and "aliases" not in rec.get("c").options


def test_old_class_names_stay_importable_as_the_same_classes():
    from spirit_infra.aws.components import (
        AwsManagedNat,
        AwsSecurityGroups,
        SpiritManagedNat,
        SpiritSecurityGroups,
        SpiritSecurityGroupsArgs,
    )
    from spirit_infra.azure.components import AzureNatGateway, AzureNsg, NsgArgs, SpiritNatGateway, SpiritNsg
    from spirit_infra.gcp import GcpVoiceNat, GcpVpcFirewallRules, VpcFirewallArgs
    from spirit_infra.gcp.components import GcpCloudNat, GcpVpcFirewall, GcpVpcFirewallArgs

    assert SpiritSecurityGroups is AwsSecurityGroups and SpiritManagedNat is AwsManagedNat
    assert SpiritNsg is AzureNsg and SpiritNatGateway is AzureNatGateway and NsgArgs.__name__ == "AzureNsgArgs"
    assert GcpVpcFirewallRules is GcpVpcFirewall and GcpVoiceNat is GcpCloudNat and VpcFirewallArgs is GcpVpcFirewallArgs
    assert SpiritSecurityGroupsArgs.__name__ == "AwsSecurityGroupsArgs"
