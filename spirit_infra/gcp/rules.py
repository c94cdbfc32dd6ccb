"""VPC firewall rules (``gcp.compute.Firewall``): the pure render of the IP layer.

Render: one rule per flow and IP version (and per distinct peer set inside a flow), each carrying
several ``allows`` entries (one per transport, with all its ports), so rule counts stay low while
every rule belongs to exactly one flow. Names are ``<prefix>-<flow id>-<content hash>``: adding,
removing or editing one flow touches only that flow's rules. VPC firewall rules cannot match source
ports or DNS names (:data:`VPC_CAPS`); the projection reports both widenings. Strict mode (default)
adds explicit deny-all egress rules (IPv4 and IPv6) at a low priority, above GCP's implied allow-all
egress.

Read: :mod:`.read`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import netaddr

from .. import marks
from ..errors import CapabilityError, ConfigError, QuotaError
from ..flows import (
    ANY_IPV4,
    ANY_IPV6,
    AllowedSet,
    Capabilities,
    PortSet,
    Term,
    Widening,
    project,
)
from ..naming import fit
from ..plan import Plan
from ..profiles import PROFILES, Profile
from ..settings import (
    ENABLE_LOGGING,
    GCP_MAX_RANGES,
    NAME_PREFIX,
    STRICT,
    VPC_DENY_PRIORITY,
    VPC_PRIORITY_BASE,
    check_fields,
)
from .common import (
    NAME_MAX,
    NAME_RE,
    PLATFORM_REFUSED,
    check_name,
    everything,
    ports_to_gcp,
    short_hash,
    specs_plan,
    split_by_version,
)

__all__ = ["VPC_CAPS", "FIREWALL_TYPE", "VpcOptions", "Rendered", "model", "as_plan"]

VPC_CAPS = Capabilities("gcp-vpc-firewall", source_ports=False, fqdn=False, **PLATFORM_REFUSED)
FIREWALL_TYPE = "gcp:compute/firewall:Firewall"
PRIORITY_MAX = 65535
#: default ranges per rule (GCP allows thousands; a parameter, like every quota)
MAX_RANGES = 5000
_DIR_GCP = {"egress": "EGRESS", "ingress": "INGRESS"}
_VERSION_NAME = {4: "IPv4", 6: "IPv6"}
KIND_TEXT = {"ipv4": "IPv4", "ipv6": "IPv6", "fqdn": "DNS names"}


def _resolve(allowed_or_profile: AllowedSet | Profile, profile: str | None) -> tuple[AllowedSet, str]:
    if isinstance(allowed_or_profile, Profile):
        return allowed_or_profile.allowed, allowed_or_profile.name
    if profile not in PROFILES:
        raise ConfigError(f"an allowed set needs options.profile (one of {', '.join(PROFILES)}) for its marks",
                          field="profile")
    return allowed_or_profile, profile


def check_prefix(prefix: str, field: str = "name_prefix") -> str:
    if not isinstance(prefix, str) or not NAME_RE.match(prefix) or len(prefix) > 40:
        raise ConfigError(f"{prefix!r} is not a valid name prefix: it must match [a-z]([-a-z0-9]*[a-z0-9])? "
                          "and be at most 40 characters (GCP names are at most 63)", field=field)
    return prefix


def rule_suffix(flow: str, content) -> str:
    """``<flow>-<hash of the rule's content>``: the logical name of a rule (and its physical name's tail)."""
    return f"{flow or 'unlabelled'}-{short_hash(content)}"


def rule_name(prefix: str, flow: str, content) -> str:
    """``<prefix>-<flow>-<hash>``, fitted to GCP's 63 characters (:func:`spirit_infra.naming.fit`) and checked."""
    return physical(prefix, rule_suffix(flow, content), f"rule name for flow {flow!r}")


def physical(prefix: str, suffix: str, field: str = "name_prefix") -> str:
    """``<prefix>-<suffix>`` as a valid GCP name: too long, it keeps its head and ends with a hash of
    the whole (two long names never meet); then checked against GCP's rules."""
    name = f"{prefix}-{suffix}"
    if len(name) > NAME_MAX:
        name = fit(name, NAME_MAX)
    return check_name(name, field=field)


