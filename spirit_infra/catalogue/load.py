"""Load and validate a catalogue file into the typed model.

Validation runs in two passes: the JSON Schema (shape, types, enums, unknown keys), then the
semantics the schema cannot say (CIDRs, reversed ranges, duplicate ids, empty destinations,
unknown assumption ids). Every failure is a :class:`CatalogueError` naming file, line and field.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import netaddr

from ..errors import CatalogueError
from ..values import is_int
from ..yamlsrc import Document, check_schema, load_yaml
from .model import PLATFORM_TYPES, Assumption, Catalogue, DnsName, Flow, PlatformName, Provenance

__all__ = ["DEFAULT_CATALOGUE", "SCHEMA_PATH", "load_catalogue", "parse_cidr", "parse_ranges", "check_dns_name",
           "check_platform_name", "flow_from", "extra_flows_schema", "ExtraFlowsFile", "load_extra_flows"]

HERE = Path(__file__).parent
DEFAULT_CATALOGUE = HERE / "spirit.yaml"
SCHEMA_PATH = HERE / "schema.json"

#: the assumption id by which a catalogue declares itself IPv4 only (IPv6 ranges in it are then refused)
IPV4_ONLY = "ipv4-only"
_LABEL = r"(?:_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+\.?$")


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def extra_flows_schema() -> dict:
    """The catalogue's schema for a customer's extra-flow file: the same flow definition (transports,
    ports, DSCP, DNS names, CIDRs, platform names, assumptions), without the two keys the catalogue
    alone owns: ``client`` (extra flows join whichever profile the stack uses) and ``provenance``
    (an extra flow's provenance is its own file and line). No ``spirit_ranges`` either."""
    schema = copy.deepcopy(_schema())
    schema["title"] = "spirit-infra extra flows (customer)"
    del schema["properties"]["spirit_ranges"]
    flow = schema["$defs"]["flow"]
    for key in ("client", "provenance"):
        del flow["properties"][key]
        flow["required"].remove(key)
    return schema


def parse_cidr(doc: Document, path: tuple, value, cls=CatalogueError) -> netaddr.IPNetwork:
    """A network in CIDR notation with no host bits set."""
    if not isinstance(value, str):
        raise doc.error(cls, path, f"expected a CIDR string, got {value!r}")
    try:
        net = netaddr.IPNetwork(value, expand_partial=False)
        if "/" in value and not value.split("/", 1)[1].isdigit():
            raise ValueError
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise doc.error(cls, path, f"{value!r} is not a valid CIDR") from None
    if net.ip != net.network:
        raise doc.error(cls, path, f"{value!r} has host bits set (did you mean {net.cidr}?)")
    return net.cidr


def parse_ranges(doc: Document, path: tuple, value, cls=CatalogueError) -> tuple[tuple[int, int], ...] | None:
    """``null`` (any) or a list of inclusive ``[lo, hi]`` ranges within 1-65535, lo <= hi."""
    if value is None:
        return None
    out = []
    for i, r in enumerate(value):
        lo, hi = r
        for j, p in enumerate((lo, hi)):
            if not is_int(p):
                raise doc.error(cls, path + (i, j), f"port {p!r} must be an integer")
            if not 1 <= p <= 65535:
                raise doc.error(cls, path + (i, j), f"port {p!r} is out of range 1-65535")
        if lo > hi:
            raise doc.error(cls, path + (i,), f"reversed range [{lo}, {hi}] (low port must come first)")
        out.append((lo, hi))
    return tuple(out)


def check_dns_name(doc: Document, path: tuple, name: str, cls=CatalogueError) -> str:
    low = name.lower()
    if not _HOSTNAME.match(low) or len(low) > 253:
        raise doc.error(cls, path, f"{name!r} is not a valid DNS name")
    if low.rstrip(".").rsplit(".", 1)[-1].isdigit():
        # 192.0.2.1 matches the label grammar, but as a "name" it would become an FQDN rule, not an address
        raise doc.error(cls, path, f"{name!r} is an IP address, not a DNS name (list addresses in server_cidrs)")
    return low.rstrip(".")


#: an Azure service tag: letters and digits, optionally ``.<Region>`` (``AzureMonitor``, ``Storage.AustraliaEast``)
_SERVICE_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,79}(?:\.[A-Za-z][A-Za-z0-9]{1,79})?$")
#: an AWS-managed prefix list name: ``com.amazonaws.<region>.<service>`` or ``com.amazonaws.global.<service>``
_PREFIX_LIST = re.compile(r"^com\.amazonaws\.(?:global|[a-z]{2}(?:-[a-z]+)+-[0-9])\.[a-z0-9][a-z0-9.-]{0,62}[a-z0-9]$")


