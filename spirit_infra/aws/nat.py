"""Managed NAT for AWS: Elastic IPs and NAT gateways (imports pulumi and pulumi_aws).

The public IPs are what Spirit allowlists. The NAT gateway's idle timeout is fixed at 350 s: it is an
output, and a warning is logged when the SIP keepalive is not shorter (see :mod:`.natplan`). Real
annotations (no ``from __future__ import annotations``): Pulumi's schema analyzer reads them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NotRequired

import pulumi

from ..args import ProfileName, args_of, known, profile_name, register_declared
from ..errors import ConfigError
from ..planning import planned
from .components import component_options, register_specs
from .natplan import NatRender, render_nat

__all__ = ["AwsManagedNatArgs", "AwsManagedNat", "SpiritManagedNatArgs", "SpiritManagedNat"]


@dataclass
class AwsManagedNatArgs:
    """Managed NAT gateways (one Elastic IP each) for a profile's private subnets."""

    public_subnets: NotRequired[dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    """Public subnet ids keyed by a stable label, normally the zone letter ({"a": ..., "b": ...}): a label, not a
    list position, names each gateway."""
    one_per_zone: NotRequired[bool] = True
    """One gateway (and Elastic IP) per label (default, zone-resilient); false: a single gateway in the first
    label's subnet (cheaper; one zone's outage stops egress everywhere)."""
    route_tables: NotRequired[dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    """Private route tables to send 0.0.0.0/0 through a gateway: label -> route table id."""
    route_zones: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Which gateway label each route table uses (default: the first gateway)."""
    sip_keepalive_seconds: NotRequired[int] = 30
    """The endpoints' SIP keepalive; must be below the fixed 350 s idle timeout (a warning otherwise)."""
    profile: NotRequired[ProfileName] = ProfileName.PHONES
    """The Spirit profile (for the spirit-* tags)."""

    def __post_init__(self) -> None:
        profile_name(self.profile)
        if not isinstance(self.public_subnets, Mapping):
            raise ConfigError("must map a stable label (the zone letter) to a subnet id", field="public_subnets")
        self.plan()

    def plan(self) -> NatRender:
        """The gateways, addresses and routes (pure, cached)."""
        return planned(self, "nat", lambda: render_nat(
            profile_name(self.profile), list(self.public_subnets), one_per_zone=self.one_per_zone,
            sip_keepalive_seconds=self.sip_keepalive_seconds,
            route_tables={k: self.route_zones.get(k, "") for k in self.route_tables}))


class AwsManagedNat(pulumi.ComponentResource):
    """Elastic IPs and NAT gateways, and the private route tables' default routes through them."""

    public_ips: pulumi.Output[list[str]]
    """The gateways' Elastic IPs, sorted by label (what Spirit allowlists)."""
    nat_gateway_ids: pulumi.Output[dict[str, str]]
    """Label -> NAT gateway id."""
    idle_timeout_seconds: pulumi.Output[int]
    """The NAT gateway's fixed idle timeout (350 s)."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know (a keepalive not below the idle timeout)."""

    def __init__(self, name: str, args: AwsManagedNatArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AwsManagedNatArgs, args)
        render = args.plan()
        super().__init__("spirit:index:AwsManagedNat", name, None, component_options(opts, "SpiritManagedNat"))
        created = register_specs(self, name, render.resources, {"subnetIds": dict(args.public_subnets),
                                                                "routeTableIds": dict(args.route_tables)})
        self.public_ips = pulumi.Output.all(*[created[f"eip-{lab}"].public_ip for lab in render.labels])
        self.nat_gateway_ids = pulumi.Output.all(**{lab: created[f"natgw-{lab}"].id for lab in render.labels})
        self.idle_timeout_seconds = known(render.idle_timeout_seconds)
        self.warnings = known(list(render.warnings))
        for w in render.warnings:
            pulumi.log.warn(f"{name}: {w}", self)
        register_declared(self)


# deprecated names (before the uniform component names; the old type token is an alias)
SpiritManagedNatArgs, SpiritManagedNat = AwsManagedNatArgs, AwsManagedNat
