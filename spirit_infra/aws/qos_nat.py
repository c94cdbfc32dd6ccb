"""AwsQosNat: the QoS NAT gateway as an EC2 instance (imports pulumi and pulumi_aws).

Registers: an ``aws.ec2.Instance`` with source/destination check off, an ``aws.ec2.Eip`` on it, one
``aws.ec2.Route`` of 0.0.0.0/0 to the instance's network interface in each given route table (keyed by
a stable label, so adding or removing one table never renames the others), and the live ruleset channel:
an ``aws.ssm.Parameter`` holding the payload, and an instance role (``aws.iam.Role``,
``aws.iam.InstanceProfile``) whose only permission (``aws.iam.RolePolicy``) is ``ssm:GetParameter`` on
that one parameter.

The agent reaches SSM without the Internet: an interface VPC endpoint for ``com.amazonaws.<region>.ssm``
in the NAT's subnet (private DNS: ``ssm.<region>.amazonaws.com`` resolves to it inside the VPC), its
security group admitting HTTPS from the VPC, and a group of the instance's own, ``<name>-channel``, whose
one egress rule is HTTPS to that endpoint's group. That rule is the NAT's only egress of its own, named and
in the preview; strict mode's Spirit groups never need to open HTTPS to the world for it. (The instance
metadata service, IMDSv2, is link-local and needs no rule.) Without ``vpc_id`` nothing of this is created
and the instance's groups must admit HTTPS to SSM themselves.

The instance's user data is the boot cloud-init of :mod:`spirit_infra.nat.cloudinit`: it names the
parameter but carries no catalogue input, so a catalogue, override or profile-flow edit changes only the
parameter's value (in place) and the agent on the instance applies it; the instance is never replaced.
(``userDataReplaceOnChange`` stays on: the user data changes only with spirit-infra's own agent, and a
changed boot document only runs on a fresh instance.)
"""

import json
import re
from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from .. import marks
from ..args import ProfileName, args_of, register_declared
from ..errors import ConfigError
from ..extras import sdk
from ..naming import current_stack, fit, physical_prefix
from ..nat.instance import LivePlan, QosNatSettings

aws = sdk("aws")  # one line naming the extra when it is not installed

__all__ = ["AwsQosNat", "AwsQosNatArgs", "DEFAULT_AMI", "DEFAULT_INSTANCE_TYPE"]

