"""Azure NAT Gateway plan (pure): validated options, the resources to register, and the UDP warning.

Azure's NAT Gateway (Standard SKU) takes up to 16 Standard static public IPs and/or public IP
prefixes, a TCP idle timeout of 4-120 minutes, and has a *fixed* UDP idle timeout of 4 minutes
(240 s). A SIP-over-UDP mapping that sees no packet for 240 s is dropped, so a SIP keepalive
interval of 240 s or more gives one-way or dropped calls; the plan says so (``warnings``) and the
component logs it and exports ``udpIdleTimeoutSeconds``. There is no DSCP control: for QoS marking
use the QoS NAT instance instead.

:func:`render_qos_nat` is the QoS NAT VM's render (:class:`~spirit_infra.azure.qos_nat.AzureQosNat`):
its public IP, NIC, VM, route table and default route as a :class:`~spirit_infra.plan.Plan`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from .. import marks
from ..errors import ConfigError
from ..nat.instance import LivePlan
from ..plan import Param, Plan, Ref, ResourceSpec
from ..settings import (
    PUBLIC_IP_COUNT,
    PUBLIC_IP_PREFIX_LENGTH,
    SIP_KEEPALIVE,
    TCP_IDLE_TIMEOUT_MINUTES,
    check_fields,
)
from .common import RG_LOCATION

__all__ = ["UDP_IDLE_TIMEOUT_SECONDS", "NatOptions", "NatPlan", "model_nat", "NAT_GATEWAY_TYPE",
           "PUBLIC_IP_TYPE", "PUBLIC_IP_PREFIX_TYPE", "SUBNET_TYPE", "as_plan",
           "NIC_TYPE", "VM_TYPE", "ROUTE_TABLE_TYPE", "ROUTE_TYPE", "PRIVATE_IP", "render_qos_nat"]

NAT_GATEWAY_TYPE = "azure-native:network:NatGateway"
PUBLIC_IP_TYPE = "azure-native:network:PublicIPAddress"
PUBLIC_IP_PREFIX_TYPE = "azure-native:network:PublicIPPrefix"
SUBNET_TYPE = "azure-native:network:Subnet"

UDP_IDLE_TIMEOUT_SECONDS = 240   # fixed by Azure
TCP_IDLE_MIN, TCP_IDLE_MAX = TCP_IDLE_TIMEOUT_MINUTES.ge, TCP_IDLE_TIMEOUT_MINUTES.le
MAX_PUBLIC_IPS = PUBLIC_IP_COUNT.le


@dataclass(frozen=True)
class NatOptions:
    #: each knob's type, default, range and doc: its declaration in spirit_infra.settings
    tcp_idle_timeout_minutes: int = TCP_IDLE_TIMEOUT_MINUTES.field()
    public_ip_count: int = PUBLIC_IP_COUNT.field()
    public_ip_prefix_length: int | None = PUBLIC_IP_PREFIX_LENGTH.field()
    #: availability zone for the gateway and its IPs: at most one (empty = regional / no zone)
    zones: tuple[str, ...] = ()
    sip_keepalive_seconds: int = SIP_KEEPALIVE.field()
    profile: str | None = None

    def validate(self) -> None:
        check_fields(self)
        plen = self.public_ip_prefix_length
        total = self.public_ip_count + (2 ** (32 - plen) if plen is not None else 0)
        if total == 0:
            raise ConfigError("the gateway needs at least one public IP or a prefix", field="public_ip_count")
        if total > MAX_PUBLIC_IPS:
            raise ConfigError(f"{self.public_ip_count} IPs + a /{plen} prefix = {total} addresses; a NAT gateway "
                              f"takes {MAX_PUBLIC_IPS}", field="public_ip_prefix_length")
        if len(self.zones) > 1 or any(not isinstance(z, str) or not z.strip() for z in self.zones):
            raise ConfigError(f"{list(self.zones)!r}: a Standard NAT gateway (and the public IPs it uses) is "
                              "zonal in at most one zone; give one zone, or none for a regional gateway",
                              field="zones")
        if self.profile is not None and self.profile not in marks.ROLE_FOR_PROFILE:
            raise ConfigError(f"unknown profile {self.profile!r}", field="profile")


@dataclass(frozen=True)
class NatPlan:
    resources: tuple[dict, ...]   # {"type", "name" (suffix), "inputs"} without resource group/location/ids
    warnings: tuple[str, ...]
    tcp_idle_timeout_minutes: int
    udp_idle_timeout_seconds: int = UDP_IDLE_TIMEOUT_SECONDS

    def to_json(self) -> dict:
        return {"resources": list(self.resources), "warnings": list(self.warnings),
                "tcpIdleTimeoutMinutes": self.tcp_idle_timeout_minutes,
                "udpIdleTimeoutSeconds": self.udp_idle_timeout_seconds}


def udp_warning(keepalive: int) -> str | None:
    if keepalive >= UDP_IDLE_TIMEOUT_SECONDS:
        return (f"sip_keepalive_seconds {keepalive} >= the Azure NAT gateway's fixed UDP idle timeout "
                f"({UDP_IDLE_TIMEOUT_SECONDS} s): SIP-over-UDP mappings expire between keepalives (inbound calls "
                f"fail); keep the keepalive below {UDP_IDLE_TIMEOUT_SECONDS} s (30-60 s is usual) or use the "
                "QoS NAT instance")
    return None


def model_nat(options: NatOptions | None = None) -> NatPlan:
    opts = options or NatOptions()
    opts.validate()
    tags = marks.tags(opts.profile) if opts.profile else None
    zones = list(opts.zones)
    res: list[dict] = []

    def add(type_, name, inputs):
        if tags:
            inputs["tags"] = dict(tags)
        if zones:
            inputs["zones"] = list(zones)
        res.append({"type": type_, "name": name, "inputs": inputs})

    for i in range(opts.public_ip_count):
        add(PUBLIC_IP_TYPE, f"ip{i + 1}", {"sku": {"name": "Standard", "tier": "Regional"},
                                          "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"})
    if opts.public_ip_prefix_length is not None:
        add(PUBLIC_IP_PREFIX_TYPE, "prefix", {"sku": {"name": "Standard", "tier": "Regional"},
                                             "prefixLength": opts.public_ip_prefix_length,
                                             "publicIPAddressVersion": "IPv4"})
    add(NAT_GATEWAY_TYPE, "natgw", {"sku": {"name": "Standard"},
                                    "idleTimeoutInMinutes": opts.tcp_idle_timeout_minutes})
    w = udp_warning(opts.sip_keepalive_seconds)
    return NatPlan(tuple(res), (w,) if w else (), opts.tcp_idle_timeout_minutes)


def as_plan(plan: NatPlan, *, tags: Mapping[str, str] | None = None, subnet_prefix: str | None = None,
            keep_nsg: bool = False, keep_route_table: bool = False) -> Plan:
    """The gateway's render as a :class:`~spirit_infra.plan.Plan`: the public IPs and prefix, the gateway
    (referencing them) and, with ``subnet_prefix``, the Subnet that associates it (keeping its NSG and route
    table, parameters ``nsgId`` and ``routeTableId``, when asked). Parameters: ``resourceGroupName``,
    ``location`` (and ``virtualNetworkName``, ``subnetName`` with a subnet); ``tags`` are added to every
    resource's (the spirit-* marks win)."""

    def inputs(spec: dict) -> dict:
        out = dict(spec["inputs"])
        if tags:
            out["tags"] = {**tags, **out.get("tags", {})}
        return {**out, **RG_LOCATION}

    addresses = [sp for sp in plan.resources if sp["type"] in (PUBLIC_IP_TYPE, PUBLIC_IP_PREFIX_TYPE)]
    specs = [ResourceSpec(sp["type"], sp["name"], inputs(sp)) for sp in addresses]
    gw = next(sp for sp in plan.resources if sp["type"] == NAT_GATEWAY_TYPE)
    links = {}
    if ips := [{"id": Ref(sp["name"])} for sp in addresses if sp["type"] == PUBLIC_IP_TYPE]:
        links["publicIpAddresses"] = ips
    if prefixes := [{"id": Ref(sp["name"])} for sp in addresses if sp["type"] == PUBLIC_IP_PREFIX_TYPE]:
        links["publicIpPrefixes"] = prefixes[:1]
    specs.append(ResourceSpec(NAT_GATEWAY_TYPE, gw["name"], {**inputs(gw), **links}))
    if subnet_prefix is not None:
        specs.append(ResourceSpec(SUBNET_TYPE, "subnet", {
            "addressPrefix": subnet_prefix, "resourceGroupName": Param("resourceGroupName"),
            "virtualNetworkName": Param("virtualNetworkName"), "subnetName": Param("subnetName"),
            "natGateway": {"id": Ref(gw["name"])},
            **({"networkSecurityGroup": {"id": Param("nsgId")}} if keep_nsg else {}),
            **({"routeTable": {"id": Param("routeTableId")}} if keep_route_table else {})}))
    return Plan(tuple(specs), warnings=tuple(plan.warnings))


