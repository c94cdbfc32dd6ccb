"""External check: the whole AWS topology of every AWS case (tests/aws/cases.py), applied to a local moto server.

Every create call of tests/aws/twins.py (the provider's calls, same fields) is made with boto3 in
dependency order, with the ids moto returned: VPC and its DNS attributes, internet gateway and its
attachment, subnets, route tables, associations, routes, Elastic IPs and their association, NAT
gateways, the QoS NAT instance (source/dest check, metadata options, user data), security groups
(allow-all egress revoked), prefix lists, rules, and the Network Firewall. Any refusal fails the test.
The result is then read back and compared with the plan: each route's table, destination and target,
each association, the gateway's VPC, each address's instance, each gateway's subnet and address, the
instance's subnet, groups and attributes, each group's rules, the prefix lists' entries, tags.

What moto 5 does not implement (asserted, so a moto that gains them makes this test say so):
Network Firewall rule groups and policies, and every Route 53 Resolver DNS Firewall call. Those are
checked by cfn-lint and the botocore model walk only. moto's firewall has no endpoints: a
GatewayLoadBalancer VPC endpoint in the firewall subnet stands in for it (what an NFW endpoint is), so
the routes through the firewall are applied and checked. moto does not resolve ``resolve:ssm:`` AMIs
(it accepts any image id unless MOTO_ENABLE_AMI_VALIDATION is set).
"""

from __future__ import annotations

import base64
import hashlib
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .cases import AWS_CASES, resources_of
from .conftest import REGION, client
from .twins import Call, Later, References, api_calls, materialize

pytestmark = pytest.mark.moto

#: create calls moto 5 does not implement: what they would return is made up (well-formed) instead
NOT_IN_MOTO = {
    ("network-firewall", "CreateRuleGroup"): lambda c: {"RuleGroupResponse": {"RuleGroupArn": _arn("stateful-rulegroup", c)}},
    ("network-firewall", "CreateFirewallPolicy"): lambda c: {"FirewallPolicyResponse": {
        "FirewallPolicyArn": _arn("firewall-policy", c)}},
    ("route53resolver", "CreateFirewallDomainList"): lambda c: {"FirewallDomainList": {"Id": _fake("rslvr-fdl", c)}},
    ("route53resolver", "UpdateFirewallDomains"): lambda c: {},
    ("route53resolver", "CreateFirewallRuleGroup"): lambda c: {"FirewallRuleGroup": {"Id": _fake("rslvr-frg", c)}},
    ("route53resolver", "CreateFirewallRule"): lambda c: {},
    ("route53resolver", "AssociateFirewallRuleGroup"): lambda c: {"FirewallRuleGroupAssociation": {
        "Id": _fake("rslvr-frgassoc", c)}},
}


def _fake(prefix: str, call: Call) -> str:
    return f"{prefix}-{hashlib.sha256(call.resource.encode()).hexdigest()[:17]}"


def _arn(kind: str, call: Call) -> str:
    return f"arn:aws:network-firewall:{REGION}:123456789012:{kind}/{call.resource}"


def _boto_name(operation: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in operation).lstrip("_")


def _dig(response: dict, path: tuple[str, ...]):
    node = response
    for k in path:
        node = node[int(k)] if isinstance(node, list) else node[k]
    return node


