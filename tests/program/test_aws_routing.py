"""AWS wiring: the egress path the program builds is the one the firewall layers assume.

With the FQDN layer (aws-phones) the sites route to the Network Firewall endpoint, the firewall subnet
routes to the NAT, and the edge subnet routes each site back through the endpoint (symmetric). Without it
(aws-communicator) the NAT gateway serves the site route tables directly.
"""

from __future__ import annotations

import yaml

from . import STACKS, preview, preview_file

ROUTE = "aws:ec2/route:Route"


def _routes(res) -> list[dict]:
    return [r for r in res.resources if r["type"] == ROUTE]


def _by_name(res) -> dict[str, dict]:
    return {r["name"]: r for r in res.resources}


def test_phones_sites_go_through_the_firewall_then_the_qos_nat():
    res = preview("aws-phones")
    names = _by_name(res)
    routes = {r["name"]: r["inputs"] for r in _routes(res)}
    # site -> firewall endpoint (the endpoint id is unknown until AWS creates the firewall)
    out = routes["spirit-fw-routes-hub-out"]
    assert out["destinationCidrBlock"] == "0.0.0.0/0" and out["routeTableId"] == "spirit-net-hub-rt-id"
    assert "vpcEndpointId" in out
    # return path: the edge subnet sends the site's CIDR back through the endpoint
    back = routes["spirit-fw-routes-hub-return"]
    assert back["routeTableId"] == "spirit-net-edge-rt-id" and back["destinationCidrBlock"] == "10.42.0.0/24"
    # the firewall subnet's default goes to the QoS NAT instance; no site route table points at the NAT
    nat_routes = [r for n, r in routes.items() if n.startswith("spirit-qos-nat-")]
    assert [r["routeTableId"] for r in nat_routes] == ["spirit-net-fw-rt-id"]
    # the firewall's endpoint lives in its own subnet, not in the NAT's edge subnet
    fw = names["spirit-fw-nfw"]["inputs"]
    assert fw["subnetMappings"] == [{"subnetId": "spirit-net-fw-id"}]
    assert names["spirit-net-fw"]["inputs"]["cidrBlock"] != names["spirit-net-edge-a"]["inputs"]["cidrBlock"]


def test_without_the_firewall_the_nat_gateway_serves_the_sites():
    res = preview("aws-communicator")
    routes = {r["name"]: r["inputs"] for r in _routes(res)}
    nat = {r["routeTableId"] for n, r in routes.items() if n.startswith("spirit-nat-")}
    assert nat == {"spirit-net-vdi-a-rt-id", "spirit-net-vdi-b-rt-id"}
    assert all("natGatewayId" in r for n, r in routes.items() if n.startswith("spirit-nat-"))
    assert not any(n.startswith("spirit-fw-routes") for n in routes)


def test_firewall_with_nat_none_warns_that_it_is_not_in_the_path(tmp_path):
    doc = yaml.safe_load(open(STACKS / "Pulumi.aws-phones.yaml"))
    doc["config"]["spirit:nat"] = "none"
    path = tmp_path / "Pulumi.aws-phones-nonat.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = preview_file(path)
    assert not any(r["name"].startswith("spirit-fw-routes") for r in res.resources)
    assert any("not in the path" in w for w in res.outputs["warnings"])
