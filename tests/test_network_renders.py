"""The pure network renders of the three clouds (aws/azure/gcp ``network.py``): what they plan, that a
site edit touches only that site's specs, that a name clash is one line before anything is registered,
and that each component registers exactly its render (through the one binder)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spirit_infra import testing
from spirit_infra.aws import network as aws_net
from spirit_infra.azure import network as azure_net
from spirit_infra.errors import ConfigError
from spirit_infra.gcp import network as gcp_net
from spirit_infra.plan import Param, Plan, Ref, walk

SITES = {"vdi": "10.50.0.0/24", "hub": "10.50.1.0/24"}


def _aws(sites=SITES, **kw) -> Plan:
    zones = {s: kw.pop("zone_of", {}).get(s, "b") for s in sites}
    opts = {"cidr": "10.50.0.0/16", "region": "ap-southeast-2", "edge_zones": ["a"], "nat_zone": "a",
            "profile": "communicator", **kw}
    return aws_net.render_network("net", sites=sites, site_zones=zones, **opts)


def _by_name(plan: Plan) -> dict[str, tuple]:
    return {s.name: (s.type, dict(s.inputs), s.aliases) for s in plan.specs}


def _params(plan: Plan) -> set[str]:
    return {v.name for s in plan.specs for _p, v in walk(s.inputs) if isinstance(v, Param)}


# ---- AWS ----------------------------------------------------------------------------------------------

def test_aws_network_plans_the_vpc_its_sites_and_the_edge():
    plan = _aws(edge_zones=["a", "b"], firewall_subnet=True, lan_security_group=True, tags={"team": "voice"})
    specs = _by_name(plan)
    assert list(specs) == ["vpc", "igw", "edge-rt", "edge-default", "edge-a", "edge-a-rta", "edge-b", "edge-b-rta",
                           "vdi", "vdi-rt", "vdi-rta", "hub", "hub-rt", "hub-rta", "fw", "fw-rt", "fw-rta",
                           "lan", "lan-vdi", "lan-hub"]
    vpc_type, vpc, _ = specs["vpc"]
    assert vpc_type == "aws:ec2/vpc:Vpc" and vpc["cidrBlock"] == "10.50.0.0/16"
    assert vpc["tags"] == {"team": "voice", "spirit-role": "vdi", "spirit-profile": "communicator", "Name": "net-vpc"}
    # every subnet and route table is in the VPC; each association joins its own subnet and table
    assert all(i["vpcId"] == Ref("vpc") for t, i, _ in specs.values() if "vpcId" in i)
    assert specs["hub-rta"][1] == {"subnetId": Ref("hub"), "routeTableId": Ref("hub-rt")}
    assert specs["edge-b-rta"][1] == {"subnetId": Ref("edge-b"), "routeTableId": Ref("edge-rt")}
    # edge subnets by zone letter (top of the network), public; the firewall subnet below them, in the NAT zone
    assert (specs["edge-a"][1]["cidrBlock"], specs["edge-b"][1]["cidrBlock"]) == ("10.50.255.240/28",
                                                                                  "10.50.255.208/28")
    assert specs["edge-a"][1]["availabilityZone"] == "ap-southeast-2a" and not specs["edge-a"][1]["mapPublicIpOnLaunch"]
    assert specs["fw"][1]["cidrBlock"] == "10.50.255.224/28" and specs["fw"][1]["availabilityZone"] == "ap-southeast-2a"
    assert specs["vdi"][1]["availabilityZone"] == "ap-southeast-2b"
    # zone a's edge keeps the names it had when there was one edge subnet; no other spec aliases anything
    assert {n: a for n, (_t, _i, a) in specs.items() if a} == {"edge-a": ("edge",), "edge-a-rta": ("edge-rta",)}
    # the LAN group admits each site, and carries the caller's tags without the Spirit marks
    assert specs["lan-hub"][1] == {"securityGroupId": Ref("lan"), "ipProtocol": "-1", "cidrIpv4": "10.50.1.0/24",
                                   "description": "from site hub"}
    assert specs["lan"][1]["tags"] == {"team": "voice", "Name": "net-lan"}
    assert _params(plan) == set()  # nothing the network needs comes from outside


def test_aws_sites_are_private_unless_public_sites():
    assert not [n for n in _by_name(_aws()) if n.endswith("-default") and n != "edge-default"]
    public = _by_name(_aws(public_sites=True))
    assert public["vdi-default"][1] == {"routeTableId": Ref("vdi-rt"), "destinationCidrBlock": "0.0.0.0/0",
                                        "gatewayId": Ref("igw")}
    assert "fw" not in public and "lan" not in public


# site names ("s" first: none is one of the network's own spec names)
NAMES = st.lists(st.text("abcdefgh0123", min_size=0, max_size=5).map(lambda n: f"s{n}"), min_size=2, max_size=5,
                 unique=True)


# no deadline: the machine running the suite may be loaded (what is checked is not a timing)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAMES)
def test_aws_a_site_edit_touches_only_that_site(names):
    sites = {n: f"10.50.{i}.0/24" for i, n in enumerate(names)}
    kw = {"lan_security_group": True, "firewall_subnet": True}
    full = _by_name(_aws(sites, **kw))
    # reordering changes nothing; removing the first site removes exactly its specs
    assert _by_name(_aws(dict(reversed(sites.items())), **kw)) == full
    first, *rest = names
    fewer = _by_name(_aws({n: sites[n] for n in rest}, **kw))
    mine = {first, f"{first}-rt", f"{first}-rta", f"lan-{first}"}
    assert {n: v for n, v in full.items() if n not in mine} == fewer


@pytest.mark.parametrize("site", ["vpc", "igw", "edge-a", "fw", "lan"])
def test_aws_a_site_named_like_a_network_resource_is_one_line(site):
    with pytest.raises(ConfigError) as e:
        _aws({site: "10.50.0.0/24"}, firewall_subnet=True, lan_security_group=True)
    assert e.value.field == "sites" and repr(site) in str(e.value) and "\n" not in str(e.value)


def test_aws_sites_whose_resources_clash_are_one_line():
    with pytest.raises(ConfigError, match="'a-rt'"):
        _aws({"a": "10.50.0.0/24", "a-rt": "10.50.1.0/24"})


def test_aws_network_args_refuse_a_clash_before_anything_is_registered():
    from spirit_infra.aws.components import AwsNetwork, AwsNetworkArgs

    errors = []

    def program():
        try:
            AwsNetwork("net", AwsNetworkArgs(cidr="10.50.0.0/16", sites={"igw": "10.50.0.0/24"}, profile="sbc"))
        except ConfigError as e:
            errors.append(str(e))

    rec = testing.run(program)
    assert len(errors) == 1 and "'igw'" in errors[0] and rec.resources == []


def test_aws_firewall_routing_plans_two_routes_per_site_from_parameters():
    plan = aws_net.render_firewall_routing({"vdi": "10.50.0.0/24", "hub": "10.50.1.0/24"})
    specs = _by_name(plan)
    assert list(specs) == ["hub-out", "hub-return", "vdi-out", "vdi-return"]  # by name, not by position
    assert specs["vdi-out"][1] == {"routeTableId": Param("siteRouteTables", "vdi"), "destinationCidrBlock": "0.0.0.0/0",
                                   "vpcEndpointId": Param("endpointId")}
    assert specs["vdi-return"][1] == {"routeTableId": Param("edgeRouteTableId"), "destinationCidrBlock": "10.50.0.0/24",
                                      "vpcEndpointId": Param("endpointId")}
    assert _params(plan) == {"endpointId", "siteRouteTables", "edgeRouteTableId"}


def test_aws_network_component_registers_exactly_its_render():
    from spirit_infra.aws.components import AwsNetwork, AwsNetworkArgs

    args = AwsNetworkArgs(cidr="10.50.0.0/16", sites=SITES, profile="communicator", firewall_subnet=True,
                          lan_security_group=True, edge_zones=["a", "c"])
    rec = testing.run(lambda: AwsNetwork("net", args))
    children = {(r.name, r.type) for r in rec.children_of(rec.get("net").urn)}
    assert children == {(f"net-{s.name}", s.type) for s in args.plan("net").specs}
    subnet = rec.get("net-hub")
    assert subnet.inputs["vpcId"] == rec.get("net-vpc").id  # the Ref, bound to the VPC's id
    assert "net-edge" in str(rec.get("net-edge-a").options.get("aliases"))


# ---- Azure --------------------------------------------------------------------------------------------

def test_azure_resource_group_is_one_spec_with_the_marks():
    plan = azure_net.render_resource_group("australiaeast", "sbc")
    assert [(s.type, s.name, dict(s.inputs)) for s in plan.specs] == [
        ("azure-native:resources:ResourceGroup", "rg",
         {"location": "australiaeast", "tags": {"spirit-role": "sbc", "spirit-profile": "sbc"}})]


def test_azure_network_has_an_edge_subnet_only_when_asked():
    plain = _by_name(azure_net.render_network(cidr="10.60.0.0/16", profile="sbc", tags={"team": "voice"}))
    assert list(plain) == ["vnet"]
    assert plain["vnet"][1] == {"resourceGroupName": Param("resourceGroupName"), "location": Param("location"),
                                "addressSpace": {"addressPrefixes": ["10.60.0.0/16"]},
                                "tags": {"team": "voice", "spirit-role": "sbc", "spirit-profile": "sbc"}}
    edge = _by_name(azure_net.render_network(cidr="10.60.0.0/16", profile="sbc", edge_subnet=True))
    assert edge["edge"][1] == {"resourceGroupName": Param("resourceGroupName"), "virtualNetworkName": Ref("vnet", "name"),
                               "addressPrefix": "10.60.255.240/28"}


@pytest.mark.parametrize("given_ids", [(), ("networkSecurityGroup",), ("networkSecurityGroup", "natGateway"),
                                       ("networkSecurityGroup", "routeTable")])
def test_azure_site_subnets_carry_exactly_the_associations_given(given_ids):
    plan = azure_net.render_site_subnets(SITES, network_security_group="networkSecurityGroup" in given_ids,
                                         nat_gateway="natGateway" in given_ids, route_table="routeTable" in given_ids)
    specs = _by_name(plan)
    assert list(specs) == list(SITES)
    for site, (t, inputs, _a) in specs.items():
        assert t == "azure-native:network:Subnet" and inputs["addressPrefix"] == SITES[site]
        assert inputs["defaultOutboundAccess"] is False
        assert {k: v for k, v in inputs.items() if isinstance(v, dict)} == {k: {"id": Param(f"{k}Id")} for k in given_ids}
    assert _params(plan) == {"resourceGroupName", "virtualNetworkName", *(f"{k}Id" for k in given_ids)}


# ---- GCP ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy_first, order", [(False, "AFTER_CLASSIC_FIREWALL"), (True, "BEFORE_CLASSIC_FIREWALL")])
def test_gcp_network_without_the_nat(policy_first, order):
    specs = _by_name(gcp_net.render_network(cidr="10.70.0.0/16", sites=SITES, region="australia-southeast1",
                                            policy_first=policy_first))
    assert list(specs) == ["vpc", *SITES]
    assert specs["vpc"][1]["networkFirewallPolicyEnforcementOrder"] == order
    assert specs["vpc"][1]["autoCreateSubnetworks"] is False
    assert specs["hub"][1] == {"network": Ref("vpc"), "ipCidrRange": "10.50.1.0/24", "region": "australia-southeast1",
                               "privateIpGoogleAccess": True}


def test_gcp_network_with_the_nat_has_its_edge_and_admits_the_sites_into_it():
    sites = {"vdi": "10.70.2.0/24", "hub": "10.70.1.0/24"}
    specs = _by_name(gcp_net.render_network(cidr="10.70.0.0/16", sites=sites, region="r1", nat_tag="spirit-qos-nat"))
    assert list(specs) == ["vpc", "vdi", "hub", "edge", "to-qos-nat"]
    assert specs["edge"][1]["ipCidrRange"] == "10.70.255.240/28"
    fw_type, fw, _ = specs["to-qos-nat"]
    assert fw_type == "gcp:compute/firewall:Firewall" and fw["direction"] == "INGRESS"
    assert fw["sourceRanges"] == ["10.70.1.0/24", "10.70.2.0/24"]  # sorted: a site's position does not matter
    assert fw["targetTags"] == ["spirit-qos-nat"] and fw["network"] == Ref("vpc")


def test_gcp_a_site_named_edge_clashes_only_with_the_nat():
    gcp_net.render_network(cidr="10.70.0.0/16", sites={"edge": "10.70.1.0/24"}, region="r1")
    with pytest.raises(ConfigError) as e:
        gcp_net.render_network(cidr="10.70.0.0/16", sites={"edge": "10.70.1.0/24"}, region="r1", nat_tag="t")
    assert e.value.field == "sites" and "'edge'" in str(e.value)