def check_ingress_peer(cidrs: Iterable[str], flow: str) -> None:
    """Least privilege: never open ingress from everywhere."""
    for c in cidrs:
        if netaddr.IPNetwork(c).prefixlen == 0:
            raise CapabilityError(f"flow {flow!r}: ingress from {c} would open the target to the whole internet; "
                                  "spirit-infra never renders it")


def check_ranges(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise QuotaError(f"{what} has {n} ranges; the limit per rule is {limit} (max_ranges)")


@dataclass(frozen=True)
class VpcOptions:
    """How to render VPC firewall rules.

    - ``target_tags`` / ``target_service_accounts``: which instances the rules apply to (one of them;
      GCP rejects both). Neither given: the network tag ``spirit-<role>`` (e.g. ``spirit-sbc``), never
      every instance of the VPC.
    - ``priority_base``: priority of the allow rules (0-65535, lower wins).
    - ``strict``: add explicit deny-all egress rules at ``deny_priority`` (default 65534, just above
      GCP's implied allow-all egress at the lowest priority).
    - ``max_ranges``: source/destination ranges allowed per rule (a quota: raise it if GCP does).
    - ``name_prefix``: first part of every rule name (``spirit``). The components derive it from the
      stack's and the component's names (:func:`spirit_infra.naming.physical_prefix`), so two stacks or
      two components in one project never collide.
    - ``network``: the VPC (name or self link); ``None`` leaves it to the component (a reference).
    - ``profile``: profile name for the marks when rendering a bare allowed set.
    """

    target_tags: tuple[str, ...] = ()
    target_service_accounts: tuple[str, ...] = ()
    priority_base: int = VPC_PRIORITY_BASE.field()
    deny_priority: int = VPC_DENY_PRIORITY.field()
    strict: bool = STRICT.field()
    max_ranges: int = GCP_MAX_RANGES.field()
    name_prefix: str = NAME_PREFIX.field()
    network: str | None = None
    enable_logging: bool = ENABLE_LOGGING.field()
    profile: str | None = None

    def validate(self) -> VpcOptions:
        check_fields(self)
        check_prefix(self.name_prefix)
        if self.strict and self.deny_priority <= self.priority_base:
            raise ConfigError(f"the strict deny-all egress ({self.deny_priority}) must have a larger number (lower "
                              f"precedence) than the allow rules ({self.priority_base})", field="deny_priority")
        if self.target_tags and self.target_service_accounts:
            raise ConfigError("GCP rules take target tags or target service accounts, not both",
                              field="target_service_accounts")
        for i, t in enumerate(self.target_tags):
            check_name(t, field=f"target_tags[{i}]")
        for i, sa in enumerate(self.target_service_accounts):
            if not isinstance(sa, str) or "@" not in sa:
                raise ConfigError(f"{sa!r} is not a service account e-mail", field=f"target_service_accounts[{i}]")
        return self

    def targets(self, profile: str) -> dict[str, list[str]]:
        if self.target_service_accounts:
            return {"targetServiceAccounts": sorted(self.target_service_accounts)}
        tags = self.target_tags or (f"spirit-{marks.ROLE_FOR_PROFILE[profile]}",)
        return {"targetTags": sorted(tags)}


@dataclass(frozen=True)
class Rendered:
    """Resource specs (plain data, sorted by name) plus what the projection widened.

    A spec is ``{"type", "name", "inputs", "refs"?}``: ``name`` is the suffix of the Pulumi resource
    name, ``inputs`` the camelCase inputs exactly as registered, ``refs`` inputs the component fills
    in (``"arg:<x>"`` from its Args, ``"res:<name>.<attr>"`` from another spec's resource).
    """

    profile: str
    specs: tuple[dict, ...]
    widened: tuple[Widening, ...]
    expected: AllowedSet = field(repr=False, default_factory=AllowedSet)
    #: rendered strict (explicit deny-all egress above GCP's implied allow-all)
    strict: bool = True

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for s in self.specs:
            out[s["type"].rsplit(":", 1)[-1]] += 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict:
        return {"profile": self.profile, "resources": [dict(s) for s in self.specs],
                "widened": [w.to_json() for w in self.widened], "counts": self.counts()}


def group_flow(terms: Iterable[Term], fqdn_ok: bool = False) -> dict[tuple, dict[str, PortSet]]:
    """Group one flow's terms by (direction, peer kind, peer values): transport -> destination ports."""
    groups: dict[tuple, dict[str, PortSet]] = defaultdict(dict)
    for t in terms:
        parts = [(f"ipv{v}", cs) for v, cs in split_by_version(t.peer.cidrs).items()]
        if t.peer.fqdns:
            if not fqdn_ok:  # pragma: no cover - the projection removed them
                raise CapabilityError(f"flow {t.flow!r}: DNS names cannot be rendered here")
            parts.append(("fqdn", t.peer.fqdns))
        for kind, values in parts:
            ports = groups[(t.direction, kind, values)]
            ports[t.transport] = ports.get(t.transport, PortSet()) | t.dst_ports
    return groups


def l4(ports_by_transport: dict[str, PortSet], proto_key: str) -> list[dict]:
    out = []
    for transport in sorted(ports_by_transport):
        entry = {proto_key: transport}
        ports = ports_to_gcp(ports_by_transport[transport])
        if ports is not None:
            entry["ports"] = ports
        out.append(entry)
    return out


def model(allowed_or_profile: AllowedSet | Profile, options: VpcOptions | None = None) -> Rendered:
    """Render VPC firewall rules for a profile (or a labelled allowed set with ``options.profile``)."""
    opts = (options or VpcOptions()).validate()
    allowed, profile = _resolve(allowed_or_profile, opts.profile)
    proj = project(allowed, VPC_CAPS)
    targets = opts.targets(profile)
    specs: list[dict] = []
    for flow, fset in proj.allowed.by_flow().items():
        for (direction, kind, cidrs), ports in sorted(group_flow(fset.terms).items()):
            if direction == "ingress":
                check_ingress_peer(cidrs, flow)
            allows = l4(ports, "protocol")
            content = {"direction": direction, "ranges": list(cidrs), "allows": allows}
            name = rule_name(opts.name_prefix, flow, content)
            check_ranges(len(cidrs), opts.max_ranges, f"rule {name}")
            logical = rule_suffix(flow, content)
            inputs = {
                "name": name,
                "description": marks.description(profile, [flow] if flow else [],
                                                 f"Spirit {flow or 'rule'}: {direction} {KIND_TEXT[kind]}."),
                "direction": _DIR_GCP[direction],
                "priority": opts.priority_base,
                "allows": allows,
                "destinationRanges" if direction == "egress" else "sourceRanges": list(cidrs),
                **targets,
            }
            specs.append(_spec(logical, inputs, opts))
    if opts.strict:
        for version, anyaddr in ((4, ANY_IPV4), (6, ANY_IPV6)):
            logical = f"{profile}-deny-egress-ipv{version}"
            name = physical(opts.name_prefix, logical)
            inputs = {
                "name": name,
                "description": marks.description(profile, [], f"Spirit strict egress: deny all other "
                                                  f"{_VERSION_NAME[version]} egress."),
                "direction": "EGRESS",
                "priority": opts.deny_priority,
                "denies": [{"protocol": "all"}],
                "destinationRanges": [anyaddr],
                **targets,
            }
            specs.append(_spec(logical, inputs, opts))
    specs.sort(key=lambda s: s["name"])
    return Rendered(profile, tuple(specs), proj.widened, proj.allowed, opts.strict)


def _spec(logical: str, inputs: dict, opts: VpcOptions) -> dict:
    if opts.enable_logging:
        inputs["logConfig"] = {"metadata": "INCLUDE_ALL_METADATA"}
    spec = {"type": FIREWALL_TYPE, "name": logical, "inputs": inputs}
    if opts.network is None:
        spec["refs"] = {"network": "arg:network"}
    else:
        inputs["network"] = opts.network
    return spec


def as_plan(rendered: Rendered) -> Plan:
    """The VPC rules' render as a :class:`~spirit_infra.plan.Plan` (parameter: ``network``, unless the options
    named it). ``expected`` is what the layer's reader gives back with GCP's implied rules: the projection, and
    every egress unless strict (the implied allow-all egress)."""
    return specs_plan(rendered.specs, rendered.widened, (),
                      rendered.expected if rendered.strict else rendered.expected | everything("egress"))
