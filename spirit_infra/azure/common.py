"""Small pure helpers shared by the Azure NSG and firewall-policy renderers and readers."""

from __future__ import annotations

import re
from collections.abc import Iterable

import netaddr

from ..flows import ANY_IPV4, ANY_IPV6, PORT_MAX, PORT_MIN, PortSet
from ..marks import FLOW_KEY, parse_description
from ..plan import Param

__all__ = ["ports_to_azure", "ports_from_azure", "flow_label", "to_int", "as_list", "parse_address",
           "ANY_ADDRESS_WORDS", "NAME_RE", "SERVICE_TAG", "service_tag_atom", "tag_of", "addresses_and_tags",
           "platform_caps", "RG_LOCATION"]

#: Words a reader takes as "every address" (the policy pack's open-to-the-world check relies on it).
#: ``Internet`` is, strictly, the public address space outside the VNet; read as 0.0.0.0/0 (and ::/0)
#: it is a superset, the safe side for an "is this open to the world" question.
ANY_ADDRESS_WORDS = ("*", "any", "internet", "0.0.0.0/0", "::/0")

#: Azure resource child names: letters, digits, underscore, period, hyphen; start alphanumeric.
NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")


def ports_to_azure(ports: PortSet) -> list[str]:
    """``["*"]`` for any port, else ``["80", "10000-10005", ...]``."""
    if ports.is_any:
        return ["*"]
    return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports.ranges]


def as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def ports_from_azure(*values) -> tuple[PortSet | None, list[str]]:
    """Union of port specs (single strings or lists). None when nothing is given; notes for junk."""
    items = [str(v).strip() for value in values for v in as_list(value)]
    if not items:
        return None, []
    ranges, notes = [], []
    for item in items:
        if item in ("*", "Any", "any", ""):
            ranges.append((PORT_MIN, PORT_MAX))
            continue
        try:
            lo, _, hi = item.partition("-")
            a, b = int(lo), int(hi) if hi else int(lo)
            if not PORT_MIN <= a <= b <= PORT_MAX:
                raise ValueError
            ranges.append((a, b))
        except ValueError:
            notes.append(f"port {item!r} not understood (ignored)")
    return PortSet.of(ranges), notes


#: the platform-destination kind an Azure rule takes as an address: a service tag
SERVICE_TAG = "azure-service-tag"
_TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,79}(?:\.[A-Za-z][A-Za-z0-9]{1,79})?$")


def platform_caps() -> dict:
    """The platform fields of every Azure layer's Capabilities: service tags exact, AWS prefix lists refused."""
    return {"platform": (SERVICE_TAG,), "platform_refused": ("aws-prefix-list",),
            "platform_reason": "an AWS-managed prefix list exists only on AWS; on Azure use a service tag"}


#: tags that name the VNet's own side (its address space, the platform's load balancer probes), not a
#: remote service: not platform destinations, left out of the model as before (noted)
VNET_TAGS = ("virtualnetwork", "azureloadbalancer", "gatewaymanager")


def service_tag_atom(word) -> str | None:
    """``azure-service-tag:<tag>`` for a service-tag word (``AzureMonitor``, ``Storage.AustraliaEast``)."""
    w = str(word).strip()
    if not _TAG_RE.match(w) or w.lower() in ANY_ADDRESS_WORDS or w.lower() in VNET_TAGS:
        return None
    return f"{SERVICE_TAG}:{w}"


def tag_of(atom: str) -> str:
    """The service tag of an ``azure-service-tag:<tag>`` atom."""
    return atom.partition(":")[2]


def addresses_and_tags(words, where: str, notes: list[str]) -> tuple[list[str], list[str]]:
    """(CIDRs, service-tag atoms) of an Azure address list; anything else is noted and left out."""
    cidrs: list[str] = []
    tags: list[str] = []
    for w in as_list(words):
        got, note = parse_address(w)
        if got is not None:
            cidrs.extend(got)
        elif (atom := service_tag_atom(w)) is not None:
            tags.append(atom)
        else:
            notes.append(f"{where}: {note}")
    return cidrs, tags


def parse_address(value: str) -> tuple[list[str] | None, str | None]:
    """CIDRs for an address word, or (None, note) when it cannot be read as addresses (service tags)."""
    v = str(value).strip()
    if v.lower() in ANY_ADDRESS_WORDS:
        if v == "::/0":
            return [ANY_IPV6], None
        if v == "0.0.0.0/0":
            return [ANY_IPV4], None
        return [ANY_IPV4, ANY_IPV6], None
    try:
        if "-" in v and "/" not in v:
            lo, hi = v.split("-", 1)
            return [str(c) for c in netaddr.IPRange(lo.strip(), hi.strip()).cidrs()], None
        return [str(netaddr.IPNetwork(v).cidr)], None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None, f"address {v!r} is a service tag or name the reader cannot turn into addresses (not modelled)"


def flow_label(description: str | None) -> str:
    """The spirit-flow mark in a description, else ""."""
    return parse_description(description).get(FLOW_KEY, "")


def to_int(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def unique(items: Iterable[str]) -> list[str]:
    seen, out = set(), []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


#: the resource group and region of a resource in a plan, bound by the component (an absent location: unset)
RG_LOCATION = {"resourceGroupName": Param("resourceGroupName"), "location": Param("location")}
