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

The component is a thin shell: its Args validate, :func:`spirit_infra.aws.nat.render_qos_nat` (pure) renders
every resource as a :class:`~spirit_infra.plan.Plan` before anything is registered, and the one binder
(:func:`spirit_infra.binder.bind`) registers it; the ids known only at bind time are the plan's Params.
"""

import re
from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from ..args import ProfileName, args_of, register_declared
from ..binder import bind
from ..errors import ConfigError
from ..naming import current_stack, fit, physical_prefix
from ..nat.instance import LivePlan, QosNatSettings
from ..plan import Plan
from ..planning import planned
from .components import CLASSES
from .nat import SSM_ADVANCED_LIMIT, render_qos_nat

__all__ = ["AwsQosNat", "AwsQosNatArgs", "DEFAULT_AMI", "DEFAULT_INSTANCE_TYPE"]

#: Debian 12 (bookworm), Debian's own AMI, resolved by EC2 from Debian's public SSM parameter at launch: it
#: carries cloud-init (EC2 datasource), nftables 1.0.6 (priority "important": in every Debian 12 image) and
#: python3 (cloud-init's interpreter), all the NAT needs at run time. Nothing is installed at boot.
DEFAULT_AMI = "resolve:ssm:/aws/service/debian/release/12/latest/amd64"
DEFAULT_INSTANCE_TYPE = "t3.small"
#: EC2 user data: at most 16 KB before base64 encoding.
USER_DATA_LIMIT = 16384
#: how often the agent polls the parameter (seconds)
POLL_SECONDS = 30
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
        # the payload (and its size) and every spec before anything: the component name only shapes names
        self.render("spirit-qos-nat")

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

    def render(self, name: str) -> Plan:
        """Every resource of the component ``name`` (:func:`~spirit_infra.aws.nat.render_qos_nat`; cached)."""
        return planned(self, ("render", name), lambda: render_qos_nat(
            name, self.plan(name), profile=self.profile, names=self.names(name), region=self.resolved_region,
            instance_type=self.instance_type, ami=self.ami, route_labels=list(self.route_tables),
            security_groups=len(self.security_group_ids), channel=self.vpc_id is not None, vpc_cidr=self.vpc_cidr,
            tags=self.tags))


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
        plan = args.render(name)
        super().__init__("spirit:index:AwsQosNat", name, None, opts)
        created = bind(plan, self, name, CLASSES, {
            "subnetId": args.subnet_id, "vpcId": args.vpc_id, "securityGroupIds": list(args.security_group_ids),
            "routeTableIds": dict(args.route_tables)})
        instance = created["instance"]
        self.instance_id = instance.id
        self.network_interface_id = instance.primary_network_interface_id
        self.private_ip = instance.private_ip
        self.public_ip = created["eip"].public_ip
        self.ruleset_parameter = created["ruleset"].name
        self.ssm_endpoint_id = created["ssm"].id if "ssm" in created else None
        register_declared(self)
