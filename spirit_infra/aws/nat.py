"""Managed NAT gateway for AWS: pure specs and the idle-timeout check (no pulumi import).

An AWS NAT gateway drops a connection after **350 s** idle; the timeout is fixed (not configurable).
A SIP registration over UDP is kept alive by the endpoint's keepalive: when the keepalive is not
shorter than 350 s the mapping expires between keepalives, inbound calls stop arriving and the phone
only notices at its next re-registration. The gateway does no DSCP marking (the QoS NAT instance does).

Gateways are keyed by a stable label (the availability zone, e.g. ``"a"``), never by list position, so
adding a zone adds one gateway and one Elastic IP and changes nothing else.

:func:`render_qos_nat` is the QoS NAT instance's render (:class:`~spirit_infra.aws.qos_nat.AwsQosNat`):
its SSM ruleset parameter, instance role, SSM endpoint and channel group, instance, Elastic IP and
routes as a :class:`~spirit_infra.plan.Plan`; what is known only when it is bound is a Param.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .. import marks
from ..errors import ConfigError
from ..nat.instance import LivePlan
from ..plan import Json, Param, Plan, Ref, ResourceSpec
from ..settings import SIP_KEEPALIVE
from .rules import TYPE_EGRESS, TYPE_INGRESS, TYPE_SG, ref, specs_plan

__all__ = ["NAT_IDLE_TIMEOUT_SECONDS", "TYPE_EIP", "TYPE_NAT_GATEWAY", "TYPE_ROUTE", "NatRender", "model_nat", "nat_warnings",
           "as_plan",
           "TYPE_INSTANCE", "TYPE_VPC_ENDPOINT", "TYPE_SSM_PARAMETER", "TYPE_ROLE", "TYPE_ROLE_POLICY",
           "TYPE_INSTANCE_PROFILE", "SSM_STANDARD_LIMIT", "SSM_ADVANCED_LIMIT", "SSM_NAME_MAX", "render_qos_nat"]

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
                f"below {NAT_IDLE_TIMEOUT_SECONDS} s ({SIP_KEEPALIVE.default} s is typical)"]
    return []


def model_nat(profile: str, labels: list[str] | tuple[str, ...], *, one_per_zone: bool = True,
               sip_keepalive_seconds: int = SIP_KEEPALIVE.default,
               route_tables: dict[str, str] | None = None) -> NatRender:
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
    SIP_KEEPALIVE.check(sip_keepalive_seconds)
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


# ---- the QoS NAT instance (AwsQosNat): its resources as a Plan (pure) ----------------------------------

TYPE_INSTANCE = "aws:ec2/instance:Instance"
TYPE_VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
TYPE_SSM_PARAMETER = "aws:ssm/parameter:Parameter"
TYPE_ROLE = "aws:iam/role:Role"
TYPE_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TYPE_INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
#: SSM parameter values: 4 KB (Standard tier), 8 KB (Advanced)
SSM_STANDARD_LIMIT, SSM_ADVANCED_LIMIT = 4096, 8192
#: a fully qualified SSM parameter name: at most 1011 characters
SSM_NAME_MAX = 1011
#: the QoS NAT's route table labels (its routes are named ``route-<label>``)
_QOS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_QOS_NAMES = ("parameter", "role", "policy")


def render_qos_nat(name: str, live: LivePlan, *, profile: str, names: Mapping[str, str], region: str,
                   instance_type: str, ami: str, route_labels: Iterable[str] = (), security_groups: int = 0,
                   channel: bool = False, vpc_cidr: str | None = None, tags: Mapping[str, str] | None = None) -> Plan:
    """The QoS NAT instance of component ``name`` as a :class:`~spirit_infra.plan.Plan` (pure).

    ``live`` is its boot user data and ruleset payload (:meth:`~spirit_infra.nat.instance.QosNatSettings.plan_live`),
    ``names`` its physical names (``parameter``, ``role``, ``policy``). What is known only when it is bound is a
    :class:`~spirit_infra.plan.Param`: ``subnetId``, ``securityGroupIds`` (one element per the
    ``security_groups`` groups, the channel's own group after them), ``routeTableIds`` (by label) and, with
    ``channel`` (the SSM endpoint and the instance's own HTTPS egress to it), ``vpcId``; ``vpc_cidr`` is what
    the endpoint admits. One :class:`~spirit_infra.errors.ConfigError` line, before any spec, for a name or a
    label the cloud would refuse."""
    missing = [k for k in _QOS_NAMES if not names.get(k)]
    if missing:
        raise ConfigError(f"no physical name for {', '.join(missing)}", field="names")
    if len(names["parameter"]) > SSM_NAME_MAX:
        raise ConfigError(f"{names['parameter']!r} is over SSM's {SSM_NAME_MAX} characters", field="parameter_name")
    labels = sorted(route_labels)
    for label in labels:
        if not isinstance(label, str) or not _QOS_LABEL.match(label):
            raise ConfigError(f"{label!r} is not a route table label (lower case letters, digits, '-')",
                              field="route_tables")
    if channel and not vpc_cidr:
        raise ConfigError("the SSM endpoint needs the VPC's IPv4 CIDR", field="vpc_cidr")
    tags = {**dict(tags or {}), **marks.tags(profile), "Name": f"{name}-qos-nat"}
    specs = [
        ResourceSpec(TYPE_SSM_PARAMETER, "ruleset", {
            "name": names["parameter"], "type": "String", "dataType": "text", "value": live.payload,
            "tier": "Standard" if len(live.payload) <= SSM_STANDARD_LIMIT else "Advanced",
            "description": "Spirit QoS NAT ruleset (spirit-nat-agent applies it live)", "tags": tags}),
        ResourceSpec(TYPE_ROLE, "role", {
            "name": names["role"],
            "assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]},
                sort_keys=True),
            "description": "Spirit QoS NAT instance: reads its ruleset parameter, nothing else", "tags": tags}),
        ResourceSpec(TYPE_ROLE_POLICY, "read-ruleset", {
            "name": names["policy"], "role": Ref("role"),
            "policy": Json({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": Ref("ruleset", "arn")}]})}),
        ResourceSpec(TYPE_INSTANCE_PROFILE, "profile", {"name": names["role"], "role": Ref("role", "name"),
                                                         "tags": tags}),
    ]
    groups: list = [Param("securityGroupIds", i) for i in range(security_groups)]
    if channel:
        specs += _ssm_channel(name, region, vpc_cidr, tags)
        groups.append(Ref("channel"))
    specs += [
        ResourceSpec(TYPE_INSTANCE, "instance", {
            "ami": ami, "instanceType": instance_type, "subnetId": Param("subnetId"),
            **({"vpcSecurityGroupIds": groups} if groups else {}),
            "sourceDestCheck": False, "userDataBase64": live.boot, "userDataReplaceOnChange": True,
            "iamInstanceProfile": Ref("profile", "name"),
            "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"}, "tags": tags}),
        ResourceSpec(TYPE_EIP, "eip", {"domain": "vpc", "instance": Ref("instance"), "tags": tags}),
        *(ResourceSpec(TYPE_ROUTE, f"route-{label}", {
            "routeTableId": Param("routeTableIds", label), "destinationCidrBlock": "0.0.0.0/0",
            "networkInterfaceId": Ref("instance", "primaryNetworkInterfaceId")}) for label in labels),
    ]
    return Plan(tuple(specs))


def _ssm_channel(name: str, region: str, vpc_cidr: str, tags: Mapping[str, str]) -> list[ResourceSpec]:
    """The SSM interface endpoint and the instance's own group whose one egress rule reaches it."""
    https = {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443}
    return [
        ResourceSpec(TYPE_SG, "ssm-endpoint", {
            "vpcId": Param("vpcId"), "tags": {**tags, "Name": f"{name}-ssm-endpoint"},
            "description": "SSM interface endpoint of the Spirit QoS NAT ruleset channel: HTTPS from the VPC"}),
        ResourceSpec(TYPE_INGRESS, "ssm-endpoint-in", {
            "securityGroupId": Ref("ssm-endpoint"), **https, "cidrIpv4": vpc_cidr,
            "description": "HTTPS to SSM from the VPC (the QoS NAT agent)"}),
        ResourceSpec(TYPE_SG, "channel", {
            "vpcId": Param("vpcId"), "tags": {**tags, "Name": f"{name}-channel"},
            "description": "egress of the Spirit QoS NAT itself: HTTPS to its SSM endpoint (the live ruleset), "
                           "nothing else"}),
        ResourceSpec(TYPE_EGRESS, "channel-out", {
            "securityGroupId": Ref("channel"), **https, "referencedSecurityGroupId": Ref("ssm-endpoint"),
            "description": "HTTPS to the SSM endpoint (spirit-nat-agent)"}),
        ResourceSpec(TYPE_VPC_ENDPOINT, "ssm", {
            "vpcId": Param("vpcId"), "serviceName": f"com.amazonaws.{region}.ssm", "vpcEndpointType": "Interface",
            "subnetIds": [Param("subnetId")], "securityGroupIds": [Ref("ssm-endpoint")], "privateDnsEnabled": True,
            "tags": {**tags, "Name": f"{name}-ssm"}}),
    ]
