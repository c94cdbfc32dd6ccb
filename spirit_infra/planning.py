"""Plan first: every render and every check runs before the first resource is registered.

Each component's Args validates and renders at construction (or, where the render takes the component's
name, in ``args.plan(name)``), and each component constructor asks for that plan *before* it registers
itself. A program builds the Args of every component it will create, and their plans, before it creates
the first one, so a refused input (a quota, a cloud-init too big, a bad override) leaves nothing behind.

An input that is another component's output is not known at that point. The program passes
:data:`PENDING` (or a mapping/sequence of them, with the keys it will have) and, once the component
that makes the value is registered, :func:`bind` puts the real output in. Renders never read those
inputs (they stay parameters of the plan), so binding cannot change what was checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["PENDING", "bind", "planned"]

T = TypeVar("T")


class _Pending(str):
    """A stand-in for an output that does not exist yet (a non-empty string, so presence checks pass)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending("<pending output>")


def _pending_shape(value: Any) -> Any:
    """The keys (mapping) or length (sequence) of a value made only of PENDING; None if it is not one."""
    if value is PENDING:
        return "scalar"
    if isinstance(value, Mapping) and all(v is PENDING for v in value.values()):
        return ("mapping", tuple(sorted(value)))
    if isinstance(value, list | tuple) and all(v is PENDING for v in value):
        return ("sequence", len(value))
    return None


def bind(args: T, **outputs: Any) -> T:
    """Replace the PENDING inputs of ``args`` with the real outputs (same keys / length as planned)."""
    for name, value in outputs.items():
        planned = _pending_shape(getattr(args, name))
        if planned is None:
            raise TypeError(f"{type(args).__name__}.{name} was not planned as PENDING")
        if planned != "scalar":
            got = ("mapping", tuple(sorted(value))) if isinstance(value, Mapping) else ("sequence", len(value))
            if got != planned:
                raise TypeError(f"{type(args).__name__}.{name}: bound {got}, planned {planned}")
            if isinstance(value, list | tuple) and isinstance(getattr(args, name), tuple):
                value = tuple(value)
        object.__setattr__(args, name, value)  # frozen Args too: the plan is already made
    return args


def planned(args: Any, key: Any, render: Any) -> Any:
    """``render()`` once per (Args, key), e.g. the component name: the program's plan and the constructor share it."""
    cache = args.__dict__.setdefault("_plans", {})
    if key not in cache:
        cache[key] = render()
    return cache[key]
