"""What every cloud's QoS NAT component shares (pure): validated common Args and the instance's user data."""

import base64
import gzip
import json
from dataclasses import dataclass
from typing import NotRequired

from ..args import OverridesArgs, overrides_of
from ..errors import ConfigError, QuotaError
from ..planning import planned
from ..profiles import PROFILES, Overrides, Profile, build_profile, with_extra_flows
from ..settings import SIP_KEEPALIVE, STRICT, UDP_TIMEOUT
from .cloudinit import encoded_payload, render_boot_cloud_init, render_cloud_init
from .ruleset import NatOptions

__all__ = ["LivePlan", "NatInstanceSpec", "QosNatSettings", "nat_instance_spec", "gzip_base64", "check_size"]


def gzip_base64(text: str) -> str:
    """Deterministic gzip (mtime 0) + base64 of ``text``: cloud-init decompresses gzip user data itself."""
    return base64.b64encode(gzip.compress(text.encode(), compresslevel=9, mtime=0)).decode()


def check_size(data: bytes | str, limit: int, what: str) -> None:
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limit:
        raise QuotaError(f"{what} is {size} bytes, over the {limit}-byte limit (too many extra CIDRs?)")


@dataclass(frozen=True)
class NatInstanceSpec:
    """``user_data``: the stand-alone cloud-init (ruleset inside); ``payload``: what a live channel holds."""

    profile: Profile
    options: NatOptions
    user_data: str
    payload: str = ""

    def boot_user_data(self, channel: dict) -> str:
        """The boot cloud-init of an instance whose ruleset arrives through ``channel``: no catalogue input."""
        return render_boot_cloud_init(channel, refuse_sip_helper=self.options.refuse_sip_helper)


@dataclass(frozen=True)
class LivePlan:
    """A cloud NAT instance's plan: ``boot`` is its boot user data as the cloud takes it (constant across
    catalogue edits), ``payload`` what its live channel holds (:func:`~.cloudinit.encoded_payload`)."""

    spec: NatInstanceSpec
    boot: str
    payload: str


def nat_instance_spec(profile: str, *, interface: str, overrides: Overrides | None = None,
                      snat_address: str | None = None, strict: bool = STRICT.default,
                      sip_keepalive_seconds: int = SIP_KEEPALIVE.default, udp_timeout: int | None = None,
                      refuse_sip_helper: bool = True) -> NatInstanceSpec:
    """Profile, options and cloud-init of a one-armed cloud NAT instance (one NIC: LAN = WAN = ``interface``)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r} (allowed: {', '.join(PROFILES)})", field="profile")
    prof = build_profile(profile, overrides)
    opts = NatOptions(lan_if=interface, wan_if=interface, snat_address=snat_address, strict=strict,
                      sip_keepalive_seconds=sip_keepalive_seconds, udp_timeout=udp_timeout,
                      refuse_sip_helper=refuse_sip_helper)
    return NatInstanceSpec(prof, opts, render_cloud_init(prof, opts), encoded_payload(prof, opts))


@dataclass(kw_only=True)
class QosNatSettings:
    """What every cloud's QoS NAT instance Args share: which flows it forwards and how (keyword-only)."""

    overrides: NotRequired[OverridesArgs] = None
    """Customer overrides for the profile (extra Spirit CIDRs, ZTP vendors dropped, SBC ports)."""
    extra_flows: str | None = None
    """The customer's extra-flow file (the catalogue's format), merged into the profile."""
    snat_address: str | None = None
    """SNAT to this address instead of masquerading."""
    strict: STRICT.arg = STRICT.field()
    sip_keepalive_seconds: SIP_KEEPALIVE.arg = SIP_KEEPALIVE.field()
    udp_timeout: UDP_TIMEOUT.arg = UDP_TIMEOUT.field()

    def plan_live(self, profile: str, interface: str, channel: dict, *, gzipped: bool, boot_limit: int,
                  boot_what: str, payload_limit: int, payload_what: str) -> LivePlan:
        """What the cloud receives, size-checked before anything is registered (cached: plan first).

        ``channel`` is the agent's config (it names where the payload lives); the boot user data is a
        function of it alone, never of the catalogue."""
        def render() -> LivePlan:
            spec = self.instance_spec(profile, interface)
            check_size(spec.payload, payload_limit, payload_what)
            text = spec.boot_user_data(channel)
            boot = gzip_base64(text) if gzipped else text
            check_size(base64.b64decode(boot) if gzipped else boot, boot_limit, boot_what)
            return LivePlan(spec, boot, spec.payload)
        return planned(self, ("live", profile, interface, json.dumps(channel, sort_keys=True)), render)

    def instance_spec(self, profile: str, interface: str) -> NatInstanceSpec:
        """Profile, options and cloud-init of this instance (validated: ConfigError)."""
        return nat_instance_spec(profile, interface=interface, overrides=with_extra_flows(overrides_of(self.overrides),
                                                                                          self.extra_flows),
                                 snat_address=self.snat_address, strict=self.strict,
                                 sip_keepalive_seconds=self.sip_keepalive_seconds, udp_timeout=self.udp_timeout)