def check_platform_name(doc: Document, path: tuple, name: str, kind: str, cls=CatalogueError) -> str:
    """An Azure service tag or an AWS managed prefix list name (an opaque platform destination)."""
    if kind not in PLATFORM_TYPES:  # pragma: no cover - the schema's enum refuses it first
        raise doc.error(cls, path, f"{kind!r} is not a platform type")
    if kind == "azure-service-tag" and not _SERVICE_TAG.match(name):
        raise doc.error(cls, path, f"{name!r} is not an Azure service tag (like AzureMonitor or Storage.AustraliaEast)")
    if kind == "azure-service-tag" and name.lower() in ("internet", "virtualnetwork", "azureloadbalancer",
                                                        "gatewaymanager"):
        raise doc.error(cls, path, f"{name!r} is not a platform service (Internet is every address; the others "
                        "name the VNet's own side)")
    if kind == "aws-prefix-list" and not _PREFIX_LIST.match(name):
        raise doc.error(cls, path, f"{name!r} is not an AWS-managed prefix list name "
                        "(like com.amazonaws.ap-southeast-2.s3)")
    return name


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load ``path`` (the packaged Spirit catalogue by default)."""
    path = Path(path) if path is not None else DEFAULT_CATALOGUE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None  # load_yaml reports it as one precise line
    if text is None:
        return _load(str(path), None)
    # cached by content as well as path: a file edited in place (tests, a long-lived process) is re-read
    return _load(str(path), text)


@lru_cache(maxsize=16)
def _load(path: str, text: str | None) -> Catalogue:
    shown = path if path != str(DEFAULT_CATALOGUE) else "spirit_infra/catalogue/spirit.yaml"
    doc = load_yaml(path, CatalogueError, text=text)
    doc.file = shown
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogueError, (), "the catalogue must be a mapping with 'version' and 'flows'")
    check_schema(doc, _schema(), CatalogueError)
    return _build(doc)


def flow_from(doc: Document, p: tuple, f: dict, assumptions: set[str], provenance: Provenance, client: str,
              cls: type[CatalogueError] = CatalogueError) -> Flow:
    """The semantic checks of one flow (after the schema): CIDRs, DNS names, platform names, ranges,
    a non-empty destination, known assumptions. The catalogue and extra-flow files share it."""
    cidrs = f["server_cidrs"]
    server_cidrs = None if cidrs is None else tuple(
        _v4(doc, p + ("server_cidrs", j), parse_cidr(doc, p + ("server_cidrs", j), c, cls), assumptions, cls)
        for j, c in enumerate(cidrs))
    dns = tuple(DnsName(check_dns_name(doc, p + ("dns", j, "name"), d["name"], cls), d["type"])
                for j, d in enumerate(f["dns"]))
    platform = tuple(PlatformName(check_platform_name(doc, p + ("platform", j, "name"), d["name"], d["type"], cls),
                                  d["type"])
                     for j, d in enumerate(f.get("platform", [])))
    if not server_cidrs and not dns and not platform:
        raise doc.error(cls, p + ("server_cidrs",),
                        "empty destination: give server CIDRs, or null with at least one DNS or platform name")
    if server_cidrs is not None and not server_cidrs:
        raise doc.error(cls, p + ("server_cidrs",),
                        "empty list: use null for 'any address' (destination by DNS name) or list CIDRs")
    if platform and dns:
        raise doc.error(cls, p + ("platform",), "give DNS names and platform destinations in separate flows "
                        "(a layer reads a flow's destination as one kind)")
    if platform and server_cidrs is not None:
        raise doc.error(cls, p + ("platform",), "a flow to a platform destination has server_cidrs: null "
                        "(the platform names the addresses)")
    for j, aid in enumerate(f.get("assumptions", [])):
        if aid not in assumptions:
            raise doc.error(cls, p + ("assumptions", j), f"unknown assumption {aid!r}")
    return Flow(
        id=f["id"],
        client=client,
        provenance=provenance,
        application=f["application"],
        protocols=tuple(f["protocols"]),
        transports=tuple(sorted(f["transports"])),
        dscp=f["dscp"],
        client_ports=parse_ranges(doc, p + ("client_ports",), f["client_ports"], cls),
        dns=dns,
        server_cidrs=server_cidrs,
        server_ports=parse_ranges(doc, p + ("server_ports",), f["server_ports"], cls),
        assumptions=tuple(f.get("assumptions", [])),
        platform=platform,
        line=doc.line(p),
    )


def _v4(doc: Document, path: tuple, net: netaddr.IPNetwork, assumptions: set[str],
        cls: type[CatalogueError] = CatalogueError) -> netaddr.IPNetwork:
    """While the file declares the ipv4-only assumption, an IPv6 range is refused (no layer would carry it)."""
    if IPV4_ONLY in assumptions and net.version == 6:
        raise doc.error(cls, path, f"'{net}' is IPv6, but this catalogue is IPv4 only (assumption {IPV4_ONLY!r}): "
                        "no cloud rule or NAT here would carry it")
    return net


def _assumptions(doc: Document, cls: type[CatalogueError]) -> tuple[Assumption, ...]:
    assumptions = []
    seen_a: set[str] = set()
    for i, a in enumerate(doc.data.get("assumptions", [])):
        if a["id"] in seen_a:
            raise doc.error(cls, ("assumptions", i, "id"), f"duplicate assumption id {a['id']!r}")
        seen_a.add(a["id"])
        assumptions.append(Assumption(a["id"], " ".join(a["text"].split())))
    return tuple(assumptions)


def _flows(doc: Document, assumptions: tuple[Assumption, ...], cls: type[CatalogueError], customer: bool
           ) -> tuple[Flow, ...]:
    known = {a.id for a in assumptions}
    flows = []
    seen: dict[str, int] = {}
    for i, f in enumerate(doc.data["flows"]):
        p = ("flows", i)
        if f["id"] in seen:
            raise doc.error(cls, p + ("id",), f"duplicate flow id {f['id']!r} (first at flows[{seen[f['id']]}])")
        seen[f["id"]] = i
        if customer:
            prov, client = Provenance(f"customer:{doc.file}", doc.line(p) or 0), "customer"
            _refuse_everything(doc, p, f, cls)
        else:
            prov, client = Provenance(f["provenance"]["table"], f["provenance"]["row"]), f["client"]
        flows.append(flow_from(doc, p, f, known, prov, client, cls))
    return tuple(flows)


def _refuse_everything(doc: Document, p: tuple, f: dict, cls: type[CatalogueError]) -> None:
    """Strict mode removes allow-all egress: an extra flow may not bring it back (0.0.0.0/0, or halves)."""
    cidrs = f.get("server_cidrs") or []
    nets = [parse_cidr(doc, p + ("server_cidrs", j), c, cls) for j, c in enumerate(cidrs)]
    for merged in netaddr.cidr_merge(nets):
        if merged.prefixlen == 0:
            raise doc.error(cls, p + ("server_cidrs",), f"these cover every address ({merged}): an extra flow names "
                            "its destinations (allow-all egress is strict: false)")


def _build(doc: Document) -> Catalogue:
    data = doc.data
    assumptions = _assumptions(doc, CatalogueError)
    known = {a.id for a in assumptions}
    ranges = tuple(_v4(doc, ("spirit_ranges", i), parse_cidr(doc, ("spirit_ranges", i), c), known)
                   for i, c in enumerate(data.get("spirit_ranges", [])))
    flows = _flows(doc, assumptions, CatalogueError, customer=False)
    return Catalogue(flows, assumptions, ranges, data.get("source", ""), doc.file)


@dataclass(frozen=True)
class ExtraFlowsFile:
    """A customer's extra-flow file, validated like the catalogue: flows (client ``customer``, provenance
    ``customer:<file>`` and the flow's line), the file's own assumptions and its ``source``."""

    path: str
    flows: tuple[Flow, ...]
    assumptions: tuple[Assumption, ...] = ()
    source: str = ""
    #: the file as it was opened (``path`` is the name errors and provenance show)
    file: str = ""


def load_extra_flows(path: str | Path, *, shown: str | None = None) -> ExtraFlowsFile:
    """Load a customer's extra-flow file (the catalogue's format; see :func:`extra_flows_schema`).

    ``shown`` is the name errors and provenance use (default: ``path`` as given)."""
    text = None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass  # load_yaml reports it as one precise line
    return _load_extra(str(path), shown or str(path), text)


@lru_cache(maxsize=16)
def _load_extra(path: str, shown: str, text: str | None) -> ExtraFlowsFile:
    doc = load_yaml(path, CatalogueError, text=text)
    doc.file = shown
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogueError, (), "an extra-flow file must be a mapping with 'version' and 'flows'")
    check_schema(doc, extra_flows_schema(), CatalogueError)
    assumptions = _assumptions(doc, CatalogueError)
    return ExtraFlowsFile(shown, _flows(doc, assumptions, CatalogueError, customer=True), assumptions,
                          doc.data.get("source", ""), path)