class Applied:
    """What the apply created: ``ids[(resource name, attr)]`` and the calls moto did not implement."""

    def __init__(self, url: str, resources: list[dict]):
        # IAM names are account-wide: each apply starts from an empty moto (the same stack is applied twice)
        # (a wait bound, not a speed check: a reset of the previous topology took over 10 s on a loaded machine)
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=120).close()
        self.clients = {s: client(url, s) for s in ("ec2", "network-firewall", "route53resolver", "ssm", "iam")}
        self.ec2 = self.clients["ec2"]
        self.resources = {r["name"]: r for r in resources}
        self.ids: dict[tuple[str, str], str] = {}
        self.external: dict[str, str] = {}
        self.skipped: list[str] = []
        self.calls = 0
        for call in api_calls(resources):
            self._make(call)

    def _resolve(self, later: Later):
        if later.name == "":  # an existing VPC the stack attaches to: one stands in for it
            if later.attr not in self.external:
                self.external[later.attr] = self.ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
            return self.external[later.attr]
        if later.attr == "endpointId":
            return self._endpoint(later.name)
        return self.ids[(later.name, later.attr)]

    def _endpoint(self, firewall: str) -> str:
        """The stand-in for the firewall's endpoint: a GatewayLoadBalancer endpoint in its first subnet."""
        if (firewall, "endpointId") not in self.ids:
            fw = self.clients["network-firewall"].describe_firewall(FirewallArn=self.ids[(firewall, "arn")])["Firewall"]
            ep = self.ec2.create_vpc_endpoint(
                VpcId=fw["VpcId"], VpcEndpointType="GatewayLoadBalancer", SubnetIds=[fw["SubnetMappings"][0]["SubnetId"]],
                ServiceName=f"com.amazonaws.vpce.{REGION}.vpce-svc-0123456789abcdef0")["VpcEndpoint"]
            self.ids[(firewall, "endpointId")] = ep["VpcEndpointId"]
        return self.ids[(firewall, "endpointId")]

    def _make(self, call: Call) -> None:
        params = materialize(call.params, self._resolve)
        if (call.service, call.operation) in NOT_IN_MOTO:
            response = NOT_IN_MOTO[(call.service, call.operation)](call)
            self.skipped.append(f"{call.service}:{call.operation}")
        else:
            if call.operation == "RunInstances":  # boto3 base64-encodes UserData itself
                params = dict(params, UserData=base64.b64decode(params["UserData"]))
            response = getattr(self.clients[call.service], _boto_name(call.operation))(**params)
            self.calls += 1
        for attr, path in call.creates:
            self.ids[(call.resource, attr)] = _dig(response, path)


def _tags(x: dict) -> dict:
    return {t["Key"]: t["Value"] for t in x.get("Tags") or []}


def _by_type(applied: Applied, suffix: str) -> list[dict]:
    return [r for r in applied.resources.values() if r["type"].endswith(suffix)]


