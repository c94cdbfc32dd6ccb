"""Twins of what the program registers on AWS, for validators we did not write.

Each recorded Pulumi resource (``spirit_infra.testing`` recording, as the offline preview returns it) is
written out twice, field for field, with an explicit mapping per type (an input this module does not
map raises :class:`Unmapped`, so a new field can never slip past the validators unchecked):

- :func:`cfn_template`: its CloudFormation twin (what ``cfn-lint`` checks against AWS's registry schemas).
  References between resources become ``Ref``/``Fn::GetAtt``.
- :func:`api_calls`: the AWS API calls that create it, as the Pulumi AWS provider makes them (what the
  botocore service-model walk checks, and what the moto test applies). References are resolved by a
  caller-supplied function, so moto gets the ids it returned and the model walk gets well-formed ids.

Where the two worlds differ, the twin says so next to the mapping:

- ``aws:ec2/internetGateway`` with a ``vpcId`` is a gateway plus an attachment (CFN
  ``AWS::EC2::VPCGatewayAttachment``; API ``AttachInternetGateway``).
- ``aws:route53/resolverFirewallRule`` has no CloudFormation resource: CFN carries the rules inline in
  ``AWS::Route53Resolver::FirewallRuleGroup.FirewallRules``, so the twin folds them into their group.
- Pulumi names resources that have no ``name`` input itself (``<logical name>-<7 hex>``); the twin does
  the same, deterministically.
- ``revokeRulesOnDelete`` and ``userDataReplaceOnChange`` are provider behaviour with no API or CFN field.
- An instance's ``ami`` of ``resolve:ssm:<parameter>`` (resolved by EC2's RunInstances) is CFN's dynamic
  reference ``{{resolve:ssm:<parameter>}}``.
- The instance's primary network interface has no CFN attribute: a route to it carries the id literally
  (the recording's ``eni-`` placeholder, a well-formed ENI id).
- The firewall endpoint (``vpcEndpointId`` unknown at preview) is the Network Firewall's endpoint: CFN
  ``Fn::GetAtt [Firewall, EndpointIds]`` (``az:vpce-id``, the documented split idiom).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spirit_infra.testing import COMPUTED, default_outputs

__all__ = ["Unmapped", "Call", "Later", "References", "cfn_template", "api_calls", "materialize", "physical_name",
           "topological"]


class Unmapped(AssertionError):
    """A recorded input (or type) the twin has no mapping for."""


# ---- references between recorded resources -----------------------------------------------------------

@dataclass
class References:
    """Which recorded resource (and attribute) a placeholder value stands for.

    The mock runtime gives every custom resource the id ``f"{name}-id"`` and deterministic outputs
    (:func:`spirit_infra.testing.default_outputs`: ``arn``, ``allocationId``, ``primaryNetworkInterfaceId``),
    so a value equal to one of them is a reference to that resource.
    """

    resources: list[dict]
    by_value: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {r["name"]: r for r in self.resources}
        # IAM resources refer to each other by name: the physical one where the program names them
        # (the input that refers: role / iamInstanceProfile, the physical name) -> the logical name
        kinds = {"aws:iam/role:Role": "role", "aws:iam/instanceProfile:InstanceProfile": "iamInstanceProfile"}
        self.iam = {(kinds[r["type"]], r["inputs"]["name"]): r["name"] for r in self.resources
                    if r["type"] in kinds and isinstance(r["inputs"].get("name"), str)}
        for r in self.resources:
            if not r["type"].startswith("aws:"):
                continue
            self.by_value[f"{r['name']}-id"] = (r["name"], "id")
            outs = default_outputs(r["type"], r["name"], r["inputs"])
            for attr in ("allocationId", "primaryNetworkInterfaceId"):
                if attr in outs:
                    self.by_value[outs[attr]] = (r["name"], attr)
        self._arn = re.compile(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]+:123456789012:[a-z0-9]+/(.+)$")

    def target(self, value: Any) -> tuple[str, str] | None:
        """``(name, attr)`` when ``value`` is another recorded resource's output, else ``None``."""
        if not isinstance(value, str):
            return None
        if value in self.by_value:
            return self.by_value[value]
        m = self._arn.match(value)
        if m and m.group(1) in self.by_name:
            return (m.group(1), "arn")
        return None

    def firewall(self) -> str:
        """The one Network Firewall of the stack (whose endpoint a ``<computed>`` vpcEndpointId is)."""
        fws = [r["name"] for r in self.resources if r["type"] == "aws:networkfirewall/firewall:Firewall"]
        if len(fws) != 1:
            raise Unmapped(f"a computed vpcEndpointId needs exactly one Network Firewall, found {fws}")
        return fws[0]

    def deps(self, r: dict) -> set[str]:
        out: set[str] = set()

        def walk(v: Any, key: str = "") -> None:
            if isinstance(v, dict):
                for k, x in v.items():
                    walk(x, k)
            elif isinstance(v, list):
                for x in v:
                    walk(x, key)
            else:
                t = self.target(v)
                if t:
                    out.add(t[0])
                elif v == COMPUTED and key == "vpcEndpointId":
                    out.add(self.firewall())
                elif key in ("role", "iamInstanceProfile") and v in self.by_name:  # IAM: by name
                    out.add(v)
                elif (key, v) in self.iam:  # IAM: by its physical name
                    out.add(self.iam[(key, v)])
        walk(r["inputs"])
        return out


