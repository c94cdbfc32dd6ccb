"""Profiles: which catalogue flows a deployment needs, and the customer's validated overrides.

- ``phones``: hardware phones at a site whose traffic leaves through the cloud (every phone row).
- ``communicator``: Spirit Communicator on VDI desktops (every Communicator row).
- ``sbc``: a hosted session border controller: SIP and media egress to the Spirit ranges, and
  ingress from the Spirit ranges only, to the SBC's SIP port(s) and media range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from .catalogue.load import (
    IPV4_ONLY,
    ExtraFlowsFile,
    check_dns_name,
    load_catalogue,
    load_extra_flows,
    parse_cidr,
    parse_ranges,
)
from .catalogue.model import Assumption, Catalogue, Flow
from .errors import CatalogueError, ConfigError
from .flows import AllowedSet, Peer, PortSet, Term, compact_cidrs
from .yamlsrc import Document, check_schema, field_name, load_yaml

__all__ = ["PROFILES", "PROFILE_ASSUMPTIONS", "SbcPorts", "Overrides", "ProfileFlow", "Profile",
           "build_profile", "load_overrides", "overrides_from_mapping", "ExtraFlowsFile", "load_extra_flows",
           "with_extra_flows", "resolve_args_profile", "CUSTOMER", "parse_port_text"]

#: the provenance prefix of a customer's extra flow: ``customer:<file>:<line>``
CUSTOMER = "customer"

PROFILES = ("phones", "communicator", "sbc")
Ranges = tuple[tuple[int, int], ...]

#: Assumptions the profiles add on top of the catalogue's.
PROFILE_ASSUMPTIONS = (
    Assumption("sbc-ports", "The SBC's own SIP and media ports are not in the guideline. Defaults: SIP "
               "5060-5061 (UDP/TCP 5060, TLS 5061) and media 16384-32767; set them to the SBC's real ports."),
    Assumption("sbc-tcp-source", "SIP over TCP/TLS uses an ephemeral source port for the connecting side, so "
               "TCP signalling is allowed from any source port; UDP signalling is pinned to the SIP ports "
               "(egress: the SBC's; ingress: Spirit's 5060-5062)."),
    Assumption("sbc-media-ranges", "The SBC exchanges media with the ranges of the phones' audio and video rows "
               "(all Spirit ranges); audio and video share the SBC's media port range."),
)


@dataclass(frozen=True)
class SbcPorts:
    """The SBC's listening ports (inclusive ranges)."""

    sip: Ranges = ((5060, 5061),)
    media: Ranges = ((16384, 32767),)


@dataclass(frozen=True)
class Overrides:
    """Customer overrides, validated like the catalogue.

    Every entry point (an override file, ``spirit:overrides`` in a stack, a CLI flag, this constructor)
    runs the same checks and raises the same one-line :class:`~spirit_infra.errors.ConfigError`: CIDRs
    with host bits, 0.0.0.0/0 (or ranges that together cover every address), wrong types, bad DNS names
    and bad or overlapping SBC ports are refused, never passed on to a cloud.
    """

    extra_spirit_cidrs: tuple[str, ...] = ()
    ztp_vendors_drop: tuple[str, ...] = ()
    sbc: SbcPorts = field(default_factory=SbcPorts)
    catalogue: str | None = None
    source: str = ""
    #: (field, line) pairs from the override file, so errors found later (at build time) can name the line
    source_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)
    #: the customer's extra flows (:func:`load_extra_flows`), merged into every profile built with these
    extra_flows: ExtraFlowsFile | None = None

    def __post_init__(self) -> None:
        data, sub = _api_values(self)
        cidrs, drop, sbc, catalogue = _check_values(sub, data, None)
        for name, value in (("extra_spirit_cidrs", cidrs), ("ztp_vendors_drop", drop), ("sbc", sbc),
                            ("catalogue", catalogue)):
            object.__setattr__(self, name, value)

    def line_of(self, name: str) -> int | None:
        return dict(self.source_lines).get(name)


