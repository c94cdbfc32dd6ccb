"""GcpQosNat: the QoS NAT gateway as a Compute Engine instance (imports pulumi and pulumi_gcp).

Registers: a static regional ``compute.Address``, a ``compute.Instance`` with ``can_ip_forward`` and the
boot cloud-init of :mod:`spirit_infra.nat.cloudinit` as ``user-data`` metadata (Ubuntu images run
cloud-init), and a ``compute.Route`` 0.0.0.0/0 with ``next_hop_instance`` scoped by ``route_tags``: only
instances carrying those tags send their Internet traffic through the gateway (the gateway's own tag
must not be one).

The ruleset is the ``spirit-nat-ruleset`` metadata value, which GCP updates in place without a restart;
the agent on the instance watches it (``wait_for_change``) and applies each new value in one nft
transaction. ``user-data`` carries no catalogue input, so it never changes with a catalogue edit (cloud-init
would not run it again anyway).
"""

import re
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from .. import marks
from ..args import ProfileName, args_of, register_declared
from ..errors import ConfigError
from ..extras import sdk
from ..nat.instance import LivePlan, QosNatSettings
from ..values import is_int

gcp = sdk("gcp")  # one line naming the extra when it is not installed

__all__ = ["GcpQosNat", "GcpQosNatArgs", "DEFAULT_IMAGE", "DEFAULT_MACHINE_TYPE"]

DEFAULT_MACHINE_TYPE = "e2-small"
#: Ubuntu 24.04 LTS (Canonical's GCE image): it runs cloud-init, which reads the ``user-data`` metadata key,
#: and carries nftables and python3 (cloud-init's interpreter); nothing is installed at boot. Not Debian 12
#: here: Google's Debian images run google-guest-agent, not cloud-init, so they would ignore ``user-data``.
DEFAULT_IMAGE = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
METADATA_VALUE_LIMIT = 256 * 1024
#: the metadata key the agent watches
RULESET_KEY = "spirit-nat-ruleset"
_TAG = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")


@dataclass
class GcpQosNatArgs(QosNatSettings):
    """Arguments of :class:`GcpQosNat`.

    profile          phones | communicator | sbc
    network          VPC network (name or self link) of the route
    subnetwork       subnetwork of the NAT instance
    zone             zone of the instance, e.g. europe-west1-b (the address is in its region)
    route_tags       network tags of the instances routed through the gateway (at least one)
    machine_type     default e2-small
    image            boot image (default Ubuntu 24.04 LTS)
    nat_tag          network tag of the gateway itself (default spirit-qos-nat; not in route_tags)
    route_priority   priority of the tagged default route (default 800: before the implied 1000)
    interface        the instance's interface as the OS names it (default ens4)
    overrides, snat_address, strict, sip_keepalive_seconds, udp_timeout: as for the ruleset
    labels           extra labels (the spirit-* marks are always set)
    """

    profile: ProfileName
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    zone: str
    route_tags: list[str]
    machine_type: NotRequired[str] = DEFAULT_MACHINE_TYPE
    image: NotRequired[str] = DEFAULT_IMAGE
    nat_tag: NotRequired[str] = "spirit-qos-nat"
    route_priority: NotRequired[int] = 800
    interface: NotRequired[str] = "ens4"
    labels: NotRequired[dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.zone, str) or not _ZONE.match(self.zone):
            raise ConfigError(f"{self.zone!r} is not a zone (like europe-west1-b)", field="zone")
        self.route_tags = tuple(self.route_tags)
        if not self.route_tags:
            raise ConfigError("at least one network tag is required: an untagged default route would capture "
                              "the gateway itself", field="route_tags")
        for tag in (*self.route_tags, self.nat_tag):
            if not isinstance(tag, str) or not _TAG.match(tag):
                raise ConfigError(f"{tag!r} is not a network tag ([a-z][-a-z0-9]*, at most 63)", field="route_tags")
        if self.nat_tag in self.route_tags:
            raise ConfigError(f"the gateway's own tag {self.nat_tag!r} would route it through itself",
                              field="route_tags")
        if not is_int(self.route_priority) or not 0 <= self.route_priority <= 65535:
            raise ConfigError(f"{self.route_priority!r} is out of range (0-65535)", field="route_priority")
        self.plan()

    def plan(self) -> LivePlan:
        """The boot user data (constant) and the ruleset payload, size-checked before anything is registered."""
        return self.plan_live(self.profile, self.interface, {"channel": "gcp", "key": RULESET_KEY, "wait_seconds": 300},
                              gzipped=False, boot_limit=METADATA_VALUE_LIMIT,
                              boot_what="the cloud-init (user-data metadata value)", payload_limit=METADATA_VALUE_LIMIT,
                              payload_what=f"the ruleset payload ({RULESET_KEY} metadata value)")

    @property
    def region(self) -> str:
        return self.zone.rsplit("-", 1)[0]


class GcpQosNat(pulumi.ComponentResource):
    """A QoS NAT instance with a static external IP, and a tag-scoped default route through it."""

    external_ip: pulumi.Output[str]
    """The static external address (what Spirit allowlists)."""
    instance_self_link: pulumi.Output[str]
    """The NAT instance (the route's next hop)."""
    route_name: pulumi.Output[str]
    """The tag-scoped default route through the instance."""

    def __init__(self, name: str, args: GcpQosNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(GcpQosNatArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:GcpQosNat", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**dict(args.labels), **marks.tags(args.profile)}
        self.address = gcp.compute.Address(
            f"{name}-ip", region=args.region, address_type="EXTERNAL", network_tier="PREMIUM", labels=labels,
            description=marks.description(args.profile, text="Spirit QoS NAT gateway"), opts=child)
        self.instance = gcp.compute.Instance(
            f"{name}-instance", zone=args.zone, machine_type=args.machine_type, can_ip_forward=True,
            tags=[args.nat_tag], labels=labels,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(image=args.image)),
            network_interfaces=[gcp.compute.InstanceNetworkInterfaceArgs(
                subnetwork=args.subnetwork,
                access_configs=[gcp.compute.InstanceNetworkInterfaceAccessConfigArgs(nat_ip=self.address.address)])],
            metadata={"user-data": plan.boot, RULESET_KEY: plan.payload, "block-project-ssh-keys": "true"},
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True),
            opts=child)
        self.route = gcp.compute.Route(
            f"{name}-route", network=args.network, dest_range="0.0.0.0/0", priority=args.route_priority,
            tags=list(args.route_tags), next_hop_instance=self.instance.self_link,
            next_hop_instance_zone=args.zone,
            description=marks.description(args.profile, text="default route through the Spirit QoS NAT"),
            opts=child)
        self.external_ip = self.address.address
        self.instance_self_link = self.instance.self_link
        self.route_name = self.route.name
        register_declared(self)
