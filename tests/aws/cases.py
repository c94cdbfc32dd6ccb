"""The AWS cases every external AWS validator runs over: the shared matrix (tests/validators/matrix.py:
every AWS example stack and every generated aws x profile x layers x nat x strict combination the stack
validation accepts, each run once per session under the recording test double), plus each AWS example
stack attached to an existing VPC (spirit:networkId, which the matrix does not vary)."""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path

import yaml
from program import STACKS, preview_file
from validators import matrix

__all__ = ["AWS_CASES", "resources_of", "mutated"]

ATTACHED_VPC = "vpc-0123456789abcdef0"


def _cloud(case_id: str) -> str:
    if case_id.startswith("stack-"):
        path = STACKS / f"Pulumi.{case_id.removeprefix('stack-')}.yaml"
        return yaml.safe_load(path.read_text(encoding="utf-8"))["config"]["spirit:cloud"]
    return matrix.raw_config(case_id)["spirit:cloud"]


_STACK_IDS = [c for c in matrix.case_ids("stack") if _cloud(c) == "aws"]
AWS_CASES = [*_STACK_IDS, *(f"{c}-attached" for c in _STACK_IDS),
             *(c for c in matrix.case_ids("matrix") if _cloud(c) == "aws")]


@functools.cache
def _attached(case_id: str) -> tuple:
    doc = yaml.safe_load((STACKS / f"Pulumi.{case_id.removeprefix('stack-')}.yaml").read_text(encoding="utf-8"))
    cfg = doc["config"]
    cfg.pop("spirit:sites", None)
    cfg["spirit:networkId"], cfg["spirit:nat"] = ATTACHED_VPC, "none"
    with tempfile.TemporaryDirectory(prefix="spirit-aws-attached-") as d:
        path = Path(d) / f"Pulumi.{case_id.removeprefix('stack-')}-attached.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return tuple(preview_file(path).resources)


def resources_of(case_id: str) -> list[dict]:
    """A fresh copy of what the program registers for one case (callers may mutate it)."""
    if case_id.endswith("-attached"):
        return copy.deepcopy(list(_attached(case_id.removesuffix("-attached"))))
    return [{"type": r.type, "name": r.name, "inputs": copy.deepcopy(r.inputs), "parent": r.parent, "urn": r.urn}
            for r in matrix.case(case_id).registrations]


def mutated(case_id: str, resource: str, path: tuple, value) -> list[dict]:
    """The case's resources with one input of one resource replaced (a known-bad resource)."""
    out = resources_of(case_id)
    r = next(x for x in out if x["name"] == resource)
    node = r["inputs"]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out
