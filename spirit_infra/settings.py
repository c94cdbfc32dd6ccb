"""Every setting declared once: its type, default, range and doc (pure; pydantic validates the values).

A :class:`Setting` is the one declaration of a knob that several entry points share. Everything else is
derived from it, so changing a default or a range here moves all of them:

- **component Args** and the pure **Options** of the renders: ``quota: QUOTA.arg = QUOTA.field()`` (the
  annotation Pulumi's component analyzer reads, the dataclass default, and the schema description, which
  :mod:`spirit_infra.package` takes from the declaration); :func:`check_fields` validates every such field of
  a dataclass instance (one line naming the field and the value);
- **stack config** keys (:mod:`spirit_infra.stackconfig`: ``spirit:<stack>``): type, default, range, doc;
- **CLI flags** (:func:`spirit_infra.cli.args.add_flag`): argparse options with the declaration's default,
  type and help;
- **policy-pack properties** (:mod:`spirit_infra.policy.spec`): the JSON schema of ``Configure``.

Validation is pydantic's (strict: ``true`` is no integer, ``"30"`` no number; a stack's string form is
decoded by the stack-config reader first); its errors become one :class:`~spirit_infra.errors.ConfigError`
line: ``<field>: <value> is out of range (5-3600 seconds)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, TypeAdapter, ValidationError

from .errors import ConfigError

__all__ = ["Setting", "SETTINGS", "check_fields", "setting_of", "options_of",
           "STRICT", "SIP_KEEPALIVE", "EXPECTED_CALLS", "QUOTA", "GROUPS_PER_INTERFACE", "PREFIX_LIST",
           "PREFIX_LIST_MAX_ENTRIES", "DNS_FIREWALL", "DNS_BLOCK_OTHERS", "UDP_TIMEOUT", "FQDN_REFRESH",
           "NSG_PRIORITY_START", "NSG_PRIORITY_WIDTH", "FW_GROUP_PRIORITY", "FW_PRIORITY_START",
           "FW_PRIORITY_WIDTH", "VPC_PRIORITY_BASE", "POLICY_PRIORITY_BASE", "GCP_MAX_RANGES", "GCP_PRIORITY_SLOTS", "GCP_SLOT_WIDTH",
           "GCP_MAX_FQDNS", "VPC_DENY_PRIORITY", "POLICY_DENY_PRIORITY", "ENABLE_LOGGING", "UDP_IDLE_TIMEOUT",
           "TCP_ESTABLISHED_IDLE_TIMEOUT", "ENDPOINT_INDEPENDENT_MAPPING", "DYNAMIC_PORT_ALLOCATION",
           "PORTS_PER_CALL", "HEADROOM", "MIN_PORTS_PER_VM", "MAX_PORTS_PER_VM", "NAT_IP_COUNT", "NAT_LOGGING", "TCP_IDLE_TIMEOUT_MINUTES",
           "PUBLIC_IP_COUNT", "PUBLIC_IP_PREFIX_LENGTH", "NAME_PREFIX", "SBC_SIP_PORTS", "SBC_MEDIA_PORTS", "MANAGEMENT_TAG"]

_KIND = {int: "an integer", bool: "true or false", str: "a string", float: "a number"}
_SCHEMA_TYPE = {int: "integer", bool: "boolean", str: "string", float: "number"}


@dataclass(frozen=True)
class Setting:
    """One setting: what it is, its default and range, and where it appears.

    ``name`` is its Python field name (Args, Options); ``stack`` its ``spirit:<key>`` (None: not a stack key);
    ``flag`` its CLI option (None: no flag); ``policy`` its policy-pack property (None: none).
    ``optional``: ``None`` is a value too ("derive it"); ``choices``: a closed set of strings.
    """

    name: str
    type: type
    default: Any
    doc: str
    ge: int | None = None
    le: int | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False
    stack: str | None = None
    flag: str | None = None
    policy: str | None = None

    # ---- derived views ------------------------------------------------------------------------------

    @property
    def arg(self) -> Any:
        """The annotation of an Args field (what Pulumi's analyzer reads): optional in the schema."""
        return self.type | None if self.optional else NotRequired[self.type]

    def field(self, default: Any = dataclasses.MISSING) -> Any:
        """The dataclass field: this setting's default (or ``default``, for a use that differs, e.g. the
        CLI renders with a firewall that a lone component does not have), carrying the declaration."""
        value = self.default if default is dataclasses.MISSING else default
        meta = {"setting": self}
        if isinstance(value, list | dict):
            return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta)
        return dataclasses.field(default=value, metadata=meta)

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.ge is not None and self.le is not None:
            return f"{self.ge}-{self.le}{unit}"
        if self.ge is not None:
            return f"at least {self.ge}{unit}"
        return f"at most {self.le}{unit}" if self.le is not None else ""

    @cached_property
    def _adapter(self) -> TypeAdapter:
        t: Any = Literal[self.choices] if self.choices else Annotated[self.type, Field(strict=True, ge=self.ge,
                                                                                          le=self.le)]
        return TypeAdapter(t | None if self.optional else t)

    def check(self, value: Any, field: str | None = None) -> Any:
        """``value`` validated (pydantic, strict); one ConfigError line naming ``field`` (default: the name)."""
        try:
            return self._adapter.validate_python(value)
        except ValidationError as e:
            raise ConfigError(self._what(value, e.errors()[0]), field=field or self.name) from None

    def _what(self, value: Any, err: dict) -> str:
        kind = err.get("type", "")
        if kind in ("greater_than_equal", "less_than_equal"):
            return f"{value!r} is out of range ({self.range_text})"
        if kind == "literal_error":
            return f"{value!r} is not one of: {', '.join(self.choices)}"
        want = _KIND.get(self.type, self.type.__name__)
        return f"expected {want}, got {type(value).__name__} {value!r}"

    def schema(self, *, unset: bool = False) -> dict:
        """A JSON schema of the value (the policy pack's property). ``unset``: the default is the "unset"
        value (0 / "") and the description says what applies then."""
        out: dict[str, Any] = {"type": _SCHEMA_TYPE[self.type]}
        if self.choices:
            out["enum"] = ([""] if unset else []) + list(self.choices)
        if self.ge is not None:
            out["minimum"] = 0 if unset and self.type is int else self.ge
        if self.le is not None:
            out["maximum"] = self.le
        out["default"] = {int: 0, str: ""}.get(self.type, self.default) if unset else self.default
        out["description"] = self.doc + (f" {'0' if self.type is int else 'Empty'}: the stack config's "
                                         f"spirit:{self.stack}, else {self.default}." if unset else "")
        return out