def check_topology(applied: Applied, resources: list[dict]) -> int:
    """Compare what moto stored with the plan; returns the number of facts compared."""
    ec2, ids, n = applied.ec2, applied.ids, 0
    refs = References(resources)

    def ref(value):
        """The moto id of what a recorded input refers to."""
        t = refs.target(value)
        if t is None:  # the existing VPC an attached stack names: its stand-in
            return applied.external[value]
        return ids[t]

    for r in _by_type(applied, ":Vpc"):
        vid = ids[(r["name"], "id")]
        vpc = ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
        assert vpc["CidrBlock"] == r["inputs"]["cidrBlock"] and _tags(vpc) == r["inputs"].get("tags", {})
        for key, attr in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
            got = ec2.describe_vpc_attribute(VpcId=vid, Attribute=attr[0].lower() + attr[1:])[attr]["Value"]
            assert got is r["inputs"][key]
        n += 4
    for r in _by_type(applied, ":InternetGateway"):
        igw = ec2.describe_internet_gateways(InternetGatewayIds=[ids[(r["name"], "id")]])["InternetGateways"][0]
        assert [a["VpcId"] for a in igw["Attachments"]] == [ref(r["inputs"]["vpcId"])]
        n += 1
    for r in _by_type(applied, ":Subnet"):
        sn = ec2.describe_subnets(SubnetIds=[ids[(r["name"], "id")]])["Subnets"][0]
        assert (sn["VpcId"], sn["CidrBlock"], sn["AvailabilityZone"], sn["MapPublicIpOnLaunch"]) == (
            ref(r["inputs"]["vpcId"]), r["inputs"]["cidrBlock"], r["inputs"]["availabilityZone"],
            bool(r["inputs"].get("mapPublicIpOnLaunch")))
        assert _tags(sn) == r["inputs"].get("tags", {})
        n += 5
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables()["RouteTables"]}
    for r in _by_type(applied, ":RouteTableAssociation"):
        table = tables[ref(r["inputs"]["routeTableId"])]
        assert ref(r["inputs"]["subnetId"]) in [a.get("SubnetId") for a in table["Associations"]]
        n += 1
    keys = {"gatewayId": "GatewayId", "natGatewayId": "NatGatewayId", "networkInterfaceId": "NetworkInterfaceId",
            "vpcEndpointId": "VpcEndpointId"}
    for r in _by_type(applied, ":Route"):
        i = r["inputs"]
        table = tables[ref(i["routeTableId"])]
        routes = [x for x in table["Routes"] if x.get("DestinationCidrBlock") == i["destinationCidrBlock"]]
        assert len(routes) == 1, (r["name"], table["Routes"])
        (key, value), = [(k, v) for k, v in i.items() if k in keys]
        want = applied._endpoint(applied_firewall(applied)) if key == "vpcEndpointId" else ref(value)
        # DescribeRouteTables reports a route to a VPC endpoint under GatewayId
        got = routes[0].get(keys[key]) or (routes[0].get("GatewayId") if key == "vpcEndpointId" else None)
        assert got == want, (r["name"], routes[0], want)
        n += 2
    for r in _by_type(applied, ":Eip"):
        a = ec2.describe_addresses(AllocationIds=[ids[(r["name"], "allocationId")]])["Addresses"][0]
        assert a["Domain"] == r["inputs"]["domain"] and _tags(a) == r["inputs"].get("tags", {})
        if "instance" in r["inputs"]:
            assert a["InstanceId"] == ref(r["inputs"]["instance"])
        n += 3
    for r in _by_type(applied, ":NatGateway"):
        g = ec2.describe_nat_gateways(NatGatewayIds=[ids[(r["name"], "id")]])["NatGateways"][0]
        assert g["SubnetId"] == ref(r["inputs"]["subnetId"])
        assert [x["AllocationId"] for x in g["NatGatewayAddresses"]] == [ref(r["inputs"]["allocationId"])]
        assert g["ConnectivityType"] == r["inputs"]["connectivityType"] and _tags(g) == r["inputs"].get("tags", {})
        n += 4
    for r in _by_type(applied, ":Instance"):
        i, iid = r["inputs"], ids[(r["name"], "id")]
        inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        assert inst["SubnetId"] == ref(i["subnetId"]) and inst["InstanceType"] == i["instanceType"]
        assert sorted(g["GroupId"] for g in inst["SecurityGroups"]) == sorted(map(ref, i["vpcSecurityGroupIds"]))
        assert inst["SourceDestCheck"] is i["sourceDestCheck"]
        assert inst["MetadataOptions"]["HttpTokens"] == i["metadataOptions"]["httpTokens"]
        ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")["UserData"]["Value"]
        assert ud == i["userDataBase64"] and _tags(inst) == i["tags"]
        n += 7
    for r in _by_type(applied, ":SecurityGroup"):
        gid = ids[(r["name"], "id")]
        g = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]
        assert g["Description"] == r["inputs"]["description"] and g["VpcId"] == ref(r["inputs"]["vpcId"])
        assert _tags(g) == r["inputs"].get("tags", {})
        stored = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
        planned = [x for x in resources if x["type"].endswith(("SecurityGroupEgressRule", "SecurityGroupIngressRule"))
                   and ref(x["inputs"]["securityGroupId"]) == gid]
        assert len(stored) == len(planned)  # the allow-all egress AWS adds is gone; nothing else was added
        for x in planned:
            rid = ids[(x["name"], "id")]
            s = next(s for s in stored if s["SecurityGroupRuleId"] == rid)
            xi = x["inputs"]
            assert s["IsEgress"] is x["type"].endswith("EgressRule") and s["IpProtocol"] == xi["ipProtocol"]
            assert (s.get("FromPort"), s.get("ToPort")) == (xi.get("fromPort", -1), xi.get("toPort", -1))
            assert (s.get("CidrIpv4"), s.get("PrefixListId")) == (
                xi.get("cidrIpv4"), ref(xi["prefixListId"]) if "prefixListId" in xi else None)
            n += 4
        n += 4
    for r in _by_type(applied, ":ManagedPrefixList"):
        pid = ids[(r["name"], "id")]
        entries = ec2.get_managed_prefix_list_entries(PrefixListId=pid)["Entries"]
        assert sorted(e["Cidr"] for e in entries) == sorted(e["cidr"] for e in r["inputs"]["entries"])
        pl = ec2.describe_managed_prefix_lists(PrefixListIds=[pid])["PrefixLists"][0]
        assert (pl["PrefixListName"], pl["MaxEntries"]) == (r["inputs"]["name"], r["inputs"]["maxEntries"])
        n += 3
    for r in _by_type(applied, ":Firewall"):
        fw = applied.clients["network-firewall"].describe_firewall(FirewallArn=ids[(r["name"], "arn")])["Firewall"]
        assert fw["VpcId"] == ref(r["inputs"]["vpcId"])
        assert [m["SubnetId"] for m in fw["SubnetMappings"]] == [ref(m["subnetId"]) for m in r["inputs"]["subnetMappings"]]
        assert fw["FirewallPolicyArn"] == ref(r["inputs"]["firewallPolicyArn"])
        n += 3
    return n


