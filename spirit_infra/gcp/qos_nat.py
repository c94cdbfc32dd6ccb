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

The component is a thin shell: its Args validate, :func:`spirit_infra.gcp.nat.render_qos_nat` (pure) renders
every resource as a :class:`~spirit_infra.plan.Plan` before anything is registered, and the one binder
(:func:`spirit_infra.binder.bind`) registers it; the ids known only at bind time are the plan's Params.
"""

import re
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from ..args import ProfileName, args_of, register_declared
from ..binder import bind
from ..errors import ConfigError
from ..nat.instance import LivePlan, QosNatSettings
from ..plan import Plan
from ..planning import planned
from ..values import is_int
from .components import CLASSES
from .nat import RULESET_KEY, render_qos_nat

__all__ = ["GcpQosNat", "GcpQosNatArgs", "DEFAULT_IMAGE", "DEFAULT_MACHINE_TYPE"]

DEFAULT_MACHINE_TYPE = "e2-small"
#: Ubuntu 24.04 LTS (Canonical's GCE image): it runs cloud-init, which reads the ``user-data`` metadata key,
#: and carries nftables and python3 (cloud-init's interpreter); nothing is installed at boot. Not Debian 12
#: here: Google's Debian images run google-guest-agent, not cloud-init, so they would ignore ``user-data``.
DEFAULT_IMAGE = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
METADATA_VALUE_LIMIT = 256 * 1024
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
        for tag in (*self.route_tags, self.nat_tag):
            if not isinstance(tag, str) or not _TAG.match(tag):
                raise ConfigError(f"{tag!r} is not a network tag ([a-z][-a-z0-9]*, at most 63)", field="route_tags")
        if not is_int(self.route_priority) or not 0 <= self.route_priority <= 65535:
            raise ConfigError(f"{self.route_priority!r} is out of range (0-65535)", field="route_priority")
        self.render("spirit-qos-nat")

    def plan(self) -> LivePlan:
        """The boot user data (constant) and the ruleset payload, size-checked before anything is registered."""
        return self.plan_live(self.profile, self.interface, {"channel": "gcp", "key": RULESET_KEY, "wait_seconds": 300},
                              gzipped=False, boot_limit=METADATA_VALUE_LIMIT,
                              boot_what="the cloud-init (user-data metadata value)", payload_limit=METADATA_VALUE_LIMIT,
                              payload_what=f"the ruleset payload ({RULESET_KEY} metadata value)")

    def render(self, name: str) -> Plan:
        """Every resource of the component ``name`` (:func:`~spirit_infra.gcp.nat.render_qos_nat`; cached)."""
        return planned(self, ("render", name), lambda: render_qos_nat(
            name, self.plan(), profile=self.profile, zone=self.zone, route_tags=self.route_tags,
            machine_type=self.machine_type, image=self.image, nat_tag=self.nat_tag,
            route_priority=self.route_priority, labels=self.labels))


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
        plan = args.render(name)
        super().__init__("spirit:index:GcpQosNat", name, None, opts)
        created = bind(plan, self, name, CLASSES, {"network": args.network, "subnetwork": args.subnetwork})
        self.external_ip = created["ip"].address
        self.instance_self_link = created["instance"].self_link
        self.route_name = created["route"].name
        register_declared(self)
