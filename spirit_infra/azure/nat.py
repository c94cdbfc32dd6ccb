"""Managed NAT for Azure: a NAT Gateway (Standard) with static public IP(s) and/or a prefix, on a subnet.

The plan (and every check) is pure (:mod:`.nat_plan`); :class:`AzureNatGateway` registers it. Outputs:
``publicIps`` (the static addresses Spirit allowlists), ``publicIpPrefix`` (when a prefix is used),
``tcpIdleTimeoutMinutes`` and ``udpIdleTimeoutSeconds`` (always 240: Azure's fixed UDP idle timeout), and
``warnings``; a SIP keepalive of 240 s or more is also logged as a warning.

Subnet association: in azure-native the association is a property of the subnet, so the component
registers the ``Subnet`` (``natGateway.id``) when ``subnet`` is given. That resource then owns the
subnet's settings: pass the subnet's NSG and route table ids too, or they would be detached.
Real annotations (no ``from __future__ import annotations``): Pulumi's schema analyzer reads them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NotRequired

import netaddr
import pulumi

from ..args import ProfileName, args_of, component_options, known, profile_name, register_declared, require
from ..binder import bind
from ..errors import ConfigError
from ..plan import Param, Plan, Ref, ResourceSpec
from ..planning import planned
from ._register import CLASSES
from .nat_plan import (
    NAT_GATEWAY_TYPE,
    PUBLIC_IP_PREFIX_TYPE,
    PUBLIC_IP_TYPE,
    SUBNET_TYPE,
    UDP_IDLE_TIMEOUT_SECONDS,
    NatOptions,
    NatPlan,
    plan_nat,
)

__all__ = ["SubnetAssociation", "AzureNatGatewayArgs", "AzureNatGateway", "NatGatewayArgs", "SpiritNatGateway"]


@dataclass
class SubnetAssociation:
    """The subnet to put behind the gateway (registered as a Subnet resource that this stack owns)."""

    virtual_network_name: pulumi.Input[str]
    """The subnet's virtual network."""
    address_prefix: str
    """The subnet's CIDR."""
    subnet_name: str | None = None
    """The subnet's Azure name (default: auto-named)."""
    network_security_group_id: NotRequired[pulumi.Input[str]] = None
    """Keep this NSG attached (the Subnet resource owns all of the subnet's associations)."""
    route_table_id: NotRequired[pulumi.Input[str]] = None
    """Keep this route table attached."""

    def __post_init__(self) -> None:
        try:
            netaddr.IPNetwork(self.address_prefix)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{self.address_prefix!r} is not a CIDR", field="subnet.address_prefix") from None


@dataclass
class AzureNatGatewayArgs:
    """Arguments of :class:`AzureNatGateway`; validated at construction (ConfigError)."""

    resource_group_name: pulumi.Input[str]
    """The resource group of the gateway and its addresses."""
    location: NotRequired[pulumi.Input[str]] = None
    """The Azure region (default: the provider's)."""
    tcp_idle_timeout_minutes: NotRequired[int] = 4
    """TCP idle timeout, 4-120 minutes."""
    public_ip_count: NotRequired[int] = 1
    """Standard static public IPs (0-16)."""
    public_ip_prefix_length: int | None = None
    """A public IP prefix /28-/31 as well (or instead, with publicIpCount 0)."""
    zones: NotRequired[list[str]] = field(default_factory=list)
    """At most one availability zone (empty: regional)."""
    sip_keepalive_seconds: NotRequired[int] = 30
    """The SIP keepalive interval behind the gateway; 240 s or more warns (fixed UDP idle timeout)."""
    profile: ProfileName | None = None
    """The Spirit profile, for the spirit-* tags (absent: no marks)."""
    subnet: SubnetAssociation | None = None
    """The subnet to put behind the gateway."""
    tags: NotRequired[dict[str, str]] = field(default_factory=dict)
    """Extra tags (the spirit-* marks are always set)."""

    def __post_init__(self) -> None:
        require(self.resource_group_name, "resource_group_name")
        if isinstance(self.subnet, Mapping):
            self.subnet = args_of(SubnetAssociation, self.subnet, "subnet")
        self.plan()

    def plan(self) -> NatPlan:
        """The gateway, its addresses and their checks (pure, cached)."""
        return planned(self, "nat", lambda: plan_nat(NatOptions(
            self.tcp_idle_timeout_minutes, self.public_ip_count, self.public_ip_prefix_length, tuple(self.zones),
            self.sip_keepalive_seconds, profile_name(self.profile) if self.profile is not None else None)))