def topological(refs: References) -> list[dict]:
    """The AWS resources in dependency order (referenced ones first; ties broken by name)."""
    aws = {r["name"]: r for r in refs.resources if r["type"].startswith("aws:")}
    deps = {n: refs.deps(r) & aws.keys() for n, r in aws.items()}
    # a resolver firewall rule group's CFN twin carries its rules: the rules come after the group anyway
    out: list[dict] = []
    done: set[str] = set()
    while len(done) < len(aws):
        ready = sorted(n for n in aws if n not in done and deps[n] <= done)
        if not ready:
            raise Unmapped(f"reference cycle among {sorted(set(aws) - done)}")
        for n in ready:
            out.append(aws[n])
            done.add(n)
    return out


def physical_name(r: dict) -> str:
    """The AWS name: the ``name`` input, else Pulumi's auto-name ``<logical>-<7 hex>`` (deterministic here)."""
    if r["inputs"].get("name"):
        return r["inputs"]["name"]
    return f"{r['name']}-{hashlib.sha256(r['name'].encode()).hexdigest()[:7]}"


# ---- explicit nested mappings (Pulumi camelCase -> AWS PascalCase, identical in CFN and the APIs) ----

#: a nested mapping: pulumi key -> AWS key, or (AWS key, nested mapping) for objects / lists of objects
_RULE_GROUP = {
    "rulesSource": ("RulesSource", {
        "rulesString": "RulesString",
        "rulesSourceList": ("RulesSourceList", {"generatedRulesType": "GeneratedRulesType",
                                                "targetTypes": "TargetTypes", "targets": "Targets"}),
    }),
    "statefulRuleOptions": ("StatefulRuleOptions", {"ruleOrder": "RuleOrder"}),
}
_FIREWALL_POLICY = {
    "statelessDefaultActions": "StatelessDefaultActions",
    "statelessFragmentDefaultActions": "StatelessFragmentDefaultActions",
    "statefulDefaultActions": "StatefulDefaultActions",
    "statefulEngineOptions": ("StatefulEngineOptions", {"ruleOrder": "RuleOrder"}),
    "statefulRuleGroupReferences": ("StatefulRuleGroupReferences", {"resourceArn": "ResourceArn",
                                                                    "priority": "Priority"}),
}
_METADATA = {"httpTokens": "HttpTokens", "httpEndpoint": "HttpEndpoint"}
_ENTRY = {"cidr": "Cidr", "description": "Description"}


def _nested(value: Any, mapping: Mapping[str, Any], where: str, ref: Callable[[Any, str], Any]) -> Any:
    if isinstance(value, list):
        return [_nested(v, mapping, where, ref) for v in value]
    if not isinstance(value, dict):
        raise Unmapped(f"{where}: expected an object, got {value!r}")
    out = {}
    for k, v in value.items():
        if k not in mapping:
            raise Unmapped(f"{where}.{k}: no mapping")
        m = mapping[k]
        if isinstance(m, tuple):
            out[m[0]] = _nested(v, m[1], f"{where}.{k}", ref)
        else:
            out[m] = ref(v, k)
    return out


def _tags(tags: Mapping[str, str] | None) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]


def _take(r: dict, known: set[str]) -> dict:
    extra = set(r["inputs"]) - known
    if extra:
        raise Unmapped(f"{r['type']} {r['name']}: inputs {sorted(extra)} have no mapping")
    return r["inputs"]


# ---- CloudFormation twin ------------------------------------------------------------------------------

