"""The Spirit policy pack's policies as data (pure): names, kinds, default levels, config schemas.

:mod:`spirit_infra.policy.pack` builds the ``pulumi_policy`` objects from this table, and
:mod:`spirit_infra.policy.offline` builds the pack config for a stack from it. Every policy's
``enforcementLevel`` is the standard per-policy config key, so a user overrides it in the pack config
(``{"spirit-egress-not-broader": "mandatory"}`` or ``{"spirit-sg-quota": {"enforcementLevel":
"disabled"}}``). Property defaults are the "unset" values ("" / 0 / []): the stack config
(``spirit:*``) or the built-in default applies then (see :mod:`spirit_infra.policy.settings`). The
properties of declared settings (keepalive, SBC ports, quota) are derived from :mod:`spirit_infra.settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import QUOTA, SBC_MEDIA_PORTS, SBC_SIP_PORTS, SIP_KEEPALIVE

__all__ = ["PACK_NAME", "PolicySpec", "POLICIES", "PROPERTIES", "by_name"]

PACK_NAME = "spirit-infra"

PROPERTIES: dict[str, dict] = {
    "profile": {"type": "string", "enum": ["", "phones", "communicator", "sbc"], "default": "",
                "description": "The Spirit profile the stack implements; empty: the stack config's spirit:profile, "
                               "else every profile the spirit-role marks name."},
    SIP_KEEPALIVE.policy: SIP_KEEPALIVE.schema(unset=True),
    "extraSpiritCidrs": {"type": "array", "items": {"type": "string"}, "default": [],
                         "description": "Spirit ranges beyond the catalogue's (as the overrides' extra_spirit_cidrs)."},
    "ztpVendorsDrop": {"type": "array", "items": {"type": "string"}, "default": [],
                       "description": "ZTP vendor names the stack does not need (as ztp_vendors_drop)."},
    SBC_SIP_PORTS.policy: SBC_SIP_PORTS.schema(unset=True),
    SBC_MEDIA_PORTS.policy: SBC_MEDIA_PORTS.schema(unset=True),
    "mediaPorts": {"type": "string", "default": "",
                   "description": "Replaces the derived media ports (catalogue RTP client ranges + SBC media)."},
    "extraFlows": {"type": "string", "default": "",
                   "description": "The customer's extra-flow file (the catalogue's format; relative: to the project): "
                                  "its flows join the profile. Empty: the stack config's spirit:extraFlows."},
    QUOTA.policy: QUOTA.schema(),
}

_PROFILE_KEYS = ("profile", "extraSpiritCidrs", "ztpVendorsDrop", "sbcSipPorts", "sbcMediaPorts", "extraFlows")


@dataclass(frozen=True)
class PolicySpec:
    name: str
    kind: str  # resource | stack
    level: str  # mandatory | advisory
    description: str
    properties: tuple[str, ...]

    def schema(self) -> dict:
        return {k: PROPERTIES[k] for k in self.properties}


POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec("spirit-no-open-voice-ingress", "resource", "mandatory",
               "No ingress from 0.0.0.0/0 or ::/0 (Azure '*', 'Any', 'Internet') to SIP (5060-5062, the SBC's SIP "
               "ports) or media ports (RTP client ranges of the catalogue, the SBC's media range): AWS security "
               "groups and rules, Azure NSGs and security rules, GCP firewall rules and policy rules.",
               ("sbcSipPorts", "sbcMediaPorts", "mediaPorts")),
    PolicySpec("spirit-no-open-voice-ingress-via-prefix-list", "stack", "mandatory",
               "The same rule for AWS ingress that references a customer-managed prefix list: the list is resolved "
               "across the stack, so a list holding 0.0.0.0/0 or ::/0 cannot open SIP or media ports unseen.",
               ("sbcSipPorts", "sbcMediaPorts", "mediaPorts")),
    PolicySpec("spirit-egress-covers-profile", "stack", "mandatory",
               "The egress of the resources marked spirit-role sbc/vdi/phone-site covers every egress flow of the "
               "profile (violations name the missing flow ids).",
               _PROFILE_KEYS),
    PolicySpec("spirit-egress-not-broader", "stack", "advisory",
               "Egress of Spirit-marked resources to the Spirit ranges is no broader than the catalogue's flows, and egress "
               "elsewhere (IPv4, platform destinations) no broader than the profile plus the customer's extra flows.",
               _PROFILE_KEYS),
    PolicySpec("spirit-nat-voice-safe", "resource", "mandatory",
               "GCP Cloud NAT keeps voice working: UDP idle timeout longer than the SIP keepalive, "
               "endpoint-independent mapping on.",
               ("sipKeepaliveSeconds",)),
    PolicySpec("spirit-managed-nat-keepalive", "resource", "advisory",
               "AWS (350 s) and Azure (240 s) NAT gateways have a fixed UDP idle timeout: the SIP keepalive must "
               "be shorter.",
               ("sipKeepaliveSeconds",)),
    PolicySpec("spirit-sg-quota", "stack", "advisory",
               "AWS security groups stay within the rule quota, counting prefix lists at their maximum entries.",
               ("quota",)),
)


def by_name(name: str) -> PolicySpec:
    for p in POLICIES:
        if p.name == name:
            return p
    raise KeyError(name)
