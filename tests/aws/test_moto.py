"""External check: apply the rendered rules to a local moto server with boto3 and read them back.

What moto enforces (checked here, moto 5): duplicate rules (``InvalidPermission.Duplicate``) and a flat
60 rules per group per direction (``RulesPerSecurityGroupLimitExceeded``), counting a prefix-list rule as
one rule, not as its maximum entries. So the planner's stricter accounting (max entries) is asserted
from the read-back figures, and moto's own limits prove the rendered rules cannot hit AWS errors.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from spirit_infra import Overrides, QuotaError, build_profile, project
from spirit_infra.aws import SG_CAPS, SgOptions, model, read, read_groups
from spirit_infra.aws.rules import TYPE_EGRESS, TYPE_INGRESS, TYPE_PREFIX_LIST, TYPE_SG

from .conftest import client

pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def ec2(moto_url):
    return client(moto_url, "ec2")


def _permission(inputs: dict, ids: dict) -> dict:
    perm = {"IpProtocol": inputs["ipProtocol"]}
    if inputs["ipProtocol"] != "-1":
        perm["FromPort"], perm["ToPort"] = inputs["fromPort"], inputs["toPort"]
    if "prefixListId" in inputs:
        perm["PrefixListIds"] = [{"PrefixListId": ids[inputs["prefixListId"]["$ref"]]}]
    elif "cidrIpv4" in inputs:
        perm["IpRanges"] = [{"CidrIp": inputs["cidrIpv4"]}]
    else:
        perm["Ipv6Ranges"] = [{"CidrIpv6": inputs["cidrIpv6"]}]
    return perm


def apply(ec2, r) -> tuple[str, dict]:
    """Create what the render describes, as Pulumi would: groups without their default egress, lists, rules."""
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ids: dict[str, str] = {}
    for pl in r.prefix_lists:
        i = pl["inputs"]
        ids[pl["name"]] = ec2.create_managed_prefix_list(
            PrefixListName=i["name"], MaxEntries=i["maxEntries"], AddressFamily=i["addressFamily"],
            Entries=[{"Cidr": e["cidr"], "Description": e["description"]} for e in i["entries"]])["PrefixList"]["PrefixListId"]
    for g in r.groups:
        gid = ec2.create_security_group(GroupName=f"{vpc}-{g['name']}", Description="spirit", VpcId=vpc)["GroupId"]
        # Pulumi/Terraform remove the allow-all egress rule AWS adds to a new group
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ids[g["name"]] = gid
    for rule in r.rules:
        i = rule["inputs"]
        call = ec2.authorize_security_group_egress if rule["type"] == TYPE_EGRESS else ec2.authorize_security_group_ingress
        call(GroupId=ids[i["securityGroupId"]["$ref"]], IpPermissions=[_permission(i, ids)])
    return vpc, ids


def read_back(ec2, ids: dict) -> list[dict]:
    """describe_security_group_rules (and the prefix lists) in the reader's input format."""
    out: list[dict] = []
    group_ids = {v: k for k, v in ids.items() if v.startswith("sg-")}
    for gid, name in group_ids.items():
        out.append({"type": TYPE_SG, "name": name, "id": gid, "inputs": {}})
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
        for x in rules:
            inputs = {"securityGroupId": x["GroupId"], "ipProtocol": x["IpProtocol"]}
            if x["IpProtocol"] != "-1":
                inputs["fromPort"], inputs["toPort"] = x["FromPort"], x["ToPort"]
            for key, wire in (("CidrIpv4", "cidrIpv4"), ("CidrIpv6", "cidrIpv6"), ("PrefixListId", "prefixListId")):
                if x.get(key):
                    inputs[wire] = x[key]
            out.append({"type": TYPE_EGRESS if x["IsEgress"] else TYPE_INGRESS, "name": x["SecurityGroupRuleId"],
                        "id": x["SecurityGroupRuleId"], "inputs": inputs})
    for name, plid in ids.items():
        if plid.startswith("pl-"):
            entries = ec2.get_managed_prefix_list_entries(PrefixListId=plid)["Entries"]
            out.append({"type": TYPE_PREFIX_LIST, "name": name, "id": plid,
                        "inputs": {"entries": [{"cidr": e["Cidr"]} for e in entries]}})
    return out