def applied_firewall(applied: Applied) -> str:
    (fw,) = [r["name"] for r in _by_type(applied, ":Firewall")]
    return fw


@pytest.mark.parametrize("case", AWS_CASES)
def test_whole_topology_applies_to_moto_and_matches_the_plan(moto_url, case):
    resources = resources_of(case)
    applied = Applied(moto_url, resources)  # any refusal raises ClientError here
    facts = check_topology(applied, resources)
    aws = [r for r in resources if r["type"].startswith("aws:")]
    assert applied.calls >= len(aws) - len(applied.skipped)
    assert facts >= len(aws)


def test_what_moto_does_not_implement_is_still_missing():
    """If moto gains these, NOT_IN_MOTO must shrink so that the topology test applies them for real."""
    from moto.networkfirewall.models import NetworkFirewallBackend
    from moto.route53resolver.models import Route53ResolverBackend

    backends = {"network-firewall": NetworkFirewallBackend, "route53resolver": Route53ResolverBackend}
    for service, operation in NOT_IN_MOTO:
        assert not hasattr(backends[service], _boto_name(operation)), f"moto now implements {service}:{operation}"
    assert hasattr(NetworkFirewallBackend, "create_firewall")  # the one the topology test does apply


def test_moto_refuses_a_route_in_a_table_that_is_not_there(moto_url):
    """The apply bites: a plan whose route goes into a route table that does not exist is refused."""
    resources = resources_of("stack-aws-communicator")
    route = next(r for r in resources if r["type"].endswith(":Route") and "natGatewayId" in r["inputs"])
    route["inputs"]["routeTableId"] = "rtb-0123456789abcdef0"  # refers to nothing recorded: passed as is
    with pytest.raises(ClientError) as e:
        Applied(moto_url, resources)
    assert e.value.response["Error"]["Code"] == "InvalidRouteTableID.NotFound"


def test_moto_refuses_an_overlapping_subnet(moto_url):
    resources = resources_of("stack-aws-communicator")
    a, b = sorted((r for r in resources if r["type"].endswith(":Subnet") and r["name"].startswith("spirit-net-vdi")),
                  key=lambda r: r["name"])
    b["inputs"]["cidrBlock"] = a["inputs"]["cidrBlock"]
    with pytest.raises(ClientError) as e:
        Applied(moto_url, resources)
    assert e.value.response["Error"]["Code"] == "InvalidSubnet.Conflict"


def test_the_read_back_bites(moto_url):
    """A plan that differs from what was applied fails the comparison (a route pointing elsewhere)."""
    resources = resources_of("stack-aws-phones")
    applied = Applied(moto_url, resources)
    route = next(r for r in resources if r["name"] == "spirit-net-edge-default")
    route["inputs"]["destinationCidrBlock"] = "10.0.0.0/8"  # the plan now says something moto never got
    with pytest.raises(AssertionError):
        check_topology(applied, resources)
