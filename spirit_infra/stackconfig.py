"""Stack configuration: every ``spirit:*`` key, typed, documented and validated before any resource exists.

The schema below is the single source of truth: ``Pulumi.yaml`` documents the same keys (descriptions
and defaults, generated from :data:`KEYS` and checked by a test), the program validates with it, and
the offline preview reports errors as ``error: <file>:<line>: spirit:<key>: <what>`` with exit 2.

Pulumi hands config values to a program as strings (objects and lists as JSON); :func:`parse` accepts
both the raw strings and already-decoded YAML values from a stack file.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netaddr

from .errors import ConfigError
from .profiles import PROFILES, Overrides, SbcPorts, build_profile, overrides_from_mapping, parse_port_text
from .registry import CLOUDS as _REGISTRY
from .settings import (
    EXPECTED_CALLS,
    MANAGEMENT_TAG,
    SBC_MEDIA_PORTS,
    SBC_SIP_PORTS,
    SIP_KEEPALIVE,
    STRICT,
    Setting,
)
from .zones import default_zone, edge_cidr, firewall_cidr, is_zone

__all__ = ["KEYS", "Key", "StackConfig", "Site", "parse", "load_stack_file", "read_stack_file", "CLOUDS", "NAT_MODES", "LAYERS"]

CLOUDS = tuple(_REGISTRY)  # the registry's table: aws, azure, gcp
NAT_MODES = ("none", "managed", "qos-instance")
LAYERS = ("rules", "fqdn-firewall")


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # string | integer | boolean | array | object
    description: str
    default: Any = None
    choices: tuple = ()
    required: bool = False
    #: the declaration a key is derived from (its type, default, range and doc; spirit_infra.settings)
    setting: Setting | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, setting: Setting) -> Key:
        """The key of a declared setting (``spirit:<setting.stack>``)."""
        kind = {int: "integer", bool: "boolean", str: "string"}[setting.type]
        return cls(setting.stack, kind, setting.doc, setting.default, setting.choices, setting=setting)


KEYS: tuple[Key, ...] = (
    Key("cloud", "string", "Which cloud to deploy into.", None, CLOUDS, required=True),
    Key("profile", "string", "Deployment profile: phones (phone sites behind a cloud hub), communicator "
        "(Spirit Communicator on VDI desktops) or sbc (a hosted session border controller).", None, PROFILES,
        required=True),
    Key("networkId", "string", "Attach to this existing VPC id / VNet resource id / GCP network self link. "
        "Empty: create a minimal network from networkCidr.", ""),
    Key("networkCidr", "string", "Address space of the network created when networkId is empty.", "10.40.0.0/16"),
    Key("resourceGroupName", "string", "Azure only: the resource group to deploy into (created when empty).", ""),
    Key("sites", "array", "The VDI subnets or phone sites this stack serves: a list of {name, cidr} (aws: "
        "optionally zone, a letter of spirit:zones; default: a stable hash of the name). Sites are keyed by "
        "name: adding, removing or reordering one changes nothing of another. Empty: one site, 'site-a', "
        "the first /24 of networkCidr.", []),
    Key("zones", "array", "aws, gcp: the region's zone suffixes that sites and the NAT may use (a letter each, "
        "e.g. [a, b, c]; GCP us-east1 and europe-west1: [b, c, d]). Read from config, never from the cloud, so "
        "a preview needs no account and a zone the cloud adds later moves nothing.", ["a", "b", "c"]),
    Key("natZone", "string", "aws, gcp: the zone (a letter of spirit:zones) of the QoS NAT instance, and on "
        "aws of a single NAT gateway. The NAT has an edge subnet of its own, never a site's. Empty: the "
        "alphabetically first of spirit:zones.", ""),
    Key("natGatewayPerZone", "boolean", "aws, nat managed: one NAT gateway (and Elastic IP) per zone in use, "
        "each zone's sites routed to their own zone's gateway (high availability). false: one gateway in "
        "spirit:natZone for every site (cheaper; that zone's outage stops all egress).", True),
    Key("firewallLayers", "array", "Firewall layers: 'rules' (security group / NSG / VPC firewall rules) and "
        "optionally 'fqdn-firewall' (AWS Network Firewall, Azure Firewall Policy, GCP firewall policy with FQDNs).",
        ["rules"], LAYERS),
    Key("nat", "string", "Egress NAT: none, managed (the cloud's NAT gateway) or qos-instance (spirit-infra's "
        "DSCP-marking nftables NAT instance). Profile sbc: none (azure, gcp: also managed); the SBC takes Spirit's "
        "SIP and media on its own public IP.", "managed", NAT_MODES),
    Key.of(STRICT),
    Key.of(SIP_KEEPALIVE),
    Key.of(SBC_SIP_PORTS),
    Key.of(SBC_MEDIA_PORTS),
    Key("overrides", "object", "Catalogue overrides: extra_spirit_cidrs, ztp_vendors_drop, catalogue (a file "
        "relative to the project).", {}),
    Key("extraFlows", "string", "The customer's own egress flows (NTP, OS mirrors, a platform's endpoints): a file in "
        "the catalogue's format, relative to the project (e.g. presets/avd-session-hosts.yaml). Empty: none.", ""),
    Key("managementCidrs", "array", "SBC only: the operator's management CIDRs, admitted on SSH (tcp/22) and HTTPS "
        "(tcp/443) in resources of their own (AWS: a separate security group; Azure: NSG rules at 3010/3020, "
        "outside the Spirit band; GCP: a rule for the managementTag). Never 0.0.0.0/0; at most a /16 (IPv6 /48) "
        "each. Empty: no management access.", []),
    Key.of(MANAGEMENT_TAG),
    Key("targetTags", "array", "GCP only: network tags the firewall rules and NAT routes target.", ["spirit"]),
    Key.of(EXPECTED_CALLS),
    Key("natInstanceType", "string", "qos-instance only: instance size (empty: the cloud's small default).", ""),
    Key("natSshPublicKey", "string", "Azure qos-instance only: the NAT VM's SSH public key (Azure requires one).", ""),
)
_BY_NAME = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class Site:
    name: str
    cidr: str
    #: the zone suffix (aws: the subnet's availability zone); "" where subnets are regional (azure, gcp)
    zone: str = ""


@dataclass(frozen=True)
class StackConfig:
    cloud: str
    profile: str
    network_id: str = ""
    network_cidr: str = "10.40.0.0/16"
    resource_group_name: str = ""
    sites: tuple[Site, ...] = ()
    firewall_layers: tuple[str, ...] = ("rules",)
    nat: str = "managed"
    strict: bool = STRICT.default
    sip_keepalive_seconds: int = SIP_KEEPALIVE.default
    overrides: Overrides = field(default_factory=Overrides)
    target_tags: tuple[str, ...] = ("spirit",)
    expected_calls: int = EXPECTED_CALLS.default
    nat_instance_type: str = ""
    nat_ssh_public_key: str = ""
    management_cidrs: tuple[str, ...] = ()
    management_tag: str = MANAGEMENT_TAG.default
    #: aws, gcp: the zone suffixes in use; the NAT's zone; aws managed NAT: one gateway per zone in use
    zones: tuple[str, ...] = ("a", "b", "c")
    nat_zone: str = "a"
    nat_gateway_per_zone: bool = True
    extra: dict = field(default_factory=dict)  # provider keys (aws:region, ...), passed through
    #: where the config came from, and the line of each key in it: errors found later (a render's quota,
    #: a cloud-init too big) still name the file, line and key
    file: str = field(default="(config)", compare=False)
    lines: dict = field(default_factory=dict, compare=False, repr=False)

    #: the spirit:* keys the config sets (the others are defaults)
    given: frozenset = field(default=frozenset(), compare=False, repr=False)

    def locate(self, *keys: str) -> tuple[str, int | None, str]:
        """(file, line, ``spirit:<key>``) of the first of ``keys`` the config sets (else the last, at ``config:``)."""
        key = next((k for k in keys if k in self.given), keys[-1])
        return self.file, self.lines.get(key, self.lines.get(_CONFIG_LINE)), f"spirit:{key}"

    @property
    def fqdn_firewall(self) -> bool:
        return "fqdn-firewall" in self.firewall_layers

    @property
    def edge_zones(self) -> tuple[str, ...]:
        """aws: the zones that get an edge (public) subnet: every site's zone with a NAT gateway per zone,
        else the NAT's zone only. Sorted: a function of the set of zones, never of the site order."""
        if self.cloud != "aws":
            return ()
        if self.nat == "managed" and self.nat_gateway_per_zone and not self.fqdn_firewall:
            return tuple(sorted({s.zone for s in self.sites}))
        return (self.nat_zone,)


