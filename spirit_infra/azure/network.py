"""The Azure network render (pure: imports no SDK and not pulumi): the resource group, a minimal VNet,
and the site subnets with their associations.

azure-native models a subnet's NSG, NAT gateway and route table as properties of the ``Subnet``
resource, so :func:`render_site_subnets` renders each site subnet once, with all three associations,
instead of letting the NSG and NAT components each register the same subnet (two resources owning one
subnet fight forever). It is a separate render (and component, :class:`~spirit_infra.azure.components.AzureSiteSubnets`)
from :func:`render_network` because the QoS NAT appliance lives in the network's edge subnet while the
site subnets route through it.

Each returns a :class:`~spirit_infra.plan.Plan`; what exists only at bind time (the resource group, the
VNet of another component, the NSG's id) is a :class:`~spirit_infra.plan.Param`. The components, and the
program for the resource group, register them through :mod:`spirit_infra.binder`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..marks import tags as spirit_tags
from ..plan import Param, Plan, Ref, ResourceSpec
from ..zones import edge_cidr

__all__ = ["TYPES", "render_resource_group", "render_network", "render_site_subnets"]

TYPE_RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
TYPE_VNET = "azure-native:network:VirtualNetwork"
TYPE_SUBNET = "azure-native:network:Subnet"
#: every type the network renders emit
TYPES = (TYPE_RESOURCE_GROUP, TYPE_VNET, TYPE_SUBNET)

_RG = Param("resourceGroupName")


def render_resource_group(location: str, profile: str) -> Plan:
    """The deployment's resource group, spec ``rg`` (when the stack names none of its own)."""
    return Plan((ResourceSpec(TYPE_RESOURCE_GROUP, "rg", {"location": location, "tags": spirit_tags(profile)}),))


def render_network(*, cidr: str, profile: str, edge_subnet: bool = False,
                   tags: Mapping[str, str] | None = None) -> Plan:
    """The VNet (spec ``vnet``) and, with ``edge_subnet``, the NAT appliance's subnet (``edge``, the top
    /28 of the network). Parameters: ``resourceGroupName`` and ``location`` (``None``: the provider's)."""
    specs = [ResourceSpec(TYPE_VNET, "vnet", {
        "resourceGroupName": _RG, "location": Param("location"), "addressSpace": {"addressPrefixes": [cidr]},
        "tags": {**(tags or {}), **spirit_tags(profile)}})]
    if edge_subnet:
        specs.append(ResourceSpec(TYPE_SUBNET, "edge", {"resourceGroupName": _RG,
                                                        "virtualNetworkName": Ref("vnet", "name"),
                                                        "addressPrefix": edge_cidr(cidr)}))
    return Plan(tuple(specs))


def render_site_subnets(sites: Mapping[str, str], *, network_security_group: bool = False,
                        nat_gateway: bool = False, route_table: bool = False) -> Plan:
    """One subnet per site (spec ``<site>``), no default outbound access, each associated with the NSG, the
    NAT gateway and the route table that are given. Parameters: ``resourceGroupName``,
    ``virtualNetworkName`` and, for each association given, ``networkSecurityGroupId``, ``natGatewayId``,
    ``routeTableId``."""
    associations = {key: {"id": Param(f"{key}Id")} for key, given in (
        ("networkSecurityGroup", network_security_group), ("natGateway", nat_gateway),
        ("routeTable", route_table)) if given}
    return Plan(tuple(ResourceSpec(TYPE_SUBNET, site, {
        "resourceGroupName": _RG, "virtualNetworkName": Param("virtualNetworkName"), "addressPrefix": site_cidr,
        "defaultOutboundAccess": False, **associations}) for site, site_cidr in sites.items()))