def nat_plan(args: AzureNatGatewayArgs, plan: NatPlan) -> Plan:
    """The gateway's render as a :class:`~spirit_infra.plan.Plan`: the public IPs and prefix, the gateway
    (referencing them) and, with a subnet, the Subnet that associates it."""
    common = {"resourceGroupName": Param("resourceGroupName"), "location": Param("location")}

    def inputs(spec: dict) -> dict:
        out = dict(spec["inputs"])
        if args.tags:
            out["tags"] = {**args.tags, **out.get("tags", {})}
        return {**out, **common}

    addresses = [sp for sp in plan.resources if sp["type"] in (PUBLIC_IP_TYPE, PUBLIC_IP_PREFIX_TYPE)]
    specs = [ResourceSpec(sp["type"], sp["name"], inputs(sp)) for sp in addresses]
    gw = next(sp for sp in plan.resources if sp["type"] == NAT_GATEWAY_TYPE)
    links = {}
    if ips := [{"id": Ref(sp["name"])} for sp in addresses if sp["type"] == PUBLIC_IP_TYPE]:
        links["publicIpAddresses"] = ips
    if prefixes := [{"id": Ref(sp["name"])} for sp in addresses if sp["type"] == PUBLIC_IP_PREFIX_TYPE]:
        links["publicIpPrefixes"] = prefixes[:1]
    specs.append(ResourceSpec(NAT_GATEWAY_TYPE, gw["name"], {**inputs(gw), **links}))
    if (s := args.subnet) is not None:
        specs.append(ResourceSpec(SUBNET_TYPE, "subnet", {
            "addressPrefix": s.address_prefix, "resourceGroupName": Param("resourceGroupName"),
            "virtualNetworkName": Param("virtualNetworkName"), "subnetName": Param("subnetName"),
            "natGateway": {"id": Ref(gw["name"])},
            **({"networkSecurityGroup": {"id": Param("nsgId")}} if s.network_security_group_id is not None else {}),
            **({"routeTable": {"id": Param("routeTableId")}} if s.route_table_id is not None else {})}))
    return Plan(tuple(specs), warnings=tuple(plan.warnings))


class AzureNatGateway(pulumi.ComponentResource):
    """A NAT Gateway (Standard) with static public IP(s) and/or a prefix, optionally on a subnet."""

    nat_gateway_id: pulumi.Output[str]
    """The NAT gateway's id (associate it with the site subnets)."""
    public_ips: pulumi.Output[list[str]]
    """The static public addresses (what Spirit allowlists)."""
    public_ip_prefix: pulumi.Output[str | None]
    """The public IP prefix (absent without one)."""
    tcp_idle_timeout_minutes: pulumi.Output[int]
    """The TCP idle timeout."""
    udp_idle_timeout_seconds: pulumi.Output[int]
    """Azure's fixed UDP idle timeout (240 s)."""
    warnings: pulumi.Output[list[str]]
    """What the operator should know (a keepalive not below the UDP idle timeout)."""

    def __init__(self, name: str, args: AzureNatGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        args = args_of(AzureNatGatewayArgs, args)
        plan = args.plan()
        super().__init__("spirit:index:AzureNatGateway", name, None, component_options(opts, "SpiritNatGateway"))
        s = args.subnet
        created = bind(nat_plan(args, plan), self, name, CLASSES, {
            "resourceGroupName": args.resource_group_name, "location": args.location,
            **({"virtualNetworkName": s.virtual_network_name, "subnetName": s.subnet_name,
                "nsgId": s.network_security_group_id, "routeTableId": s.route_table_id} if s is not None else {})})
        ips = [created[sp["name"]] for sp in plan.resources if sp["type"] == PUBLIC_IP_TYPE]
        prefix = next((created[sp["name"]] for sp in plan.resources if sp["type"] == PUBLIC_IP_PREFIX_TYPE), None)
        gateway = created[next(sp["name"] for sp in plan.resources if sp["type"] == NAT_GATEWAY_TYPE)]
        for w in plan.warnings:
            pulumi.log.warn(w, resource=self)
        self.nat_gateway_id = gateway.id
        self.public_ips = pulumi.Output.all(*[ip.ip_address for ip in ips]) if ips else known([])
        self.public_ip_prefix = prefix.ip_prefix if prefix is not None else None
        self.tcp_idle_timeout_minutes = known(plan.tcp_idle_timeout_minutes)
        self.udp_idle_timeout_seconds = known(UDP_IDLE_TIMEOUT_SECONDS)
        self.warnings = known(list(plan.warnings))
        register_declared(self)


# deprecated names (before the uniform component names; the old type token is an alias)
NatGatewayArgs, SpiritNatGateway = AzureNatGatewayArgs, AzureNatGateway
