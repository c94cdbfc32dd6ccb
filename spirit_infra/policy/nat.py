"""NAT settings that break voice (pure, one resource at a time).

``spirit-nat-voice-safe`` (mandatory), GCP Cloud NAT (``gcp:compute/routerNat:RouterNat``):

- ``udpIdleTimeoutSec`` (unset: GCP's default 30 s) must be longer than the SIP keepalive: a mapping
  that expires at or before the next keepalive drops inbound calls;
- ``enableEndpointIndependentMapping`` must be true (unset is refused too: its default differs between
  sources, so a voice NAT states it): endpoint-dependent mapping gives RTP a new public port per peer.

``spirit-managed-nat-keepalive`` (advisory): NATs whose UDP timeout is fixed, where the keepalive is not
shorter than it: AWS NAT gateway (350 s) and Azure NAT gateway (240 s UDP). The only fix is a shorter
keepalive (or the QoS NAT instance), hence advisory.
"""

from __future__ import annotations

from .settings import Settings

__all__ = ["nat_voice_safe", "managed_nat_keepalive", "GCP_ROUTER_NAT", "AWS_NAT_GATEWAY", "AZURE_NAT_GATEWAY",
           "GCP_UDP_DEFAULT", "FIXED_UDP_TIMEOUTS"]

GCP_ROUTER_NAT = "gcp:compute/routerNat:RouterNat"
AWS_NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
AZURE_NAT_GATEWAY = "azure-native:network:NatGateway"
GCP_UDP_DEFAULT = 30
FIXED_UDP_TIMEOUTS = {AWS_NAT_GATEWAY: ("AWS NAT gateway", 350), AZURE_NAT_GATEWAY: ("Azure NAT gateway", 240)}


def nat_voice_safe(resource: dict, settings: Settings) -> list[str]:
    if resource.get("type") != GCP_ROUTER_NAT:
        return []
    inputs = resource.get("inputs") or {}
    keepalive = settings.sip_keepalive_seconds
    out = []
    raw = inputs.get("udpIdleTimeoutSec")
    try:
        timeout = int(raw) if raw is not None else GCP_UDP_DEFAULT
    except (TypeError, ValueError):
        timeout = GCP_UDP_DEFAULT
    if timeout <= keepalive:
        src = f"udpIdleTimeoutSec {timeout}" if raw is not None else f"udpIdleTimeoutSec unset (GCP default {timeout})"
        out.append(f"{src} s is not longer than the SIP keepalive ({keepalive} s): the UDP mapping expires "
                   f"between keepalives and inbound calls stop; set it above {keepalive} (300 recommended, RFC 4787)")
    eim = inputs.get("enableEndpointIndependentMapping")
    if eim is not True:
        state = "off" if eim is False else "unset"
        out.append(f"enableEndpointIndependentMapping is {state}: endpoint-dependent mapping gives RTP a different "
                   "public port per remote address (one-way audio); set it to true")
    return out


def managed_nat_keepalive(resource: dict, settings: Settings) -> list[str]:
    what = FIXED_UDP_TIMEOUTS.get(resource.get("type"))
    if what is None:
        return []
    name, fixed = what
    keepalive = settings.sip_keepalive_seconds
    if keepalive < fixed:
        return []
    return [f"the SIP keepalive ({keepalive} s) is not shorter than the {name}'s fixed UDP idle timeout ({fixed} s): "
            f"mappings expire between keepalives; keep the keepalive below {fixed} s or use the QoS NAT instance"]