def setting_of(f: dataclasses.Field) -> Setting | None:
    """The declaration a dataclass field was made from (None: a field of its own)."""
    return f.metadata.get("setting")


def check_fields(obj: Any, skip: tuple[str, ...] = ()) -> None:
    """Validate every declared field of a dataclass instance (its own value: one line naming the field)."""
    for f in dataclasses.fields(obj):
        s = setting_of(f)
        if s is not None and f.name not in skip:
            s.check(getattr(obj, f.name), f.name)


def options_of(cls: type, source: Any, **extra: Any) -> Any:
    """A pure render's Options ``cls`` from an Args ``source`` (or parsed CLI flags): every field of ``cls``
    that ``source`` has (same name, so the same declaration), plus ``extra`` (what the caller derives, e.g.
    a physical name)."""
    names = {f.name for f in dataclasses.fields(source)} if dataclasses.is_dataclass(source) else set(vars(source))
    given = {f.name: getattr(source, f.name) for f in dataclasses.fields(cls) if f.name in names and f.init}
    return cls(**{**given, **extra})


# ---- the declarations ----------------------------------------------------------------------------------

STRICT = Setting("strict", bool, True, "Strict mode: no allow-all egress; only the profile's flows leave (rule "
                 "layers end with a deny, firewalls drop by default, the QoS NAT forwards nothing else). false: "
                 "egress is open, and the warnings say so.", stack="strict", flag="--no-strict")
