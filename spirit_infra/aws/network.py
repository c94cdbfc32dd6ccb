"""A minimal VPC for a Spirit deployment (used when the stack does not attach to an existing one).

One VPC, an internet gateway, one subnet and route table per site, and an ``edge`` public subnet per
zone that needs one (NAT gateways, the QoS NAT instance). Site subnets are private (their default route
is added by the NAT component) unless ``public_sites`` is set, as for an SBC with its own Elastic IP.

Everything is keyed by names: a site's subnet, route table and zone derive from its name (its zone from
``site_zones`` or a stable hash of the name, :func:`spirit_infra.zones.default_zone`), an edge subnet's
CIDR from its zone letter (:func:`spirit_infra.zones.edge_cidr`), so adding, removing or reordering a site
changes no other site's resources.
"""

from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from ..args import ProfileName, args_of, register_declared, site_map
from ..errors import ConfigError
from ..extras import sdk
from ..marks import tags as spirit_tags
from ..zones import DEFAULT_ZONES, default_zone, edge_cidr, firewall_cidr, is_zone

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
    #: availability zone suffixes (letters) sites may use; a site not in ``site_zones`` gets
    #: :func:`~spirit_infra.zones.default_zone` of its name over them (never its list position)
    zones: NotRequired[list[str]] = field(default_factory=lambda: list(DEFAULT_ZONES))
    #: site name -> zone suffix, for sites that name their zone
    site_zones: NotRequired[dict[str, str]] = field(default_factory=dict)
    #: the zones that get an edge (public) subnet; default: the NAT's zone only
    edge_zones: NotRequired[list[str]] = field(default_factory=list)
    #: the zone of the QoS NAT instance's edge subnet and of the Network Firewall subnet (default: min(zones))
    nat_zone: NotRequired[str] = ""
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
        self.zones = list(self.zones)
        if not self.zones or not all(is_zone(z) for z in self.zones):
            raise ConfigError(f"{self.zones!r}: zones are one lower-case letter each, at least one", field="zones")
        self.nat_zone = self.nat_zone or min(self.zones)
        self.edge_zones = sorted(set(self.edge_zones or (self.nat_zone,)))
        self.site_zones = dict(self.site_zones)
        for what, z in [("nat_zone", self.nat_zone), *(("edge_zones", z) for z in self.edge_zones),
                        *(("site_zones", z) for z in self.site_zones.values())]:
            if z not in self.zones:
                raise ConfigError(f"zone {z!r} is not one of zones ({', '.join(self.zones)})", field=what)
        for site in self.site_zones:
            if site not in self.sites:
                raise ConfigError(f"{site!r} is not a site", field="site_zones")
        for name, cidr in self.sites.items():
            if netaddr.IPNetwork(cidr) not in net:
                raise ConfigError(f"site {name!r} {cidr} is outside {net}", field="sites")
        for z in self.edge_zones:
            try:
                edge_cidr(self.cidr, z)
            except ValueError as e:
                raise ConfigError(str(e), field="edge_zones") from None

    def site_zone(self, site: str) -> str:
        """A site's zone suffix: named in ``site_zones``, else a stable hash of its name."""
        return self.site_zones.get(site) or default_zone(site, self.zones)

    @property
    def edge_cidr(self) -> str:
        """The NAT zone's edge subnet (public: NAT gateway, the QoS NAT instance)."""
        return edge_cidr(self.cidr, self.nat_zone)

    @property
    def firewall_cidr(self) -> str:
        """The Network Firewall endpoint subnet (the /28 below the zone-``a`` edge subnet)."""
        return firewall_cidr(self.cidr)


class AwsNetwork(pulumi.ComponentResource):
    """A minimal VPC for a Spirit deployment: an internet gateway, a subnet and route table per site and a public
    edge subnet (NAT)."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    edge_subnet_id: pulumi.Output[str]
    """The NAT zone's public edge subnet (a single NAT gateway, the QoS NAT instance)."""
    edge_subnet_ids: dict[str, pulumi.Output[str]]
    """Zone letter -> public edge subnet, one per zone that needs one (a NAT gateway per zone)."""
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
        edge_rt = aws.ec2.RouteTable(f"{name}-edge-rt", vpc_id=vpc.id, tags={**t, "Name": f"{name}-edge-rt"},
                                     opts=child)
        aws.ec2.Route(f"{name}-edge-default", route_table_id=edge_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)
        #: zone suffix -> edge subnet id. Zone a's subnet keeps the name it had when there was one edge.
        self.edge_subnet_ids: dict[str, pulumi.Output[str]] = {}
        for z in args.edge_zones:
            sub = f"{name}-edge-{z}"
            old = [pulumi.Alias(name=f"{name}-edge")] if z == "a" else []
            old_rta = [pulumi.Alias(name=f"{name}-edge-rta")] if z == "a" else []
            edge = aws.ec2.Subnet(sub, vpc_id=vpc.id, cidr_block=edge_cidr(args.cidr, z),
                                  availability_zone=f"{args.region}{z}", map_public_ip_on_launch=False,
                                  tags={**t, "Name": sub}, opts=pulumi.ResourceOptions(parent=self, aliases=old))
            aws.ec2.RouteTableAssociation(f"{sub}-rta", subnet_id=edge.id, route_table_id=edge_rt.id,
                                          opts=pulumi.ResourceOptions(parent=self, aliases=old_rta))
            self.edge_subnet_ids[z] = edge.id
        self.site_subnet_ids: dict[str, pulumi.Output[str]] = {}
        self.site_route_table_ids: dict[str, pulumi.Output[str]] = {}
        self.site_zones: dict[str, str] = {}
        for site, cidr in args.sites.items():
            zone = f"{args.region}{args.site_zone(site)}"
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
                                availability_zone=f"{args.region}{args.nat_zone}",
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
        #: the NAT zone's edge subnet (the QoS NAT instance, a single NAT gateway)
        self.edge_subnet_id = self.edge_subnet_ids.get(args.nat_zone)
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
