"""The AWS network render (pure: imports no SDK and not pulumi): a minimal VPC for a Spirit deployment,
and the routes that put AWS Network Firewall in the path.

:func:`render_network` is one VPC, an internet gateway, one subnet and route table per site, and an
``edge`` public subnet per zone that needs one (NAT gateways, the QoS NAT instance). Site subnets are
private (their default route is added by the NAT component) unless ``public_sites`` is set, as for an SBC
with its own Elastic IP.

Everything is keyed by names: a site's subnet, route table and zone derive from its name (its zone from
``site_zones``, which :class:`~spirit_infra.aws.components.AwsNetworkArgs` fills with a stable hash of
the name, :func:`spirit_infra.zones.default_zone`), an edge subnet's CIDR from its zone letter
(:func:`spirit_infra.zones.edge_cidr`), so adding, removing or reordering a site changes no other site's
resources. Zone ``a``'s edge subnet and its association alias the names they had when there was one edge.

:func:`render_firewall_routing` is the two routes per site of :class:`~spirit_infra.aws.components.AwsFirewallRouting`.

Both return a :class:`~spirit_infra.plan.Plan`; what only exists at bind time is a
:class:`~spirit_infra.plan.Param`. The components (:mod:`spirit_infra.aws.components`) register them
through :mod:`spirit_infra.binder`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..marks import tags as spirit_tags
from ..plan import Param, Plan, Ref, ResourceSpec, named_plan
from ..zones import edge_cidr, firewall_cidr, zone_name
from .nat import TYPE_ROUTE
from .rules import TYPE_INGRESS, TYPE_SG

__all__ = ["TYPES", "render_network", "render_firewall_routing", "edge_subnet"]

TYPE_VPC = "aws:ec2/vpc:Vpc"
TYPE_IGW = "aws:ec2/internetGateway:InternetGateway"
TYPE_ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
TYPE_SUBNET = "aws:ec2/subnet:Subnet"
TYPE_RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
#: every type the network renders emit
TYPES = (TYPE_VPC, TYPE_IGW, TYPE_ROUTE_TABLE, TYPE_ROUTE, TYPE_SUBNET, TYPE_RTA, TYPE_SG, TYPE_INGRESS)


_ANY = "0.0.0.0/0"


def edge_subnet(zone: str) -> str:
    """The spec name of ``zone``'s edge subnet."""
    return f"edge-{zone}"


