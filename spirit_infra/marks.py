"""The marking convention the components set and the policy pack reads.

A resource that belongs to a Spirit deployment carries ``spirit-role`` (sbc | vdi | phone-site) and,
on rule-level resources, ``spirit-flow`` (the flow id(s) it implements, comma-separated). Users can set
the same marks by hand on resources spirit-infra did not build.

- AWS and Azure: tags ``{"spirit-role": ..., "spirit-profile": ..., "spirit-flow": ...}``.
- GCP: labels where the resource has them (instances, addresses); firewall rules and policy rules have
  none, so their ``description`` carries ``spirit-role=<role> spirit-flow=<ids>``.
"""

from __future__ import annotations

import re

__all__ = ["ROLE_KEY", "PROFILE_KEY", "FLOW_KEY", "PREFIX_LIST_KEY", "ROLE_FOR_PROFILE", "PROFILE_FOR_ROLE", "tags",
           "description", "parse_description"]

ROLE_KEY = "spirit-role"
PROFILE_KEY = "spirit-profile"
FLOW_KEY = "spirit-flow"
#: on an AWS rule that references an AWS-managed prefix list: its name (the id alone does not say it)
PREFIX_LIST_KEY = "spirit-prefix-list"
ROLE_FOR_PROFILE = {"sbc": "sbc", "communicator": "vdi", "phones": "phone-site"}
PROFILE_FOR_ROLE = {v: k for k, v in ROLE_FOR_PROFILE.items()}

_DESC = re.compile(r"(spirit-role|spirit-flow|spirit-profile)=([A-Za-z0-9,._-]+)")


def tags(profile: str, flows: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    out = {ROLE_KEY: ROLE_FOR_PROFILE[profile], PROFILE_KEY: profile}
    if flows:
        out[FLOW_KEY] = ",".join(sorted(set(flows)))
    return out


def description(profile: str, flows: tuple[str, ...] | list[str] = (), text: str = "") -> str:
    parts = [f"{ROLE_KEY}={ROLE_FOR_PROFILE[profile]}", f"{PROFILE_KEY}={profile}"]
    if flows:
        parts.append(f"{FLOW_KEY}={','.join(sorted(set(flows)))}")
    return (text + " " if text else "") + " ".join(parts)


def parse_description(text: str | None) -> dict[str, str]:
    """The marks in a GCP description (or any free text)."""
    return {k: v for k, v in _DESC.findall(text or "")}
