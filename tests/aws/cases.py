"""The AWS stacks every external validator runs over: every AWS example stack in stacks/, recorded by the
program under spirit_infra.testing (the offline preview's runtime)."""

from __future__ import annotations

import copy
import functools

from program import preview, stack_names

__all__ = ["AWS_STACKS", "resources_of", "mutated"]

AWS_STACKS = [n for n in stack_names() if n.startswith("aws-")]


@functools.cache
def _resources(name: str) -> tuple:
    return tuple(preview(name).resources)


def resources_of(name: str) -> list[dict]:
    """A fresh copy of what the program registers for one case (callers may mutate it)."""
    return copy.deepcopy(list(_resources(name)))


def mutated(name: str, resource: str, path: tuple, value) -> list[dict]:
    """The case's resources with one input of one resource replaced (a known-bad resource)."""
    out = resources_of(name)
    r = next(x for x in out if x["name"] == resource)
    node = r["inputs"]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out
