"""``spirit-egress-covers-profile`` and ``spirit-egress-not-broader`` (pure, whole stack).

**Which resources.** For each Spirit role in play (``sbc``, ``vdi``, ``phone-site``: the configured
profile's role, else every role the marks name), the resources marked with that role plus the rules
attached to them (:func:`spirit_infra.policy.resources.role_members`).

**Layers per cloud**, each read with the cloud's reader on those resources only:

- AWS: the security groups (``aws.read.read``) and, when the role has Network Firewall rule groups,
  the firewall (``aws.read.read_firewall``);
- Azure: the NSGs with Azure's built-in rules (``azure.read.read_nsg(include_default_rules=True)``) and,
  when the role has firewall-policy rule collection groups, the firewall policy;
- GCP: the VPC firewall rules, and each network firewall policy, as separate layers (each read with
  ``gcp.read.read`` and GCP's implied rules). GCP stops at the first layer whose rule matches, but the
  algebra cannot relate a DNS name allowed in a policy to the addresses a VPC deny-all drops, so the
  check is conservative: a flow must pass every layer present.

**Coverage.** Egress must pass every layer, so a flow is covered when every layer of a cloud covers it
(for a stack spread over clouds, any one cloud is enough). A layer covers a flow when, term by term, it
allows the term as the catalogue gives it (exact source ports, DNS names as names) or its IP projection
``project(term, Capabilities(fqdn=False))``: a DNS-name destination widened to ``0.0.0.0/0`` on the same
transport and ports. So an FQDN flow is satisfied by an FQDN layer naming it or by an IP rule to
0.0.0.0/0 on its ports, and an IP flow only by rules that allow its ranges and ports.

**Broader.** The IP layer's egress to the Spirit ranges (any TCP/UDP port) minus the widest projection
an IP firewall may legitimately need, ``project(profile egress, Capabilities(source_ports=False,
fqdn=False))``, must be empty; what is left is reported (advisory). So must its egress anywhere else:
rules a customer added for their own needs (NTP, OS mirrors, a platform's endpoints) are reported as
broader than the profile unless the pack knows them as extra flows (``extraFlows`` in the pack config,
else the stack's ``spirit:extraFlows``), and are then judged against profile + extra flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import marks
from ..errors import SpiritError
from ..flows import ANY_PORTS, AllowedSet, Capabilities, Peer, Term, project
from ..registry import cloud_of, layers_of
from .resources import role_members, roles_in
from .settings import Settings

__all__ = ["Finding", "egress_coverage", "egress_broader", "layers", "roles_to_check"]

IP_ONLY = Capabilities("ip-layer", source_ports=True, fqdn=False, platform=())
IP_WIDEST = Capabilities("ip-layer", source_ports=False, fqdn=False, platform=())
IP_WIDEST_PLATFORM = Capabilities("ip-layer", source_ports=False, fqdn=False)
_ANY_IPV6 = AllowedSet(Term("egress", t, Peer.of(["::/0"])) for t in ("tcp", "udp"))


@dataclass(frozen=True)
class Finding:
    message: str
    urn: str | None = None


def roles_to_check(resources: list[dict], settings: Settings) -> list[tuple[str, str]]:
    """(role, profile) pairs: the configured profile, else every role the marks name."""
    if settings.profile:
        return [(marks.ROLE_FOR_PROFILE[settings.profile], settings.profile)]
    return sorted((r, marks.PROFILE_FOR_ROLE[r]) for r in roles_in(resources) if r in marks.PROFILE_FOR_ROLE)


def layers(members: list[dict]) -> dict[str, list[tuple[str, AllowedSet]]]:
    """cloud -> [(layer name, egress it allows)] for the given role members (the registry's layers)."""
    out: dict[str, list[tuple[str, AllowedSet]]] = {}
    by_cloud: dict[str, list[dict]] = {}
    for r in members:
        if cloud_of(r):
            by_cloud.setdefault(cloud_of(r), []).append(r)
    for cloud, rs in sorted(by_cloud.items()):
        ls = [(name, layer.read(instance).select(direction="egress"))
              for layer in layers_of(cloud) for name, instance in layer.instances(rs)]
        if ls:
            out[cloud] = ls
    return out


def _term_covered(t: Term, layer: AllowedSet) -> bool:
    one = AllowedSet([t])
    return one <= layer or project(one, IP_ONLY).allowed <= layer


def _missing_in(flow_set: AllowedSet, layer: AllowedSet) -> list[Term]:
    return [t for t in flow_set.terms if not _term_covered(t, layer)]


def egress_coverage(resources: list[dict], settings: Settings) -> list[Finding]:
    """One finding per profile egress flow that the role's resources do not let out."""
    out: list[Finding] = []
    for role, pname in roles_to_check(resources, settings):
        try:
            profile = settings.profile_for(pname)
        except SpiritError as e:
            out.append(Finding(f"profile {pname}: {e}"))
            continue
        wanted = profile.allowed.select(direction="egress").by_flow()
        members = role_members(resources, role)
        try:
            by_cloud = layers(members)
        except (SpiritError, ValueError, TypeError, KeyError) as e:
            out.append(Finding(f"spirit-role={role}: rules could not be read ({e})"))
            continue
        if not by_cloud:
            out.append(Finding(f"profile {pname}: no firewall resource is marked spirit-role={role}, so no "
                               f"egress flow is shown to be allowed: missing {', '.join(wanted)}"))
            continue
        for flow, fset in wanted.items():
            gaps: list[str] = []
            for cloud, ls in by_cloud.items():
                missing = [(name, _missing_in(fset, layer)) for name, layer in ls]
                missing = [(n, m) for n, m in missing if m]
                if not missing:
                    gaps = []
                    break
                gaps.append("; ".join(f"{cloud} {n} does not allow " + ", ".join(
                    f"{t.transport} to {t.peer} port {t.dst_ports}" for t in m) for n, m in missing))
            if gaps:
                out.append(Finding(f"profile {pname}: egress flow {flow} is not covered by the resources marked "
                                   f"spirit-role={role}: {' | '.join(gaps)}"))
    return out


def egress_broader(resources: list[dict], settings: Settings) -> list[Finding]:
    """Egress to the Spirit ranges beyond what the profile needs (the IP layer of each cloud)."""
    out: list[Finding] = []
    for role, pname in roles_to_check(resources, settings):
        try:
            profile = settings.profile_for(pname)
            by_cloud = layers(role_members(resources, role))
        except (SpiritError, ValueError, TypeError, KeyError):
            continue  # egress_coverage reports it
        spirit = Peer.of(profile.spirit_cidrs)
        to_spirit = AllowedSet(Term("egress", t, spirit, ANY_PORTS, ANY_PORTS) for t in ("tcp", "udp"))
        egress = profile.allowed.select(direction="egress")
        # a platform destination (service tag, managed prefix list) may be read as itself or as any address
        expected = project(egress, IP_WIDEST).allowed | project(egress, IP_WIDEST_PLATFORM).allowed
        extra_file = profile.overrides.extra_flows
        for cloud, ls in by_cloud.items():
            name, ip_layer = ls[0]
            extra = (ip_layer & to_spirit) - expected
            if not extra.is_empty:
                what = "; ".join(f"{t.transport} to {t.peer} port {t.dst_ports}" for t in extra.terms)
                out.append(Finding(f"profile {pname}: {cloud} {name} marked spirit-role={role} allow egress to the "
                                   f"Spirit ranges beyond the catalogue: {what}"))
            # IPv4 and platform destinations: the catalogue is IPv4 only (its ipv4-only assumption), so IPv6
            # egress is not judged against it here
            beyond = (ip_layer - to_spirit - _ANY_IPV6) - expected
            if not beyond.is_empty:
                what = "; ".join(f"{'[' + t.flow + '] ' if t.flow else ''}{t.transport} to {t.peer} port "
                                 f"{t.dst_ports}" for t in ip_layer.terms
                                 if not (AllowedSet([t]) - to_spirit - _ANY_IPV6 - expected).is_empty)
                known = (f"profile + extra flows {extra_file.path}" if extra_file
                         else "the profile (customer flows? give them as extraFlows)")
                out.append(Finding(f"profile {pname}: {cloud} {name} marked spirit-role={role} allow egress broader "
                                   f"than {known}: {what}"))
    return out
