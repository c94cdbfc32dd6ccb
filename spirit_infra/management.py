"""Management access for an SBC (pure): the operator's own CIDRs reach the SBC on SSH (tcp/22) and HTTPS
(tcp/443), in resources of their own, apart from Spirit's rules.

- **AWS**: a separate security group (``<name>-mgmt``) with one ingress rule per CIDR and port; attach
  it to the SBC's interface next to the Spirit groups. The Spirit groups are not touched.
- **Azure**: two inbound rules in the Spirit NSG, in a priority band of their own (3000-3099, after the
  Spirit band 1000-2999): ``mgmt-ssh`` at 3010 and ``mgmt-https`` at 3020, each with every CIDR
  (augmented rule). Priorities come from the port, never from a position.
- **GCP**: one VPC firewall rule (``<name>-mgmt``), ingress from the CIDRs on tcp 22 and 443, that targets
  a network tag of its own (default ``spirit-mgmt``): only instances carrying that tag are reachable.

Every rule is marked ``spirit-flow=sbc-management``, so the readers keep it apart from Spirit's flows
(the preview judges it as its own layer, "management access"). Validation, before anything is
registered: at least one CIDR, no host bits, never the world (``0.0.0.0/0``, ``::/0``) and never
over-broad: an IPv4 CIDR is at most a /16 (65,536 addresses), an IPv6 CIDR at most a /48.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import netaddr

from . import marks
from .errors import ConfigError
from .flows import AllowedSet, Peer, PortSet, Term, compact_cidrs
from .settings import MANAGEMENT_TAG, QUOTA

__all__ = ["MANAGEMENT_FLOW", "MANAGEMENT_PORTS", "MIN_PREFIX", "AZURE_BAND", "AZURE_PRIORITY", "check_cidrs",
           "allowed", "without_management", "aws_specs", "azure_rules", "gcp_spec", "DEFAULT_GCP_TAG"]

MANAGEMENT_FLOW = "sbc-management"
#: SSH and HTTPS, the SBC's management interfaces
MANAGEMENT_PORTS = {"ssh": 22, "https": 443}
#: the widest CIDR admitted, per IP version
MIN_PREFIX = {4: 16, 6: 48}
AZURE_BAND = (3000, 3099)
AZURE_PRIORITY = {"ssh": 3010, "https": 3020}
DEFAULT_GCP_TAG = MANAGEMENT_TAG.default
#: AWS: ingress rules per group and family
AWS_QUOTA = QUOTA.default


def check_cidrs(cidrs: Iterable, *, file: str | None = None, line: int | None = None,
                field: str = "management_cidrs") -> tuple[str, ...]:
    """The operator's management CIDRs, validated (one-line ConfigError naming the value)."""
    if isinstance(cidrs, str) or not isinstance(cidrs, (list, tuple)):
        raise ConfigError(f"expected a list of CIDRs, got {cidrs!r}", file=file, line=line, field=field)
    if not cidrs:
        raise ConfigError("give at least one CIDR (the operator's own addresses)", file=file, line=line, field=field)
    out = []
    for i, c in enumerate(cidrs):
        where = f"{field}[{i}]"
        if not isinstance(c, str):
            raise ConfigError(f"expected a CIDR string, got {c!r}", file=file, line=line, field=where)
        try:
            net = netaddr.IPNetwork(c, expand_partial=False)
            if "/" not in c or not c.split("/", 1)[1].isdigit():
                raise ValueError
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise ConfigError(f"{c!r} is not a CIDR like 203.0.113.0/28", file=file, line=line, field=where) from None
        if net.ip != net.network:
            raise ConfigError(f"{c!r} has host bits set (did you mean {net.cidr}?)", file=file, line=line, field=where)
        if net.prefixlen == 0:
            raise ConfigError(f"{c!r} is every address: management access is never from the world", file=file,
                              line=line, field=where)
        if net.prefixlen < MIN_PREFIX[net.version]:
            raise ConfigError(f"{c!r} is over-broad: list the operator's own ranges (at most a "
                              f"/{MIN_PREFIX[net.version]} per CIDR)", file=file, line=line, field=where)
        out.append(str(net.cidr))
    cidrs = compact_cidrs(out)
    for family in (4, 6):
        n = len([c for c in cidrs if netaddr.IPNetwork(c).version == family])
        if n * len(MANAGEMENT_PORTS) > AWS_QUOTA:
            raise ConfigError(f"{n} IPv{family} CIDRs need {n * len(MANAGEMENT_PORTS)} security-group rules; the "
                              f"quota is {AWS_QUOTA} (merge them into fewer ranges)", file=file, line=line, field=field)
    return cidrs


