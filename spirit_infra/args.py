"""What every component's Args and outputs share: closed sets as str Enums, typed overrides, one output rule.

The public components (``spirit:index:<Name>``) take plain, serialisable Args: dataclasses whose fields are
annotated for real (no ``from __future__ import annotations`` in the modules that define them), so Pulumi's
schema analyzer (``pulumi.provider.experimental.analyzer``) reads the same classes the Python API uses:

- a required field is a plain annotation (``vpc_id: pulumi.Input[str]``);
- a field with a default is ``NotRequired[...]`` (the analyzer marks it optional; ``Optional[...]`` would
  also drop the ``Input`` wrapper, making an optional input plain in the schema);
- closed sets are str Enums (:class:`ProfileName`), lists are ``list[...]``, maps ``dict[str, ...]``;
  no unions, tuples or sets.

Every Args or component change shows in ``components/schema.json`` (``make components-schema``; the
package's test compares it with what the host serves).

A component given a mapping (what the component host passes, keyed by the Python field names) builds its
Args from it (:func:`args_of`), so the package and the Python API run the same validation and render.

Outputs are declared on each component class as ``pulumi.Output[...]`` annotations and registered under
their camelCase names by :func:`register_declared` (the only place that decides the output keys).
"""

import inspect
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NotRequired, TypeVar

import netaddr

from .errors import ConfigError
from .planning import planned
from .profiles import PROFILES, Overrides, Profile, SbcPorts, parse_port_text, resolve_args_profile

if TYPE_CHECKING:  # the pure modules (nat.instance) import this one: pulumi only where a component needs it
    import pulumi

__all__ = ["ProfileName", "OverridesArgs", "profile_name", "overrides_of", "built_profile", "args_of",
           "component_options", "planned_management", "register_declared", "camel", "output_names", "require", "known", "site_map",
           "site_network"]

T = TypeVar("T")


class ProfileName(StrEnum):
    """A Spirit profile: which of the catalogue's flows a deployment carries."""

    PHONES = "phones"
    """Spirit phones (a phone site brought in through the cloud)."""
    COMMUNICATOR = "communicator"
    """Spirit Communicator on VDI desktops."""
    SBC = "sbc"
    """A hosted session border controller."""

    @classmethod
    def _missing_(cls, value: object) -> "ProfileName":
        raise ConfigError(f"unknown profile {value!r} (allowed: {', '.join(PROFILES)})", field="profile")


assert tuple(p.value for p in ProfileName) == PROFILES


def profile_name(value: Any) -> str:
    """The profile's name from a :class:`ProfileName` or its value (``"sbc"``); one line otherwise."""
    if isinstance(value, ProfileName):
        return value.value
    if not isinstance(value, str):
        raise ConfigError(f"expected a profile name ({', '.join(PROFILES)}), not a {type(value).__name__}",
                          field="profile")
    return ProfileName(value).value


@dataclass(frozen=True)
class OverridesArgs:
    """Customer overrides as plain values (validated exactly like an override file)."""

    extra_spirit_cidrs: NotRequired[list[str]] = field(default_factory=list)
    """Spirit ranges beyond the catalogue's (CIDRs, no host bits, never 0.0.0.0/0)."""
    ztp_vendors_drop: NotRequired[list[str]] = field(default_factory=list)
    """ZTP vendor names (DNS names of the ZTP row) the customer does not use."""
    sbc_sip_ports: NotRequired[str] = ""
    """SBC only: the SBC's SIP listening ports, e.g. '5060-5061' (default 5060-5061)."""
    sbc_media_ports: NotRequired[str] = ""
    """SBC only: the SBC's media ports, e.g. '16384-32767' (default 16384-32767)."""
    catalogue: str | None = None
    """A catalogue file of your own instead of the built-in one (a path where the program runs)."""

    def to_overrides(self) -> Overrides:
        """The validated :class:`~spirit_infra.profiles.Overrides` (one-line ConfigError naming the field)."""
        sbc = {}
        for key, text in (("sip", self.sbc_sip_ports), ("media", self.sbc_media_ports)):
            if text:
                try:
                    sbc[key] = parse_port_text(text)
                except ValueError as e:
                    raise ConfigError(str(e), field=f"overrides.sbc_{key}_ports") from None
        for key in ("extra_spirit_cidrs", "ztp_vendors_drop"):
            v = getattr(self, key)
            if isinstance(v, str | bytes) or not isinstance(v, list | tuple):
                raise ConfigError(f"expected a list of strings, got {type(v).__name__} {v!r}", field=f"overrides.{key}")
        return Overrides(tuple(self.extra_spirit_cidrs), tuple(self.ztp_vendors_drop), SbcPorts(**sbc),
                         self.catalogue, source="overrides")


