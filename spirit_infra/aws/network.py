"""A minimal VPC for a Spirit deployment (used when the stack does not attach to an existing one).

One VPC, an internet gateway, one subnet and route table per site, and an ``edge`` public subnet for
NAT gateways or the QoS NAT instance. Site subnets are private (their default route is added by the
NAT component) unless ``public_sites`` is set, as for an SBC with its own Elastic IP.
"""

from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from ..args import ProfileName, args_of, register_declared, site_map
from ..errors import ConfigError
from ..extras import sdk
from ..marks import tags as spirit_tags

aws = sdk("aws")  # one line naming the extra when it is not installed

__all__ = ["AwsNetworkArgs", "AwsNetwork", "AwsFirewallRoutingArgs", "AwsFirewallRouting"]


@dataclass
class AwsNetworkArgs:
    """Arguments of :class:`AwsNetwork`."""

    #: the VPC's IPv4 CIDR
    cidr: str
    #: (name, cidr) of each site subnet (VDI subnets, phone-site hub, the SBC's subnet)
    sites: dict[str, str]
    #: the deployment profile (for tags)
    profile: ProfileName
    #: route the site subnets straight to the internet gateway (an SBC with its own public IP)
    public_sites: NotRequired[bool] = False
    #: availability zone suffixes; sites are spread over them in order
    zones: NotRequired[list[str]] = field(default_factory=lambda: list(("a", "b")))
    region: NotRequired[str] = "ap-southeast-2"
    #: a security group admitting all traffic from the site subnets (for a NAT instance's interface)
    lan_security_group: NotRequired[bool] = False
    #: a subnet for AWS Network Firewall endpoints, with its own route table (see AwsFirewallRouting)
    firewall_subnet: NotRequired[bool] = False
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sites = site_map(self.sites)
        try:
            net = netaddr.IPNetwork(self.cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.cidr!r} is not a CIDR", field="cidr") from None
        if not self.sites:
            raise ConfigError("at least one site is needed", field="sites")
        for name, cidr in self.sites.items():
            if netaddr.IPNetwork(cidr) not in net:
                raise ConfigError(f"site {name!r} {cidr} is outside {net}", field="sites")

    @property
    def edge_cidr(self) -> str:
        """The last /28 of the VPC: the public edge subnet (NAT gateways, the QoS NAT instance)."""
        net = netaddr.IPNetwork(self.cidr)
        return str(netaddr.IPNetwork(f"{netaddr.IPAddress(net.last - 15)}/28").cidr)

    @property
    def firewall_cidr(self) -> str:
        """The /28 below the edge subnet: the Network Firewall endpoint subnet."""
        net = netaddr.IPNetwork(self.cidr)
        return str(netaddr.IPNetwork(f"{netaddr.IPAddress(net.last - 31)}/28").cidr)