def _err(file: str, lines: dict, key: str, what: str) -> ConfigError:
    # a key absent from the file (a missing required key, a default that conflicts) points at `config:`
    return ConfigError(what, file=file, line=lines.get(key, lines.get(_CONFIG_LINE)), field=f"spirit:{key}")


_CONFIG_LINE = "(config)"  # key of the `config:` line in ``lines``


def _site_err(file: str, lines: dict, i: int, what: str) -> ConfigError:
    line = lines.get(f"sites[{i}]", lines.get("sites", lines.get(_CONFIG_LINE)))
    return ConfigError(what, file=file, line=line, field="spirit:sites")


_INTEGER = re.compile(r"^-?[0-9]+$")
#: the smallest subnet each cloud creates (AWS /28; Azure and GCP /29)
MIN_SUBNET = {"aws": 28, "azure": 29, "gcp": 29}


def _decode(k: Key, raw: Any, file: str, lines: dict) -> Any:
    """Accept YAML-typed values or Pulumi's string form; return the typed value."""
    v = raw
    if isinstance(raw, str) and k.type in ("integer", "boolean", "array", "object"):
        s = raw.strip()
        if k.type == "boolean" and s.lower() in ("true", "false"):
            return s.lower() == "true"
        if k.type == "integer":
            if not _INTEGER.match(s):  # int() would also take '٣٠', '3_0' and ' 30 '
                raise _err(file, lines, k.name, f"expected an integer, got {raw!r}")
            return int(s)
        try:
            v = json.loads(s)
        except ValueError:
            raise _err(file, lines, k.name, f"expected {k.type} (JSON), got {raw!r}") from None
    want = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}[k.type]
    if isinstance(v, bool) and want is int or not isinstance(v, want):
        raise _err(file, lines, k.name, f"expected {k.type}, got {type(v).__name__} {v!r}")
    return v