@dataclass(frozen=True)
class ProfileFlow:
    """One flow of a profile: a direction, transports, ports and a remote peer."""

    id: str
    direction: str
    application: str
    transports: tuple[str, ...]
    dscp: str
    src_ports: Ranges | None
    peer_cidrs: tuple[str, ...]
    peer_fqdns: tuple[str, ...]
    dst_ports: Ranges | None
    derived_from: tuple[str, ...]
    assumptions: tuple[str, ...] = ()
    #: platform destinations (``<kind>:<name>``: Azure service tags, AWS-managed prefix lists)
    peer_platform: tuple[str, ...] = ()
    #: ``""`` for Spirit's flows; ``customer:<file>:<line>`` for a customer's extra flow
    provenance: str = ""

    @property
    def customer(self) -> bool:
        return self.provenance.startswith(CUSTOMER + ":")

    @property
    def peer(self) -> Peer:
        return Peer.of(self.peer_cidrs, self.peer_fqdns, self.peer_platform)

    def allowed(self) -> AllowedSet:
        return AllowedSet(Term(self.direction, t, self.peer, PortSet.of(self.src_ports), PortSet.of(self.dst_ports),
                               self.id) for t in self.transports)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "direction": self.direction,
            "application": self.application,
            "transports": list(self.transports),
            "dscp": self.dscp,
            "src_ports": PortSet.of(self.src_ports).to_json(),
            "peer": self.peer.to_json(),
            "dst_ports": PortSet.of(self.dst_ports).to_json(),
            "derived_from": list(self.derived_from),
            "assumptions": list(self.assumptions),
            **({"origin": self.provenance} if self.provenance else {}),
        }


@dataclass(frozen=True)
class Profile:
    name: str
    flows: tuple[ProfileFlow, ...]
    catalogue: Catalogue
    overrides: Overrides

    @cached_property
    def allowed(self) -> AllowedSet:
        """The exact allowed set, each term labelled with its flow id."""
        terms = []
        for f in self.flows:
            terms.extend(f.allowed().terms)
        return AllowedSet(terms)

    @property
    def customer_flows(self) -> tuple[ProfileFlow, ...]:
        """The customer's extra flows (``customer:<file>:<line>``), apart from Spirit's."""
        return tuple(f for f in self.flows if f.customer)

    @cached_property
    def spirit_cidrs(self) -> tuple[str, ...]:
        return compact_cidrs(list(self.catalogue.spirit_ranges) + list(self.overrides.extra_spirit_cidrs))

    def flow(self, flow_id: str) -> ProfileFlow:
        for f in self.flows:
            if f.id == flow_id:
                return f
        raise KeyError(flow_id)

    @property
    def assumptions(self) -> tuple[Assumption, ...]:
        """Every assumption this profile's flows rest on, in catalogue order."""
        used = {a for f in self.flows for a in f.assumptions}
        # assumptions no flow names are catalogue-wide (IPv4 only, DNS resolution): always shown
        named = {a for f in self.catalogue.flows for a in f.assumptions}
        used |= {a.id for a in self.catalogue.assumptions if a.id not in named}
        known = list(self.catalogue.assumptions) + list(PROFILE_ASSUMPTIONS)
        extra = self.overrides.extra_flows
        if extra is not None:
            known += [a for a in extra.assumptions if a.id not in {k.id for k in known}]
        return tuple(a for a in known if a.id in used)

    def to_json(self) -> dict:
        return {
            "profile": self.name,
            "catalogue": self.catalogue.path,
            "spirit_cidrs": list(self.spirit_cidrs),
            "flows": [f.to_json() for f in self.flows],
            "allowed": self.allowed.to_json(),
            "assumptions": [{"id": a.id, "text": a.text} for a in self.assumptions],
            **({"customer_flows": [{"id": f.id, "origin": f.provenance} for f in self.customer_flows]}
               if self.customer_flows else {}),
        }


#: the assumption that marks a flow whose destinations are an open-ended vendor list (ZTP)
ZTP_ASSUMPTION = "ztp-vendors-open-ended"


