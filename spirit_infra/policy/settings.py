"""What the policies need to know about the stack: profile, keepalive, extra Spirit ranges, ports, quota.

Each value comes from the policy's config (``Configure``) when set there, else from the stack config the
CLI hands the pack (``PULUMI_CONFIG``: ``spirit:profile``, ``spirit:sipKeepaliveSeconds``,
``spirit:overrides``, ``spirit:sbcSipPorts``, ``spirit:sbcMediaPorts``), else from the defaults below. So a
spirit-infra stack needs no policy config at all, and a foreign stack sets ``profile`` in the pack config.

**Voice ports** (what ``spirit-no-open-voice-ingress`` protects), documented here once:

- SIP: the catalogue's SIP server ports (``phone-sip``: 5060-5062) plus the SBC's SIP ports (config);
- media: the catalogue's RTP client port ranges (the rows with DSCP EF or AF41: phones' audio/video
  1024-65535, Communicator's 8500-8598 and 8600-8698) plus the SBC's media range (config, 16384-32767).
  Because the phones' RTP range is 1024-65535, any unprivileged port open to the world is a voice port.
  ``mediaPorts`` in the policy config replaces the derived media set (e.g. ``"16384-32767"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ..errors import ConfigError
from ..flows import PortSet
from ..profiles import (
    PROFILES,
    Overrides,
    Profile,
    SbcPorts,
    build_profile,
    parse_port_text,
    with_extra_flows,
)
from ..settings import QUOTA, SBC_MEDIA_PORTS, SBC_SIP_PORTS, SIP_KEEPALIVE, Setting, check_fields
from ..values import is_number

__all__ = ["Settings", "settings_from", "parse_ports", "MEDIA_DSCP"]

#: catalogue rows whose client ports are RTP (audio EF, video AF41)
MEDIA_DSCP = ("EF", "AF41")


def parse_ports(text: str, field: str) -> tuple[tuple[int, int], ...]:
    """``"5060-5061"`` or ``"5060,5061,16384-32767"`` -> ranges; ConfigError naming ``field``."""
    try:
        return parse_port_text(text)
    except ValueError as e:
        raise ConfigError(str(e), field=field) from None


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one policy evaluation (hashable: profiles are cached per settings)."""

    #: phones | communicator | sbc; "" = take the profile from each resource's spirit-role mark
    profile: str = ""
    sip_keepalive_seconds: int = SIP_KEEPALIVE.field()
    extra_spirit_cidrs: tuple[str, ...] = ()
    ztp_vendors_drop: tuple[str, ...] = ()
    sbc_sip_ports: str = SBC_SIP_PORTS.field()
    sbc_media_ports: str = SBC_MEDIA_PORTS.field()
    #: "" = derived from the catalogue and the SBC media range (see the module docstring)
    media_ports: str = ""
    quota: int = QUOTA.field()
    #: the customer's extra-flow file (relative: to the project); "" = none
    extra_flows: str = ""

    def __post_init__(self) -> None:
        if self.profile and self.profile not in PROFILES:
            raise ConfigError(f"unknown profile {self.profile!r} (allowed: {', '.join(PROFILES)})", field="profile")
        check_fields(self)

    def overrides(self) -> Overrides:
        ov = Overrides(tuple(self.extra_spirit_cidrs), tuple(self.ztp_vendors_drop),
                       SbcPorts(parse_ports(self.sbc_sip_ports, "sbcSipPorts"),
                                parse_ports(self.sbc_media_ports, "sbcMediaPorts")))
        return with_extra_flows(ov, _extra_path(self.extra_flows)) if self.extra_flows else ov

    def profile_for(self, name: str) -> Profile:
        return _profile(name, self.extra_spirit_cidrs, self.ztp_vendors_drop, self.sbc_sip_ports,
                        self.sbc_media_ports, self.extra_flows)

    def voice_ports(self) -> tuple[PortSet, PortSet]:
        """(SIP ports, media ports) that must never be open to the world."""
        return _voice_ports(self)


