"""Managed NAT for AWS: Elastic IPs and NAT gateways (imports pulumi and pulumi_aws).

The public IPs are what Spirit allowlists. The NAT gateway's idle timeout is fixed at 350 s: it is an
output, and a warning is logged when the SIP keepalive is not shorter (see :mod:`.natplan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from ..errors import ConfigError
from ..profiles import PROFILES
from .components import register_specs
from .natplan import render_nat

__all__ = ["SpiritManagedNatArgs", "SpiritManagedNat"]


@dataclass
class SpiritManagedNatArgs:
    """Managed NAT gateways for a profile's private subnets.

    :param public_subnets: public subnet ids keyed by a stable label, normally the zone letter
        (``{"a": subnet_a.id, "b": subnet_b.id}``): a label, not a list position, names each gateway.
    :param one_per_zone: one gateway (and Elastic IP) per label (default, zone-resilient); ``False``: a single
        gateway in the first label's subnet (cheaper; one zone's outage stops egress everywhere).
    :param sip_keepalive_seconds: the endpoints' SIP keepalive; must be below the fixed 350 s idle timeout.
    :param profile: used for the tags (``spirit-role``).
    """

    public_subnets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    one_per_zone: bool = True
    #: private route tables to send 0.0.0.0/0 through a gateway: label -> route table id
    route_tables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: which gateway label each route table uses (default: the first gateway)
    route_zones: Mapping[str, str] = field(default_factory=dict)
    sip_keepalive_seconds: int = 30
    profile: str = "phones"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ConfigError(f"unknown profile {self.profile!r} (allowed: {', '.join(PROFILES)})", field="profile")
        if not isinstance(self.public_subnets, Mapping):
            raise ConfigError("must map a stable label (the zone letter) to a subnet id", field="public_subnets")
        self.render = render_nat(self.profile, list(self.public_subnets), one_per_zone=self.one_per_zone,
                                 sip_keepalive_seconds=self.sip_keepalive_seconds,
                                 route_tables={k: self.route_zones.get(k, "") for k in self.route_tables})


class SpiritManagedNat(pulumi.ComponentResource):
    """Outputs: ``public_ips`` (sorted by label), ``nat_gateway_ids`` (label -> id),
    ``idle_timeout_seconds`` (350) and ``warnings``."""

    def __init__(self, name: str, args: SpiritManagedNatArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritManagedNat", name, None, opts)
        self.render = args.render
        self.resources = register_specs(self, name, self.render.resources, {"subnetIds": dict(args.public_subnets),
                                                                      "routeTableIds": dict(args.route_tables)})
        self.public_ips = pulumi.Output.all(*[self.resources[f"eip-{lab}"].public_ip for lab in self.render.labels])
        self.nat_gateway_ids = {lab: self.resources[f"natgw-{lab}"].id for lab in self.render.labels}
        self.idle_timeout_seconds = self.render.idle_timeout_seconds
        self.warnings = list(self.render.warnings)
        for w in self.warnings:
            pulumi.log.warn(f"{name}: {w}", self)
        self.register_outputs({
            "public_ips": self.public_ips,
            "nat_gateway_ids": self.nat_gateway_ids,
            "idle_timeout_seconds": self.idle_timeout_seconds,
            "warnings": self.warnings,
        })