def logical_id(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", name) if p)


#: how a reference to (type, attr) is written in CloudFormation
_CFN_ATTR = {
    ("aws:ec2/vpc:Vpc", "id"): "ref",
    ("aws:ec2/subnet:Subnet", "id"): "ref",
    ("aws:ec2/routeTable:RouteTable", "id"): "ref",
    ("aws:ec2/internetGateway:InternetGateway", "id"): "ref",
    ("aws:ec2/natGateway:NatGateway", "id"): "ref",
    ("aws:ec2/instance:Instance", "id"): "ref",
    ("aws:ec2/eip:Eip", "allocationId"): "AllocationId",
    ("aws:ec2/securityGroup:SecurityGroup", "id"): "GroupId",
    ("aws:ec2/managedPrefixList:ManagedPrefixList", "id"): "PrefixListId",
    ("aws:networkfirewall/ruleGroup:RuleGroup", "arn"): "RuleGroupArn",
    ("aws:networkfirewall/firewallPolicy:FirewallPolicy", "arn"): "FirewallPolicyArn",
    ("aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList", "id"): "Id",
    ("aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup", "id"): "Id",
    ("aws:iam/role:Role", "id"): "ref",  # Ref of AWS::IAM::Role is its name, which is its Pulumi id
    ("aws:iam/role:Role", "name"): "ref",
    ("aws:iam/instanceProfile:InstanceProfile", "name"): "ref",
    ("aws:ssm/parameter:Parameter", "arn"): "ref",
}


def _cfn_ref(refs: References) -> Callable[[Any, str], Any]:
    def ref(value: Any, key: str) -> Any:
        t = refs.target(value)
        if t is None:
            if value == COMPUTED:
                if key != "vpcEndpointId":
                    raise Unmapped(f"{key}: computed value with no twin")
                eps = {"Fn::GetAtt": [logical_id(refs.firewall()), "EndpointIds"]}
                return {"Fn::Select": [1, {"Fn::Split": [":", {"Fn::Select": [0, eps]}]}]}
            return value
        name, attr = t
        typ = refs.by_name[name]["type"]
        if typ == "aws:ec2/instance:Instance" and attr == "primaryNetworkInterfaceId":
            return value  # no CFN attribute (see the module doc)
        how = _CFN_ATTR.get((typ, attr))
        if how is None:
            raise Unmapped(f"{key}: reference to {typ}.{attr} has no CFN twin")
        return {"Ref": logical_id(name)} if how == "ref" else {"Fn::GetAtt": [logical_id(name), how]}
    return ref


def _props(r: dict, ref, mapping: Mapping[str, Any], skip: set[str] = frozenset()) -> dict:
    """Flat inputs by an explicit pulumi -> CFN key map (a tuple value maps a nested object)."""
    i = _take(r, set(mapping) | set(skip))
    out = {}
    for k, v in i.items():
        if k in skip:
            continue
        m = mapping[k]
        if k == "tags":
            out["Tags"] = _tags(v)
        elif isinstance(m, tuple):
            out[m[0]] = _nested(v, m[1], f"{r['name']}.{k}", ref)
        else:
            out[m] = ref(v, k)
    return out


def _cfn_rule(r: dict, ref, prefix_key: str, group_key: str) -> dict:
    # vpc.SecurityGroup{Ingress,Egress}Rule -> AWS::EC2::SecurityGroup{Ingress,Egress} (no Tags in CFN:
    # the rule tags are checked by the botocore walk of the API call instead)
    return _props(r, ref, {"securityGroupId": "GroupId", "ipProtocol": "IpProtocol", "fromPort": "FromPort",
                           "toPort": "ToPort", "cidrIpv4": "CidrIp", "cidrIpv6": "CidrIpv6",
                           "prefixListId": prefix_key, "referencedSecurityGroupId": group_key,
                           "description": "Description"}, skip={"tags"})


def _cfn(r: dict, ref, refs: References) -> list[tuple[str, str, dict]]:
    t, lid = r["type"], logical_id(r["name"])
    i = r["inputs"]
    if t == "aws:ec2/vpc:Vpc":
        return [(lid, "AWS::EC2::VPC", _props(r, ref, {"cidrBlock": "CidrBlock", "enableDnsSupport": "EnableDnsSupport",
                                                          "enableDnsHostnames": "EnableDnsHostnames", "tags": "Tags"}))]
    if t == "aws:ec2/internetGateway:InternetGateway":
        p = _props(r, ref, {"tags": "Tags"}, skip={"vpcId"})
        out = [(lid, "AWS::EC2::InternetGateway", p)]
        if "vpcId" in i:
            out.append((lid + "Attachment", "AWS::EC2::VPCGatewayAttachment",
                        {"VpcId": ref(i["vpcId"], "vpcId"), "InternetGatewayId": {"Ref": lid}}))
        return out
    if t == "aws:ec2/subnet:Subnet":
        return [(lid, "AWS::EC2::Subnet", _props(r, ref, {
            "vpcId": "VpcId", "cidrBlock": "CidrBlock", "availabilityZone": "AvailabilityZone",
            "mapPublicIpOnLaunch": "MapPublicIpOnLaunch", "tags": "Tags"}))]
    if t == "aws:ec2/routeTable:RouteTable":
        return [(lid, "AWS::EC2::RouteTable", _props(r, ref, {"vpcId": "VpcId", "tags": "Tags"}))]
    if t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
        return [(lid, "AWS::EC2::SubnetRouteTableAssociation",
                 _props(r, ref, {"subnetId": "SubnetId", "routeTableId": "RouteTableId"}))]
    if t == "aws:ec2/route:Route":
        return [(lid, "AWS::EC2::Route", _props(r, ref, {
            "routeTableId": "RouteTableId", "destinationCidrBlock": "DestinationCidrBlock",
            "gatewayId": "GatewayId", "natGatewayId": "NatGatewayId", "networkInterfaceId": "NetworkInterfaceId",
            "vpcEndpointId": "VpcEndpointId"}))]
    if t == "aws:ec2/eip:Eip":
        return [(lid, "AWS::EC2::EIP", _props(r, ref, {"domain": "Domain", "instance": "InstanceId", "tags": "Tags"}))]
    if t == "aws:ec2/natGateway:NatGateway":
        return [(lid, "AWS::EC2::NatGateway", _props(r, ref, {
            "allocationId": "AllocationId", "subnetId": "SubnetId", "connectivityType": "ConnectivityType",
            "tags": "Tags"}))]
    if t == "aws:ec2/instance:Instance":
        p = _props(r, ref, {"ami": "ImageId", "instanceType": "InstanceType", "subnetId": "SubnetId",
                            "vpcSecurityGroupIds": "SecurityGroupIds", "sourceDestCheck": "SourceDestCheck",
                            "userDataBase64": "UserData", "metadataOptions": ("MetadataOptions", _METADATA),
                            "iamInstanceProfile": "IamInstanceProfile", "tags": "Tags"},
                   skip={"userDataReplaceOnChange"})
        if p["ImageId"].startswith("resolve:ssm:"):
            # EC2 resolves ``resolve:ssm:<parameter>`` in RunInstances; CloudFormation's spelling of the same
            # lookup is the dynamic reference ``{{resolve:ssm:<parameter>}}``
            p["ImageId"] = "{{" + p["ImageId"] + "}}"
        if "SecurityGroupIds" in p:
            p["SecurityGroupIds"] = [ref(v, "vpcSecurityGroupIds") for v in i["vpcSecurityGroupIds"]]
        return [(lid, "AWS::EC2::Instance", p)]
    if t == "aws:ec2/securityGroup:SecurityGroup":
        p = _props(r, ref, {"vpcId": "VpcId", "description": "GroupDescription", "tags": "Tags", "name": "GroupName"},
                   skip={"revokeRulesOnDelete"})
        p["GroupName"] = physical_name(r)
        return [(lid, "AWS::EC2::SecurityGroup", p)]
    if t == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
        return [(lid, "AWS::EC2::SecurityGroupEgress", _cfn_rule(r, ref, "DestinationPrefixListId",
                                                                 "DestinationSecurityGroupId"))]
    if t == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        return [(lid, "AWS::EC2::SecurityGroupIngress", _cfn_rule(r, ref, "SourcePrefixListId",
                                                                  "SourceSecurityGroupId"))]
    if t == "aws:ec2/vpcEndpoint:VpcEndpoint":
        p = _props(r, ref, {"vpcId": "VpcId", "serviceName": "ServiceName", "vpcEndpointType": "VpcEndpointType",
                            "privateDnsEnabled": "PrivateDnsEnabled", "tags": "Tags"},
                   skip={"subnetIds", "securityGroupIds"})
        p["SubnetIds"] = [ref(v, "subnetId") for v in i.get("subnetIds", [])]
        p["SecurityGroupIds"] = [ref(v, "securityGroupId") for v in i.get("securityGroupIds", [])]
        return [(lid, "AWS::EC2::VPCEndpoint", p)]
    if t == "aws:ec2/managedPrefixList:ManagedPrefixList":
        return [(lid, "AWS::EC2::PrefixList", _props(r, ref, {
            "name": "PrefixListName", "addressFamily": "AddressFamily", "maxEntries": "MaxEntries",
            "entries": ("Entries", _ENTRY), "tags": "Tags"}))]
    if t == "aws:networkfirewall/ruleGroup:RuleGroup":
        p = _props(r, ref, {"name": "RuleGroupName", "type": "Type", "capacity": "Capacity",
                            "description": "Description", "ruleGroup": ("RuleGroup", _RULE_GROUP), "tags": "Tags"})
        p["RuleGroupName"] = physical_name(r)
        return [(lid, "AWS::NetworkFirewall::RuleGroup", p)]
    if t == "aws:networkfirewall/firewallPolicy:FirewallPolicy":
        p = _props(r, ref, {"name": "FirewallPolicyName", "description": "Description",
                            "firewallPolicy": ("FirewallPolicy", _FIREWALL_POLICY), "tags": "Tags"})
        p["FirewallPolicyName"] = physical_name(r)
        return [(lid, "AWS::NetworkFirewall::FirewallPolicy", p)]
    if t == "aws:networkfirewall/firewall:Firewall":
        p = _props(r, ref, {"name": "FirewallName", "firewallPolicyArn": "FirewallPolicyArn", "vpcId": "VpcId",
                            "subnetMappings": ("SubnetMappings", {"subnetId": "SubnetId"}),
                            "description": "Description", "tags": "Tags"})
        p["FirewallName"] = physical_name(r)
        return [(lid, "AWS::NetworkFirewall::Firewall", p)]
    if t == "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList":
        return [(lid, "AWS::Route53Resolver::FirewallDomainList",
                 _props(r, ref, {"name": "Name", "domains": "Domains", "tags": "Tags"}))]
    if t == "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup":
        p = _props(r, ref, {"name": "Name", "tags": "Tags"})
        rules = [x for x in refs.resources if x["type"] == "aws:route53/resolverFirewallRule:ResolverFirewallRule"
                 and refs.target(x["inputs"].get("firewallRuleGroupId")) == (r["name"], "id")]
        if rules:
            p["FirewallRules"] = [_props(x, ref, {
                "firewallDomainListId": "FirewallDomainListId", "priority": "Priority", "action": "Action",
                "blockResponse": "BlockResponse"}, skip={"name", "firewallRuleGroupId"})
                for x in sorted(rules, key=lambda x: x["inputs"]["priority"])]
        return [(lid, "AWS::Route53Resolver::FirewallRuleGroup", p)]
    if t == "aws:route53/resolverFirewallRule:ResolverFirewallRule":
        group = refs.target(i.get("firewallRuleGroupId"))
        if not group:
            raise Unmapped(f"{r['name']}: a DNS Firewall rule outside a recorded rule group has no CFN twin")
        return []  # folded into its group's FirewallRules (see the module doc)
    if t == "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation":
        return [(lid, "AWS::Route53Resolver::FirewallRuleGroupAssociation", _props(r, ref, {
            "firewallRuleGroupId": "FirewallRuleGroupId", "vpcId": "VpcId", "priority": "Priority", "name": "Name",
            "mutationProtection": "MutationProtection", "tags": "Tags"}))]
    if t == "aws:ssm/parameter:Parameter":
        p = _props(r, ref, {"name": "Name", "type": "Type", "dataType": "DataType", "value": "Value", "tier": "Tier",
                            "description": "Description"}, skip={"tags"})
        if i.get("tags"):
            p["Tags"] = dict(i["tags"])  # AWS::SSM::Parameter takes its tags as a map
        return [(lid, "AWS::SSM::Parameter", p)]
    if t == "aws:iam/role:Role":
        p = _props(r, ref, {"assumeRolePolicy": "AssumeRolePolicyDocument", "description": "Description",
                            "tags": "Tags"}, skip={"name"})
        p["AssumeRolePolicyDocument"] = json.loads(p["AssumeRolePolicyDocument"])
        p["RoleName"] = physical_name(r)
        return [(lid, "AWS::IAM::Role", p)]
    if t == "aws:iam/rolePolicy:RolePolicy":
        p = _props(r, ref, {"role": "RoleName", "policy": "PolicyDocument"}, skip={"name"})
        p["PolicyDocument"] = json.loads(p["PolicyDocument"])
        p["PolicyName"] = physical_name(r)
        return [(lid, "AWS::IAM::RolePolicy", p)]
    if t == "aws:iam/instanceProfile:InstanceProfile":
        p = _props(r, ref, {"role": "Roles"}, skip={"tags", "name"})
        p["Roles"] = [p["Roles"]]
        p["InstanceProfileName"] = physical_name(r)
        return [(lid, "AWS::IAM::InstanceProfile", p)]
    raise Unmapped(f"{t} ({r['name']}): no CloudFormation twin")


def cfn_template(resources: list[dict]) -> dict:
    """The CloudFormation template twin of every recorded AWS resource (components are skipped)."""
    refs = References(resources)
    ref = _cfn_ref(refs)
    out: dict[str, dict] = {}
    for r in topological(refs):
        for lid, typ, props in _cfn(r, ref, refs):
            if lid in out:
                raise Unmapped(f"two resources share the CFN logical id {lid}")
            out[lid] = {"Type": typ, "Properties": props}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": out}


# ---- API twin -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """One AWS API call: ``service`` (botocore name), ``operation`` (model name) and its parameters.

    ``creates`` names the attribute of the recorded resource whose value the response carries
    (``response_path``), for the calls that create something.
    """

    resource: str
    service: str
    operation: str
    params: dict
    creates: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _spec(rtype: str, tags: Mapping[str, str] | None) -> list[dict]:
    return [{"ResourceType": rtype, "Tags": _tags(tags)}] if tags else []


def _tag_param(inputs: dict) -> dict:
    """``Tags`` for the non-EC2 APIs (a list of at least one tag when given: omitted when there are none)."""
    return {"Tags": _tags(inputs["tags"])} if inputs.get("tags") else {}


def _ec2_rule(r: dict, ref, egress: bool) -> list[Call]:
    i = _take(r, {"securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "prefixListId",
                  "referencedSecurityGroupId", "description", "tags"})
    perm: dict = {"IpProtocol": i["ipProtocol"]}
    if "fromPort" in i:
        perm["FromPort"], perm["ToPort"] = i["fromPort"], i["toPort"]
    desc = {"Description": i["description"]} if "description" in i else {}
    if "cidrIpv4" in i:
        perm["IpRanges"] = [{"CidrIp": i["cidrIpv4"], **desc}]
    if "cidrIpv6" in i:
        perm["Ipv6Ranges"] = [{"CidrIpv6": i["cidrIpv6"], **desc}]
    if "prefixListId" in i:
        perm["PrefixListIds"] = [{"PrefixListId": ref(i["prefixListId"], "prefixListId"), **desc}]
    if "referencedSecurityGroupId" in i:
        perm["UserIdGroupPairs"] = [{"GroupId": ref(i["referencedSecurityGroupId"], "securityGroupId"), **desc}]
    params = {"GroupId": ref(i["securityGroupId"], "securityGroupId"), "IpPermissions": [perm]}
    if i.get("tags"):
        params["TagSpecifications"] = _spec("security-group-rule", i["tags"])
    op = "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroupIngress"
    return [Call(r["name"], "ec2", op, params, (("id", ("SecurityGroupRules", "0", "SecurityGroupRuleId")),))]


def _api(r: dict, ref, refs: References) -> list[Call]:  # noqa: C901 - one branch per type, on purpose
    t, n = r["type"], r["name"]
    i = r["inputs"]
    token = hashlib.sha256(n.encode()).hexdigest()[:32]  # CreatorRequestId: idempotency token, as the provider
    if t == "aws:ec2/vpc:Vpc":
        _take(r, {"cidrBlock", "enableDnsSupport", "enableDnsHostnames", "tags"})
        calls = [Call(n, "ec2", "CreateVpc", {"CidrBlock": i["cidrBlock"], "TagSpecifications": _spec("vpc", i.get("tags"))},
                      (("id", ("Vpc", "VpcId")),))]
        for k, attr in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
            if k in i:
                calls.append(Call(n, "ec2", "ModifyVpcAttribute", {"VpcId": Later(n, "id", "vpcId"), attr: {"Value": i[k]}}))
        return calls
    if t == "aws:ec2/internetGateway:InternetGateway":
        _take(r, {"vpcId", "tags"})
        calls = [Call(n, "ec2", "CreateInternetGateway", {"TagSpecifications": _spec("internet-gateway", i.get("tags"))},
                      (("id", ("InternetGateway", "InternetGatewayId")),))]
        if "vpcId" in i:
            calls.append(Call(n, "ec2", "AttachInternetGateway",
                              {"InternetGatewayId": Later(n, "id", "internetGatewayId"), "VpcId": ref(i["vpcId"], "vpcId")}))
        return calls
    if t == "aws:ec2/subnet:Subnet":
        _take(r, {"vpcId", "cidrBlock", "availabilityZone", "mapPublicIpOnLaunch", "tags"})
        calls = [Call(n, "ec2", "CreateSubnet", {"VpcId": ref(i["vpcId"], "vpcId"), "CidrBlock": i["cidrBlock"],
                                                 "AvailabilityZone": i["availabilityZone"],
                                                 "TagSpecifications": _spec("subnet", i.get("tags"))},
                      (("id", ("Subnet", "SubnetId")),))]
        if i.get("mapPublicIpOnLaunch"):  # the provider only calls this to turn it on (off is the default)
            calls.append(Call(n, "ec2", "ModifySubnetAttribute",
                              {"SubnetId": Later(n, "id", "subnetId"), "MapPublicIpOnLaunch": {"Value": True}}))
        return calls
    if t == "aws:ec2/routeTable:RouteTable":
        _take(r, {"vpcId", "tags"})
        return [Call(n, "ec2", "CreateRouteTable", {"VpcId": ref(i["vpcId"], "vpcId"),
                                                    "TagSpecifications": _spec("route-table", i.get("tags"))},
                     (("id", ("RouteTable", "RouteTableId")),))]
    if t == "aws:ec2/routeTableAssociation:RouteTableAssociation":
        _take(r, {"subnetId", "routeTableId"})
        return [Call(n, "ec2", "AssociateRouteTable", {"SubnetId": ref(i["subnetId"], "subnetId"),
                                                       "RouteTableId": ref(i["routeTableId"], "routeTableId")},
                     (("id", ("AssociationId",)),))]
    if t == "aws:ec2/route:Route":
        keys = {"gatewayId": "GatewayId", "natGatewayId": "NatGatewayId", "networkInterfaceId": "NetworkInterfaceId",
                "vpcEndpointId": "VpcEndpointId"}
        _take(r, {"routeTableId", "destinationCidrBlock", *keys})
        params = {"RouteTableId": ref(i["routeTableId"], "routeTableId"), "DestinationCidrBlock": i["destinationCidrBlock"]}
        params.update({keys[k]: ref(i[k], k) for k in keys if k in i})
        return [Call(n, "ec2", "CreateRoute", params)]
    if t == "aws:ec2/eip:Eip":
        _take(r, {"domain", "instance", "tags"})
        calls = [Call(n, "ec2", "AllocateAddress", {"Domain": i["domain"], "TagSpecifications": _spec("elastic-ip", i.get("tags"))},
                      (("allocationId", ("AllocationId",)), ("id", ("AllocationId",)), ("publicIp", ("PublicIp",))))]
        if "instance" in i:
            calls.append(Call(n, "ec2", "AssociateAddress", {"AllocationId": Later(n, "allocationId", "allocationId"),
                                                             "InstanceId": ref(i["instance"], "instanceId")}))
        return calls
    if t == "aws:ec2/natGateway:NatGateway":
        _take(r, {"allocationId", "subnetId", "connectivityType", "tags"})
        return [Call(n, "ec2", "CreateNatGateway", {
            "AllocationId": ref(i["allocationId"], "allocationId"), "SubnetId": ref(i["subnetId"], "subnetId"),
            "ConnectivityType": i["connectivityType"], "ClientToken": token,
            "TagSpecifications": _spec("natgateway", i.get("tags"))}, (("id", ("NatGateway", "NatGatewayId")),))]
    if t == "aws:ec2/instance:Instance":
        _take(r, {"ami", "instanceType", "subnetId", "vpcSecurityGroupIds", "sourceDestCheck", "userDataBase64",
                  "userDataReplaceOnChange", "metadataOptions", "iamInstanceProfile", "tags"})
        params = {"ImageId": i["ami"], "InstanceType": i["instanceType"], "MinCount": 1, "MaxCount": 1,
                  "SubnetId": ref(i["subnetId"], "subnetId"),
                  # on the wire UserData is base64 (boto3 encodes it itself: an applier decodes it first)
                  "UserData": i["userDataBase64"],
                  "MetadataOptions": _nested(i["metadataOptions"], _METADATA, f"{n}.metadataOptions", ref),
                  "TagSpecifications": _spec("instance", i.get("tags"))}
        if i.get("vpcSecurityGroupIds"):
            params["SecurityGroupIds"] = [ref(v, "securityGroupId") for v in i["vpcSecurityGroupIds"]]
        if i.get("iamInstanceProfile"):
            params["IamInstanceProfile"] = {"Name": _by_name(refs, i["iamInstanceProfile"], ref, "iamInstanceProfile")}
        calls = [Call(n, "ec2", "RunInstances", params,
                      (("id", ("Instances", "0", "InstanceId")),
                       ("primaryNetworkInterfaceId", ("Instances", "0", "NetworkInterfaces", "0", "NetworkInterfaceId"))))]
        if "sourceDestCheck" in i:
            calls.append(Call(n, "ec2", "ModifyInstanceAttribute", {"InstanceId": Later(n, "id", "instanceId"),
                                                                    "SourceDestCheck": {"Value": i["sourceDestCheck"]}}))
        return calls
    if t == "aws:ec2/securityGroup:SecurityGroup":
        _take(r, {"vpcId", "description", "revokeRulesOnDelete", "tags", "name"})
        params = {"GroupName": physical_name(r), "Description": i["description"], "VpcId": ref(i["vpcId"], "vpcId"),
                  "TagSpecifications": _spec("security-group", i.get("tags"))}
        # the provider removes the allow-all egress rule AWS adds to a new group
        return [Call(n, "ec2", "CreateSecurityGroup", params, (("id", ("GroupId",)),)),
                Call(n, "ec2", "RevokeSecurityGroupEgress", {"GroupId": Later(n, "id", "groupId"), "IpPermissions": [
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})]
    if t == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
        return _ec2_rule(r, ref, egress=True)
    if t == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        return _ec2_rule(r, ref, egress=False)
    if t == "aws:ec2/vpcEndpoint:VpcEndpoint":
        _take(r, {"vpcId", "serviceName", "vpcEndpointType", "subnetIds", "securityGroupIds", "privateDnsEnabled",
                  "tags"})
        return [Call(n, "ec2", "CreateVpcEndpoint", {
            "VpcId": ref(i["vpcId"], "vpcId"), "ServiceName": i["serviceName"], "VpcEndpointType": i["vpcEndpointType"],
            "SubnetIds": [ref(v, "subnetId") for v in i.get("subnetIds", [])],
            "SecurityGroupIds": [ref(v, "securityGroupId") for v in i.get("securityGroupIds", [])],
            "PrivateDnsEnabled": i["privateDnsEnabled"], "ClientToken": token,
            "TagSpecifications": _spec("vpc-endpoint", i.get("tags"))}, (("id", ("VpcEndpoint", "VpcEndpointId")),))]
    if t == "aws:ec2/managedPrefixList:ManagedPrefixList":
        _take(r, {"name", "addressFamily", "maxEntries", "entries", "tags"})
        return [Call(n, "ec2", "CreateManagedPrefixList", {
            "PrefixListName": i["name"], "AddressFamily": i["addressFamily"], "MaxEntries": i["maxEntries"],
            "Entries": _nested(i.get("entries", []), _ENTRY, f"{n}.entries", ref), "ClientToken": token,
            "TagSpecifications": _spec("prefix-list", i.get("tags"))}, (("id", ("PrefixList", "PrefixListId")),))]
    if t == "aws:networkfirewall/ruleGroup:RuleGroup":
        _take(r, {"name", "type", "capacity", "description", "ruleGroup", "tags"})
        params = {"RuleGroupName": physical_name(r), "Type": i["type"], "Capacity": i["capacity"],
                  "RuleGroup": _nested(i["ruleGroup"], _RULE_GROUP, f"{n}.ruleGroup", ref), **_tag_param(i)}
        if "description" in i:
            params["Description"] = i["description"]
        return [Call(n, "network-firewall", "CreateRuleGroup", params,
                     (("arn", ("RuleGroupResponse", "RuleGroupArn")),))]
    if t == "aws:networkfirewall/firewallPolicy:FirewallPolicy":
        _take(r, {"name", "description", "firewallPolicy", "tags"})
        params = {"FirewallPolicyName": physical_name(r), **_tag_param(i),
                  "FirewallPolicy": _nested(i["firewallPolicy"], _FIREWALL_POLICY, f"{n}.firewallPolicy", ref)}
        if "description" in i:
            params["Description"] = i["description"]
        return [Call(n, "network-firewall", "CreateFirewallPolicy", params,
                     (("arn", ("FirewallPolicyResponse", "FirewallPolicyArn")),))]
    if t == "aws:networkfirewall/firewall:Firewall":
        _take(r, {"name", "firewallPolicyArn", "vpcId", "subnetMappings", "description", "tags"})
        params = {"FirewallName": physical_name(r), "FirewallPolicyArn": ref(i["firewallPolicyArn"], "firewallPolicyArn"),
                  "VpcId": ref(i["vpcId"], "vpcId"), **_tag_param(i),
                  "SubnetMappings": _nested(i["subnetMappings"], {"subnetId": "SubnetId"}, f"{n}.subnetMappings", ref)}
        if "description" in i:
            params["Description"] = i["description"]
        return [Call(n, "network-firewall", "CreateFirewall", params, (("arn", ("Firewall", "FirewallArn")),))]
    if t == "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList":
        _take(r, {"name", "domains", "tags"})
        calls = [Call(n, "route53resolver", "CreateFirewallDomainList",
                      {"CreatorRequestId": token, "Name": i["name"], **_tag_param(i)},
                      (("id", ("FirewallDomainList", "Id")),))]
        if i.get("domains"):
            calls.append(Call(n, "route53resolver", "UpdateFirewallDomains", {
                "FirewallDomainListId": Later(n, "id", "firewallDomainListId"), "Operation": "ADD",
                "Domains": i["domains"]}))
        return calls
    if t == "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup":
        _take(r, {"name", "tags"})
        return [Call(n, "route53resolver", "CreateFirewallRuleGroup",
                     {"CreatorRequestId": token, "Name": i["name"], **_tag_param(i)},
                     (("id", ("FirewallRuleGroup", "Id")),))]
    if t == "aws:route53/resolverFirewallRule:ResolverFirewallRule":
        _take(r, {"name", "action", "priority", "blockResponse", "firewallDomainListId", "firewallRuleGroupId"})
        params = {"CreatorRequestId": token, "Name": i["name"], "Action": i["action"], "Priority": i["priority"],
                  "FirewallRuleGroupId": ref(i["firewallRuleGroupId"], "firewallRuleGroupId"),
                  "FirewallDomainListId": ref(i["firewallDomainListId"], "firewallDomainListId")}
        if "blockResponse" in i:
            params["BlockResponse"] = i["blockResponse"]
        return [Call(n, "route53resolver", "CreateFirewallRule", params)]
    if t == "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation":
        _take(r, {"name", "firewallRuleGroupId", "vpcId", "priority", "mutationProtection", "tags"})
        return [Call(n, "route53resolver", "AssociateFirewallRuleGroup", {
            "CreatorRequestId": token, "Name": i["name"], "Priority": i["priority"],
            "FirewallRuleGroupId": ref(i["firewallRuleGroupId"], "firewallRuleGroupId"),
            "VpcId": ref(i["vpcId"], "vpcId"), "MutationProtection": i["mutationProtection"],
            **_tag_param(i)}, (("id", ("FirewallRuleGroupAssociation", "Id")),))]
    if t == "aws:ssm/parameter:Parameter":
        _take(r, {"name", "type", "dataType", "value", "tier", "description", "tags"})
        return [Call(n, "ssm", "PutParameter", {
            "Name": i["name"], "Type": i["type"], "DataType": i["dataType"], "Value": i["value"], "Tier": i["tier"],
            "Description": i["description"], **_tag_param(i)}, (("id", ("Version",)),))]
    if t == "aws:iam/role:Role":
        _take(r, {"name", "assumeRolePolicy", "description", "tags"})
        return [Call(n, "iam", "CreateRole", {
            "RoleName": physical_name(r), "AssumeRolePolicyDocument": i["assumeRolePolicy"],
            "Description": i["description"], **_tag_param(i)}, (("id", ("Role", "RoleName")),
                                                                ("name", ("Role", "RoleName"))))]
    if t == "aws:iam/rolePolicy:RolePolicy":
        _take(r, {"name", "role", "policy"})
        return [Call(n, "iam", "PutRolePolicy", {"RoleName": ref(i["role"], "role"), "PolicyName": physical_name(r),
                                                 "PolicyDocument": i["policy"]})]
    if t == "aws:iam/instanceProfile:InstanceProfile":
        _take(r, {"name", "role", "tags"})
        return [Call(n, "iam", "CreateInstanceProfile", {"InstanceProfileName": physical_name(r), **_tag_param(i)},
                     (("name", ("InstanceProfile", "InstanceProfileName")),)),
                Call(n, "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": Later(n, "name", "name"),
                                                            "RoleName": _by_name(refs, i["role"], ref, "role")})]
    raise Unmapped(f"{t} ({n}): no API twin")


def _by_name(refs: References, value: Any, ref, key: str) -> Any:
    """An IAM reference by name: the mock's ``name`` output is the logical name; AWS knows the physical one."""
    if isinstance(value, str) and value in refs.by_name:
        return Later(value, "name", "name")
    if isinstance(value, str) and (key, value) in refs.iam:
        return Later(refs.iam[(key, value)], "name", "name")
    return ref(value, "name")


@dataclass(frozen=True)
class Later:
    """A reference in an API call's parameters, resolved when the call is made (see :func:`materialize`).

    ``name``/``attr``: the recorded resource and attribute; ``name == ""`` for a value that refers to
    nothing recorded (an existing VPC's id, in ``attr``).
    """

    name: str
    attr: str
    key: str


def materialize(value: Any, resolve: Callable[[Later], Any]) -> Any:
    """``value`` with every :class:`Later` replaced by ``resolve(later)``."""
    if isinstance(value, Later):
        return resolve(value)
    if isinstance(value, dict):
        return {k: materialize(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v, resolve) for v in value]
    return value


def api_calls(resources: list[dict]) -> list[Call]:
    """Every API call that creates the recorded AWS resources, in dependency order.

    References (to other resources, to the resource's own id in a follow-up call, to the firewall
    endpoint, to an existing VPC) are :class:`Later` values: the caller resolves them with
    :func:`materialize` when it makes the call.
    """
    refs = References(resources)

    def ref(value: Any, key: str) -> Any:
        t = refs.target(value)
        if t is not None:
            return Later(t[0], t[1], key)
        if value == COMPUTED:
            if key != "vpcEndpointId":
                raise Unmapped(f"{key}: computed value with no API twin")
            return Later(refs.firewall(), "endpointId", key)
        return Later("", value, key) if key == "vpcId" else value

    return [c for r in topological(refs) for c in _api(r, ref, refs)]