def _is_ztp(flow: Flow) -> bool:
    """Only the ZTP vendor list can be trimmed with ``ztp_vendors_drop`` (never NTP or other DNS-only flows)."""
    return flow.server_cidrs is None and ZTP_ASSUMPTION in flow.assumptions


def _from_row(flow: Flow, extra: tuple[str, ...], drop: set[str]) -> ProfileFlow | None:
    if flow.server_cidrs is None:
        names = tuple(d.name for d in flow.dns if not (_is_ztp(flow) and d.name in drop))
        if not names and not flow.platform:
            return None
        cidrs: tuple[str, ...] = ()
    else:
        names = ()
        cidrs = compact_cidrs(list(flow.server_cidrs) + list(extra))
    return ProfileFlow(flow.id, "egress", flow.application, flow.transports, flow.dscp, flow.client_ports,
                       cidrs, names, flow.server_ports, (flow.id,), flow.assumptions,
                       tuple(p.atom for p in flow.platform))


def _customer_flows(extra: ExtraFlowsFile, taken: dict[str, str]) -> tuple[ProfileFlow, ...]:
    """The customer's flows as profile flows, exactly as a catalogue row would be (DNS names within
    listed CIDRs are for DNS-aware layers only), never Spirit's extra ranges, never everything."""
    out = []
    for f in extra.flows:
        where = f"{f.provenance.table}:{f.provenance.row}"
        file = f.provenance.table.partition(":")[2]
        if f.id in taken:
            raise CatalogueError(f"flow id {f.id!r} is already {taken[f.id]}: give the extra flow its own id",
                                 file=file, line=f.provenance.row, field="id")
        taken[f.id] = f"an extra flow at {where}"
        pf = _from_row(f, (), set())
        out.append(replace(pf, derived_from=(), provenance=where))
    return tuple(out)


def _sbc_flows(cat: Catalogue, ov: Overrides) -> tuple[ProfileFlow, ...]:
    try:
        sip, audio, video = cat.flow("phone-sip"), cat.flow("phone-audio"), cat.flow("phone-video")
    except KeyError as e:
        raise ConfigError(f"the sbc profile needs catalogue flow {e.args[0]!r}", file=cat.path,
                          field="flows") from None
    for f in (sip, audio, video):
        if f.server_cidrs is None:
            raise ConfigError("the sbc profile needs server CIDRs on this flow", file=cat.path,
                              field=f"flows[{f.id}].server_cidrs")
    for f in (sip, audio, video):
        # the SBC takes ingress from these rows' servers: a row (with the overrides) covering every address
        # would open the SBC's SIP and media ports to the whole Internet
        for everything in set(compact_cidrs(list(f.server_cidrs) + list(ov.extra_spirit_cidrs))) & {"0.0.0.0/0"}:
            raise CatalogueError(f"server_cidrs cover {everything}: the sbc profile takes ingress from this row's "
                                 "servers, which would open the SBC to the whole Internet (list Spirit's ranges)",
                                 file=cat.path, line=f.line, field=f"flows[{f.id}]")
    extra = ov.extra_spirit_cidrs
    sip_peers = compact_cidrs(list(sip.server_cidrs) + list(extra))
    media_peers = compact_cidrs(list(audio.server_cidrs) + list(video.server_cidrs) + list(extra))
    a_sip = ("sbc-ports", "sbc-tcp-source")
    a_media = ("sbc-ports", "sbc-media-ranges")
    return (
        ProfileFlow("sbc-sip-udp-out", "egress", sip.application, ("udp",), sip.dscp, ov.sbc.sip, sip_peers, (),
                    sip.server_ports, (sip.id,), a_sip),
        ProfileFlow("sbc-sip-tcp-out", "egress", sip.application, ("tcp",), sip.dscp, None, sip_peers, (),
                    sip.server_ports, (sip.id,), a_sip),
        ProfileFlow("sbc-audio-out", "egress", audio.application, ("udp",), audio.dscp, ov.sbc.media, media_peers,
                    (), audio.server_ports, (audio.id,), a_media + audio.assumptions),
        ProfileFlow("sbc-video-out", "egress", video.application, ("udp",), video.dscp, ov.sbc.media, media_peers,
                    (), video.server_ports, (video.id,), a_media + video.assumptions),
        ProfileFlow("sbc-sip-udp-in", "ingress", sip.application, ("udp",), sip.dscp, sip.server_ports, sip_peers,
                    (), ov.sbc.sip, (sip.id,), a_sip),
        ProfileFlow("sbc-sip-tcp-in", "ingress", sip.application, ("tcp",), sip.dscp, None, sip_peers,
                    (), ov.sbc.sip, (sip.id,), a_sip),
        ProfileFlow("sbc-media-in", "ingress", audio.application + "/" + video.application, ("udp",), audio.dscp,
                    None, media_peers, (), ov.sbc.media, (audio.id, video.id), a_media + ("any-port",)),
    )


