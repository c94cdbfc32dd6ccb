"""Text renderings of the catalogue: terminal table, JSON contract, the guideline's markdown, mermaid."""

from __future__ import annotations

import json

from ..flows import PortSet
from .model import Catalogue, Flow

__all__ = ["to_json", "to_table", "to_markdown", "to_mermaid", "ports_text"]


def ports_text(ranges) -> str:
    return "Any" if ranges is None else str(PortSet.of(ranges))


def to_json(cat: Catalogue) -> str:
    """The stable JSON contract (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(cat.to_json(), indent=2, sort_keys=True) + "\n"


def _dest(f: Flow) -> str:
    return "Any (by DNS name)" if f.server_cidrs is None else " ".join(str(c) for c in f.server_cidrs)


def to_table(cat: Catalogue) -> str:
    head = ("id", "app", "transport", "dscp", "client ports", "destination", "server ports", "assumptions")
    rows = [head]
    for f in cat.flows:
        rows.append((f.id, f.application[:28], "+".join(f.transports), f.dscp, ports_text(f.client_ports),
                     _dest(f) if f.server_cidrs is not None else "DNS: " + " ".join(d.name for d in f.dns),
                     ports_text(f.server_ports), ("! " + ", ".join(f.assumptions)) if f.assumptions else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("Assumptions (! marks a flow that rests on one):")
    for a in cat.assumptions:
        lines.append(f"  {a.id}: {a.text}")
    return "\n".join(lines) + "\n"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def _dns_cell(f: Flow) -> str:
    if not f.dns:
        return "N/A"
    return "<br>".join((f"{d.type} " if d.type in ("NAPTR", "SRV") else "") + d.name for d in f.dns)


def to_markdown(cat: Catalogue) -> str:
    """The guideline's two tables, re-created from the data; assumed cells carry a dagger."""
    out: list[str] = []
    for client, title, port_col, server_port_col in (
        ("phone", "Protocols used by Spirit Phones", "Phone ports", "Server ports"),
        ("communicator", "Protocols used by Spirit Communicator", "Communicator ports", "Spirit server end ports"),
    ):
        flows = cat.for_client(client)
        if not flows:
            continue
        out.append(f"### {title}\n")
        cols = ["Application", "Application protocol", "Transport protocol"]
        if client == "phone":
            cols.append("Phone DSCP")
        cols += [port_col, "DNS addresses", "Server addresses", server_port_col, "Assumptions"]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for f in flows:
            cells = [f.application, ", ".join(f.protocols), "+".join(t.upper() for t in f.transports)]
            if client == "phone":
                cells.append(f.dscp)
            cells += [ports_text(f.client_ports), _dns_cell(f),
                      "Any" if f.server_cidrs is None else " ".join(str(c) for c in f.server_cidrs),
                      ports_text(f.server_ports), ", ".join(f.assumptions) or "-"]
            out.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
        out.append("")
    out.append("#### Assumptions\n")
    for a in cat.assumptions:
        out.append(f"- **{a.id}**: {_md_escape(a.text)}")
    return "\n".join(out) + "\n"


def to_mermaid(profiles) -> str:
    """A flowchart per profile: client -> destination, edges labelled with transport, ports and DSCP."""
    out = ["```mermaid", "flowchart LR"]
    for p in profiles:
        client = {"phones": "Spirit phones", "communicator": "Spirit Communicator (VDI)", "sbc": "Hosted SBC"}[p.name]
        out.append(f"  subgraph {p.name}[\"{p.name} profile\"]")
        out.append(f"    {p.name}_client[\"{client}\"]")
        dests: dict[str, str] = {}
        for f in p.flows:
            key = str(f.peer)
            if key not in dests:
                dests[key] = f"{p.name}_d{len(dests)}"
                label = "<br>".join(list(f.peer.cidrs) + list(f.peer.fqdns))
                out.append(f"    {dests[key]}[\"{label}\"]")
        for f in p.flows:
            edge = (f"{f.id}: {'+'.join(f.transports)} sport {ports_text(f.src_ports)} "
                    f"dport {ports_text(f.dst_ports)} DSCP {f.dscp}")
            a, b = f"{p.name}_client", dests[str(f.peer)]
            if f.direction == "ingress":
                a, b = b, a
            out.append(f"    {a} -- \"{edge}\" --> {b}")
        out.append("  end")
    out.append("```")
    return "\n".join(out) + "\n"
