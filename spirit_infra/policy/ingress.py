"""``spirit-no-open-voice-ingress``: no ingress from the whole world to SIP or media ports (pure).

One resource at a time, read with the cloud's own reader (``read_one`` of its layers in the registry), so inline and separate rules are judged alike:

- AWS: ``aws.ec2.SecurityGroup`` inline ``ingress``, ``aws.vpc.SecurityGroupIngressRule``,
  ``aws.ec2.SecurityGroupRule`` of type ``ingress`` (:func:`spirit_infra.aws.read.read`);
- Azure: NSG inline ``securityRules`` and separate ``SecurityRule`` (:func:`spirit_infra.azure.read.read_nsg`;
  ``*``, ``Any``, ``Internet`` and ``0.0.0.0/0`` read as every address; an NSG's own Deny rules of a lower
  priority number are honoured);
- GCP: ``gcp.compute.Firewall`` and network firewall policy rules (:func:`spirit_infra.gcp.read.read`
  without the implied rules; an ingress rule without source ranges or tags is open to 0.0.0.0/0).

"Open to the world" means every address of ``0.0.0.0/0`` (or ``::/0``) may reach the port, whatever the rules'
split (two halves like 0.0.0.0/1 + 128.0.0.0/1 count; a rule from the world merged with Spirit ranges too),
from some source port (source-port restrictions are ignored: they do not make a port less exposed). Voice ports: see :mod:`spirit_infra.policy.settings`.
"""

from __future__ import annotations

from ..errors import SpiritError
from ..flows import ANY_IPV4, ANY_IPV6, ANY_PORTS, AllowedSet, Capabilities, Peer, PortSet, Term, project
from ..registry import cloud as cloud_entry
from ..registry import cloud_of
from .resources import AWS_PREFIX_TYPES, AWS_RULE_TYPES, AWS_SG, AZURE_NSG, AZURE_RULE, GCP_FIREWALL
from .settings import Settings

__all__ = ["open_voice_ingress", "open_voice_ingress_via_prefix_lists", "INGRESS_TYPES"]


NO_SOURCE_PORTS = Capabilities("world-check", source_ports=False, fqdn=True)

INGRESS_TYPES = (AWS_SG, *AWS_RULE_TYPES, AZURE_NSG, AZURE_RULE, GCP_FIREWALL)


def _read(resource: dict, context: tuple[dict, ...] = ()) -> AllowedSet | None:
    """The resource read by its cloud's IP-layer reader (the registry's), ``None`` when it holds no rules."""
    cloud = cloud_of(resource)
    return cloud_entry(cloud).load("layers").read_one(resource, context) if cloud else None


def open_voice_ingress(resource: dict, settings: Settings, context: tuple[dict, ...] = ()) -> list[str]:
    """One message per (transport, world peer) that reaches SIP or media ports; [] when none.

    ``context`` are other resources the reader may need (the stack's prefix lists)."""
    try:
        allowed = _read(resource, context)
    except (SpiritError, ValueError, TypeError, KeyError) as e:
        return [f"{resource.get('type')} {resource.get('name')}: rules could not be read ({e}); "
                "cannot show that SIP/RTP is closed to the world"]
    if allowed is None:
        return []
    sip, media = settings.voice_ports()
    # source ports do not make a rule less open to the world: compare without them
    ingress = project(allowed.select(direction="ingress"), NO_SOURCE_PORTS).allowed
    voice = sip | media
    out = []
    for transport in ("tcp", "udp"):
        for world in (ANY_IPV4, ANY_IPV6):
            want = AllowedSet([Term("ingress", transport, Peer.of([world]), ANY_PORTS, voice)])
            gap = want - ingress
            closed = PortSet.of([])
            for t in gap.terms:
                closed = closed | t.dst_ports
            open_ports = voice - closed
            if open_ports.is_empty:
                continue
            hit_sip, hit_media = open_ports & sip, open_ports & (media - sip)
            parts = []
            if not hit_sip.is_empty:
                parts.append(f"SIP ports {hit_sip}")
            if not hit_media.is_empty:
                parts.append(f"media ports {hit_media}")
            flows = sorted({t.flow for t in ingress.terms if t.flow and t.transport == transport
                            and not (t.dst_ports & open_ports).is_empty})
            label = f" (flow {', '.join(flows)})" if flows else ""
            out.append(f"ingress {transport} from {world} to {' and '.join(parts)}{label}: "
                       "SIP/RTP must only be reachable from the Spirit ranges")
    return out


def _uses_prefix_list(inputs: dict) -> bool:
    if inputs.get("prefixListId") or inputs.get("prefixListIds"):
        return True
    return any(isinstance(r, dict) and r.get("prefixListIds") for r in inputs.get("ingress") or [])


def open_voice_ingress_via_prefix_lists(resources: list[dict], settings: Settings) -> list[tuple[str, str | None]]:
    """The same check for AWS ingress that reaches the world through a prefix list.

    A resource policy sees one resource and cannot resolve a ``prefixListId``; this stack-level pass reads
    each AWS ingress rule that references a prefix list together with the stack's prefix lists, so a list
    holding 0.0.0.0/0 cannot open SIP or RTP unseen. Rules without a prefix list are the resource
    policy's; they are not reported twice.
    """
    lists = tuple(r for r in resources if r.get("type") in AWS_PREFIX_TYPES)
    if not lists:
        return []
    out: list[tuple[str, str | None]] = []
    for r in resources:
        if (r.get("type") == AWS_SG or r.get("type") in AWS_RULE_TYPES) and _uses_prefix_list(r.get("inputs") or {}):
            for m in open_voice_ingress(r, settings, lists):
                out.append((f"{r.get('name')}: {m} (through a prefix list)", r.get("urn")))
    return out
