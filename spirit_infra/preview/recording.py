"""What the offline engine records of a program run: every resource, output and invoke, as plain JSON
values (the :class:`Recording` the preview judges and the tests assert on)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from ..errors import SpiritError

__all__ = ["COMPUTED", "EngineError", "RecordedInvoke", "RecordedResource", "Recording", "struct_to_plain"]

COMPUTED = "<computed>"
"""How a value that is unknown during a preview is rendered in a :class:`Recording`."""

# Wire-format signatures (pulumi/runtime/rpc.py).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

class EngineError(SpiritError):
    """The program did something a real Pulumi engine refuses (duplicate URN, resource inside apply).

    ``errors`` lists every problem found, one line each; ``recording`` is what was recorded anyway.
    (Subclass of :class:`spirit_infra.errors.SpiritError`.)
    """

    def __init__(self, errors: list[str], recording: Recording | None = None):
        self.errors = list(errors)
        self.recording = recording
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class RecordedResource:
    """One resource the program registered (custom, component, provider or read)."""

    urn: str
    type: str
    name: str
    parent: str | None
    """Parent URN; ``None`` for the stack's direct children."""
    inputs: dict[str, Any]
    """Exactly what the program registered, as plain JSON values."""
    custom: bool
    """True for provider-managed resources, False for components."""
    id: str | None = None
    """The fake physical id the mock assigned (``f"{name}-id"`` unless ``outputs_for`` says otherwise)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """For components: what ``register_outputs`` registered (plain values)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options that differ from the default: ``dependencies``, ``aliases``, ``provider``,
    ``protect``, ``ignore_changes``, ``delete_before_replace``, ``replace_on_changes``,
    ``retain_on_delete``, ``import_id``, ``additional_secret_outputs``, ``read_id``. (The provider
    plugin version is left out on purpose: it would churn golden files on every SDK bump.)"""
    secrets: tuple[str, ...] = ()
    """Top-level input keys whose value is (or contains) a secret."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "id": self.id,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "options": self.options,
            "secrets": list(self.secrets),
        }


@dataclass(frozen=True)
class RecordedInvoke:
    """One provider function call (``aws.get_availability_zones`` and the like)."""

    token: str
    args: dict[str, Any]
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "args": self.args, "result": self.result}


@dataclass
class Recording:
    """What a program registered under :func:`run`, in a deterministic order."""

    resources: list[RecordedResource]
    """Every registered resource except the root stack, sorted by URN."""
    outputs: dict[str, Any]
    """Stack outputs (``pulumi.export``), as plain values."""
    errors: list[str] = field(default_factory=list)
    """Engine errors found (only non-empty with ``run(..., strict=False)``)."""
    invokes: list[RecordedInvoke] = field(default_factory=list)
    """Provider function calls, sorted by token then arguments."""
    logs: list[str] = field(default_factory=list)
    """Warnings and errors the program logged through ``pulumi.log``, as ``"warning: ..."`` lines."""
    stack_urn: str = ""
    program_error: BaseException | None = None
    """What the program raised (only with ``run(..., raise_program_errors=False)``); what it registered
    before that is in :attr:`resources`, so a test can assert that a refusal registered nothing."""
    physical_names: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """``(scope, type, physical name) -> URN`` for every resource the cloud requires to be uniquely named
    in its scope (:func:`physical_name`); compare two recordings' keys to show two stacks never meet."""

    def by_type(self, type_token: str) -> list[RecordedResource]:
        """All resources of one type token (e.g. ``"aws:ec2/securityGroup:SecurityGroup"``)."""
        return [r for r in self.resources if r.type == type_token]

    def get(self, name: str, type_token: str | None = None) -> RecordedResource:
        """The one resource with this logical name (and type, if given); ``KeyError`` if none or several."""
        found = [r for r in self.resources if r.name == name and (type_token is None or r.type == type_token)]
        if len(found) != 1:
            what = "no resource" if not found else f"{len(found)} resources"
            raise KeyError(f"{what} named {name!r}" + (f" of type {type_token}" if type_token else ""))
        return found[0]

    def children_of(self, urn: str | None) -> list[RecordedResource]:
        """Direct children of the resource with this URN; ``None`` (or the stack URN) for top-level ones."""
        if urn == self.stack_urn:
            urn = None
        return [r for r in self.resources if r.parent == urn]

    def to_dict(self) -> dict[str, Any]:
        return {
            "resources": [r.to_dict() for r in self.resources],
            "outputs": self.outputs,
            "errors": list(self.errors),
            "invokes": [i.to_dict() for i in self.invokes],
            "logs": sorted(self.logs),
            "stack_urn": self.stack_urn,
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, indent 2, trailing newline)."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# Plain values from the wire format

def _plain(value: Any, secret_seen: list[bool]) -> Any:
    """Turn a JSON-decoded protobuf Struct value into plain JSON, noting secrets in ``secret_seen``."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return COMPUTED if value == _UNKNOWN else value
    if isinstance(value, list):
        return [_plain(v, secret_seen) for v in value]
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            secret_seen.append(True)
            return _plain(value.get("value"), secret_seen)
        if sig == _RESOURCE_SIG:
            return _plain(value.get("urn"), secret_seen)
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                secret_seen.append(True)
            return _plain(value["value"], secret_seen) if "value" in value else COMPUTED
        # A plain map, or an asset/archive (kept as its fields, without the signature key).
        return {k: _plain(v, secret_seen) for k, v in value.items() if k != _SIG}
    return value


def struct_to_plain(struct) -> tuple[dict[str, Any], tuple[str, ...]]:
    raw = json_format.MessageToDict(struct) if struct is not None else {}
    out: dict[str, Any] = {}
    secrets: list[str] = []
    for key in sorted(raw):
        seen: list[bool] = []
        value = _plain(raw[key], seen)
        if value is None:
            continue
        out[key] = value
        if seen:
            secrets.append(key)
    return out, tuple(secrets)
