"""Managed NAT gateway for AWS: pure specs and the idle-timeout check (no pulumi import).

An AWS NAT gateway drops a connection after **350 s** idle; the timeout is fixed (not configurable).
A SIP registration over UDP is kept alive by the endpoint's keepalive: when the keepalive is not
shorter than 350 s the mapping expires between keepalives, inbound calls stop arriving and the phone
only notices at its next re-registration. The gateway does no DSCP marking (the QoS NAT instance does).

Gateways are keyed by a stable label (the availability zone, e.g. ``"a"``), never by list position, so
adding a zone adds one gateway and one Elastic IP and changes nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import marks
from ..errors import ConfigError
from ..plan import Plan
from ..values import is_int
from .rules import ref, specs_plan

__all__ = ["NAT_IDLE_TIMEOUT_SECONDS", "TYPE_EIP", "TYPE_NAT_GATEWAY", "TYPE_ROUTE", "NatRender", "render_nat", "nat_warnings",
           "as_plan"]

NAT_IDLE_TIMEOUT_SECONDS = 350
TYPE_EIP = "aws:ec2/eip:Eip"
TYPE_NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
TYPE_ROUTE = "aws:ec2/route:Route"
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class NatRender:
    profile: str
    labels: tuple[str, ...]
    resources: tuple[dict, ...]
    warnings: tuple[str, ...]
    idle_timeout_seconds: int = NAT_IDLE_TIMEOUT_SECONDS

    def to_json(self) -> dict:
        return {"profile": self.profile, "labels": list(self.labels), "resources": list(self.resources),
                "warnings": list(self.warnings), "idle_timeout_seconds": self.idle_timeout_seconds}


def nat_warnings(sip_keepalive_seconds: int) -> list[str]:
    if sip_keepalive_seconds >= NAT_IDLE_TIMEOUT_SECONDS:
        return [f"the NAT gateway drops idle mappings after {NAT_IDLE_TIMEOUT_SECONDS} s (fixed) but the SIP "
                f"keepalive is {sip_keepalive_seconds} s: registrations will silently expire; set the keepalive "
                f"below {NAT_IDLE_TIMEOUT_SECONDS} s (30 s is typical)"]
    return []


def render_nat(profile: str, labels: list[str] | tuple[str, ...], *, one_per_zone: bool = True,
               sip_keepalive_seconds: int = 30, route_tables: dict[str, str] | None = None) -> NatRender:
    """One Elastic IP + NAT gateway per label (zone), or one for the first label in sorted order.

    Subnet ids are ``{"$param": "subnetIds", "key": <label>}``; the component substitutes them.
    ``route_tables`` maps a private route table's label to the gateway label it should use (a gateway
    in its own zone); each gets a ``0.0.0.0/0`` route, its id read from ``{"$param": "routeTableIds"}``.
    """
    if not labels:
        raise ConfigError("at least one public subnet is needed", field="public_subnets")
    for lab in labels:
        if not isinstance(lab, str) or not _LABEL.match(lab):
            raise ConfigError(f"label {lab!r} must be 1-32 lower-case letters, digits or '-' (e.g. the zone "
                              "letter)", field="public_subnets")
    if (not is_int(sip_keepalive_seconds)
            or sip_keepalive_seconds < 1):
        raise ConfigError(f"must be a positive integer, not {sip_keepalive_seconds!r}", field="sip_keepalive_seconds")
    chosen = sorted(set(labels)) if one_per_zone else sorted(set(labels))[:1]
    specs: list[dict] = []
    for lab in chosen:
        specs.append({"type": TYPE_EIP, "name": f"eip-{lab}", "inputs": {
            "domain": "vpc", "tags": marks.tags(profile)}})
        specs.append({"type": TYPE_NAT_GATEWAY, "name": f"natgw-{lab}", "inputs": {
            "allocationId": ref(f"eip-{lab}", "allocation_id"),
            "subnetId": {"$param": "subnetIds", "key": lab},
            "connectivityType": "public",
            "tags": marks.tags(profile)}})
    for rt, zone in sorted((route_tables or {}).items()):
        if not isinstance(rt, str) or not _LABEL.match(rt):
            raise ConfigError(f"label {rt!r} must be 1-32 lower-case letters, digits or '-'", field="route_tables")
        gw = zone if zone in chosen else chosen[0]
        specs.append({"type": TYPE_ROUTE, "name": f"route-{rt}", "inputs": {
            "routeTableId": {"$param": "routeTableIds", "key": rt},
            "destinationCidrBlock": "0.0.0.0/0",
            "natGatewayId": ref(f"natgw-{gw}")}})
    return NatRender(profile, tuple(chosen), tuple(specs), tuple(nat_warnings(sip_keepalive_seconds)))


def as_plan(render: NatRender) -> Plan:
    """The gateways' render as a Plan (parameters: ``subnetIds`` and ``routeTableIds``, by label)."""
    return specs_plan(render.resources, (), render.warnings)