def build_profile(name: str, overrides: Overrides | None = None, catalogue: Catalogue | None = None) -> Profile:
    """Build profile ``name`` from the catalogue (the override's own catalogue if it names one)."""
    ov = overrides or Overrides()
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r} (allowed: {', '.join(PROFILES)})", field="profile")
    if catalogue is None:
        try:
            catalogue = load_catalogue(ov.catalogue)
        except CatalogueError as e:
            if e.field != "(file)" or not ov.source:
                raise  # an error inside the catalogue names its own file and line
            # a file that cannot be read: name the override (file, line, key) that points at it
            raise ConfigError(f"{e.file}: {e.what}", file=ov.source, line=ov.line_of("catalogue"),
                              field="catalogue") from None
    if IPV4_ONLY in {a.id for a in catalogue.assumptions}:
        for f in ov.extra_flows.flows if ov.extra_flows is not None else ():
            for c in f.server_cidrs or ():
                if c.version == 6:
                    raise CatalogueError(f"'{c}' is IPv6, but the catalogue is IPv4 only (assumption {IPV4_ONLY!r}): "
                                         "no cloud rule or NAT here carries IPv6", file=ov.extra_flows.path,
                                         line=f.line, field=f"flows[{f.id}].server_cidrs")
        for i, c in enumerate(ov.extra_spirit_cidrs):
            if ":" in c:
                raise ConfigError(f"{c!r} is IPv6, but the catalogue is IPv4 only (assumption {IPV4_ONLY!r}): no "
                                  "cloud rule or NAT here carries IPv6", file=ov.source or "Overrides",
                                  line=ov.line_of(f"extra_spirit_cidrs[{i}]"), field=f"extra_spirit_cidrs[{i}]")
    drop = set(ov.ztp_vendors_drop)
    ztp_names = {d.name for f in catalogue.flows if _is_ztp(f) for d in f.dns}
    for i, vendor in enumerate(ov.ztp_vendors_drop):
        if vendor not in ztp_names:
            known = ", ".join(sorted(ztp_names)) or "none"
            raise ConfigError(f"{vendor!r} is not a ZTP vendor name in the catalogue (known: {known})",
                              file=ov.source or None, line=ov.line_of(f"ztp_vendors_drop[{i}]"),
                              field=f"ztp_vendors_drop[{i}]")
    if name == "sbc":
        flows = _sbc_flows(catalogue, ov)
    else:
        client = "phone" if name == "phones" else "communicator"
        flows = tuple(pf for f in catalogue.for_client(client)
                      if (pf := _from_row(f, ov.extra_spirit_cidrs, drop)) is not None)
    if not flows:
        raise ConfigError(f"profile {name!r} has no flows in {catalogue.path}", field="profile")
    if ov.extra_flows is not None:
        taken = {f.id: f"a Spirit catalogue flow ({catalogue.path})" for f in catalogue.flows}
        taken.update({f.id: f"a Spirit flow of profile {name}" for f in flows})
        flows = flows + _customer_flows(ov.extra_flows, taken)
    return Profile(name, flows, catalogue, ov)


# ---- overrides ---------------------------------------------------------------------------------------

_RANGES = {"type": "array", "minItems": 1, "items": {
    "type": "array", "minItems": 2, "maxItems": 2,
    "items": {"type": "integer", "minimum": 1, "maximum": 65535}}}