class AwsNetwork(pulumi.ComponentResource):
    """A minimal VPC for a Spirit deployment: an internet gateway, a subnet and route table per site and a public
    edge subnet (NAT)."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    edge_subnet_id: pulumi.Output[str]
    """The public edge subnet (NAT gateway, QoS NAT instance)."""
    edge_route_table_id: pulumi.Output[str]
    """The edge subnet's route table."""
    internet_gateway_id: pulumi.Output[str]
    """The internet gateway."""
    site_subnet_ids: dict[str, pulumi.Output[str]]
    """Site name -> subnet id."""
    site_route_table_ids: dict[str, pulumi.Output[str]]
    """Site name -> route table id."""
    lan_security_group_id: pulumi.Output[str | None]
    """The group admitting the sites' traffic into a NAT instance (absent without lanSecurityGroup)."""
    firewall_subnet_id: pulumi.Output[str | None]
    """The Network Firewall endpoint subnet (absent without firewallSubnet)."""
    firewall_route_table_id: pulumi.Output[str | None]
    """The firewall subnet's route table (absent without firewallSubnet)."""

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsNetworkArgs, args)
        super().__init__("spirit:index:AwsNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        t = {**args.tags, **spirit_tags(args.profile)}
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr, enable_dns_support=True, enable_dns_hostnames=True,
                          tags={**t, "Name": f"{name}-vpc"}, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**t, "Name": f"{name}-igw"}, opts=child)
        edge = aws.ec2.Subnet(f"{name}-edge", vpc_id=vpc.id, cidr_block=args.edge_cidr,
                              availability_zone=f"{args.region}{args.zones[0]}", map_public_ip_on_launch=False,
                              tags={**t, "Name": f"{name}-edge"}, opts=child)
        edge_rt = aws.ec2.RouteTable(f"{name}-edge-rt", vpc_id=vpc.id, tags={**t, "Name": f"{name}-edge-rt"},
                                     opts=child)
        aws.ec2.Route(f"{name}-edge-default", route_table_id=edge_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-edge-rta", subnet_id=edge.id, route_table_id=edge_rt.id, opts=child)
        self.site_subnet_ids: dict[str, pulumi.Output[str]] = {}
        self.site_route_table_ids: dict[str, pulumi.Output[str]] = {}
        self.site_zones: dict[str, str] = {}
        for i, (site, cidr) in enumerate(args.sites.items()):
            zone = f"{args.region}{args.zones[i % len(args.zones)]}"
            sn = aws.ec2.Subnet(f"{name}-{site}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zone,
                                tags={**t, "Name": f"{name}-{site}"}, opts=child)
            rt = aws.ec2.RouteTable(f"{name}-{site}-rt", vpc_id=vpc.id, tags={**t, "Name": f"{name}-{site}-rt"},
                                    opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-{site}-rta", subnet_id=sn.id, route_table_id=rt.id, opts=child)
            if args.public_sites:
                aws.ec2.Route(f"{name}-{site}-default", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                              gateway_id=igw.id, opts=child)
            self.site_subnet_ids[site] = sn.id
            self.site_route_table_ids[site] = rt.id
            self.site_zones[site] = zone
        self.firewall_subnet_id = self.firewall_route_table_id = None
        if args.firewall_subnet:
            fw = aws.ec2.Subnet(f"{name}-fw", vpc_id=vpc.id, cidr_block=args.firewall_cidr,
                                availability_zone=f"{args.region}{args.zones[0]}",
                                tags={**t, "Name": f"{name}-fw"}, opts=child)
            fw_rt = aws.ec2.RouteTable(f"{name}-fw-rt", vpc_id=vpc.id, tags={**t, "Name": f"{name}-fw-rt"},
                                       opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-fw-rta", subnet_id=fw.id, route_table_id=fw_rt.id, opts=child)
            self.firewall_subnet_id, self.firewall_route_table_id = fw.id, fw_rt.id
        self.lan_security_group_id = None
        if args.lan_security_group:
            lan = aws.ec2.SecurityGroup(f"{name}-lan", vpc_id=vpc.id, description="traffic from the site subnets "
                                        "to the NAT instance (forwarded, filtered by the NAT ruleset)",
                                        tags={**args.tags, "Name": f"{name}-lan"}, opts=child)
            for site, cidr in args.sites.items():
                aws.vpc.SecurityGroupIngressRule(f"{name}-lan-{site}", security_group_id=lan.id, ip_protocol="-1",
                                                 cidr_ipv4=cidr, description=f"from site {site}", opts=child)
            self.lan_security_group_id = lan.id
        self.vpc_id = vpc.id
        self.edge_subnet_id = edge.id
        self.edge_route_table_id = edge_rt.id
        self.internet_gateway_id = igw.id
        register_declared(self)


@dataclass
class AwsFirewallRoutingArgs:
    """Routes that put AWS Network Firewall in the path: sites -> firewall endpoint -> NAT -> internet.

    The site route tables send ``0.0.0.0/0`` to the firewall endpoint; the edge (NAT) subnet sends each
    site's CIDR back through the same endpoint, so both directions pass the stateful engine (asymmetric
    routing would make it drop the replies). The NAT component routes the firewall subnet's default.
    """

    #: the firewall endpoint (``vpce-...``) in the firewall subnet
    endpoint_id: pulumi.Input[str]
    #: site name -> route table id
    site_route_tables: dict[str, pulumi.Input[str]]
    #: site name -> CIDR
    site_cidrs: dict[str, str]
    #: the edge subnet's route table (where the NAT lives)
    edge_route_table_id: pulumi.Input[str]

    def __post_init__(self) -> None:
        if set(self.site_route_tables) != set(self.site_cidrs):
            raise ConfigError("site_route_tables and site_cidrs must name the same sites", field="site_cidrs")


class AwsFirewallRouting(pulumi.ComponentResource):
    """Routes that put AWS Network Firewall in the path (sites -> firewall endpoint -> NAT -> internet, and back)."""

    def __init__(self, name: str, args: AwsFirewallRoutingArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsFirewallRoutingArgs, args)
        super().__init__("spirit:index:AwsFirewallRouting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for site in sorted(args.site_route_tables):
            aws.ec2.Route(f"{name}-{site}-out", route_table_id=args.site_route_tables[site],
                          destination_cidr_block="0.0.0.0/0", vpc_endpoint_id=args.endpoint_id, opts=child)
            aws.ec2.Route(f"{name}-{site}-return", route_table_id=args.edge_route_table_id,
                          destination_cidr_block=args.site_cidrs[site], vpc_endpoint_id=args.endpoint_id, opts=child)
        register_declared(self)