def _ports(file: str, lines: dict, key: str, text: str) -> tuple[tuple[int, int], ...]:
    try:
        return parse_port_text(text)
    except ValueError as e:
        raise _err(file, lines, key, str(e)) from None


def parse(raw: dict[str, Any], *, file: str = "(config)", lines: dict[str, int] | None = None,
          base: Path | None = None) -> StackConfig:
    """Validate ``{"spirit:cloud": ..., ...}`` (other namespaces pass through untouched)."""
    lines = lines or {}
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for full, v in raw.items():
        ns, _, key = full.partition(":")
        if ns != "spirit":
            extra[full] = v
            continue
        if key not in _BY_NAME:
            near = [k for k in _BY_NAME if k.lower() == key.lower()]
            hint = f" (did you mean spirit:{near[0]}?)" if near else f" (known: {', '.join(_BY_NAME)})"
            raise _err(file, lines, key, f"unknown key{hint}")
        values[key] = _decode(_BY_NAME[key], v, file, lines)
    values_given = set(values)
    for k in KEYS:
        if k.name not in values:
            if k.required:
                raise _err(file, lines, k.name, f"required key is missing (allowed values: {', '.join(k.choices)})")
            values[k.name] = k.default
        v = values[k.name]
        if k.choices:
            items = v if isinstance(v, list) else [v]
            for item in items:
                if item not in k.choices:
                    raise _err(file, lines, k.name, f"{item!r} is not one of: {', '.join(k.choices)}")
    for k in KEYS:
        if k.setting is not None:
            try:
                k.setting.check(values[k.name])
            except ConfigError as e:
                raise _err(file, lines, k.name, e.what) from None
    try:
        net = netaddr.IPNetwork(values["networkCidr"])
        if net.ip != net.network or net.version != 4:
            raise ValueError
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise _err(file, lines, "networkCidr", f"{values['networkCidr']!r} is not an IPv4 network CIDR") from None
    _cross_checks(values, net, file, lines)
    zones, nat_zone = _zones(values, values_given, file, lines)
    sites = _sites(values, net, zones, file, lines)
    if not sites:
        if net.prefixlen > 24:
            raise _err(file, lines, "networkCidr", f"{net} with no spirit:sites is smaller than the default site "
                       "(its first /24): "
                       f"list spirit:sites, e.g. [{{name: site-a, cidr: {net.network}/{min(net.prefixlen + 1, 28)}}}]")
        first = str(next(net.subnet(24)))
        sites.append(Site("site-a", first, default_zone("site-a", zones) if values["cloud"] == "aws" else ""))
    _check_reserved(values, net, sites, nat_zone, file, lines)
    if "sbc" in values["overrides"]:
        raise ConfigError("a stack sets the SBC's ports with spirit:sbcSipPorts and spirit:sbcMediaPorts, not here",
                          file=file, line=lines.get("overrides"), field="spirit:overrides.sbc")
    try:
        ov = overrides_from_mapping(values["overrides"], file=file, base=base)
    except ConfigError as e:
        raise ConfigError(e.what, file=file, line=lines.get("overrides"),
                          field=f"spirit:overrides.{e.field}" if e.field and e.field != "(document)"
                          else "spirit:overrides") from None
    sip = _ports(file, lines, "sbcSipPorts", values["sbcSipPorts"])
    media = _ports(file, lines, "sbcMediaPorts", values["sbcMediaPorts"])
    from .flows import PortSet

    if not (PortSet.of(sip) & PortSet.of(media)).is_empty:
        raise _err(file, lines, "sbcMediaPorts", "the media range overlaps the SIP ports")
    ov = Overrides(ov.extra_spirit_cidrs, ov.ztp_vendors_drop, SbcPorts(sip, media), ov.catalogue, file,
                   extra_flows=_extra_flows(values["extraFlows"], file, lines, base))
    _platform_checks(values["cloud"], ov)
    mgmt = ()
    if values["managementCidrs"]:
        from .management import check_cidrs

        if values["profile"] != "sbc":
            raise _err(file, lines, "managementCidrs", f"management access is for an SBC (profile sbc), not "
                       f"{values['profile']!r}")
        try:
            mgmt = check_cidrs(values["managementCidrs"], field="spirit:managementCidrs")
        except ConfigError as e:
            raise ConfigError(e.what, file=file, line=lines.get("managementCidrs"), field=e.field) from None
    from .gcp.common import NAME_RE

    if not NAME_RE.match(values["managementTag"]) or len(values["managementTag"]) > 63:
        raise _err(file, lines, "managementTag", f"{values['managementTag']!r} is not a valid GCP network tag")
    for i, t in enumerate(values["targetTags"]):
        if not isinstance(t, str) or len(t) > 63 or not _gcp_name(t):
            raise _err(file, lines, "targetTags", f"item {i}: {t!r} is not a valid GCP network tag (RFC 1035: 1-63 "
                       "lower-case letters, digits or '-', starting with a letter, ending with a letter or digit)")
    _check_profile(values["profile"], ov, file, lines)
    return StackConfig(
        cloud=values["cloud"], profile=values["profile"], network_id=values["networkId"],
        network_cidr=str(net), resource_group_name=values["resourceGroupName"], sites=tuple(sites),
        firewall_layers=tuple(sorted(set(values["firewallLayers"]), key=LAYERS.index)),
        nat=values["nat"], strict=values["strict"], sip_keepalive_seconds=values["sipKeepaliveSeconds"],
        overrides=ov, target_tags=tuple(values["targetTags"]), expected_calls=values["expectedCalls"],
        nat_instance_type=values["natInstanceType"], nat_ssh_public_key=values["natSshPublicKey"],
        management_cidrs=mgmt, management_tag=values["managementTag"], zones=zones, nat_zone=nat_zone,
        nat_gateway_per_zone=values["natGatewayPerZone"], extra=extra,
        file=file, lines=dict(lines), given=frozenset(values_given),
    )


