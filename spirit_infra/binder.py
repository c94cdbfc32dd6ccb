"""The one binder: a :class:`~spirit_infra.plan.Plan` becomes SDK resources (the only code that knows
Pulumi's calling convention for the rendered layers).

Given a cloud's ``type -> class`` table, :func:`bind` registers every spec of the plan as a child of
``parent`` (``None``: of the stack, as a program's own resource group), named ``<prefix>-<spec name>``, in the
plan's order; :class:`~spirit_infra.plan.Ref` becomes the referenced child's output (or the field its ``path``
leads to), :class:`~spirit_infra.plan.Param` the bound value, :class:`~spirit_infra.plan.Lookup` what the
cloud's lookup finds and :class:`~spirit_infra.plan.Json` the document once everything in it is known. The SDK classes take snake_case keyword
arguments for the top-level inputs (:func:`snake`) and send nested values as given (the wire's camelCase).
Everything a bind needs (classes, parameters, lookups) is checked before the first resource is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from .plan import Json, Lookup, Param, Plan, PlanError, Ref, walk

__all__ = ["snake", "bind", "output"]

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD = re.compile(r"([a-z0-9])([A-Z])")


def snake(key: str) -> str:
    """A wire (camelCase) name as the SDK's keyword: ``publicIPAllocationMethod`` -> ``public_ip_allocation_method``,
    ``cidrIpv4`` -> ``cidr_ipv4`` (an acronym is one word, as the SDK generators write it)."""
    return _WORD.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", key)).lower()


def check(plan: Plan, classes: Mapping[str, type], params: Mapping[str, Any],
          lookups: Mapping[str, Callable[[str], Any]]) -> None:
    """One :class:`PlanError` line for the first spec the table, the parameters or the lookups cannot serve."""
    for spec in plan.specs:
        if spec.type not in classes:
            raise PlanError(f"spec {spec.name!r}: no SDK class for type {spec.type!r}")
        for path, v in walk(spec.inputs):
            if isinstance(v, Param) and v.name not in params:
                raise PlanError(f"spec {spec.name!r} input {path}: parameter {v.name!r} is not bound")
            if isinstance(v, Lookup) and v.kind not in lookups:
                raise PlanError(f"spec {spec.name!r} input {path}: no lookup {v.kind!r}")


def bind(plan: Plan, parent: pulumi.Resource | None, prefix: str, classes: Mapping[str, type],
         params: Mapping[str, Any] | None = None,
         lookups: Mapping[str, Callable[[str], Any]] | None = None) -> dict[str, pulumi.CustomResource]:
    """Register ``plan``'s specs as children of ``parent`` (``None``: the stack); the resources by spec name."""
    params, lookups = dict(params or {}), dict(lookups or {})
    check(plan, classes, params, lookups)
    created: dict[str, pulumi.CustomResource] = {}

    def resolve(value: Any) -> Any:
        if isinstance(value, Ref):
            return output(created, value)
        if isinstance(value, Json):
            return pulumi.Output.from_input(resolve(value.value)).apply(lambda v: json.dumps(v, sort_keys=True))
        if isinstance(value, Param):
            v = params[value.name]
            return v if value.key is None else v[value.key]
        if isinstance(value, Lookup):
            return lookups[value.kind](value.key)
        if isinstance(value, Mapping):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [resolve(v) for v in value]
        return value

    for spec in plan.order():
        kwargs = {snake(k): resolve(v) for k, v in spec.inputs.items()
                  if not (isinstance(v, Param) and v.key is None and params[v.name] is None)}
        aliases = [pulumi.Alias(name=f"{prefix}-{a}") for a in spec.aliases]
        created[spec.name] = classes[spec.type](
            f"{prefix}-{spec.name}", **kwargs, opts=pulumi.ResourceOptions(parent=parent, aliases=aliases or None))
    return created


def output(created: Mapping[str, pulumi.CustomResource], ref: Ref) -> Any:
    """What ``ref`` stands for among the resources :func:`bind` registered (a component's outputs use it too)."""
    out = getattr(created[ref.spec], snake(ref.output))
    return out.apply(lambda v: _dig(v, ref.path)) if ref.path else out


def _dig(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if value is None:
            return None
        if isinstance(step, int):
            value = value[step] if isinstance(value, list | tuple) and -len(value) <= step < len(value) else None
        elif type(value) is dict:  # a plain value: wire names
            value = value.get(step)
        else:  # an SDK output type: its attributes are the snake_case names
            value = getattr(value, snake(step), None)
    return value