# ---- the QoS NAT VM (AzureQosNat): its resources as a Plan (pure) --------------------------------------

NIC_TYPE = "azure-native:network:NetworkInterface"
VM_TYPE = "azure-native:compute:VirtualMachine"
ROUTE_TABLE_TYPE = "azure-native:network:RouteTable"
ROUTE_TYPE = "azure-native:network:Route"
#: the NIC's private address, once Azure assigns it (the route's next hop)
PRIVATE_IP = Ref("nic", "ipConfigurations", (0, "privateIPAddress"))
_IMAGE_KEYS = ("publisher", "offer", "sku", "version")


def render_qos_nat(name: str, live: LivePlan, *, profile: str, vm_size: str, image: Mapping[str, str],
                   admin_username: str, ssh_public_key: str, network_security_group: bool = False,
                   tags: Mapping[str, str] | None = None) -> Plan:
    """The QoS NAT VM of component ``name`` as a :class:`~spirit_infra.plan.Plan` (pure).

    ``live`` is its boot customData and userData payload (:meth:`~spirit_infra.nat.instance.QosNatSettings.plan_live`;
    userData is sent base64-encoded). Known only when bound (:class:`~spirit_infra.plan.Param`):
    ``resourceGroupName``, ``location`` (``None``: the resource group's), ``subnetId`` and, with
    ``network_security_group``, ``networkSecurityGroupId``. The route's next hop is :data:`PRIVATE_IP`."""
    missing = [k for k in _IMAGE_KEYS if not image.get(k)]
    if missing:
        raise ConfigError(f"image reference lacks {', '.join(missing)}", field="image")
    tags = {**dict(tags or {}), **marks.tags(profile)}
    return Plan((
        ResourceSpec(PUBLIC_IP_TYPE, "pip", {
            **RG_LOCATION, "sku": {"name": "Standard", "tier": "Regional"}, "publicIPAllocationMethod": "Static",
            "publicIPAddressVersion": "IPv4", "tags": tags}),
        ResourceSpec(NIC_TYPE, "nic", {
            **RG_LOCATION, "enableIPForwarding": True,
            "ipConfigurations": [{
                "name": "ipconfig1", "primary": True, "privateIPAllocationMethod": "Dynamic",
                # the two policies are what the SDK's SubnetArgs sends when they are not set
                "subnet": {"id": Param("subnetId"), "privateEndpointNetworkPolicies": "Disabled",
                           "privateLinkServiceNetworkPolicies": "Enabled"},
                "publicIPAddress": {"id": Ref("pip")}}],
            **({"networkSecurityGroup": {"id": Param("networkSecurityGroupId")}} if network_security_group else {}),
            "tags": tags}),
        ResourceSpec(VM_TYPE, "vm", {
            **RG_LOCATION,
            "hardwareProfile": {"vmSize": vm_size},
            "osProfile": {
                "computerName": f"{name}-qos-nat"[:64], "adminUsername": admin_username, "customData": live.boot,
                "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                    {"path": f"/home/{admin_username}/.ssh/authorized_keys", "keyData": ssh_public_key}]}}},
            "storageProfile": {
                "imageReference": dict(image),
                "osDisk": {"createOption": "FromImage", "deleteOption": "Delete",
                           "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
            "networkProfile": {"networkInterfaces": [{"id": Ref("nic"), "primary": True}]},
            "userData": base64.b64encode(live.payload.encode()).decode(), "tags": tags}),
        ResourceSpec(ROUTE_TABLE_TYPE, "rt", {**RG_LOCATION, "disableBgpRoutePropagation": True, "tags": tags}),
        ResourceSpec(ROUTE_TYPE, "default", {
            "resourceGroupName": Param("resourceGroupName"), "routeTableName": Ref("rt", "name"),
            "routeName": "spirit-qos-nat-default", "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance", "nextHopIpAddress": PRIVATE_IP}),
    ))