def counted(ec2, resources: list[dict]) -> dict[tuple[str, str], int]:
    """AWS's accounting from the read-back: per group and direction, a prefix list counts its max entries."""
    max_entries = {p["PrefixListId"]: p["MaxEntries"] for p in ec2.describe_managed_prefix_lists()["PrefixLists"]
                   if "MaxEntries" in p}
    out: dict[tuple[str, str], int] = {}
    for x in resources:
        if x["type"] in (TYPE_EGRESS, TYPE_INGRESS):
            k = (x["inputs"]["securityGroupId"], x["type"])
            out[k] = out.get(k, 0) + max_entries.get(x["inputs"].get("prefixListId"), 1)
    return out


CASES = [
    ("phones", {}, {}),
    ("communicator", {}, {}),
    ("sbc", {}, {}),
    ("phones", {"quota": 5}, {}),
    ("sbc", {"quota": 5}, {}),
    ("sbc", {"quota": 25}, {}),
    ("phones", {"strict": False}, {}),
    # 25 extra ranges: 81 raw egress rules, more than moto's (and AWS's) 60 per group: split in two
    ("sbc", {"prefix_list": False}, {"extra_spirit_cidrs": tuple(f"198.18.{2 * i}.0/24" for i in range(25))}),
]


@pytest.mark.parametrize("profile,opts,ov", CASES, ids=lambda v: str(v)[:40])
def test_apply_and_read_back(ec2, profile, opts, ov):
    prof = build_profile(profile, Overrides(**ov))
    options = SgOptions(**opts)
    r = model(prof, options)
    vpc, ids = apply(ec2, r)  # any duplicate or quota error from the API would raise here
    resources = read_back(ec2, ids)
    expected = project(prof.allowed, SG_CAPS).allowed
    got = read(resources)
    if options.strict:
        assert got == expected
    else:
        assert expected <= got and read(list(r.resources)) == got
    # per group, what AWS stored is what we rendered for that group
    rendered = read_groups(list(r.resources))
    assert {g: s for g, s in read_groups(resources).items()} == rendered
    figures = counted(ec2, resources)
    assert max(figures.values()) <= options.quota
    assert len(r.groups) == len(r.quota["groups"]) <= options.groups_per_interface
    stored = sum(1 for x in resources if x["type"] in (TYPE_EGRESS, TYPE_INGRESS))
    assert stored == len(r.rules)


def test_moto_rejects_a_duplicate_rule(ec2):
    """The merge of identical rules matters: AWS (and moto) refuse the same rule twice."""
    r = model(build_profile("phones"))
    vpc, ids = apply(ec2, r)
    media = next(x for x in r.rules if x["inputs"]["tags"]["spirit-flow"] == "phone-audio,phone-video")
    with pytest.raises(ClientError) as e:  # what a per-flow rule for phone-video would have been
        ec2.authorize_security_group_egress(GroupId=ids["sg-1"], IpPermissions=[_permission(media["inputs"], ids)])
    assert e.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"


def test_moto_enforces_a_rule_limit(ec2):
    """Without the split, the 25-extra-range sbc profile would hit the per-group limit."""
    prof = build_profile("sbc", Overrides(extra_spirit_cidrs=tuple(f"198.18.{2 * i}.0/24" for i in range(25))))
    r = model(prof, SgOptions(prefix_list=False))
    assert len(r.groups) == 2
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    gid = ec2.create_security_group(GroupName="one-group", Description="x", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    with pytest.raises(ClientError) as e:
        for x in r.rules:
            if x["type"] == TYPE_EGRESS:
                ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[_permission(x["inputs"], {})])
    assert e.value.response["Error"]["Code"] == "RulesPerSecurityGroupLimitExceeded"


def test_over_quota_is_refused_before_anything_is_applied(ec2):
    before = len(ec2.describe_security_groups()["SecurityGroups"])
    with pytest.raises(QuotaError, match="minimum quota"):
        apply(ec2, model(build_profile("phones"), SgOptions(quota=2)))
    assert len(ec2.describe_security_groups()["SecurityGroups"]) == before