SIP_KEEPALIVE = Setting(
    "sip_keepalive_seconds", int, 30, "The SIP keepalive interval (seconds) of the phones/SBC/softphones; "
    "every NAT mapping must outlive it.", ge=5, le=3600, unit="seconds",
    stack="sipKeepaliveSeconds", flag="--sip-keepalive", policy="sipKeepaliveSeconds")
EXPECTED_CALLS = Setting("expected_calls", int, 100, "Concurrent calls per VM, used to size NAT ports.",
                         ge=1, le=100000, stack="expectedCalls", flag="--expected-calls")
QUOTA = Setting("quota", int, 60, "Rules per group, per direction and address family (AWS default 60).",
                ge=1, le=1000, flag="--quota", policy="quota")
GROUPS_PER_INTERFACE = Setting("groups_per_interface", int, 5, "At most this many groups (AWS default 5, up to "
                               "16).", ge=1, le=16, flag="--groups-per-interface")
PREFIX_LIST = Setting("prefix_list", bool, True, "Reference a customer-managed prefix list for the Spirit ranges "
                      "where it fits (default true).", flag="--no-prefix-list")
PREFIX_LIST_MAX_ENTRIES = Setting("prefix_list_max_entries", int, None, "The prefix list's size (default "
                                  "max(10, 2 x ranges)).", ge=1, le=1000, optional=True)
DNS_FIREWALL = Setting("dns_firewall", bool, False, "Add a Route 53 Resolver DNS Firewall allow list of the "
                       "profile's DNS names.", flag="--dns-firewall")
DNS_BLOCK_OTHERS = Setting("dns_block_others", bool, False, "The DNS Firewall also blocks every other name "
                           "(off by default: it also blocks the names of everything else in the VPC).")
UDP_TIMEOUT = Setting("udp_timeout", int, None, "Conntrack UDP timeout, seconds (default max(300, 2 x "
                      "keepalive)); must outlive the SIP keepalive.", ge=1, le=86400, unit="seconds",
                      optional=True, flag="--udp-timeout")
FQDN_REFRESH = Setting("fqdn_refresh_seconds", int, 300, "How often the resolver refreshes the FQDN sets, "
                       "seconds (elements live 3 x this).", ge=10, le=86400, unit="seconds", flag="--fqdn-refresh")
NAME_PREFIX = Setting("name_prefix", str, "spirit", "First part of every name.", flag="--name-prefix")

# Azure NSG and firewall policy priorities (the bands' own checks: azure.priorities.Band)
NSG_PRIORITY_START = Setting("priority_start", int, 1000, "First priority of the reserved band (100-4096).",
                             flag="--priority-start")
NSG_PRIORITY_WIDTH = Setting("priority_width", int, 2000, "Width of the band; its last priority holds the "
                             "strict deny (default band 1000-2999).", flag="--priority-width")
FW_GROUP_PRIORITY = Setting("group_priority", int, 1000, "Priority of the rule collection group (100-65000).",
                            ge=100, le=65000)
FW_PRIORITY_START = Setting("priority_start", int, 10000, "First priority of the rule collections' band.")
FW_PRIORITY_WIDTH = Setting("priority_width", int, 10000, "Width of the rule collections' band.")

# GCP VPC firewall rules and network firewall policies
VPC_PRIORITY_BASE = Setting("priority_base", int, 1000, "Priority of the allow rules (0-65535, lower wins).",
                            ge=0, le=65535, flag="--priority-base")
POLICY_PRIORITY_BASE = Setting("priority_base", int, 1000, "First priority of the band.", ge=0,
                               le=2147483547)
VPC_DENY_PRIORITY = Setting("deny_priority", int, 65534, "Priority of the strict deny-all egress rules.",
                            ge=0, le=65535)
POLICY_DENY_PRIORITY = Setting("deny_priority", int, 2000000000, "Priority of the strict deny-all egress rules "
                               "(after the band).", ge=1, le=2147483547)
GCP_MAX_RANGES = Setting("max_ranges", int, 5000, "Source/destination ranges allowed per rule (a quota).",
                         ge=1, flag="--max-ranges")
GCP_PRIORITY_SLOTS = Setting("priority_slots", int, 10000, "Slots in the policy's band (each flow owns one, by a "
                             "hash of its id; changing it renumbers every policy rule).", ge=1,
                             flag="--priority-slots")