def render_network(name: str, *, cidr: str, sites: Mapping[str, str], site_zones: Mapping[str, str], region: str,
                   edge_zones: list[str] | tuple[str, ...], nat_zone: str, profile: str, public_sites: bool = False,
                   lan_security_group: bool = False, firewall_subnet: bool = False,
                   tags: Mapping[str, str] | None = None) -> Plan:
    """The VPC of a component named ``name`` (validated values: ``site_zones`` gives every site's zone letter).

    Spec names: ``vpc``, ``igw``, ``edge-rt`` and ``edge-default``; per edge zone ``edge-<z>`` and
    ``edge-<z>-rta``; per site ``<site>``, ``<site>-rt``, ``<site>-rta`` (and ``<site>-default`` with
    ``public_sites``); ``fw``, ``fw-rt``, ``fw-rta`` with ``firewall_subnet``; ``lan`` and ``lan-<site>``
    with ``lan_security_group``. A site named like one of these (or like another site's resource) is one
    :class:`~spirit_infra.errors.ConfigError` line naming ``sites``."""
    t = {**(tags or {}), **spirit_tags(profile)}
    vpc = Ref("vpc")

    def tagged(spec: str) -> dict[str, str]:
        return {**t, "Name": f"{name}-{spec}"}

    specs = [
        ResourceSpec(TYPE_VPC, "vpc", {"cidrBlock": cidr, "enableDnsSupport": True, "enableDnsHostnames": True,
                                       "tags": tagged("vpc")}),
        ResourceSpec(TYPE_IGW, "igw", {"vpcId": vpc, "tags": tagged("igw")}),
        ResourceSpec(TYPE_ROUTE_TABLE, "edge-rt", {"vpcId": vpc, "tags": tagged("edge-rt")}),
        ResourceSpec(TYPE_ROUTE, "edge-default", {"routeTableId": Ref("edge-rt"), "destinationCidrBlock": _ANY,
                                                  "gatewayId": Ref("igw")}),
    ]
    for z in edge_zones:
        sub = edge_subnet(z)
        specs += [
            ResourceSpec(TYPE_SUBNET, sub, {"vpcId": vpc, "cidrBlock": edge_cidr(cidr, z),
                                            "availabilityZone": zone_name("aws", region, z),
                                            "mapPublicIpOnLaunch": False, "tags": tagged(sub)},
                         aliases=("edge",) if z == "a" else ()),
            ResourceSpec(TYPE_RTA, f"{sub}-rta", {"subnetId": Ref(sub), "routeTableId": Ref("edge-rt")},
                         aliases=("edge-rta",) if z == "a" else ()),
        ]
    for site, site_cidr in sites.items():
        specs += [
            ResourceSpec(TYPE_SUBNET, site, {"vpcId": vpc, "cidrBlock": site_cidr,
                                             "availabilityZone": zone_name("aws", region, site_zones[site]),
                                             "tags": tagged(site)}),
            ResourceSpec(TYPE_ROUTE_TABLE, f"{site}-rt", {"vpcId": vpc, "tags": tagged(f"{site}-rt")}),
            ResourceSpec(TYPE_RTA, f"{site}-rta", {"subnetId": Ref(site), "routeTableId": Ref(f"{site}-rt")}),
        ]
        if public_sites:
            specs.append(ResourceSpec(TYPE_ROUTE, f"{site}-default", {
                "routeTableId": Ref(f"{site}-rt"), "destinationCidrBlock": _ANY, "gatewayId": Ref("igw")}))
    if firewall_subnet:
        specs += [
            ResourceSpec(TYPE_SUBNET, "fw", {"vpcId": vpc, "cidrBlock": firewall_cidr(cidr),
                                             "availabilityZone": zone_name("aws", region, nat_zone),
                                             "tags": tagged("fw")}),
            ResourceSpec(TYPE_ROUTE_TABLE, "fw-rt", {"vpcId": vpc, "tags": tagged("fw-rt")}),
            ResourceSpec(TYPE_RTA, "fw-rta", {"subnetId": Ref("fw"), "routeTableId": Ref("fw-rt")}),
        ]
    if lan_security_group:
        specs.append(ResourceSpec(TYPE_SG, "lan", {
            "vpcId": vpc, "description": "traffic from the site subnets to the NAT instance (forwarded, filtered by "
            "the NAT ruleset)", "tags": {**(tags or {}), "Name": f"{name}-lan"}}))
        specs += [ResourceSpec(TYPE_INGRESS, f"lan-{site}", {
            "securityGroupId": Ref("lan"), "ipProtocol": "-1", "cidrIpv4": site_cidr,
            "description": f"from site {site}"}) for site, site_cidr in sites.items()]
    return named_plan(specs, "sites")


def render_firewall_routing(site_cidrs: Mapping[str, str]) -> Plan:
    """Per site (by name): ``<site>-out``, its route table's default to the firewall endpoint, and
    ``<site>-return``, the edge route table's route for its CIDR through the same endpoint (both
    directions pass the stateful engine). Parameters: ``endpointId``, ``siteRouteTables`` (site name ->
    route table id) and ``edgeRouteTableId``."""
    endpoint = Param("endpointId")
    specs = []
    for site in sorted(site_cidrs):
        specs += [
            ResourceSpec(TYPE_ROUTE, f"{site}-out", {"routeTableId": Param("siteRouteTables", site),
                                                     "destinationCidrBlock": _ANY, "vpcEndpointId": endpoint}),
            ResourceSpec(TYPE_ROUTE, f"{site}-return", {"routeTableId": Param("edgeRouteTableId"),
                                                        "destinationCidrBlock": site_cidrs[site],
                                                        "vpcEndpointId": endpoint}),
        ]
    return named_plan(specs, "site_cidrs")