def _extra_path(name: str) -> str:
    """A relative extra-flow file is relative to the project (the pack runs in a directory below it)."""
    from pathlib import Path

    from ..preview import find_project

    p = Path(name)
    return str(p if p.is_absolute() or p.is_file() else find_project() / p)


@lru_cache(maxsize=64)
def _profile(name: str, extra: tuple[str, ...], drop: tuple[str, ...], sip: str, media: str,
             extra_flows: str = "") -> Profile:
    s = Settings(extra_spirit_cidrs=extra, ztp_vendors_drop=drop, sbc_sip_ports=sip, sbc_media_ports=media,
                 extra_flows=extra_flows)
    return build_profile(name, s.overrides())


@lru_cache(maxsize=64)
def _voice_ports(s: Settings) -> tuple[PortSet, PortSet]:
    cat = build_profile("phones", Overrides()).catalogue
    sip = PortSet.of(parse_ports(s.sbc_sip_ports, "sbcSipPorts"))
    media = PortSet.of(parse_ports(s.sbc_media_ports, "sbcMediaPorts"))
    for f in cat.flows:
        if f.id == "phone-sip" or "SIP" in [p.upper() for p in getattr(f, "protocols", ())]:
            sip = sip | PortSet.of(f.server_ports)
        if f.dscp in MEDIA_DSCP and f.client_ports is not None:
            media = media | PortSet.of(f.client_ports)
    if s.media_ports:
        media = PortSet.of(parse_ports(s.media_ports, "mediaPorts"))
    return sip, media


def _stack_value(stack_config: dict[str, Any], key: str) -> Any:
    v = stack_config.get(f"spirit:{key}")
    if isinstance(v, str) and key == "overrides":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


#: the declared settings the policies read (stack key and policy property from spirit_infra.settings)
DECLARED = (SIP_KEEPALIVE, SBC_SIP_PORTS, SBC_MEDIA_PORTS, QUOTA)


def _declared(setting: Setting, value: Any, field: str) -> Any:
    """A stack's or a policy config's value of a declared setting, validated by its declaration. Floats (the
    wire's only number type) and Pulumi's string form are accepted where integers are meant."""
    if setting.type is int:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if is_number(value) and int(value) == value:
            value = int(value)
    elif setting.type is str:
        value = str(value)
    return setting.check(value, field)


#: the other values: attribute, where a stack config has it (spirit:<key>, or overrides.<key>), policy property
_PLAIN = (("profile", "profile", "profile"), ("extra_spirit_cidrs", "overrides.extra_spirit_cidrs", "extraSpiritCidrs"),
          ("ztp_vendors_drop", "overrides.ztp_vendors_drop", "ztpVendorsDrop"), ("extra_flows", "extraFlows", "extraFlows"),
          ("media_ports", None, "mediaPorts"))


def settings_from(props: dict[str, Any] | None, stack_config: dict[str, Any] | None = None) -> Settings:
    """Policy config properties over stack config (``spirit:*``) over defaults. An unset value (the schema's
    defaults "", 0, []) is taken from the layer below."""
    props = dict(props or {})
    stack = dict(stack_config or {})
    ov = _stack_value(stack, "overrides")
    ov = ov if isinstance(ov, dict) else {}
    layers = (  # (value of a stack key or property, the field an error names), lowest first
        lambda key: (ov.get(key[10:]) if key.startswith("overrides.") else stack.get(f"spirit:{key}"), f"spirit:{key}"),
        lambda key: (props.get(key), key),
    )
    changes: dict[str, Any] = {}
    for i, layer in enumerate(layers):
        for attr, stack_key, prop in _PLAIN:
            key = stack_key if i == 0 else prop
            value = layer(key)[0] if key else None
            if value:
                lists = isinstance(getattr(Settings, attr, ()), tuple)
                changes[attr] = tuple(str(c) for c in value) if lists else str(value)
        for s in DECLARED:
            key = s.stack if i == 0 else s.policy
            value, where = layer(key) if key else (None, "")
            if value not in ((None, "") if i == 0 else (None, "", 0)):  # a policy property's 0 is "unset"
                changes[s.name] = _declared(s, value, where)
    return replace(Settings(), **changes)