#: Debian 12 (bookworm), Debian's own AMI, resolved by EC2 from Debian's public SSM parameter at launch: it
#: carries cloud-init (EC2 datasource), nftables 1.0.6 (priority "important": in every Debian 12 image) and
#: python3 (cloud-init's interpreter), all the NAT needs at run time. Nothing is installed at boot.
DEFAULT_AMI = "resolve:ssm:/aws/service/debian/release/12/latest/amd64"
DEFAULT_INSTANCE_TYPE = "t3.small"
#: EC2 user data: at most 16 KB before base64 encoding.
USER_DATA_LIMIT = 16384
#: SSM parameter values: 4 KB (Standard tier), 8 KB (Advanced)
SSM_STANDARD_LIMIT, SSM_ADVANCED_LIMIT = 4096, 8192
#: how often the agent polls the parameter (seconds)
POLL_SECONDS = 30
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
#: SSM: a-z A-Z 0-9 _ . - and / (at most 15 levels; 1011 characters for a fully qualified name)
_PARAMETER = re.compile(r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,14}$")
#: IAM role and instance profile names: at most 64 characters
IAM_NAME_MAX = 64


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
    region                  the region (the agent's SSM endpoint; default: aws:region, else ap-southeast-2)
    parameter_name          the SSM parameter holding the ruleset (default /spirit-infra/<stack>-<name>/ruleset)
    vpc_id                  the subnet's VPC: an SSM interface endpoint there for the agent (none: no endpoint)
    vpc_cidr                the VPC's IPv4 CIDR (with vpc_id): the endpoint admits HTTPS from it
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
    region: NotRequired[str] = ""
    parameter_name: NotRequired[str] = ""
    vpc_id: NotRequired[pulumi.Input[str]] = None
    vpc_cidr: NotRequired[str] = None
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
        if not isinstance(self.region, str) or self.region and not _REGION.match(self.region):
            raise ConfigError(f"{self.region!r} is not an AWS region (like ap-southeast-2)", field="region")
        if not isinstance(self.parameter_name, str) or self.parameter_name and not _PARAMETER.match(self.parameter_name):
            raise ConfigError(f"{self.parameter_name!r} is not an SSM parameter name (/a/b/c: letters, digits, "
                              "'_', '.', '-', at most 1011 characters)", field="parameter_name")
        if self.vpc_id is not None:
            try:
                net = netaddr.IPNetwork(self.vpc_cidr) if isinstance(self.vpc_cidr, str) else None
            except (netaddr.AddrFormatError, ValueError, TypeError):
                net = None
            if net is None or net.version != 4 or str(net.cidr) != self.vpc_cidr:
                raise ConfigError(f"{self.vpc_cidr!r} is not the VPC's IPv4 CIDR (needed with vpc_id: the SSM "
                                  "endpoint admits HTTPS from it)", field="vpc_cidr")
        # the payload (and its size) before anything: the component name only shapes the parameter's name
        self.plan("spirit-qos-nat")

    def names(self, name: str) -> dict[str, str]:
        """Physical names of the component ``name``: from the stack's and the component's names (naming.py).

        The SSM parameter is unique per account and region; IAM names are account-wide, so the role and
        the instance profile carry the region too (the same stack name in two regions never meets)."""
        prefix = physical_prefix(current_stack(), name)
        region = self.resolved_region
        return {"parameter": self.parameter_name or f"/spirit-infra/{prefix}/ruleset",
                "role": fit(f"{prefix}-{region}-nat", IAM_NAME_MAX),
                "policy": fit(f"{prefix}-read-ruleset", IAM_NAME_MAX)}

    @property
    def resolved_region(self) -> str:
        return self.region or _config_region() or "ap-southeast-2"

    def plan(self, name: str) -> LivePlan:
        """The boot user data (it names the parameter, never the catalogue) and the parameter's value, both
        size-checked before anything is registered."""
        channel = {"channel": "aws-ssm", "parameter": self.names(name)["parameter"], "region": self.resolved_region,
                   "poll": POLL_SECONDS}
        return self.plan_live(self.profile, self.interface, channel, gzipped=True, boot_limit=USER_DATA_LIMIT,
                              boot_what="the gzipped cloud-init (EC2 user data)", payload_limit=SSM_ADVANCED_LIMIT,
                              payload_what="the ruleset payload (SSM parameter value)")


def _config_region() -> str | None:
    try:
        return pulumi.Config("aws").get("region")
    except Exception:  # noqa: BLE001 - outside a Pulumi program there is no config
        return None


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
    ruleset_parameter: pulumi.Output[str]
    """The SSM parameter holding the live ruleset (spirit-nat-agent applies each new value)."""
    ssm_endpoint_id: pulumi.Output[str | None]
    """The SSM interface endpoint the agent reaches its parameter through (absent without vpcId)."""

    def __init__(self, name: str, args: AwsQosNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsQosNatArgs, args)
        plan, names = args.plan(name), args.names(name)
        if len(names["parameter"]) > 1011:
            raise ConfigError(f"{names['parameter']!r} is over SSM's 1011 characters", field="parameter_name")
        super().__init__("spirit:index:AwsQosNat", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**dict(args.tags), **marks.tags(args.profile), "Name": f"{name}-qos-nat"}
        self.parameter = aws.ssm.Parameter(
            f"{name}-ruleset", name=names["parameter"], type="String", data_type="text", value=plan.payload,
            tier="Standard" if len(plan.payload) <= SSM_STANDARD_LIMIT else "Advanced",
            description="Spirit QoS NAT ruleset (spirit-nat-agent applies it live)", tags=tags, opts=child)
        self.role = aws.iam.Role(f"{name}-role", name=names["role"], assume_role_policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"Service": "ec2.amazonaws.com"}}]}, sort_keys=True),
            description="Spirit QoS NAT instance: reads its ruleset parameter, nothing else", tags=tags, opts=child)
        aws.iam.RolePolicy(f"{name}-read-ruleset", name=names["policy"], role=self.role.id, policy=self.parameter.arn.apply(
            lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn}]}, sort_keys=True)), opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-profile", name=names["role"], role=self.role.name, tags=tags,
                                          opts=child)
        groups = list(args.security_group_ids)
        self.ssm_endpoint = self.channel_security_group = None
        if args.vpc_id is not None:
            groups.append(self._channel(name, args, tags, child).id)
        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=args.ami,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=groups or None,
            source_dest_check=False,
            user_data_base64=plan.boot,
            user_data_replace_on_change=True,
            iam_instance_profile=profile.name,
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
        self.ruleset_parameter = self.parameter.name
        self.ssm_endpoint_id = self.ssm_endpoint.id if self.ssm_endpoint else None
        register_declared(self)

    def _channel(self, name: str, args: AwsQosNatArgs, tags: dict, child: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
        """The SSM interface endpoint and the instance's own group whose one egress rule reaches it."""
        region = args.resolved_region
        ep = aws.ec2.SecurityGroup(
            f"{name}-ssm-endpoint", vpc_id=args.vpc_id, tags={**tags, "Name": f"{name}-ssm-endpoint"}, opts=child,
            description="SSM interface endpoint of the Spirit QoS NAT ruleset channel: HTTPS from the VPC")
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-ssm-endpoint-in", security_group_id=ep.id, ip_protocol="tcp", from_port=443, to_port=443,
            cidr_ipv4=args.vpc_cidr, description="HTTPS to SSM from the VPC (the QoS NAT agent)", opts=child)
        own = aws.ec2.SecurityGroup(
            f"{name}-channel", vpc_id=args.vpc_id, tags={**tags, "Name": f"{name}-channel"}, opts=child,
            description="egress of the Spirit QoS NAT itself: HTTPS to its SSM endpoint (the live ruleset), "
                        "nothing else")
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-channel-out", security_group_id=own.id, ip_protocol="tcp", from_port=443, to_port=443,
            referenced_security_group_id=ep.id, description="HTTPS to the SSM endpoint (spirit-nat-agent)",
            opts=child)
        self.ssm_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-ssm", vpc_id=args.vpc_id, service_name=f"com.amazonaws.{region}.ssm",
            vpc_endpoint_type="Interface", subnet_ids=[args.subnet_id], security_group_ids=[ep.id],
            private_dns_enabled=True, tags={**tags, "Name": f"{name}-ssm"}, opts=child)
        self.channel_security_group = own
        return own