GCP_SLOT_WIDTH = Setting("slot_width", int, 10, "Priorities per slot.", ge=1)
GCP_MAX_FQDNS = Setting("max_fqdns", int, 100, "DNS names per rule (a quota).", ge=1)
ENABLE_LOGGING = Setting("enable_logging", bool, False, "Firewall rule logging.")

# GCP Cloud NAT
UDP_IDLE_TIMEOUT = Setting("udp_idle_timeout_sec", int, None, "UDP idle timeout (default max(2 x keepalive, "
                           "300)).", ge=1, le=86400, optional=True, flag="--udp-idle-timeout")
TCP_ESTABLISHED_IDLE_TIMEOUT = Setting("tcp_established_idle_timeout_sec", int, None, "TCP established idle "
                                       "timeout (default max(1200, 2 x keepalive)).", ge=1, le=86400,
                                       optional=True, flag="--tcp-established-idle-timeout")
ENDPOINT_INDEPENDENT_MAPPING = Setting("endpoint_independent_mapping", bool, True, "Endpoint-independent mapping "
                                       "(default true; GCP rejects it with dynamic port allocation).",
                                       flag="--endpoint-independent-mapping")
DYNAMIC_PORT_ALLOCATION = Setting("dynamic_port_allocation", bool, False, "Dynamic port allocation (GCP rejects "
                                  "it with endpoint-independent mapping).", flag="--dynamic-port-allocation")
PORTS_PER_CALL = Setting("ports_per_call", int, 4, "Ports per call (RTP+RTCP audio and video = 4).", ge=1, le=64)
HEADROOM = Setting("headroom", float, 2.0, "Headroom factor on the ports.", ge=1, le=10)
MIN_PORTS_PER_VM = Setting("min_ports_per_vm", int, None, "Minimum ports per VM (default: sized for "
                           "expectedCalls; rounded up to a power of two).", ge=2, le=65536, optional=True, flag="--min-ports-per-vm")
MAX_PORTS_PER_VM = Setting("max_ports_per_vm", int, None, "Maximum ports per VM (with dynamic port allocation "
                           "only).", ge=2, le=65536, optional=True, flag="--max-ports-per-vm")
NAT_IP_COUNT = Setting("nat_ip_count", int, 1, "Static NAT addresses (their IPs go on Spirit's allowlist).",
                       ge=1, le=300, flag="--nat-ips")
NAT_LOGGING = Setting("logging", str, "errors", "NAT logging: off, errors, translations or all.",
                      choices=("off", "errors", "translations", "all"), flag="--logging")

# Azure NAT gateway
TCP_IDLE_TIMEOUT_MINUTES = Setting("tcp_idle_timeout_minutes", int, 4, "TCP idle timeout in minutes (4-120; "
                                   "Azure's default 4).", ge=4, le=120, unit="minutes")
PUBLIC_IP_COUNT = Setting("public_ip_count", int, 1, "Standard static public IPs to create (0-16).", ge=0, le=16)
PUBLIC_IP_PREFIX_LENGTH = Setting("public_ip_prefix_length", int, None, "Also (or instead) a public IP prefix "
                                  "of this length (28-31).", ge=28, le=31, optional=True)

MANAGEMENT_TAG = Setting("management_tag", str, "spirit-mgmt", "GCP only: the network tag the management rule "
                         "targets (put it on the SBC).", stack="managementTag")

# the SBC's ports (checked as port text by profiles.parse_port_text)
SBC_SIP_PORTS = Setting("sbc_sip_ports", str, "5060-5061", "SBC only: the SBC's SIP listening ports, e.g. "
                        "'5060-5061' or '5060,5061'.", stack="sbcSipPorts", policy="sbcSipPorts")
SBC_MEDIA_PORTS = Setting("sbc_media_ports", str, "16384-32767", "SBC only: the SBC's RTP media port range.",
                          stack="sbcMediaPorts", policy="sbcMediaPorts")

#: every declaration, by its variable name
SETTINGS: dict[str, Setting] = {k: v for k, v in globals().items() if isinstance(v, Setting)}