def overrides_of(value: Any) -> Overrides | None:
    """An Args' ``overrides``: an :class:`OverridesArgs` (or its mapping, from the component host) is
    validated; an :class:`~spirit_infra.profiles.Overrides` built by the caller (a stack's, with its file
    and lines) is taken as it is."""
    if value is None or isinstance(value, Overrides):
        return value
    if isinstance(value, Mapping):
        value = args_of(OverridesArgs, value, "overrides")
    if not isinstance(value, OverridesArgs):
        raise ConfigError(f"expected OverridesArgs, got {type(value).__name__} {value!r}", field="overrides")
    return value.to_overrides()


def built_profile(args: Any) -> Profile:
    """An Args' profile (its ``profile``, ``overrides`` and ``extra_flows`` fields), built once and cached on
    the Args (plan first: the Args' constructor calls this, so a bad value fails before anything registers)."""
    return planned(args, "profile", lambda: resolve_args_profile(profile_name(args.profile),
                                                                 overrides_of(args.overrides), args.extra_flows))


def planned_management(args: Any, specs_of: Any) -> tuple[tuple[str, ...], Any]:
    """A management Args' (checked CIDRs, what to register), once (``management_cidrs`` checked: one line)."""
    from .management import check_cidrs

    def render() -> tuple[tuple[str, ...], Any]:
        cidrs = check_cidrs(args.management_cidrs)
        return cidrs, specs_of(cidrs)
    return planned(args, "mgmt", render)


def component_options(opts: "pulumi.ResourceOptions | None", old: str) -> "pulumi.ResourceOptions":
    """The caller's options plus the alias of a renamed component's old type token (``spirit:index:<old>``),
    so a stack deployed under the old name keeps its resources (the engine aliases the children too)."""
    import pulumi

    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=f"spirit:index:{old}")]))


def args_of(cls: type[T], value: Any, what: str = "args") -> T:
    """``value`` as a ``cls`` Args: an instance as it is, a mapping (keyed by field names) built into one."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected {cls.__name__} or a mapping, got {type(value).__name__}", field=what)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(value) - names)
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r} of {cls.__name__}", field=what)
    missing = sorted(f.name for f in fields(cls) if f.name not in value  # type: ignore[arg-type]
                     and f.default is MISSING and f.default_factory is MISSING)
    if missing:
        raise ConfigError("is required", field=missing[0])
    return cls(**value)


def site_map(sites: Any) -> dict[str, str]:
    """Sites as the Args hold them: site name -> CIDR (a sequence of (name, CIDR) pairs is taken too)."""
    if isinstance(sites, Mapping):
        return dict(sites)
    try:
        pairs = [(name, cidr) for name, cidr in sites]
    except (TypeError, ValueError):
        raise ConfigError(f"expected a mapping of site name to CIDR, got {sites!r}"[:200], field="sites") from None
    if len({name for name, _ in pairs}) != len(pairs):
        raise ConfigError("two sites have the same name", field="sites")
    return dict(pairs)


def site_network(cidr: Any, sites: Mapping[str, str], field: str = "cidr") -> netaddr.IPNetwork:
    """The network's CIDR (``field``), every site inside it: one ConfigError line naming the field otherwise."""
    try:
        net = netaddr.IPNetwork(cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise ConfigError(f"{cidr!r} is not a CIDR", field=field) from None
    for site, c in sites.items():
        if netaddr.IPNetwork(c) not in net:
            raise ConfigError(f"site {site!r} {c} is outside {net}", field="sites")
    return net


def require(value: Any, field: str) -> None:
    """A required input that is absent or blank: one line naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError("is required", field=field)


_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``security_group_ids`` -> ``securityGroupIds`` (the schema's and the registered outputs' keys)."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def output_names(component: type) -> list[str]:
    """The outputs a component class declares (its public ``pulumi.Output[...]`` annotations), in order."""
    names: list[str] = []
    for cls in reversed(component.__mro__):
        if cls.__module__.startswith("pulumi.") or cls is object:
            continue
        names += [k for k in inspect.get_annotations(cls) if not k.startswith("_") and k not in names]
    return names


def register_declared(component: "pulumi.ComponentResource") -> None:
    """``register_outputs`` with every declared output under its camelCase name (None stays absent)."""
    component.register_outputs({camel(k): getattr(component, k) for k in output_names(type(component))
                                if getattr(component, k, None) is not None})


def known(value: Any) -> "pulumi.Output":
    """A plain value as the Output a declared output holds."""
    import pulumi

    return pulumi.Output.from_input(value)