def _extra_flows(name: str, file: str, lines: dict, base: Path | None):
    """The ``spirit:extraFlows`` file, loaded and validated (its own errors name its file and line)."""
    if not name:
        return None
    from .catalogue.load import load_extra_flows

    path = Path(name)
    if path.is_absolute() or base is None:
        return load_extra_flows(path)
    if not (base / path).is_file():
        raise _err(file, lines, "extraFlows", f"{name!r}: no such file (relative to the project, {base})")
    return load_extra_flows(base / path, shown=name)


#: the platform-destination kind each cloud's layers take (the other kinds are refused there)
PLATFORM_KIND = {"aws": "aws-prefix-list", "azure": "azure-service-tag", "gcp": None}


def _platform_checks(cloud: str, ov: Overrides) -> None:
    """A platform destination of another cloud is refused here, with its file and line, before any
    resource exists (the layers would refuse it too, but only once earlier resources are registered)."""
    extra = ov.extra_flows
    if extra is None:
        return
    for f in extra.flows:
        for p in f.platform:
            if p.type != PLATFORM_KIND[cloud]:
                where = PLATFORM_KIND[cloud] or "none: list the service's CIDRs or DNS names"
                raise ConfigError(f"flow {f.id}: {p.type} {p.name!r} cannot be expressed on {cloud} (platform "
                                  f"destinations there: {where})", file=f.provenance.table.partition(":")[2],
                                  line=f.provenance.row, field="platform")
            if p.type == "aws-prefix-list":
                from .aws.rules import managed_prefix_list_weight
                from .errors import CapabilityError

                try:
                    managed_prefix_list_weight(p.name)
                except CapabilityError as e:
                    raise ConfigError(str(e), file=f.provenance.table.partition(":")[2], line=f.provenance.row,
                                      field="platform") from None


