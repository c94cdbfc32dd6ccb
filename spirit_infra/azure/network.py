"""A minimal VNet for a Spirit deployment, and the site subnets with their associations.

azure-native models a subnet's NSG, NAT gateway and route table as properties of the ``Subnet``
resource, so :class:`AzureSiteSubnets` registers each site subnet once, with all three associations,
instead of letting the NSG and NAT components each register the same subnet (two resources owning one
subnet fight forever). It is a separate component from :class:`AzureNetwork` because the QoS NAT
appliance lives in the network's edge subnet while the site subnets route through it.
"""

from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from ..args import ProfileName, args_of, register_declared, site_map
from ..errors import ConfigError
from ..extras import sdk
from ..marks import tags as spirit_tags

azure_native = sdk("azure")  # one line naming the extra when it is not installed

__all__ = ["AzureNetworkArgs", "AzureNetwork", "AzureSiteSubnetsArgs", "AzureSiteSubnets"]


def _check(cidr: str, sites: dict[str, str]) -> netaddr.IPNetwork:
    try:
        net = netaddr.IPNetwork(cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ConfigError(f"{cidr!r} is not a CIDR", field="cidr") from None
    for site, c in sites.items():
        if netaddr.IPNetwork(c) not in net:
            raise ConfigError(f"site {site!r} {c} is outside {net}", field="sites")
    return net


@dataclass
class AzureNetworkArgs:
    """Arguments of :class:`AzureNetwork`: the VNet and, optionally, an edge subnet for the NAT appliance."""

    resource_group_name: pulumi.Input[str]
    cidr: str
    profile: ProfileName
    location: NotRequired[pulumi.Input[str]] = None
    edge_subnet: NotRequired[bool] = False
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.cidr, {})

    @property
    def edge_cidr(self) -> str:
        net = netaddr.IPNetwork(self.cidr)
        return str(netaddr.IPNetwork(f"{netaddr.IPAddress(net.last - 15)}/28").cidr)


class AzureNetwork(pulumi.ComponentResource):
    """A minimal VNet for a Spirit deployment and, optionally, an edge subnet for the NAT appliance."""

    vnet_id: pulumi.Output[str]
    """The VNet's id."""
    vnet_name: pulumi.Output[str]
    """The VNet's Azure name."""
    edge_subnet_id: pulumi.Output[str | None]
    """The edge subnet (absent without edgeSubnet)."""

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNetworkArgs, args)
        super().__init__("spirit:index:AzureNetwork", name, None, opts)
        t = {**args.tags, **spirit_tags(args.profile)}
        vnet = azure_native.network.VirtualNetwork(
            f"{name}-vnet", resource_group_name=args.resource_group_name, location=args.location,
            address_space={"addressPrefixes": [args.cidr]}, tags=t, opts=pulumi.ResourceOptions(parent=self))
        self.edge_subnet_id = None
        if args.edge_subnet:
            edge = azure_native.network.Subnet(
                f"{name}-edge", resource_group_name=args.resource_group_name, virtual_network_name=vnet.name,
                address_prefix=args.edge_cidr, opts=pulumi.ResourceOptions(parent=self))
            self.edge_subnet_id = edge.id
        self.vnet_id = vnet.id
        self.vnet_name = vnet.name
        register_declared(self)


@dataclass
class AzureSiteSubnetsArgs:
    """Arguments of :class:`AzureSiteSubnets`: one subnet per site, each with its associations."""

    resource_group_name: pulumi.Input[str]
    virtual_network_name: pulumi.Input[str]
    network_cidr: str
    sites: dict[str, str]
    #: NSG to associate with every site subnet
    network_security_group_id: NotRequired[pulumi.Input[str]] = None
    #: NAT gateway to associate with every site subnet
    nat_gateway_id: NotRequired[pulumi.Input[str]] = None
    #: route table (the QoS NAT appliance) to associate with every site subnet
    route_table_id: NotRequired[pulumi.Input[str]] = None

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        if not self.sites:
            raise ConfigError("at least one site is needed", field="sites")
        _check(self.network_cidr, self.sites)


class AzureSiteSubnets(pulumi.ComponentResource):
    """One subnet per site, each with its NSG, NAT gateway and route table associations."""

    site_subnet_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnet id."""

    def __init__(self, name: str, args: AzureSiteSubnetsArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureSiteSubnetsArgs, args)
        super().__init__("spirit:index:AzureSiteSubnets", name, None, opts)
        self.site_subnet_ids: dict[str, pulumi.Output[str]] = {}
        for site, cidr in args.sites.items():
            sn = azure_native.network.Subnet(
                f"{name}-{site}", resource_group_name=args.resource_group_name,
                virtual_network_name=args.virtual_network_name, address_prefix=cidr, default_outbound_access=False,
                network_security_group={"id": args.network_security_group_id}
                if args.network_security_group_id is not None else None,
                nat_gateway={"id": args.nat_gateway_id} if args.nat_gateway_id is not None else None,
                route_table={"id": args.route_table_id} if args.route_table_id is not None else None,
                opts=pulumi.ResourceOptions(parent=self))
            self.site_subnet_ids[site] = sn.id
        register_declared(self)
