"""The cloud-neutral half of the Terraform generator: resources, expressions, the module's files (pure).

A cloud module (:mod:`.aws`, :mod:`.azure`, :mod:`.gcp`) turns the specs the Pulumi renders return
into :class:`TfResource` objects; this module writes them as a Terraform module:

- ``main.tf.json``: ``{"resource": {<type>: {<address>: <body>}}}``, keys sorted, two-space indent;
- ``variables.tf.json`` / ``outputs.tf.json``: typed and described;
- ``versions.tf`` (HCL: Checkov's ``terraform_json`` parser fails on a top-level ``terraform`` block);
- ``README.md``: usage, the inputs and outputs tables, the catalogue version and its assumptions.

**Addresses** are the Pulumi specs' names (content-derived: a rule's direction, protocol, ports and
peer, a flow id, a zone label) with the characters a Terraform identifier cannot hold (``.``) written
as ``_``; never a list position, never ``count``. Two specs that would share an address are refused.

**Physical names** carry the module's ``name_prefix`` input: the renders run with a sentinel prefix
(:data:`SENTINEL`) that is then replaced by ``${var.name_prefix}`` everywhere it occurs, and the
variable's validation keeps the prefix short enough for the longest name to fit the cloud's limit (a
name that only fits by hashing its tail, :func:`spirit_infra.naming.fit`, is refused instead).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ConfigError

__all__ = ["SENTINEL", "VAR_PREFIX", "TfResource", "Parts", "address", "snake", "camel", "ref", "var",
           "tags_expr", "parse_tags_expr", "substitute_prefix", "dump_json", "REF_RE", "validation", "each_matches",
           "tags_variable"]

#: the name prefix the renders run with; replaced by ``${var.name_prefix}`` in the module
SENTINEL = "spiritpfx"
VAR_PREFIX = "${var.name_prefix}"
_IDENT_BAD = re.compile(r"[^A-Za-z0-9_-]")
#: a whole-string reference to another resource's attribute: ``${<type>.<address>.<attr>}``
REF_RE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\]]+\])?)\.([a-z0-9_]+)\}$")
_TAGS_RE = re.compile(r"^\$\{merge\(var\.tags, (\{.*\})\)\}$")


def address(name: str) -> str:
    """A Terraform identifier for a spec name: letters, digits, ``_`` and ``-``, not starting with a digit."""
    out = _IDENT_BAD.sub("_", name)
    if not out or out[0].isdigit() or out[0] == "-":
        out = "r-" + out
    return out


def snake(key: str) -> str:
    """``cidrIpv4`` -> ``cidr_ipv4``, ``layer4Configs`` -> ``layer4_configs`` (the bridged providers' rule)."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def ref(tf_type: str, addr: str, attr: str = "id", key: str | None = None) -> str:
    idx = f"[{key}]" if key else ""
    return f"${{{tf_type}.{addr}{idx}.{attr}}}"


def var(name: str) -> str:
    return f"${{var.{name}}}"


def validation(condition: str, message: str) -> list[dict]:
    """A variable's ``validation`` block: Terraform refuses a value for which ``condition`` is false."""
    return [{"condition": "${" + condition + "}", "error_message": message}]


def tags_variable(limits: str, message: str) -> dict:
    """The ``tags`` input (merged under each resource's spirit-* marks), ``limits`` a condition on ``k, v``."""
    return {"type": "map(string)", "default": {},
            "description": "Tags added to every taggable resource (the spirit-* marks win).",
            "validation": validation(f"alltrue([for k, v in var.tags : {limits}])", message)}


def each_matches(name: str, value_re: str, key_re: str | None = None) -> str:
    """Every element of the collection input ``name`` (a map's keys too, with ``key_re``) matches."""
    if key_re is None:
        return f'alltrue([for v in var.{name} : can(regex("{value_re}", v))])'
    return f'alltrue([for k, v in var.{name} : can(regex("{key_re}", k)) && can(regex("{value_re}", v))])'


def tags_expr(tags: dict) -> str:
    """The caller's ``tags`` input merged with a resource's Spirit marks (the marks win: the policy pack reads them)."""
    return "${merge(var.tags, " + json.dumps(tags, sort_keys=True) + ")}"


def parse_tags_expr(value):
    """The Spirit marks of :func:`tags_expr` back as a dict (a value of another shape is returned as is)."""
    if isinstance(value, str):
        m = _TAGS_RE.match(value)
        if m:
            return json.loads(m.group(1))
    return value


def substitute_prefix(value):
    """Replace the sentinel prefix by ``${var.name_prefix}`` in every string of ``value``."""
    if isinstance(value, str):
        return value.replace(SENTINEL, VAR_PREFIX)
    if isinstance(value, list):
        return [substitute_prefix(v) for v in value]
    if isinstance(value, dict):
        return {k: substitute_prefix(v) for k, v in value.items()}
    return value


def sentinel_names(values: Iterable[str], limit: int, what: str) -> int:
    """The longest prefix the names allow: each must be ``<sentinel>...`` and fit ``limit`` after substitution."""
    room = limit
    for v in values:
        if SENTINEL not in v:
            raise ConfigError(f"{v!r} lost its name prefix (a name fitted by hashing): shorten the flow ids",
                              field=what)
        room = min(room, limit - (len(v) - len(SENTINEL)))
    return room


@dataclass
class TfResource:
    """One Terraform resource: its type, address and attributes (plus what it was rendered from)."""

    type: str
    address: str
    body: dict
    #: the flows the resource implements (its ``spirit-flow`` mark), for the churn corpus
    flows: tuple[str, ...] = ()
    layer: str = "rules"


@dataclass
class Parts:
    """What one cloud's layers add to a module."""

    resources: list[TfResource] = field(default_factory=list)
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: data sources: ``{<type>: {<address>: <body>}}`` (an AWS-managed prefix list looked up by name)
    data: dict[str, dict[str, dict]] = field(default_factory=dict)

    def add(self, r: TfResource) -> None:
        self.resources.append(r)


def dump_json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _is_map_key(key: str) -> bool:
    return key in ("tags", "labels")


def to_tf(value, renames: dict[str, str], resolve) -> object:
    """Pulumi inputs of a bridged provider (camelCase) as Terraform attributes (snake_case).

    ``renames`` holds the keys whose Terraform name is not the snake_case of the Pulumi one (a
    repeated block Pulumi pluralises: ``entries`` -> ``entry``); ``resolve`` turns a ``$ref``/``$param``
    dict into an expression. Tag and label maps keep their keys.
    """
    if isinstance(value, dict):
        if any(k.startswith("$") for k in value):
            return resolve(value)
        out = {}
        for k, v in value.items():
            tk = renames.get(k, snake(k))
            out[tk] = dict(v) if _is_map_key(k) and isinstance(v, dict) else to_tf(v, renames, resolve)
        return out
    if isinstance(value, list):
        return [to_tf(v, renames, resolve) for v in value]
    return value


def from_tf(value, renames: dict[str, str]) -> object:
    """The inverse of :func:`to_tf` for the readers: snake_case -> camelCase, references as ``$ref``."""
    inverse = {v: k for k, v in renames.items()}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            pk = inverse.get(k, camel(k))
            out[pk] = parse_tags_expr(v) if _is_map_key(k) else from_tf(v, renames)
        return out
    if isinstance(value, list):
        return [from_tf(v, renames) for v in value]
    if isinstance(value, str):
        m = REF_RE.match(value)
        if m:
            return {"$ref": m.group(2), "attr": camel(m.group(4))}
    return value


def read_back_bridged(main: dict, pulumi_types: dict[str, str], renames: dict[str, str],
                      drop: tuple[str, ...] = ("for_each",)) -> list[dict]:
    """A bridged provider's module as reader input: Pulumi type token, camelCase inputs, ``$ref``s by address."""
    out = []
    for tf_type, by_addr in sorted(main.get("resource", {}).items()):
        for addr, body in sorted(by_addr.items()):
            body = {k: v for k, v in body.items() if k not in drop}
            out.append({"type": pulumi_types[tf_type], "name": addr, "inputs": from_tf(body, renames)})
    return out