def _zones(values: dict[str, Any], given: set[str], file: str, lines: dict) -> tuple[tuple[str, ...], str]:
    """``spirit:zones`` and ``spirit:natZone``: letters, no repeats, and only where zones apply."""
    cloud = values["cloud"]
    # a key that does not apply may carry its default (Pulumi.yaml sets every default), nothing else
    explicit = {k for k in given if values[k] != _BY_NAME[k].default}
    if cloud == "azure":
        for key in ("zones", "natZone"):
            if key in explicit:
                raise _err(file, lines, key, f"{values[key]!r} does not apply on azure (subnets span the region's "
                           "zones; the QoS NAT VM is regional): remove it")
    if cloud != "aws" and "natGatewayPerZone" in explicit:
        raise _err(file, lines, "natGatewayPerZone", f"{values['natGatewayPerZone']!r} applies to aws only (the "
                   f"{cloud} managed NAT is regional): remove it")
    zones = values["zones"]
    for i, z in enumerate(zones):
        if not is_zone(z):
            raise _err(file, lines, "zones", f"item {i}: {z!r} is not a zone suffix (one lower-case letter, "
                       "e.g. 'a' for ap-southeast-2a)")
        if z in zones[:i]:
            raise _err(file, lines, "zones", f"item {i}: zone {z!r} is listed twice")
    if not zones:
        raise _err(file, lines, "zones", "[] has no zone: at least one is needed")
    nat_zone = values["natZone"] or min(zones)
    if nat_zone not in zones:
        raise _err(file, lines, "natZone", f"{nat_zone!r} is not one of spirit:zones ({', '.join(zones)})")
    return tuple(zones), nat_zone


def _sites(values: dict[str, Any], net: netaddr.IPNetwork, zones: tuple[str, ...], file: str,
           lines: dict) -> list[Site]:
    """``spirit:sites``: names unique, CIDRs inside the network and disjoint, zones valid (aws only)."""
    sites: list[Site] = []
    spans: list[tuple[int, int, int]] = []
    seen = set()
    cloud = values["cloud"]
    for i, s in enumerate(values["sites"]):
        if not isinstance(s, dict) or not {"name", "cidr"} <= set(s) or not set(s) <= {"name", "cidr", "zone"}:
            raise _site_err(file, lines, i, f"item {i} must be a mapping with 'name', 'cidr' and optionally 'zone'")
        name = s["name"]
        if not isinstance(name, str):  # `name: true` would become 'True'
            raise _site_err(file, lines, i, f"item {i}: name must be a string, got {_kind(name)} {name!r}")
        if not name or not name.isascii() or not all(c.isalnum() or c == "-" for c in name) \
                or not name[0].isalpha() or len(name) > 24:
            raise _site_err(file, lines, i, f"item {i}: name {name!r} must be 1-24 ASCII letters, digits or '-', "
                            "starting with a letter")
        if cloud == "gcp" and not _gcp_name(name):
            raise _site_err(file, lines, i, f"item {i}: name {name!r}: on gcp a site name is part of resource names "
                            "(RFC 1035): lower-case letters, digits and '-', ending with a letter or digit")
        if not isinstance(s["cidr"], str):
            raise _site_err(file, lines, i, f"item {i}: cidr must be a string, got {_kind(s['cidr'])} {s['cidr']!r}")
        if name in seen:
            raise _site_err(file, lines, i, f"item {i}: duplicate site name {name!r}")
        seen.add(name)
        try:
            c = netaddr.IPNetwork(str(s["cidr"]))
            if c.ip != c.network or c.version != 4:
                raise ValueError
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise _site_err(file, lines, i, f"item {i}: {s['cidr']!r} is not an IPv4 network CIDR") from None
        if c.prefixlen > MIN_SUBNET[cloud]:
            raise _site_err(file, lines, i, f"item {i}: {c} is smaller than the smallest {cloud} subnet "
                            f"(/{MIN_SUBNET[cloud]})")
        if not values["networkId"] and c not in net:
            raise _site_err(file, lines, i, f"item {i}: {c} is outside networkCidr {net}")
        # earlier sites as sorted, disjoint integer intervals: one bisect per site (n sites: O(n log n))
        at = bisect.bisect_left(spans, (c.first,))
        for j in (at - 1, at):
            if 0 <= j < len(spans) and c.first <= spans[j][1] and spans[j][0] <= c.last:
                other = sites[spans[j][2]]
                raise _site_err(file, lines, i, f"item {i}: {c} overlaps site {other.name!r} {other.cidr}")
        spans.insert(at, (c.first, c.last, len(sites)))
        zone = ""
        if "zone" in s:
            if cloud != "aws":
                raise _site_err(file, lines, i, f"item {i}: zone {s['zone']!r} does not apply on {cloud} (its "
                                "subnets are regional; the NAT's zone is spirit:natZone): remove it")
            zone = s["zone"]
            if not isinstance(zone, str) or zone not in zones:
                raise _site_err(file, lines, i, f"item {i}: zone {zone!r} is not one of spirit:zones "
                                f"({', '.join(zones)})")
        elif cloud == "aws":
            zone = default_zone(name, zones)
        sites.append(Site(name, str(c), zone))
    return sites