def allowed(cidrs: Iterable[str]) -> AllowedSet:
    """What management access admits: ingress tcp 22 and 443 from the CIDRs."""
    ports = PortSet.of([(p, p) for p in MANAGEMENT_PORTS.values()])
    return AllowedSet([Term("ingress", "tcp", Peer.of(cidrs), PortSet.of(None), ports, MANAGEMENT_FLOW)])


def without_management(read):
    """A reader's allowed set without the management rules (they are not Spirit's flows)."""
    return read.select(flows=[f for f in read.flow_ids if f != MANAGEMENT_FLOW])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _text(profile: str) -> str:
    return marks.description(profile, [MANAGEMENT_FLOW], "SBC management access (operator CIDRs; not Spirit's)")


def aws_specs(cidrs: Iterable[str], profile: str = "sbc") -> list[dict]:
    """The management security group and its ingress rules (specs as :mod:`spirit_infra.aws.rules`)."""
    from .aws.rules import PARAM_VPC, TYPE_INGRESS, TYPE_SG, ref

    specs: list[dict] = [{"type": TYPE_SG, "name": "mgmt", "inputs": {
        "vpcId": PARAM_VPC, "description": _text(profile), "revokeRulesOnDelete": True,
        "tags": marks.tags(profile, [MANAGEMENT_FLOW])}}]
    for c in cidrs:
        for label, port in MANAGEMENT_PORTS.items():
            family = "cidrIpv6" if ":" in c else "cidrIpv4"
            specs.append({"type": TYPE_INGRESS, "name": f"mgmt-in-{label}-{_digest(c)}", "inputs": {
                "securityGroupId": ref("mgmt"), "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                family: c, "description": _text(profile), "tags": marks.tags(profile, [MANAGEMENT_FLOW])}})
    return sorted(specs, key=lambda s: (s["type"], s["name"]))


def azure_rules(cidrs: Iterable[str], profile: str = "sbc") -> list[dict]:
    """Two inbound SecurityRule inputs (without resource group / NSG name), in the management band."""
    cidrs = list(cidrs)
    out = []
    for label, port in MANAGEMENT_PORTS.items():
        inputs = {"securityRuleName": f"mgmt-{label}", "priority": AZURE_PRIORITY[label], "direction": "Inbound",
                  "access": "Allow", "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": str(port),
                  "destinationAddressPrefix": "*", "description": _text(profile)}
        if len(cidrs) == 1:
            inputs["sourceAddressPrefix"] = cidrs[0]
        else:
            inputs["sourceAddressPrefixes"] = cidrs
        out.append(inputs)
    return out


def gcp_spec(cidrs: Iterable[str], tag: str = DEFAULT_GCP_TAG, name: str = "spirit-mgmt", profile: str = "sbc") -> dict:
    """One ingress VPC firewall rule from the CIDRs on tcp 22 and 443, for instances tagged ``tag``."""
    from .gcp.common import check_name

    check_name(tag, "management_tag")
    check_name(name, "name")
    return {"type": "gcp:compute/firewall:Firewall", "name": "mgmt", "refs": {"network": "arg:network"}, "inputs": {
        "name": name, "direction": "INGRESS", "priority": 1000, "sourceRanges": list(cidrs), "targetTags": [tag],
        "allows": [{"protocol": "tcp", "ports": [str(p) for p in MANAGEMENT_PORTS.values()]}],
        "description": _text(profile)}}
