"""AwsQosNat: the QoS NAT gateway as an EC2 instance (imports pulumi and pulumi_aws).

Registers: an ``aws.ec2.Instance`` with source/destination check off and the cloud-init of
:mod:`spirit_infra.nat` as user data, an ``aws.ec2.Eip`` on it, and one ``aws.ec2.Route`` of 0.0.0.0/0
to the instance's network interface in each given route table (keyed by a stable label, so adding or
removing one table never renames the others).
"""

import re
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from .. import marks
from ..args import ProfileName, args_of, register_declared
from ..errors import ConfigError
from ..extras import sdk
from ..nat.instance import QosNatSettings

aws = sdk("aws")  # one line naming the extra when it is not installed

__all__ = ["AwsQosNat", "AwsQosNatArgs", "DEFAULT_AMI", "DEFAULT_INSTANCE_TYPE"]

#: Debian 12 (cloud-init, nftables >= 1.0.6), resolved by EC2 from the public SSM parameter at launch.
DEFAULT_AMI = "resolve:ssm:/aws/service/debian/release/12/latest/amd64"
DEFAULT_INSTANCE_TYPE = "t3.small"
#: EC2 user data: at most 16 KB before base64 encoding.
USER_DATA_LIMIT = 16384
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass
class AwsQosNatArgs(QosNatSettings):
    """Arguments of :class:`AwsQosNat`.

    profile                 phones | communicator | sbc: which catalogue flows the gateway forwards and marks
    subnet_id               the public subnet the instance lives in (its route table has an Internet gateway)
    route_tables            stable label -> route table id of each private subnet to route through the gateway
    security_group_ids      security groups of the instance (must admit the private subnets' traffic)
    instance_type           EC2 instance type (default t3.small)
    ami                     image id, or a ``resolve:ssm:`` parameter (default: latest Debian 12 amd64)
    interface               the instance's one network interface as the OS names it (Nitro: ens5)
    overrides               customer overrides for the profile
    snat_address            SNAT to this address instead of masquerading (rarely needed on AWS)
    strict                  forward only the profile's flows (default True)
    sip_keepalive_seconds   the clients' SIP keepalive; UDP conntrack timeouts outlive it
    udp_timeout             conntrack UDP timeout (default max(300, 2 x keepalive))
    tags                    extra tags (the spirit-* marks are always set)
    """

    profile: ProfileName
    subnet_id: pulumi.Input[str]
    route_tables: NotRequired[dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    security_group_ids: NotRequired[list[pulumi.Input[str]]] = field(default_factory=list)
    instance_type: NotRequired[str] = DEFAULT_INSTANCE_TYPE
    ami: NotRequired[str] = DEFAULT_AMI
    interface: NotRequired[str] = "ens5"
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.subnet_id:
            raise ConfigError("a public subnet id is required", field="subnet_id")
        for label in self.route_tables:
            if not isinstance(label, str) or not _LABEL.match(label):
                raise ConfigError(f"{label!r} is not a route table label (lower case letters, digits, '-')",
                                  field="route_tables")
        if not self.instance_type or not isinstance(self.instance_type, str):
            raise ConfigError("an instance type is required", field="instance_type")
        if not self.ami or not isinstance(self.ami, str):
            raise ConfigError("an AMI id or resolve:ssm: parameter is required", field="ami")
        self.plan()

    def plan(self) -> tuple:
        """(instance spec, base64 gzipped user data), size-checked before anything is registered."""
        return self.plan_user_data(self.profile, self.interface, gzipped=True, limit=USER_DATA_LIMIT,
                                   what="the gzipped cloud-init (EC2 user data)")


class AwsQosNat(pulumi.ComponentResource):
    """A QoS NAT gateway instance with an EIP, and the private route tables' default route pointing at it."""

    instance_id: pulumi.Output[str]
    """The NAT instance's id."""
    network_interface_id: pulumi.Output[str]
    """The instance's network interface (the private route tables' next hop)."""
    private_ip: pulumi.Output[str]
    """The instance's private address."""
    public_ip: pulumi.Output[str]
    """The Elastic IP (what Spirit allowlists)."""

    def __init__(self, name: str, args: AwsQosNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsQosNatArgs, args)
        _spec, user_data = args.plan()
        super().__init__("spirit:index:AwsQosNat", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**dict(args.tags), **marks.tags(args.profile), "Name": f"{name}-qos-nat"}
        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=args.ami,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=list(args.security_group_ids) or None,
            source_dest_check=False,
            user_data_base64=user_data,
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required", http_endpoint="enabled"),
            tags=tags,
            opts=child,
        )
        self.eip = aws.ec2.Eip(f"{name}-eip", domain="vpc", instance=self.instance.id, tags=tags, opts=child)
        self.routes = {
            label: aws.ec2.Route(
                f"{name}-route-{label}",
                route_table_id=rt,
                destination_cidr_block="0.0.0.0/0",
                network_interface_id=self.instance.primary_network_interface_id,
                opts=child,
            )
            for label, rt in sorted(args.route_tables.items())
        }
        self.instance_id = self.instance.id
        self.network_interface_id = self.instance.primary_network_interface_id
        self.private_ip = self.instance.private_ip
        self.public_ip = self.eip.public_ip
        register_declared(self)
