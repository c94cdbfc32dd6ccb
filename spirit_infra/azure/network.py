"""A minimal VNet for a Spirit deployment: a resource group (optional), the VNet, and one subnet per site.

azure-native models a subnet's NSG and NAT gateway as properties of the ``Subnet`` resource, so this
component registers each subnet once, with both associations, instead of letting the NSG and NAT
components each register the same subnet (two resources owning one subnet fight forever).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import netaddr
import pulumi
import pulumi_azure_native as azure_native

from ..errors import ConfigError
from ..marks import tags as spirit_tags

__all__ = ["AzureNetworkArgs", "AzureNetwork"]


@dataclass
class AzureNetworkArgs:
    """Arguments of :class:`AzureNetwork`."""

    resource_group_name: pulumi.Input[str]
    cidr: str
    sites: Sequence[tuple[str, str]]
    profile: str
    location: pulumi.Input[str] | None = None
    #: NSG to associate with every site subnet
    network_security_group_id: pulumi.Input[str] | None = None
    #: NAT gateway to associate with every site subnet
    nat_gateway_id: pulumi.Input[str] | None = None
    #: route table (QoS NAT appliance) to associate with every site subnet
    route_table_id: pulumi.Input[str] | None = None
    #: an extra subnet for the QoS NAT appliance
    edge_subnet: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            net = netaddr.IPNetwork(self.cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.cidr!r} is not a CIDR", field="cidr") from None
        for site, cidr in self.sites:
            if netaddr.IPNetwork(cidr) not in net:
                raise ConfigError(f"site {site!r} {cidr} is outside {net}", field="sites")

    @property
    def edge_cidr(self) -> str:
        net = netaddr.IPNetwork(self.cidr)
        return str(netaddr.IPNetwork(f"{net.last - 15}/28").cidr)


class AzureNetwork(pulumi.ComponentResource):
    """Outputs: ``vnet_id``, ``vnet_name``, ``site_subnet_ids``, ``edge_subnet_id``."""

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:AzureNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        t = {**args.tags, **spirit_tags(args.profile)}
        vnet = azure_native.network.VirtualNetwork(
            f"{name}-vnet", resource_group_name=args.resource_group_name, location=args.location,
            address_space={"addressPrefixes": [args.cidr]}, tags=t, opts=child)
        self.site_subnet_ids: dict[str, pulumi.Output[str]] = {}
        for site, cidr in args.sites:
            sn = azure_native.network.Subnet(
                f"{name}-{site}", resource_group_name=args.resource_group_name, virtual_network_name=vnet.name,
                address_prefix=cidr, default_outbound_access=False,
                network_security_group={"id": args.network_security_group_id}
                if args.network_security_group_id is not None else None,
                nat_gateway={"id": args.nat_gateway_id} if args.nat_gateway_id is not None else None,
                route_table={"id": args.route_table_id} if args.route_table_id is not None else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[vnet]))
            self.site_subnet_ids[site] = sn.id
        self.edge_subnet_id = None
        if args.edge_subnet:
            edge = azure_native.network.Subnet(
                f"{name}-edge", resource_group_name=args.resource_group_name, virtual_network_name=vnet.name,
                address_prefix=args.edge_cidr, opts=pulumi.ResourceOptions(parent=self, depends_on=[vnet]))
            self.edge_subnet_id = edge.id
        self.vnet_id = vnet.id
        self.vnet_name = vnet.name
        self.register_outputs({"vnetId": vnet.id, "vnetName": vnet.name, "siteSubnetIds": self.site_subnet_ids,
                               "edgeSubnetId": self.edge_subnet_id})
