"""Load and validate a catalogue file into the typed model.

Validation runs in two passes: the JSON Schema (shape, types, enums, unknown keys), then the
semantics the schema cannot say (CIDRs, reversed ranges, duplicate ids, empty destinations,
unknown assumption ids). Every failure is a :class:`CatalogueError` naming file, line and field.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import netaddr

from ..errors import CatalogueError
from ..yamlsrc import Document, check_schema, load_yaml
from .model import Assumption, Catalogue, DnsName, Flow, Provenance

__all__ = ["DEFAULT_CATALOGUE", "SCHEMA_PATH", "load_catalogue", "parse_cidr", "parse_ranges", "check_dns_name"]

HERE = Path(__file__).parent
DEFAULT_CATALOGUE = HERE / "spirit.yaml"
SCHEMA_PATH = HERE / "schema.json"

_LABEL = r"(?:_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+\.?$")


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


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
            if isinstance(p, bool) or not isinstance(p, int):
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


def _build(doc: Document) -> Catalogue:
    data = doc.data
    assumptions = []
    seen_a: set[str] = set()
    for i, a in enumerate(data.get("assumptions", [])):
        if a["id"] in seen_a:
            raise doc.error(CatalogueError, ("assumptions", i, "id"), f"duplicate assumption id {a['id']!r}")
        seen_a.add(a["id"])
        assumptions.append(Assumption(a["id"], " ".join(a["text"].split())))
    ranges = tuple(parse_cidr(doc, ("spirit_ranges", i), c) for i, c in enumerate(data.get("spirit_ranges", [])))

    flows = []
    seen: dict[str, int] = {}
    for i, f in enumerate(data["flows"]):
        p = ("flows", i)
        if f["id"] in seen:
            raise doc.error(CatalogueError, p + ("id",), f"duplicate flow id {f['id']!r} (first at flows[{seen[f['id']]}])")
        seen[f["id"]] = i
        cidrs = f["server_cidrs"]
        server_cidrs = None if cidrs is None else tuple(
            parse_cidr(doc, p + ("server_cidrs", j), c) for j, c in enumerate(cidrs))
        dns = tuple(DnsName(check_dns_name(doc, p + ("dns", j, "name"), d["name"]), d["type"])
                    for j, d in enumerate(f["dns"]))
        if not server_cidrs and not dns:
            raise doc.error(CatalogueError, p + ("server_cidrs",),
                            "empty destination: give server CIDRs, or null with at least one DNS name")
        if server_cidrs is not None and not server_cidrs:
            raise doc.error(CatalogueError, p + ("server_cidrs",),
                            "empty list: use null for 'any address' (destination by DNS name) or list CIDRs")
        for j, aid in enumerate(f.get("assumptions", [])):
            if aid not in seen_a:
                raise doc.error(CatalogueError, p + ("assumptions", j), f"unknown assumption {aid!r}")
        if f["dscp"] != "0" and len(set(f["transports"])) == 0:
            raise doc.error(CatalogueError, p + ("transports",), "a flow needs a transport")
        flows.append(Flow(
            id=f["id"],
            client=f["client"],
            provenance=Provenance(f["provenance"]["table"], f["provenance"]["row"]),
            application=f["application"],
            protocols=tuple(f["protocols"]),
            transports=tuple(sorted(f["transports"])),
            dscp=f["dscp"],
            client_ports=parse_ranges(doc, p + ("client_ports",), f["client_ports"]),
            dns=dns,
            server_cidrs=server_cidrs,
            server_ports=parse_ranges(doc, p + ("server_ports",), f["server_ports"]),
            assumptions=tuple(f.get("assumptions", [])),
        ))
    return Catalogue(tuple(flows), tuple(assumptions), ranges, data.get("source", ""), doc.file)
