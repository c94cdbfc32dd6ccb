"""Cloud NAT settings for voice (pure): a Cloud Router and a ``RouterNat`` that keep SIP and RTP working.

GCP's defaults break voice: a 30 s UDP idle timeout drops a SIP registration's mapping between
keepalives, and endpoint-dependent mapping gives RTP a different public port per remote address.
:func:`model_nat` chooses every setting explicitly and says why; :func:`model_nat_specs` turns the plan into
resource specs (static addresses, router, NAT). Combinations GCP rejects are refused with
:class:`~spirit_infra.errors.ConfigError`:

- endpoint-independent mapping together with dynamic port allocation;
- dynamic port allocation with ``min_ports_per_vm`` (or ``max_ports_per_vm``) not a power of two, or a
  ``min_ports_per_vm`` below 32;
- a UDP idle timeout not longer than the SIP keepalive (our rule: the mapping would expire between
  keepalives and inbound calls would stop arriving).

:func:`render_qos_nat` is the QoS NAT instance's render (:class:`~spirit_infra.gcp.qos_nat.GcpQosNat`): its
static address, instance (the live ruleset in its metadata) and tag-scoped default route as a
:class:`~spirit_infra.plan.Plan`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .. import marks
from ..errors import ConfigError
from ..nat.instance import LivePlan
from ..plan import Param, Plan, Ref, ResourceSpec
from ..profiles import PROFILES
from ..settings import (
    DYNAMIC_PORT_ALLOCATION,
    ENDPOINT_INDEPENDENT_MAPPING,
    EXPECTED_CALLS,
    HEADROOM,
    MAX_PORTS_PER_VM,
    MIN_PORTS_PER_VM,
    NAME_PREFIX,
    NAT_IP_COUNT,
    NAT_LOGGING,
    PORTS_PER_CALL,
    SIP_KEEPALIVE,
    TCP_ESTABLISHED_IDLE_TIMEOUT,
    UDP_IDLE_TIMEOUT,
    check_fields,
)
from .common import specs_plan
from .rules import check_prefix, physical

__all__ = ["NatOptions", "NatPlan", "model_nat", "model_nat_specs", "as_plan", "ADDRESS_TYPE", "ROUTER_TYPE", "ROUTER_NAT_TYPE",
           "PORTS_PER_NAT_IP", "LOG_FILTERS",
           "INSTANCE_TYPE", "ROUTE_TYPE", "RULESET_KEY", "render_qos_nat"]

ADDRESS_TYPE = "gcp:compute/address:Address"
ROUTER_TYPE = "gcp:compute/router:Router"
ROUTER_NAT_TYPE = "gcp:compute/routerNat:RouterNat"
#: usable source ports per NAT IP address (1024-65535)
PORTS_PER_NAT_IP = 64512
#: RFC 4787 REQ-5: UDP mappings must last at least 2 minutes; 5 minutes recommended
RFC4787_MIN, RFC4787_RECOMMENDED = 120, 300
GCP_TCP_ESTABLISHED_DEFAULT = 1200
LOG_FILTERS = dict(zip(NAT_LOGGING.choices, (None, "ERRORS_ONLY", "TRANSLATIONS_ONLY", "ALL"), strict=True))
MIN_PORTS_FLOOR, MIN_PORTS_CEIL = 64, 65536
#: GCP: with dynamic port allocation, min ports per VM is a power of two >= 32
DPA_MIN_PORTS = 32


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class NatOptions:
    """What the NAT must carry.

    Each knob's type, default and range is its declaration in :mod:`spirit_infra.settings`.

    - ``sip_keepalive_seconds``: the longest interval at which the SBC/clients send SIP keepalives
      (OPTIONS, CRLF or re-REGISTER) through the NAT.
    - ``udp_idle_timeout_sec``: ``None`` chooses ``max(2 * keepalive, 300)``.
    - ``tcp_established_idle_timeout_sec``: ``None`` chooses ``max(1200, 2 * keepalive)`` (SIP over TCP/TLS).
    - ``endpoint_independent_mapping`` (default on) and ``dynamic_port_allocation`` (default off):
      GCP rejects both on.
    - ``expected_calls``, ``ports_per_call`` (RTP+RTCP audio and video = 4), ``headroom``: size
      ``min_ports_per_vm`` when it is ``None`` (always a power of two; a given value that is not one is
      rounded up, as GCP does); ``max_ports_per_vm`` only with dynamic allocation.
    - ``nat_ip_count``: manual static NAT addresses (their IPs go on Spirit's allowlist).
    - ``logging``: off | errors (default: port exhaustion and dropped packets) | translations | all.
    - ``region``: the router's region (``None``: the provider's); ``subnetworks``: NAT only these
      subnetworks (self links or names), else every subnetwork range of the network.
    """

    sip_keepalive_seconds: int = SIP_KEEPALIVE.field()
    udp_idle_timeout_sec: int | None = UDP_IDLE_TIMEOUT.field()
    tcp_established_idle_timeout_sec: int | None = TCP_ESTABLISHED_IDLE_TIMEOUT.field()
    endpoint_independent_mapping: bool = ENDPOINT_INDEPENDENT_MAPPING.field()
    dynamic_port_allocation: bool = DYNAMIC_PORT_ALLOCATION.field()
    expected_calls: int = EXPECTED_CALLS.field()
    ports_per_call: int = PORTS_PER_CALL.field()
    headroom: float = HEADROOM.field()
    min_ports_per_vm: int | None = MIN_PORTS_PER_VM.field()
    max_ports_per_vm: int | None = MAX_PORTS_PER_VM.field()
    nat_ip_count: int = NAT_IP_COUNT.field()
    logging: str = NAT_LOGGING.field()
    region: str | None = None
    subnetworks: tuple[str, ...] = ()
    name_prefix: str = NAME_PREFIX.field()
    profile: str = "sbc"


@dataclass(frozen=True)
class NatPlan:
    """The chosen RouterNat settings (camelCase, as registered) and one reason per setting."""

    settings: dict
    reasons: dict = field(default_factory=dict)
    max_vms: int = 0

    def to_json(self) -> dict:
        return {"settings": self.settings, "reasons": self.reasons, "max_vms": self.max_vms}


def model_nat(o: NatOptions) -> NatPlan:
    """Choose and check every RouterNat setting that matters for voice."""
    check_prefix(o.name_prefix)
    if o.profile not in PROFILES:
        raise ConfigError(f"unknown profile {o.profile!r}", field="profile")
    check_fields(o)
    k = o.sip_keepalive_seconds
    s: dict = {}
    why: dict = {}

    if o.endpoint_independent_mapping and o.dynamic_port_allocation:
        raise ConfigError("GCP rejects endpoint-independent mapping together with dynamic port allocation; "
                          "voice needs endpoint-independent mapping, so leave dynamic port allocation off",
                          field="dynamic_port_allocation")
    s["enableEndpointIndependentMapping"] = o.endpoint_independent_mapping
    why["enableEndpointIndependentMapping"] = (
        "on: one public ip:port per VM ip:port whatever the remote (RFC 4787 REQ-1), so RTP/RTCP and SIP "
        "answers from any Spirit media or signalling server reach the VM; set explicitly because sources "
        "disagree on GCP's default" if o.endpoint_independent_mapping else
        "off (as asked): endpoint-dependent mapping may break RTP from a server other than the SIP peer")
    s["enableDynamicPortAllocation"] = o.dynamic_port_allocation
    why["enableDynamicPortAllocation"] = (
        "on (as asked, without endpoint-independent mapping): ports grow from min to max per VM"
        if o.dynamic_port_allocation else
        "off: GCP cannot combine it with endpoint-independent mapping, and static allocation never moves "
        "a VM's ports mid-call")

    if o.udp_idle_timeout_sec is None:
        udp = max(2 * k, RFC4787_RECOMMENDED)
        why["udpIdleTimeoutSec"] = (f"max(2 x SIP keepalive {k} s, {RFC4787_RECOMMENDED} s) = {udp} s: the mapping "
                                    "survives one lost keepalive; RFC 4787 REQ-5 asks for at least "
                                    f"{RFC4787_MIN} s and recommends {RFC4787_RECOMMENDED} s (GCP's default 30 s "
                                    "drops a registration's mapping between keepalives)")
    else:
        udp = o.udp_idle_timeout_sec
        if udp <= k:
            raise ConfigError(f"the UDP idle timeout ({udp} s) must be longer than the SIP keepalive ({k} s), or "
                              "the NAT mapping expires between keepalives and inbound SIP stops",
                              field="udp_idle_timeout_sec")
        why["udpIdleTimeoutSec"] = (f"{udp} s as asked (> keepalive {k} s)"
                                    + (f"; below RFC 4787's {RFC4787_MIN} s minimum" if udp < RFC4787_MIN else ""))
    s["udpIdleTimeoutSec"] = udp

    if o.tcp_established_idle_timeout_sec is None:
        tcp = max(GCP_TCP_ESTABLISHED_DEFAULT, 2 * k)
        why["tcpEstablishedIdleTimeoutSec"] = (f"max(GCP default {GCP_TCP_ESTABLISHED_DEFAULT} s, 2 x keepalive) = "
                                               f"{tcp} s: SIP over TCP/TLS connections stay open between keepalives")
    else:
        tcp = o.tcp_established_idle_timeout_sec
        if tcp <= k:
            raise ConfigError(f"the TCP established idle timeout ({tcp} s) must be longer than the SIP keepalive "
                              f"({k} s)", field="tcp_established_idle_timeout_sec")
        why["tcpEstablishedIdleTimeoutSec"] = f"{tcp} s as asked (> keepalive {k} s)"
    s["tcpEstablishedIdleTimeoutSec"] = tcp

    if o.min_ports_per_vm is None:
        calls, ppc = o.expected_calls, o.ports_per_call
        need = math.ceil(calls * ppc * o.headroom)
        if need > MIN_PORTS_CEIL:
            raise ConfigError(f"{calls} calls x {ppc} ports x {o.headroom:g} headroom = {need} ports per VM, above "
                              f"GCP's {MIN_PORTS_CEIL}; spread the calls over more VMs", field="expected_calls")
        mp = max(MIN_PORTS_FLOOR, 1 << max(0, need - 1).bit_length())
        why["minPortsPerVm"] = (f"{calls} concurrent calls x {ppc} ports per call (RTP+RTCP audio and video) x "
                                f"{o.headroom:g} headroom = {need}, rounded up to a power of two = {mp} "
                                f"(floor {MIN_PORTS_FLOOR}, ceiling {MIN_PORTS_CEIL})")
    else:
        asked = o.min_ports_per_vm
        if o.dynamic_port_allocation:
            if not _is_pow2(asked):
                raise ConfigError(f"{asked} is not a power of two; GCP requires one with dynamic port allocation",
                                  field="min_ports_per_vm")
            if asked < DPA_MIN_PORTS:
                raise ConfigError(f"{asked} is too small; with dynamic port allocation GCP requires a power of two of "
                                  f"at least {DPA_MIN_PORTS}", field="min_ports_per_vm")
        mp = 1 << (asked - 1).bit_length()
        why["minPortsPerVm"] = (f"{mp} as asked" if mp == asked else
                                f"{asked} as asked, rounded up to the power of two {mp}: GCP allocates that many "
                                "(static port allocation rounds up), so the VM count uses it")
    s["minPortsPerVm"] = mp
    if o.max_ports_per_vm is not None:
        if not o.dynamic_port_allocation:
            raise ConfigError("max_ports_per_vm only applies with dynamic port allocation", field="max_ports_per_vm")
        xp = o.max_ports_per_vm
        if not _is_pow2(xp) or xp <= mp:
            raise ConfigError(f"{xp} must be a power of two larger than min_ports_per_vm ({mp})",
                              field="max_ports_per_vm")
        s["maxPortsPerVm"] = xp
        why["maxPortsPerVm"] = f"{xp} as asked"

    n = o.nat_ip_count
    vms = n * PORTS_PER_NAT_IP // mp
    if vms < 1:
        raise ConfigError(f"{mp} ports per VM need more than {n} NAT IP(s) of {PORTS_PER_NAT_IP} ports",
                          field="nat_ip_count")
    s["natIpAllocateOption"] = "MANUAL_ONLY"
    why["natIpAllocateOption"] = (f"MANUAL_ONLY with {n} static address(es): stable public IPs for Spirit's "
                                  f"allowlist; {n} x {PORTS_PER_NAT_IP} ports / {mp} = {vms} VMs at most")
    flt = LOG_FILTERS[o.logging]
    s["logConfig"] = {"enable": flt is not None, "filter": flt or "ERRORS_ONLY"}
    why["logConfig"] = ("off" if flt is None else
                        f"{flt}: " + {"errors": "port exhaustion and dropped packets only (cheap, what voice needs)",
                                      "translations": "every translation", "all": "everything"}[o.logging])
    if o.subnetworks:
        s["sourceSubnetworkIpRangesToNat"] = "LIST_OF_SUBNETWORKS"
        s["subnetworks"] = [{"name": sn, "sourceIpRangesToNats": ["ALL_IP_RANGES"]} for sn in sorted(o.subnetworks)]
        why["sourceSubnetworkIpRangesToNat"] = "only the listed subnetworks"
    else:
        s["sourceSubnetworkIpRangesToNat"] = "ALL_SUBNETWORKS_ALL_IP_RANGES"
        why["sourceSubnetworkIpRangesToNat"] = "every subnetwork range of the network"
    return NatPlan(s, why, vms)


def model_nat_specs(o: NatOptions | None = None) -> tuple[NatPlan, tuple[dict, ...]]:
    """The plan and its specs: ``nat-ip-<i>`` addresses, ``router``, ``nat`` (see :class:`~.rules.Rendered`)."""
    o = o or NatOptions()
    plan = model_nat(o)
    region = {"region": o.region} if o.region else {}
    specs: list[dict] = []
    for i in range(o.nat_ip_count):
        specs.append({"type": ADDRESS_TYPE, "name": f"nat-ip-{i}", "inputs": {
            "name": physical(o.name_prefix, f"nat-ip-{i}"),
            "description": marks.description(o.profile, [], "Spirit Cloud NAT address (Spirit allowlist)."),
            "addressType": "EXTERNAL", "networkTier": "PREMIUM", "labels": marks.tags(o.profile), **region}})
    specs.append({"type": ROUTER_TYPE, "name": "router", "inputs": {
        "name": physical(o.name_prefix, "nat-router"),
        "description": marks.description(o.profile, [], "Spirit Cloud NAT router."), **region},
        "refs": {"network": "arg:network"}})
    specs.append({"type": ROUTER_NAT_TYPE, "name": "nat", "inputs": {
        "name": physical(o.name_prefix, "nat"), **region, **plan.settings},
        "refs": {"router": "res:router.name", "natIps": [f"res:nat-ip-{i}.selfLink" for i in range(o.nat_ip_count)]}})
    return plan, tuple(specs)


def as_plan(rendered: tuple[NatPlan, tuple[dict, ...]]) -> Plan:
    """The NAT's render (what :func:`model_nat_specs` returns: its settings and specs) as a
    :class:`~spirit_infra.plan.Plan` (parameter: ``network``)."""
    return specs_plan(rendered[1])


# ---- the QoS NAT instance (GcpQosNat): its resources as a Plan (pure) ----------------------------------

INSTANCE_TYPE = "gcp:compute/instance:Instance"
ROUTE_TYPE = "gcp:compute/route:Route"
#: the metadata key the agent watches
RULESET_KEY = "spirit-nat-ruleset"


def render_qos_nat(name: str, live: LivePlan, *, profile: str, zone: str, route_tags: Iterable[str],
                   machine_type: str, image: str, nat_tag: str, route_priority: int,
                   labels: Mapping[str, str] | None = None) -> Plan:
    """The QoS NAT instance of component ``name`` as a :class:`~spirit_infra.plan.Plan` (pure).

    ``live`` is its boot user-data and ruleset payload (:meth:`~spirit_infra.nat.instance.QosNatSettings.plan_live`),
    the payload being the :data:`RULESET_KEY` metadata value. Known only when bound
    (:class:`~spirit_infra.plan.Param`): ``network`` and ``subnetwork``. The default route is scoped to
    ``route_tags``; the gateway carries ``nat_tag``, which must not be one of them."""
    route_tags = list(route_tags)
    if not route_tags:
        raise ConfigError("at least one network tag is required: an untagged default route would capture "
                          "the gateway itself", field="route_tags")
    if nat_tag in route_tags:
        raise ConfigError(f"the gateway's own tag {nat_tag!r} would route it through itself", field="route_tags")
    labels = {**dict(labels or {}), **marks.tags(profile)}
    return Plan((
        ResourceSpec(ADDRESS_TYPE, "ip", {
            "region": zone.rsplit("-", 1)[0], "addressType": "EXTERNAL", "networkTier": "PREMIUM", "labels": labels,
            "description": marks.description(profile, text="Spirit QoS NAT gateway")}),
        ResourceSpec(INSTANCE_TYPE, "instance", {
            "zone": zone, "machineType": machine_type, "canIpForward": True, "tags": [nat_tag], "labels": labels,
            "bootDisk": {"initializeParams": {"image": image}},
            "networkInterfaces": [{"subnetwork": Param("subnetwork"), "accessConfigs": [{"natIp": Ref("ip", "address")}]}],
            "metadata": {"user-data": live.boot, RULESET_KEY: live.payload, "block-project-ssh-keys": "true"},
            "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}}),
        ResourceSpec(ROUTE_TYPE, "route", {
            "network": Param("network"), "destRange": "0.0.0.0/0", "priority": route_priority, "tags": route_tags,
            "nextHopInstance": Ref("instance", "selfLink"), "nextHopInstanceZone": zone,
            "description": marks.description(profile, text="default route through the Spirit QoS NAT")}),
    ))
