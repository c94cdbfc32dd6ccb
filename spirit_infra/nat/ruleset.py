"""The QoS NAT gateway's nftables ruleset, rendered from a profile (pure, deterministic).

One table ``ip spirit_nat`` holds everything:

- ``map dscp_class``: one interval-map lookup over ``ip daddr . meta l4proto . th sport . th dport`` for
  the first packet of each LAN connection classifies it; the class id is kept in the conntrack mark.
  Every forwarded packet then costs ONE verdict-map lookup on that mark (``ct mark vmap``, a hash of a
  handful of entries) that jumps to a tiny chain setting the class, or keeping the phone's own
  mark when the catalogue cannot tell audio from video (see :mod:`.classify`). Per-packet cost therefore
  does not grow with the catalogue; a packet of an unclassified connection is remarked to DSCP 0.
  (The gateway owns the conntrack mark. Connections opened before a ruleset reload keep their class.)
- ``set allowed``: the profile's egress boxes with CIDR peers, same key, one lookup for a new connection.
- ``set fqdn_<flow>``: addresses of the flows whose peers are DNS names (ZTP, NTP), filled by the resolver
  service (:mod:`.resolver`) with per-element timeouts so a dead resolver fails closed.
- ``ct timeout spirit_udp``: the UDP conntrack timeouts, attached to the allowed UDP flows when their
  first packet is forwarded (the entry is still unconfirmed then) so NAT mappings outlive the SIP
  keepalive and cover RTP pauses.
- ``chain forward``: the one base chain. A LAN packet whose conntrack entry is not yet confirmed jumps
  to ``new_from_lan`` (classification + timeouts); every packet leaving on the WAN side (one NIC:
  only the original direction) then takes the ``ct mark`` verdict map; strict mode accepts established/related and confirmed entries (an unanswered
  one-way UDP flow stays NEW but its first packet was already vetted), then new connections in
  ``@allowed`` or an FQDN set with the flow's ports, and counts and drops the rest.
- ``counter dropped``: what strict mode refused.
- SNAT (masquerade, or snat to a fixed address) on the WAN interface.

No ``ct helper`` statement is ever rendered: the SIP ALG stays off (kernels >= 4.7 attach helpers only
through an explicit rule).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..flows import AllowedSet, Capabilities, PortSet, Widening, project
from ..profiles import Profile
from ..settings import FQDN_REFRESH, SIP_KEEPALIVE, STRICT, UDP_TIMEOUT, check_fields
from .classify import DSCP_VALUES, Box, Decision, allowed_boxes, classify, fixed

__all__ = ["NatOptions", "render_ruleset", "fqdn_sets", "TABLE", "DROP_COUNTER", "UDP_TIMEOUT_OBJECT",
           "set_name", "DEFAULT_SIP_KEEPALIVE", "MIN_UDP_TIMEOUT", "NAT_CAPS", "nat_allowed", "nat_widened"]

TABLE = "spirit_nat"
DROP_COUNTER = "dropped"
UDP_TIMEOUT_OBJECT = "spirit_udp"
DEFAULT_SIP_KEEPALIVE = SIP_KEEPALIVE.default
#: RFC 4787 REQ-5: UDP mappings of at least 2 minutes, 5 recommended.
MIN_UDP_TIMEOUT = 300

_IFNAME = re.compile(r"^[A-Za-z0-9_.@:+-]{1,15}$")


def _check_ifname(name: str, fld: str) -> str:
    if not isinstance(name, str) or not _IFNAME.match(name) or name in (".", ".."):
        raise ConfigError(f"{name!r} is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . @ : + -)", field=fld)
    return name


@dataclass(frozen=True)
class NatOptions:
    """How the NAT instance is wired and tuned.

    lan_if                 interface facing the private subnets (traffic to NAT arrives here); may equal
                           ``wan_if`` for a one-armed cloud NAT instance (one NIC)
    wan_if                 interface facing the Internet: SNAT and DSCP marking apply on egress here
    snat_address           SNAT to this IPv4 address; ``None`` masquerades (the interface's address)
    strict                 forward only the profile's flows (+ replies); drop and count the rest
    sip_keepalive_seconds  the SIP keepalive interval the clients use (settings.SIP_KEEPALIVE)
    udp_timeout            conntrack UDP timeout (s) for the allowed flows (settings.UDP_TIMEOUT); must
                           exceed the keepalive
    refuse_sip_helper      cloud-init blacklists nf_conntrack_sip (the ruleset never has a helper anyway)
    fqdn_refresh_seconds   how often the resolver refreshes the FQDN sets (settings.FQDN_REFRESH)
    """

    lan_if: str
    wan_if: str
    snat_address: str | None = None
    strict: bool = STRICT.field()
    sip_keepalive_seconds: int = SIP_KEEPALIVE.field()
    udp_timeout: int | None = UDP_TIMEOUT.field()
    refuse_sip_helper: bool = True
    fqdn_refresh_seconds: int = FQDN_REFRESH.field()
    _resolved: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_ifname(self.lan_if, "lan_if")
        _check_ifname(self.wan_if, "wan_if")
        if self.snat_address is not None:
            try:
                addr = ipaddress.IPv4Address(self.snat_address)
            except (ipaddress.AddressValueError, ValueError):
                raise ConfigError(f"{self.snat_address!r} is not an IPv4 address", field="snat_address") from None
            if addr.is_multicast or addr.is_unspecified or addr.is_loopback or addr.is_reserved:
                raise ConfigError(f"{self.snat_address} cannot be a source address", field="snat_address")
            object.__setattr__(self, "snat_address", str(addr))
        check_fields(self)
        ka = self.sip_keepalive_seconds
        if self.udp_timeout is None:
            object.__setattr__(self, "udp_timeout", max(MIN_UDP_TIMEOUT, 2 * ka))
        ut = self.udp_timeout
        if not ka < ut:
            raise ConfigError(f"{ut!r} must outlive the SIP keepalive ({ka} s) and be at most {UDP_TIMEOUT.le}",
                              field="udp_timeout")


#: the QoS NAT matches source ports and (through sets filled from DNS) names; it cannot know what a
#: platform destination (an Azure service tag, an AWS-managed prefix list) holds, so such a flow widens
#: to any address on its transport and ports (a named widening, listed in the ruleset's header)
NAT_CAPS = Capabilities("qos nat", source_ports=True, fqdn=True, platform=())


def nat_allowed(profile: Profile) -> AllowedSet:
    """The profile's allowed set as the NAT forwards it (platform destinations widened)."""
    return project(profile.allowed, NAT_CAPS).allowed


def nat_widened(profile: Profile) -> tuple[Widening, ...]:
    return project(profile.allowed, NAT_CAPS).widened


def set_name(flow_id: str) -> str:
    """Name of the FQDN set of a flow (``phone-ztp`` -> ``fqdn_phone_ztp``)."""
    return "fqdn_" + re.sub(r"[^A-Za-z0-9_]", "_", flow_id)


def fqdn_sets(profile: Profile) -> dict[str, list[str]]:
    """Set name -> DNS names, for every egress flow whose peer is given by DNS names only."""
    out: dict[str, set[str]] = {}
    for t in nat_allowed(profile):
        if t.direction == "egress" and t.peer.fqdns:
            out.setdefault(set_name(t.flow), set()).update(t.peer.fqdns)
    return {k: sorted(v) for k, v in sorted(out.items())}


# ---- rendering helpers ------------------------------------------------------------------------------

def _range(r: tuple[int, int]) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def _ports(ps: PortSet) -> str:
    if len(ps.ranges) == 1:
        return _range(ps.ranges[0])
    return "{ " + ", ".join(_range(r) for r in ps.ranges) + " }"


def _port_match(t) -> str:
    ports = "" if t.src_ports.is_any else f" th sport {_ports(t.src_ports)}"
    return ports + ("" if t.dst_ports.is_any else f" th dport {_ports(t.dst_ports)}")


def _chain_for(d: Decision) -> str:
    return "dscp_" + d.name


#: bit order of the classes in a "keep" mark; "0" last so the marks of the other classes never move
_ORDER = ("CS3", "AF41", "EF", "0")


def class_id(d: Decision) -> int:
    """Stable conntrack-mark value of a decision (the same across reloads and catalogue edits):
    ``set X`` is X's DSCP value; ``keep`` is 0x10000 | classes bitmask << 8 | fallback DSCP value."""
    if d.kind == "set":
        return DSCP_VALUES[d.fallback]
    mask = sum(1 << _ORDER.index(c) for c in d.classes)
    return 0x10000 | mask << 8 | DSCP_VALUES[d.fallback]


def _decision_rules(d: Decision) -> list[str]:
    if d.kind == "set":
        return [f"ip dscp set {_dscp_name(d.fallback)}"]
    classes = ", ".join(_dscp_name(c) for c in d.classes)
    return [f"ip dscp {{ {classes} }} return", f"ip dscp set {_dscp_name(d.fallback)}"]


def _dscp_name(cls: str) -> str:
    return "cs0" if cls == "0" else cls.lower()


def _elements(boxes: list[Box], value) -> list[str]:
    """Element lines grouped by a comment naming what they are for."""
    lines: list[str] = []
    items = []
    for b in boxes:
        label, suffix = value(b)
        for cidr in b.cidrs:
            items.append((label, (b.transport, b.src, b.dst),
                          f"{cidr} . {b.transport} . {_range(b.src)} . {_range(b.dst)}{suffix}"))
    items.sort(key=lambda it: (it[0], it[1]))
    last = None
    for i, (label, _, text) in enumerate(items):
        if label != last:
            lines.append(f"# {label}")
            last = label
        lines.append(text + ("," if i < len(items) - 1 else ""))
    return lines


def _block(head: str, body: list[str], indent: int = 1) -> list[str]:
    pad = "    " * indent
    return [f"{pad}{head} {{", *[f"{pad}    {ln}" if ln else "" for ln in body], f"{pad}}}"]


KEY = "ip daddr . meta l4proto . th sport . th dport"
KEY_TYPE = "ipv4_addr . inet_proto . inet_service . inet_service"


def render_ruleset(profile: Profile, options: NatOptions) -> str:
    """The complete nftables ruleset (``nft -f`` input; reloading it replaces only table ``ip spirit_nat``)."""
    o = options
    dscp_of = {f.id: f.dscp for f in profile.flows}
    projected = nat_allowed(profile)
    marks = classify(projected, dscp_of)
    allowed = allowed_boxes(projected)
    fsets = fqdn_sets(profile)
    lan, wan = f'"{o.lan_if}"', f'"{o.wan_if}"'
    ingress = [f.id for f in profile.flows if f.direction == "ingress"]

    out = [
        "# spirit-infra QoS NAT gateway (generated; do not edit by hand)",
        f"# profile {profile.name}: {', '.join(f.id for f in profile.flows)}",
        f"# LAN {o.lan_if} -> WAN {o.wan_if}; "
        + (f"snat to {o.snat_address}" if o.snat_address else "masquerade")
        + f"; {'strict' if o.strict else 'not strict (forwards everything)'}"
        + f"; UDP conntrack timeout {o.udp_timeout} s (SIP keepalive {o.sip_keepalive_seconds} s)",
        "# DSCP: SIP CS3, audio EF, video AF41, everything else 0. No conntrack helper (SIP ALG) is ever used.",
        *[f"# widened: {w}" for w in nat_widened(profile)],
        *([f"# ingress flows ({', '.join(ingress)}) pass only as replies to connections the LAN opened "
           "(no port forwarding)"] if ingress else []),
        f"table ip {TABLE}",
        f"delete table ip {TABLE}",
        f"table ip {TABLE} {{",
    ]
    body: list[list[str]] = []
    body.append(_block(f"counter {DROP_COUNTER}", ["comment \"forwarded packets refused by strict mode\""]))
    body.append(_block(f"ct timeout {UDP_TIMEOUT_OBJECT}", [
        "protocol udp",
        "l3proto ip",
        f"policy = {{ unreplied : {o.udp_timeout}, replied : {o.udp_timeout} }}",
    ]))
    for name, names in fsets.items():
        body.append(_block(f"set {name}", [
            "type ipv4_addr",
            "flags interval, timeout",
            f"comment \"{', '.join(names)}\"",
        ]))
    # flows whose peers are DNS names are not in the interval map: a non-zero class is set per FQDN set
    # (on the connection's first packet only, when the map left it unclassified; lowest class first)
    fqdn_marks = sorted(((DSCP_VALUES[dscp_of[t.flow]], t) for t in projected
                         if t.direction == "egress" and t.peer.fqdns and dscp_of.get(t.flow, "0") != "0"),
                        key=lambda it: (it[0], it[1].flow, it[1].transport))
    decisions = sorted({b.value for b in marks} | {fixed(dscp_of[t.flow]) for _, t in fqdn_marks},
                       key=lambda d: d.name)
    allowed_body = [f"type {KEY_TYPE}", "flags interval"]
    flows_label = "flows with address peers: " + ", ".join(
        sorted({t.flow for t in projected if t.direction == "egress" and t.peer.cidrs}))
    if allowed:
        allowed_body += ["elements = {",
                         *["    " + ln for ln in _elements(allowed, lambda b: (flows_label, ""))], "}"]
    body.append(_block("set allowed", allowed_body))
    map_body = [f"type {KEY_TYPE} : mark", "flags interval"]
    if marks:
        map_body += ["elements = {", *["    " + ln for ln in _elements(
            marks, lambda b: (_describe(b.value), f" : 0x{class_id(b.value):x}"))], "}"]
    body.append(_block("map dscp_class", map_body))
    zero = fixed("0")
    vmap = "{ " + ", ".join(f"0x{class_id(d):x} : jump {_chain_for(d)}" for d in [zero, *decisions]) + " }"
    for d in [zero, *decisions]:
        body.append(_block(f"chain {_chain_for(d)}", _decision_rules(d)))
    # the first packet of a LAN connection: classify it once (class id in the conntrack mark) and give
    # allowed UDP flows the long timeouts (the entry is still unconfirmed in the forward hook)
    body.append(_block("chain new_from_lan", [
        f"ct mark set {KEY} map @dscp_class",
        *[f"ct mark 0x0 ip daddr @{set_name(t.flow)} meta l4proto {t.transport}{_port_match(t)} "
          f"ct mark set 0x{class_id(fixed(dscp_of[t.flow])):x}" for _, t in fqdn_marks],
        f"meta l4proto udp {KEY} @allowed ct timeout set \"{UDP_TIMEOUT_OBJECT}\"",
    ]))
    # one base chain: per established packet, one verdict-map lookup on the mark, then accept
    fwd = ["type filter hook forward priority filter; policy " + ("drop;" if o.strict else "accept;"),
           f"iifname {lan} ct state new ct status ! confirmed jump new_from_lan",
           # two NICs: everything leaving the WAN is marked by its connection's class, also the answers of a
           # LAN host to a connection the Internet opened (--no-strict; mark 0: DSCP 0). One NIC (cloud): the
           # replies to the LAN leave on the same interface and keep the DSCP their sender set
           # a connection classified by an earlier ruleset can carry a class this one does not know (a
           # reload that dropped it): such packets leave with DSCP 0, never with the sender's own marking
           f"oifname {wan}{' ct direction original' if o.lan_if == o.wan_if else ''} ct mark != "
           "{ " + ", ".join(f"0x{class_id(d):x}" for d in [zero, *decisions]) + " } ip dscp set cs0",
           f"oifname {wan}{' ct direction original' if o.lan_if == o.wan_if else ''} ct mark vmap {vmap}"]
    if o.strict:
        fwd += [
            "ct state established,related accept",
            # an unanswered flow (one-way UDP) stays NEW; once its first packet was accepted its entry is
            # confirmed: accept without repeating the lookups (they would cost with the catalogue's size)
            "ct status confirmed accept",
            f"iifname {lan} oifname {wan} ct state new {KEY} @allowed accept",
        ]
        for t in projected:
            if t.direction != "egress" or not t.peer.fqdns:
                continue
            fwd.append(f"iifname {lan} oifname {wan} ct state new ip daddr @{set_name(t.flow)} "
                       f"meta l4proto {t.transport}{_port_match(t)} accept")
        fwd.append(f"counter name \"{DROP_COUNTER}\" drop")
    body.append(_block("chain forward", fwd))
    nat = f"oifname {wan} " + (f"snat to {o.snat_address}" if o.snat_address else "masquerade")
    body.append(_block("chain postrouting", ["type nat hook postrouting priority srcnat; policy accept;", nat]))
    for i, blk in enumerate(body):
        if i:
            out.append("")
        out.extend(blk)
    out.append("}")
    return "\n".join(out) + "\n"


def _describe(d: Decision) -> str:
    if d.kind == "set":
        return f"DSCP {d.fallback} ({DSCP_VALUES[d.fallback]})"
    return (f"keep the client's DSCP if one of {'/'.join(d.classes)}, else {d.fallback} "
            f"({DSCP_VALUES[d.fallback]})")