OVERRIDES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "catalogue": {"type": "string", "minLength": 1},
        "extra_spirit_cidrs": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "ztp_vendors_drop": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "sbc": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"sip_ports": _RANGES, "media_ports": _RANGES},
        },
    },
}


def _api_values(ov: Overrides) -> tuple[dict, Document]:
    """The constructor's arguments as the document an override file would hold (types checked on the way)."""
    where = ov.source or "Overrides"
    doc = Document({}, {}, where)
    data: dict = {}
    for name in ("extra_spirit_cidrs", "ztp_vendors_drop"):
        v = getattr(ov, name)
        if isinstance(v, str | bytes) or not isinstance(v, tuple | list):
            raise doc.error(ConfigError, (name,), f"expected a list of strings, got {type(v).__name__} {v!r}")
        data[name] = list(v)
    if not isinstance(ov.sbc, SbcPorts):
        raise doc.error(ConfigError, ("sbc",), f"expected SbcPorts, got {type(ov.sbc).__name__} {ov.sbc!r}")
    sbc = {}
    for key, v in (("sip_ports", ov.sbc.sip), ("media_ports", ov.sbc.media)):
        if isinstance(v, str | bytes) or not isinstance(v, tuple | list):
            raise doc.error(ConfigError, ("sbc", key), f"expected ranges like ((5060, 5061),), got {v!r}")
        sbc[key] = [list(r) if isinstance(r, tuple | list) else r for r in v]
    data["sbc"] = sbc
    if ov.catalogue is not None:
        data["catalogue"] = str(ov.catalogue) if isinstance(ov.catalogue, Path) else ov.catalogue
    if ov.extra_flows is not None and not isinstance(ov.extra_flows, ExtraFlowsFile):
        raise doc.error(ConfigError, ("extra_flows",), f"expected an ExtraFlowsFile (load_extra_flows), got "
                        f"{type(ov.extra_flows).__name__} {ov.extra_flows!r}")
    sub = Document(data, {}, where)
    check_schema(sub, OVERRIDES_SCHEMA, ConfigError)
    return data, sub


def _check_values(sub: Document, data: dict, base: Path | None
                  ) -> tuple[tuple[str, ...], tuple[str, ...], SbcPorts, str | None]:
    """The one validation of override values (schema already checked); errors name ``sub``'s file and lines."""
    cidrs = tuple(str(parse_cidr(sub, ("extra_spirit_cidrs", i), c, ConfigError))
                  for i, c in enumerate(data.get("extra_spirit_cidrs", [])))
    for i, c in enumerate(cidrs):
        if c in ("0.0.0.0/0", "::/0"):
            raise sub.error(ConfigError, ("extra_spirit_cidrs", i), f"{c!r} is not a Spirit range (it is everything)")
    for everything in set(compact_cidrs(cidrs)) & {"0.0.0.0/0", "::/0"}:
        # 0.0.0.0/1 + 128.0.0.0/1 is everything too: the SBC would accept ingress from any address
        shown = ", ".join(cidrs[:4]) + (f" and {len(cidrs) - 4} more" if len(cidrs) > 4 else "")
        raise sub.error(ConfigError, ("extra_spirit_cidrs",),
                        f"together these cover every address ({everything}): not Spirit ranges ({shown})")
    drop = tuple(check_dns_name(sub, ("ztp_vendors_drop", i), n, ConfigError)
                 for i, n in enumerate(data.get("ztp_vendors_drop", [])))
    sbc_data = data.get("sbc", {})
    sbc = SbcPorts(
        sip=parse_ranges(sub, ("sbc", "sip_ports"), sbc_data["sip_ports"], ConfigError) if "sip_ports" in sbc_data
        else SbcPorts.sip,
        media=parse_ranges(sub, ("sbc", "media_ports"), sbc_data["media_ports"], ConfigError)
        if "media_ports" in sbc_data else SbcPorts.media,
    )
    if not PortSet.of(sbc.sip).__and__(PortSet.of(sbc.media)).is_empty:
        raise sub.error(ConfigError, ("sbc", "media_ports"), "the media range overlaps the SIP ports")
    catalogue = data.get("catalogue")
    if catalogue is not None and base is not None and not Path(catalogue).is_absolute():
        catalogue = str(base / catalogue)
    return cidrs, drop, sbc, catalogue