def _check_reserved(values: dict[str, Any], net: netaddr.IPNetwork, sites: list[Site], nat_zone: str,
                    file: str, lines: dict) -> None:
    """The subnets spirit-infra carves from the top of the network it creates must fit and miss every site."""
    if values["networkId"]:
        return
    cloud, nat = values["cloud"], values["nat"]
    reserved: list[tuple[str, str]] = []  # (cidr, what)
    if cloud == "aws":
        per_zone = nat == "managed" and values["natGatewayPerZone"] and "fqdn-firewall" not in values["firewallLayers"]
        for z in sorted({s.zone for s in sites} if per_zone else {nat_zone}):
            try:
                reserved.append((edge_cidr(str(net), z), f"the edge subnet (NAT) of zone {z!r}"))
            except ValueError:
                raise _err(file, lines, "networkCidr", f"{net} has no room for the edge subnet of zone {z!r} (a "
                           f"/28 at the top, {32 * (ord(z) - 97) + 16} addresses down): use a larger network "
                           "or other zones") from None
        if "fqdn-firewall" in values["firewallLayers"]:
            reserved.append((firewall_cidr(str(net)), "the Network Firewall subnet"))
    elif nat == "qos-instance":  # azure, gcp: the NAT VM's own subnet
        reserved.append((edge_cidr(str(net)), "the edge subnet (NAT)"))
    for cidr, what in reserved:
        r = netaddr.IPNetwork(cidr)
        for i, s in enumerate(sites):
            c = netaddr.IPNetwork(s.cidr)
            if c.first <= r.last and r.first <= c.last:
                raise _site_err(file, lines, i, f"item {i}: {c} overlaps {r}, {what}, which spirit-infra "
                                "creates at the top of networkCidr")


def _gcp_name(name: str) -> bool:
    """RFC 1035, as GCP checks names and network tags (the components' own check: gcp.common.NAME_RE)."""
    from .gcp.common import NAME_RE

    return bool(NAME_RE.match(name))


def _kind(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", type(None): "null", list: "a list",
            dict: "a mapping"}.get(type(v), type(v).__name__)


def _check_profile(profile: str, ov: Overrides, file: str, lines: dict) -> None:
    """Build the profile now (the override catalogue, ZTP names, IPv6): the program must not meet it first."""
    try:
        build_profile(profile, ov)
    except ConfigError as e:
        if e.file != file:
            raise  # an error inside the override catalogue names that file and its line
        raise ConfigError(e.what, file=file, line=lines.get("overrides", lines.get(_CONFIG_LINE)),
                          field=f"spirit:overrides.{e.field}" if e.field else "spirit:overrides") from None


