"""Sites keyed by name (issue 12 §3): zones from config or a stable hash of the name, the NAT in an edge
subnet of its own (spirit:natZone), and on AWS one managed NAT gateway per zone in use."""

from __future__ import annotations

import itertools

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spirit_infra.stackconfig import parse
from spirit_infra.zones import default_zone, edge_cidr, firewall_cidr

from . import STACKS, preview, preview_file

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)


@given(st.lists(NAMES, min_size=1, max_size=12, unique=True), st.randoms())
def test_default_zone_depends_on_the_name_only(names, rnd):
    zones = ("a", "b", "c")
    before = {n: default_zone(n, zones) for n in names}
    shuffled = list(names)
    rnd.shuffle(shuffled)
    assert {n: default_zone(n, tuple(reversed(zones))) for n in shuffled} == before
    assert all(z in zones for z in before.values())


@given(st.lists(NAMES, min_size=1, max_size=30, unique=True))
def test_a_new_zone_moves_only_sites_to_it(names):
    """Rendezvous hashing: adding zone d moves a site to d or nowhere."""
    for n in names:
        old, new = default_zone(n, ("a", "b", "c")), default_zone(n, ("a", "b", "c", "d"))
        assert new in (old, "d")


def test_the_default_spreads_sites_over_the_zones():
    counts = {z: 0 for z in "abc"}
    for i in range(300):
        counts[default_zone(f"site-{i}", tuple("abc"))] += 1
    assert all(60 < c < 140 for c in counts.values()), counts


def test_edge_subnets_by_zone_letter_are_disjoint_and_below_the_top():
    net = "10.40.0.0/16"
    cidrs = [edge_cidr(net, z) for z in "abcdef"] + [firewall_cidr(net)]
    assert edge_cidr(net, "a") == "10.40.255.240/28"  # what the single edge subnet always was
    assert firewall_cidr(net) == "10.40.255.224/28"
    for x, y in itertools.combinations(cidrs, 2):
        assert netaddr.IPNetwork(x) not in netaddr.IPNetwork(y) and netaddr.IPNetwork(y) not in netaddr.IPNetwork(x)
    with pytest.raises(ValueError):
        edge_cidr("10.40.0.0/27", "b")


def _aws(sites, **extra):
    raw = {"spirit:cloud": "aws", "spirit:profile": "communicator", "spirit:networkCidr": "10.41.0.0/16",
           "spirit:sites": sites, **{f"spirit:{k}": v for k, v in extra.items()}}
    return parse(raw)


def test_a_site_keeps_its_zone_whatever_else_is_listed():
    one = _aws([{"name": "vdi", "cidr": "10.41.1.0/24"}])
    many = _aws([{"name": "x", "cidr": "10.41.0.0/24"}, {"name": "vdi", "cidr": "10.41.1.0/24"},
                 {"name": "y", "cidr": "10.41.2.0/24", "zone": "c"}])
    assert one.sites[0].zone == many.sites[1].zone == default_zone("vdi", ("a", "b", "c"))
    assert many.sites[2].zone == "c"
    assert many.edge_zones == tuple(sorted({s.zone for s in many.sites}))
    single = _aws([{"name": "x", "cidr": "10.41.0.0/24", "zone": "b"}], natGatewayPerZone=False, natZone="c")
    assert single.edge_zones == ("c",)


def test_azure_and_gcp_sites_have_no_zone():
    for cloud in ("azure", "gcp"):
        cfg = parse({"spirit:cloud": cloud, "spirit:profile": "communicator",
                     "spirit:sites": [{"name": "vdi", "cidr": "10.40.1.0/24"}]})
        assert [s.zone for s in cfg.sites] == [""] and cfg.edge_zones == ()


def _by_name(res):
    return {r["name"]: r for r in res.resources}


def test_aws_managed_nat_one_gateway_per_zone_each_site_to_its_own():
    """aws-communicator: vdi-a in zone a, vdi-b in zone b; each routes to the gateway in its own zone."""
    res = _by_name(preview("aws-communicator"))
    gateways = {n: r for n, r in res.items() if r["type"] == "aws:ec2/natGateway:NatGateway"}
    assert sorted(gateways) == ["spirit-nat-natgw-a", "spirit-nat-natgw-b"]
    subnet_zone = {f"{n}-id": r["inputs"]["availabilityZone"] for n, r in res.items()
                   if r["type"] == "aws:ec2/subnet:Subnet"}
    for site in ("vdi-a", "vdi-b"):
        route = res[f"spirit-nat-route-{site}"]["inputs"]
        assert route["routeTableId"] == f"spirit-net-{site}-rt-id"
        gw = gateways[route["natGatewayId"].removesuffix("-id")]["inputs"]
        assert subnet_zone[gw["subnetId"]] == subnet_zone[f"spirit-net-{site}-id"], site
    # the edge subnets are public: associated with the route table whose default goes to the IGW
    for z in "ab":
        assert res[f"spirit-net-edge-{z}-rta"]["inputs"]["routeTableId"] == "spirit-net-edge-rt-id"
        assert res[f"spirit-net-edge-{z}"]["inputs"]["cidrBlock"] == edge_cidr("10.41.0.0/16", z)
    assert res["spirit-net-edge-default"]["inputs"]["gatewayId"] == "spirit-net-igw-id"


def test_aws_single_gateway_option(tmp_path):
    src = (STACKS / "Pulumi.aws-communicator.yaml").read_text()
    path = tmp_path / "Pulumi.single.yaml"
    path.write_text(src + "  spirit:natGatewayPerZone: false\n  spirit:natZone: b\n")
    res = _by_name(preview_file(path))
    assert sorted(n for n, r in res.items() if r["type"] == "aws:ec2/natGateway:NatGateway") == ["spirit-nat-natgw-b"]
    assert sorted(n for n, r in res.items() if r["type"] == "aws:ec2/subnet:Subnet" and "-edge" in n) == \
        ["spirit-net-edge-b"]
    for site in ("vdi-a", "vdi-b"):
        assert res[f"spirit-nat-route-{site}"]["inputs"]["natGatewayId"] == "spirit-nat-natgw-b-id"


def test_qos_nat_sits_in_its_own_subnet_in_the_nat_zone():
    aws = _by_name(preview("aws-phones"))
    inst = aws["spirit-qos-nat-instance"]["inputs"]
    assert inst["subnetId"] == "spirit-net-edge-a-id"
    assert aws["spirit-net-edge-a"]["inputs"]["availabilityZone"] == "ap-southeast-2a"
    gcp = _by_name(preview("gcp-phones"))
    inst = gcp["spirit-qos-nat-instance"]["inputs"]
    assert inst["networkInterfaces"][0]["subnetwork"] == "spirit-net-edge-id"
    assert inst["zone"] == "australia-southeast1-a"
    assert gcp["spirit-net-edge"]["inputs"]["ipCidrRange"] == edge_cidr("10.61.0.0/16")