def _overrides_from_doc(doc: Document, base: Path | None, prefix: tuple = ()) -> Overrides:
    data = doc.data
    for key in prefix:
        data = data[key]
    if not isinstance(data, dict):
        raise doc.error(ConfigError, prefix, "overrides must be a mapping")
    sub = Document(data, {k[len(prefix):]: v for k, v in doc.lines.items() if k[:len(prefix)] == prefix}, doc.file)
    check_schema(sub, OVERRIDES_SCHEMA, ConfigError)
    cidrs, drop, sbc, catalogue = _check_values(sub, data, base)
    # every value's line, so checks made later (at build time, against the catalogue) can name it
    lines = tuple(sorted((field_name(k), ln) for k, ln in sub.lines.items() if k))
    return Overrides(cidrs, drop, sbc, catalogue, doc.file, lines)


_PORT_PART = re.compile(r"^\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?$")  # ASCII digits only: '٥٠٦٠' is no port


def parse_port_text(text: str) -> tuple[tuple[int, int], ...]:
    """``"5060-5061"`` or ``"5060,5061,16384-32767"`` -> inclusive ranges; ValueError saying what is wrong.

    The one reader of port lists written as text (stack config ``spirit:sbc*Ports``, policy config).
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a port list like '5060-5061', got {type(text).__name__} {text!r}")
    out = []
    for part in text.split(","):
        m = _PORT_PART.match(part)
        if not m:
            raise ValueError(f"{text!r} is not a port list like '5060-5061' or '5060,5061'")
        a, b = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (1 <= a <= 65535 and 1 <= b <= 65535):
            raise ValueError(f"port {a if not 1 <= a <= 65535 else b} is out of range 1-65535")
        if a > b:
            raise ValueError(f"reversed range {part.strip()!r} (low port must come first)")
        out.append((a, b))
    return tuple(out)


def load_overrides(path: str | Path) -> Overrides:
    """Load an override file (YAML). Relative catalogue paths are relative to the file."""
    doc = load_yaml(path, ConfigError)
    return _overrides_from_doc(doc, Path(path).parent)


def overrides_from_mapping(data: dict, file: str = "(config)", lines: dict | None = None,
                           base: Path | None = None) -> Overrides:
    """Validate overrides given as a mapping (stack config), reporting errors against ``file``."""
    return _overrides_from_doc(Document(data, lines or {}, file), base)


def with_catalogue(ov: Overrides, path: str | None) -> Overrides:
    return replace(ov, catalogue=path) if path else ov


def resolve_args_profile(profile, overrides: Overrides | None, extra_flows) -> Profile:
    """What every component's Args do with ``profile``, ``overrides`` and ``extra_flows``: a built
    Profile is taken as it is (it already holds its extra flows), a name is built with both."""
    if isinstance(profile, Profile):
        if extra_flows:
            raise ConfigError("give extra_flows with a profile name (a built Profile already holds its flows: "
                              "build it with overrides=with_extra_flows(...))", field="extra_flows")
        return profile
    if not isinstance(profile, str):
        raise ConfigError(f"expected a profile name or a Profile, not {type(profile).__name__}", field="profile")
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r} (allowed: {', '.join(PROFILES)})", field="profile")
    return build_profile(profile, with_extra_flows(overrides, extra_flows))


def with_extra_flows(ov: Overrides | None, extra: str | Path | ExtraFlowsFile | None) -> Overrides:
    """``ov`` (default: none) plus the customer's extra flows (a file name, loaded and validated here)."""
    ov = ov or Overrides()
    if extra is None or extra == "":
        return ov
    if not isinstance(extra, ExtraFlowsFile):
        if not isinstance(extra, (str, Path)):
            raise ConfigError(f"expected a file name, got {type(extra).__name__} {extra!r}", field="extra_flows")
        extra = load_extra_flows(extra)
    return replace(ov, extra_flows=extra)
