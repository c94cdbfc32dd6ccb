"""The typed resource-plan IR (pure: imports no SDK and not pulumi).

A render's answer is a :class:`Plan`: the :class:`ResourceSpec` s to register, in dependency order, plus
what the operator should know (``widened``, ``warnings``) and what the layer is expected to allow
(``expected``). Inputs are the provider's wire form (camelCase keys, as Pulumi registers them); a value
that is not known at render time is typed, never a string convention:

- :class:`Ref` — an output of another spec of the same plan (``Ref("policy", "name")``; ``path`` picks a
  field inside it: ``Ref("nic", "ipConfigurations", (0, "privateIPAddress"))``);
- :class:`Param` — a value supplied when the plan is bound (a VPC id, a resource group; ``key`` picks
  an element of a list or a mapping);
- :class:`Lookup` — a value a provider function finds by a key (AWS's managed prefix lists by name);
- :class:`Json` — a JSON document (sorted keys) built once the references inside it are known (an IAM
  policy naming another spec's ARN).

A plan checks itself when it is built: spec names are unique and every :class:`Ref` names a spec of
the plan without a cycle, or one :class:`PlanError` line says which spec, which input and which name.
:mod:`spirit_infra.binder` is what turns a plan into SDK resources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, RenderError

__all__ = ["Ref", "Param", "Lookup", "Json", "ResourceSpec", "Plan", "PlanError", "named_plan", "walk"]


class PlanError(RenderError):
    """A plan that cannot be bound (a render bug or a hand-built plan): one line naming spec and input."""


@dataclass(frozen=True)
class Ref:
    """The output ``output`` (a wire or SDK attribute name) of the spec named ``spec``; with ``path``, the
    field it leads to inside that output (list indexes and wire names; ``None`` where a step is missing)."""

    spec: str
    output: str = "id"
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class Param:
    """The bind-time parameter ``name``; with ``key``, that element of it (a list index or a mapping key).
    At the top level of a spec's inputs, a parameter bound to ``None`` leaves the input unset."""

    name: str
    key: str | int | None = None


@dataclass(frozen=True)
class Lookup:
    """What the cloud's lookup ``kind`` finds for ``key`` (resolved by the binder's ``lookups`` table)."""

    kind: str
    key: str


@dataclass(frozen=True)
class Json:
    """``value`` (a mapping or list whose leaves may be Ref, Param or Lookup) as a JSON string, sorted keys."""

    value: Any


@dataclass(frozen=True)
class ResourceSpec:
    """One resource: its provider type token, its name in the plan (the child's logical name is
    ``<component>-<name>``), its wire inputs and the former names it aliases."""

    type: str
    name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def refs(self) -> set[str]:
        """The names of the specs this one references."""
        return {v.spec for _path, v in walk(self.inputs) if isinstance(v, Ref)}


@dataclass(frozen=True)
class Plan:
    """The specs of a render, in an order where each spec comes after those it references."""

    specs: tuple[ResourceSpec, ...]
    widened: tuple = ()
    warnings: tuple[str, ...] = ()
    expected: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "specs", tuple(self.specs))
        seen: set[str] = set()
        for spec in self.specs:
            if spec.name in seen:
                raise PlanError(f"two specs are named {spec.name!r}")
            seen.add(spec.name)
        names = {s.name for s in self.specs}
        for spec in self.specs:
            for path, v in walk(spec.inputs):
                if isinstance(v, Ref) and v.spec not in names:
                    raise PlanError(f"spec {spec.name!r} input {path}: references {v.spec!r}, which is not in the plan")
        self.order()  # no cycle

    def order(self) -> list[ResourceSpec]:
        """The registration order: passes over the specs in plan order, each taking every spec whose
        references are registered already."""
        done: set[str] = set()
        out: list[ResourceSpec] = []
        pending = list(self.specs)
        while pending:
            ready = []
            for s in pending:
                if s.refs() <= done:
                    ready.append(s)
                    done.add(s.name)
            if not ready:
                raise PlanError(f"specs {[s.name for s in pending]} reference each other in a cycle")
            out += ready
            pending = [s for s in pending if s not in ready]
        return out

    def __getitem__(self, name: str) -> ResourceSpec:
        return next(s for s in self.specs if s.name == name)


def named_plan(specs, field: str) -> Plan:
    """A :class:`Plan` of specs named after names the caller chose (``field``: the sites): two specs with
    one name is the caller's clash (a site named like one of the component's own resources, or like
    another site's), so it is one :class:`~spirit_infra.errors.ConfigError` naming the field and the name."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"two resources would be named {spec.name!r} (a site's resources are named after "
                              "the site): rename the site", field=field)
        seen.add(spec.name)
    return Plan(tuple(specs))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, leaf)`` for every leaf of ``value`` (Ref, Param and Lookup are leaves; a Json is walked into)."""
    if isinstance(value, Json):
        yield from walk(value.value, path)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value
