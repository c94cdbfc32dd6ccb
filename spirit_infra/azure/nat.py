"""Managed NAT for Azure: a NAT Gateway (Standard) with static public IP(s) and/or a prefix, on a subnet.

The plan (and every check) is pure (:mod:`.nat_plan`); this component registers it. Outputs:
``public_ips`` (the static addresses Spirit allowlists), ``public_ip_prefix`` (when a prefix is
used), ``tcp_idle_timeout_minutes`` and ``udp_idle_timeout_seconds`` (always 240: Azure's fixed UDP
idle timeout), and ``warnings``; a SIP keepalive of 240 s or more is also logged as a warning.

Subnet association: in azure-native the association is a property of the subnet, so the component
registers the ``Subnet`` (``natGateway.id``) when ``subnet`` is given. That resource then owns the
subnet's settings: pass the subnet's NSG and route table ids too, or they would be detached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from ..errors import ConfigError
from ._register import register
from .nat_plan import (
    NAT_GATEWAY_TYPE,
    PUBLIC_IP_PREFIX_TYPE,
    PUBLIC_IP_TYPE,
    SUBNET_TYPE,
    UDP_IDLE_TIMEOUT_SECONDS,
    NatOptions,
    plan_nat,
)

__all__ = ["SubnetAssociation", "NatGatewayArgs", "SpiritNatGateway"]


@dataclass
class SubnetAssociation:
    """The subnet to put behind the gateway (registered as a Subnet resource that this stack owns)."""

    virtual_network_name: pulumi.Input[str]
    address_prefix: str
    subnet_name: str | None = None
    #: keep these attached (the Subnet resource owns all of the subnet's associations)
    network_security_group_id: pulumi.Input[str] | None = None
    route_table_id: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        import netaddr

        try:
            netaddr.IPNetwork(self.address_prefix)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.address_prefix!r} is not a CIDR", field="subnet.address_prefix") from None


@dataclass
class NatGatewayArgs:
    """Arguments of :class:`SpiritNatGateway`; validated at construction (ConfigError)."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str] | None = None
    #: TCP idle timeout, 4-120 minutes
    tcp_idle_timeout_minutes: int = 4
    #: Standard static public IPs (0-16)
    public_ip_count: int = 1
    #: a public IP prefix /28-/31 as well (or instead, with public_ip_count=0)
    public_ip_prefix_length: int | None = None
    zones: Sequence[str] = ()
    #: the SIP keepalive interval behind the gateway; >= 240 s warns (fixed UDP idle timeout)
    sip_keepalive_seconds: int = 30
    #: profile name for the spirit-* tags (None = no marks)
    profile: str | None = None
    subnet: SubnetAssociation | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.plan = plan_nat(NatOptions(self.tcp_idle_timeout_minutes, self.public_ip_count,
                                        self.public_ip_prefix_length, tuple(self.zones),
                                        self.sip_keepalive_seconds, self.profile))


class SpiritNatGateway(pulumi.ComponentResource):
    def __init__(self, name: str, args: NatGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:SpiritNatGateway", name, None, opts)
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        common = {"resource_group_name": args.resource_group_name, "location": args.location}

        def inputs(spec: dict) -> dict:
            out = dict(spec["inputs"])
            if args.tags:
                out["tags"] = {**args.tags, **out.get("tags", {})}
            return out

        ips, prefix = [], None
        for spec in plan.resources:
            if spec["type"] == PUBLIC_IP_TYPE:
                ips.append(register(PUBLIC_IP_TYPE, f"{name}-{spec['name']}", inputs(spec), child, **common))
            elif spec["type"] == PUBLIC_IP_PREFIX_TYPE:
                prefix = register(PUBLIC_IP_PREFIX_TYPE, f"{name}-{spec['name']}", inputs(spec), child, **common)
        gw_spec = next(s for s in plan.resources if s["type"] == NAT_GATEWAY_TYPE)
        self.gateway = register(NAT_GATEWAY_TYPE, f"{name}-{gw_spec['name']}", inputs(gw_spec), child,
                                public_ip_addresses=[{"id": ip.id} for ip in ips] or None,
                                public_ip_prefixes=[{"id": prefix.id}] if prefix is not None else None,
                                **common)
        self.subnet = None
        if args.subnet is not None:
            s = args.subnet
            self.subnet = register(SUBNET_TYPE, f"{name}-subnet", {"addressPrefix": s.address_prefix}, child,
                                   resource_group_name=args.resource_group_name,
                                   virtual_network_name=s.virtual_network_name, subnet_name=s.subnet_name,
                                   nat_gateway={"id": self.gateway.id},
                                   network_security_group={"id": s.network_security_group_id}
                                   if s.network_security_group_id is not None else None,
                                   route_table={"id": s.route_table_id} if s.route_table_id is not None else None)
        for w in plan.warnings:
            pulumi.log.warn(w, resource=self)
        self.nat_gateway_id = self.gateway.id
        self.public_ips = pulumi.Output.all(*[ip.ip_address for ip in ips]) if ips else pulumi.Output.from_input([])
        self.public_ip_prefix = prefix.ip_prefix if prefix is not None else None
        self.tcp_idle_timeout_minutes = plan.tcp_idle_timeout_minutes
        self.udp_idle_timeout_seconds = UDP_IDLE_TIMEOUT_SECONDS
        self.warnings = list(plan.warnings)
        self.register_outputs({"natGatewayId": self.nat_gateway_id, "publicIps": self.public_ips,
                               "publicIpPrefix": self.public_ip_prefix,
                               "tcpIdleTimeoutMinutes": self.tcp_idle_timeout_minutes,
                               "udpIdleTimeoutSeconds": self.udp_idle_timeout_seconds,
                               "warnings": self.warnings})