def _cross_checks(values: dict[str, Any], net: netaddr.IPNetwork, file: str, lines: dict) -> None:
    """Combinations a cloud cannot build, refused here so nothing is registered before the error."""
    cloud, nat, attach = values["cloud"], values["nat"], bool(values["networkId"])
    if not attach and cloud == "aws" and not 16 <= net.prefixlen <= 27:
        raise _err(file, lines, "networkCidr", f"{values['networkCidr']!r}: an AWS VPC is /16 to /27 here (AWS allows "
                   "/16-/28; spirit-infra needs room for a site and the /28 edge subnet)")
    if attach and cloud in ("aws", "azure") and nat != "none":
        net = "VPC" if cloud == "aws" else "VNet"
        raise _err(file, lines, "nat", f"{nat!r} with an existing {net} (spirit:networkId): allowed value: none "
                   "(the network's NAT belongs to its owner)")
    if attach and cloud == "gcp" and nat == "qos-instance":
        raise _err(file, lines, "nat", "'qos-instance' needs the network spirit-infra creates (its subnetwork and "
                   "routes); with spirit:networkId the allowed values are: none, managed")
    if cloud == "azure" and nat == "qos-instance" and not values["natSshPublicKey"]:
        raise ConfigError("required with nat 'qos-instance' on azure (the NAT VM's SSH public key, e.g. "
                          "'ssh-ed25519 AAAA...')", file=file, field="spirit:natSshPublicKey",
                          line=lines.get("natSshPublicKey", lines.get("nat", lines.get(_CONFIG_LINE))))
    if attach and values["sites"]:
        raise _err(file, lines, "sites", "sites are the subnets spirit-infra creates; with spirit:networkId the "
                   "existing network's subnets are yours: remove spirit:sites (attach the security group / NSG / "
                   "firewall outputs to them)")
    # an SBC takes Spirit's SIP and media on its own public IP
    if values["profile"] == "sbc" and nat == "qos-instance":
        raise _err(file, lines, "nat", "'qos-instance' with profile sbc: the QoS NAT forwards no inbound "
                   "connections, so Spirit's SIP and media would never reach the SBC; allowed values: none, managed"
                   + (" (managed: not on aws)" if cloud == "aws" else ""))
    if values["profile"] == "sbc" and cloud == "aws" and nat == "managed" and not attach:
        raise _err(file, lines, "nat", "'managed' with profile sbc on aws: the SBC's subnet routes "
                   "straight to the internet gateway (its Elastic IP takes Spirit's inbound SIP and media), so a "
                   "NAT gateway route would collide with it; allowed value: none")


def load_stack_file(path: str | Path, project: Path | None = None) -> tuple[StackConfig, dict[str, Any]]:
    """Read ``Pulumi.<stack>.yaml``: the validated config and the raw ``config:`` mapping.

    A relative ``spirit:overrides.catalogue`` is relative to ``project``, the directory holding Pulumi.yaml
    (by default: the nearest one at or above the stack file), the same rule the program applies under
    ``pulumi up`` (its root directory), so the preview and a deployment read the same file.
    """
    raw, lines = read_stack_file(path)
    return parse(raw, file=str(path), lines=lines, base=project or _project_of(Path(path))), raw


def read_stack_file(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The raw ``config:`` mapping of a stack file and the line of each key (for :func:`parse`)."""
    from .yamlsrc import load_yaml

    doc = load_yaml(path, ConfigError)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("config", {}), dict):
        raise doc.error(ConfigError, ("config",), "a stack file is a mapping with a 'config:' mapping")
    unknown = sorted(set(doc.data) - {"config", "secretsprovider", "encryptedkey", "environment"})
    if unknown:
        raise doc.error(ConfigError, (unknown[0],), f"unknown top-level key {unknown[0]!r}")
    raw = doc.data.get("config", {})
    lines = {k.partition(":")[2]: doc.line(("config", k)) for k in raw}
    text = Path(path).read_text(encoding="utf-8").splitlines()
    sites = raw.get("spirit:sites")
    for i in range(len(sites) if isinstance(sites, list) else 0):
        lines[f"sites[{i}]"] = doc.line(("config", "spirit:sites", i))
    lines[_CONFIG_LINE] = next((i for i, t in enumerate(text, 1) if t.startswith("config:")), doc.line(("config",)))
    return raw, lines


def _project_of(stack_file: Path) -> Path:
    here = stack_file.resolve().parent
    return next((d for d in (here, *here.parents) if (d / "Pulumi.yaml").is_file()), here)
