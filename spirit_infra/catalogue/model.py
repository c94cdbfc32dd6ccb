"""The catalogue's typed model: frozen dataclasses, addresses as netaddr objects."""

from __future__ import annotations

from dataclasses import dataclass, field

import netaddr

__all__ = ["PLATFORM_TYPES", "PlatformName", "DNS_TYPES", "DSCP_CLASSES", "DSCP_VALUES", "DnsName", "Provenance", "Assumption", "Flow", "Catalogue"]

Ranges = tuple[tuple[int, int], ...]

DNS_TYPES = ("NAPTR", "SRV", "A/CNAME")
#: DSCP class names and their code points (RFC 4594). "0" is best effort.
DSCP_VALUES = {"0": 0, "CS3": 24, "AF41": 34, "EF": 46}
DSCP_CLASSES = tuple(DSCP_VALUES)
#: platform destinations: names a cloud resolves itself (opaque atoms in the flow algebra)
PLATFORM_TYPES = ("azure-service-tag", "aws-prefix-list")


@dataclass(frozen=True)
class DnsName:
    name: str
    type: str  # NAPTR | SRV | A/CNAME

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class PlatformName:
    """A platform destination: an Azure service tag or an AWS-managed prefix list, by name."""

    name: str
    type: str  # azure-service-tag | aws-prefix-list

    @property
    def atom(self) -> str:
        """The flow algebra's spelling: ``<type>:<name>``."""
        return f"{self.type}:{self.name}"

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class Provenance:
    table: str  # phones | communicator | override | customer:<file>
    row: int

    def __str__(self) -> str:
        if self.table.startswith("customer:"):
            return f"{self.table}:{self.row}"
        return f"{self.table} table, row {self.row}"


@dataclass(frozen=True)
class Assumption:
    id: str
    text: str


@dataclass(frozen=True)
class Flow:
    """One row of the guideline. ``None`` ports or CIDRs mean "any"."""

    id: str
    client: str  # phone | communicator
    provenance: Provenance
    application: str
    protocols: tuple[str, ...]
    transports: tuple[str, ...]
    dscp: str
    client_ports: Ranges | None
    dns: tuple[DnsName, ...]
    server_cidrs: tuple[netaddr.IPNetwork, ...] | None
    server_ports: Ranges | None
    assumptions: tuple[str, ...] = ()
    platform: tuple[PlatformName, ...] = ()
    #: the row's line in its catalogue file (errors found later, e.g. by a profile, name it)
    line: int | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "client": self.client,
            "provenance": {"table": self.provenance.table, "row": self.provenance.row},
            "application": self.application,
            "protocols": list(self.protocols),
            "transports": list(self.transports),
            "dscp": self.dscp,
            "client_ports": None if self.client_ports is None else [list(r) for r in self.client_ports],
            "dns": [d.to_json() for d in self.dns],
            "server_cidrs": None if self.server_cidrs is None else [str(c) for c in self.server_cidrs],
            "server_ports": None if self.server_ports is None else [list(r) for r in self.server_ports],
            "assumptions": list(self.assumptions),
            **({"platform": [p.to_json() for p in self.platform]} if self.platform else {}),
        }


@dataclass(frozen=True)
class Catalogue:
    flows: tuple[Flow, ...]
    assumptions: tuple[Assumption, ...]
    spirit_ranges: tuple[netaddr.IPNetwork, ...]
    source: str = ""
    path: str = ""

    def flow(self, flow_id: str) -> Flow:
        for f in self.flows:
            if f.id == flow_id:
                return f
        raise KeyError(flow_id)

    def assumption(self, assumption_id: str) -> Assumption:
        for a in self.assumptions:
            if a.id == assumption_id:
                return a
        raise KeyError(assumption_id)

    def for_client(self, client: str) -> tuple[Flow, ...]:
        return tuple(f for f in self.flows if f.client == client)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "source": self.source,
            "spirit_ranges": [str(c) for c in self.spirit_ranges],
            "assumptions": [{"id": a.id, "text": a.text} for a in self.assumptions],
            "flows": [f.to_json() for f in self.flows],
        }
