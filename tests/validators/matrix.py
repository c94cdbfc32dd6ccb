"""Every example stack plus a generated matrix of stack configs, run through the program once per session.

Validators iterate over the recorded registrations instead of re-running the program::

    from validators import matrix          # tests/ is on sys.path (pytest rootdir conftest)

    AWS = [c for c in matrix.case_ids() if matrix.config(c).cloud == "aws"]   # select: nothing runs yet

    @pytest.mark.parametrize("case_id", AWS)
    def test_something(case_id):
        case = matrix.case(case_id)                      # runs the program on first use, then cached
        for reg in case.of_type("aws:ec2/securityGroup:SecurityGroup"):
            check(reg.inputs["description"], where=f"{case.id}: {reg.name}")

    for case, reg in matrix.registrations(prefix="aws:"):   # every case, every AWS resource
        ...

The cases:

* ``stack-<name>`` for every ``stacks/Pulumi.<name>.yaml``, previewed exactly as tests/program does
  (the same cached :func:`tests.program.preview`, so a session runs each example stack once);
* ``<cloud>-<profile>-<layers>-<nat>-<strict|open>`` for every combination of :data:`DIMENSIONS` that
  the real stack-config validation (:func:`spirit_infra.stackconfig.parse`) accepts. The refused ones
  are in :data:`REFUSED` with the one-line reason; nothing here lists valid combinations by hand. A
  key that the validation demands for a combination (today: Azure's ``natSshPublicKey`` with
  ``qos-instance``) gets the value in :data:`FILLERS` and the combination is validated again.

Each generated case is written as a stack file in a temporary directory and previewed through
:func:`tests.program.preview_file`, i.e. the project's ``__main__.py`` under the recording test double
(:mod:`spirit_infra.testing`). ``firewallLayers`` has two distinct values: the program always
registers the rules layer, so ``[fqdn-firewall]`` alone is the same stack as ``[rules, fqdn-firewall]``.

Cost: the first :func:`case` of a session pays for that one case; :func:`cases` runs them all
(``bench/validators_matrix`` prints the count and the time).
"""

from __future__ import annotations

import functools
import itertools
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import runcache
import yaml
from program import STACKS, preview, preview_file, stack_names

from spirit_infra.errors import ConfigError
from spirit_infra.profiles import PROFILES
from spirit_infra.stackconfig import CLOUDS, NAT_MODES, StackConfig, load_stack_file, parse

__all__ = ["DIMENSIONS", "FILLERS", "REFUSED", "Case", "Registration", "case", "case_ids", "cases",
           "config", "raw_config", "registrations", "stack_file", "timings"]

#: the generated dimensions: stack-config key -> values tried
DIMENSIONS: dict[str, tuple[Any, ...]] = {
    "cloud": CLOUDS,
    "profile": PROFILES,
    "firewallLayers": (("rules",), ("rules", "fqdn-firewall")),
    "nat": NAT_MODES,
    "strict": (True, False),
}

#: provider keys every generated stack of a cloud carries (as the example stacks do)
PROVIDER: dict[str, dict[str, str]] = {
    "aws": {"aws:region": "ap-southeast-2"},
    "azure": {"azure-native:location": "australiaeast"},
    "gcp": {"gcp:project": "spirit-matrix", "gcp:region": "australia-southeast1"},
}

#: values for keys the validation requires only for some combinations (added when it asks for them)
FILLERS: dict[str, Any] = {
    "natSshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMatrixMatrixMatrixMatrixMatrixMatrixMat",
}


@dataclass(frozen=True)
class Registration:
    """One registered resource, as the recording test double saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    parent: str | None  # the parent's URN (None: a direct child of the stack)
    urn: str


@dataclass(frozen=True)
class Case:
    id: str
    origin: str  # "stack" (stacks/Pulumi.<name>.yaml) or "matrix" (generated)
    config: StackConfig
    raw: dict[str, Any]  # the stack file's config: mapping
    registrations: tuple[Registration, ...]
    outputs: dict[str, Any]
    exact: bool  # the preview's verdict (readers vs the profile), for validators that want it
    seconds: float  # what running the program cost (0.0 when tests/program had already run it)

    def of_type(self, *types: str) -> list[Registration]:
        return [r for r in self.registrations if r.type in types]

    def with_prefix(self, prefix: str) -> list[Registration]:
        return [r for r in self.registrations if r.type.startswith(prefix)]


def _label(key: str, value: Any) -> str:
    if key == "firewallLayers":
        return "+".join("fqdn" if v == "fqdn-firewall" else v for v in value)
    if key == "strict":
        return "strict" if value else "open"
    return str(value)


def _generate() -> tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, dict[str, Any]]]:
    valid: dict[str, dict[str, Any]] = {}
    refused: dict[str, str] = {}
    refused_raw: dict[str, dict[str, Any]] = {}
    keys = list(DIMENSIONS)
    for values in itertools.product(*DIMENSIONS.values()):
        combo = dict(zip(keys, values, strict=True))
        cid = "-".join(_label(k, v) for k, v in combo.items())
        raw = {**PROVIDER[combo["cloud"]],
               **{f"spirit:{k}": list(v) if isinstance(v, tuple) else v for k, v in combo.items()}}
        while True:
            try:
                parse(raw, file=f"Pulumi.{cid}.yaml")
            except ConfigError as e:
                key = (e.field or "").removeprefix("spirit:")
                if key in FILLERS and f"spirit:{key}" not in raw:
                    raw[f"spirit:{key}"] = FILLERS[key]
                    continue
                refused[cid] = str(e)
                refused_raw[cid] = raw
            else:
                valid[cid] = raw
            break
    return valid, refused, refused_raw


_GENERATED, REFUSED, _REFUSED_RAW = _generate()
"""REFUSED: case id -> the one-line refusal of each generated combination the validation does not accept."""
_STACKS = {f"stack-{n}": n for n in stack_names()}
_DONE: set[str] = set()


def case_ids(origin: str | None = None) -> list[str]:
    """Every case id (``origin``: only "stack" or only "matrix"); cheap: nothing is run."""
    ids = ([] if origin == "matrix" else sorted(_STACKS)) + ([] if origin == "stack" else sorted(_GENERATED))
    return ids


@functools.cache
def case(case_id: str) -> Case:
    """One case, its program run once per session (``KeyError`` for an unknown id); under pytest-xdist once
    per run, by whichever worker asks first (tests/runcache.py)."""
    if case_id not in _STACKS and case_id not in _GENERATED:
        raise KeyError(case_id)
    return runcache.once(f"matrix-{case_id}", lambda: _run(case_id))


def _run(case_id: str) -> Case:
    start = time.perf_counter()
    if case_id in _STACKS:
        res = preview(_STACKS[case_id])
        raw = raw_config(case_id)
        origin = "stack"
    else:
        raw = _GENERATED[case_id]
        with tempfile.TemporaryDirectory(prefix="spirit-matrix-") as d:
            res = preview_file(stack_file(case_id, Path(d)))
        origin = "matrix"
    regs = tuple(Registration(r["type"], r["name"], r["inputs"], r["parent"], r["urn"]) for r in res.resources)
    _DONE.add(case_id)
    return Case(case_id, origin, res.config, raw, regs, res.outputs, res.exact, time.perf_counter() - start)


def raw_config(case_id: str) -> dict[str, Any]:
    """The ``config:`` mapping of any case (an example stack's file, or a generated case accepted or refused),
    without the project defaults; cheap: nothing is run. Use it to select cases before running them."""
    if case_id in _STACKS:
        return yaml.safe_load((STACKS / f"Pulumi.{_STACKS[case_id]}.yaml").read_text(encoding="utf-8"))["config"]
    return dict(_GENERATED.get(case_id) or _REFUSED_RAW[case_id])


@functools.cache
def config(case_id: str) -> StackConfig:
    """The validated stack config of any case, defaults applied; cheap (nothing is run): select cases with it,
    e.g. ``[c for c in case_ids() if config(c).cloud == "aws" and config(c).fqdn_firewall]``."""
    if case_id in _STACKS:
        return load_stack_file(STACKS / f"Pulumi.{_STACKS[case_id]}.yaml")[0]
    return parse(_GENERATED[case_id], file=f"Pulumi.{case_id}.yaml")


def stack_file(case_id: str, directory: Path) -> Path:
    """Write a generated case (accepted or refused) as ``directory/Pulumi.<id>.yaml``; return its path."""
    raw = dict(_GENERATED.get(case_id) or _REFUSED_RAW[case_id])
    path = directory / f"Pulumi.{case_id}.yaml"
    path.write_text(yaml.safe_dump({"config": raw}, sort_keys=True), encoding="utf-8")
    return path


def cases(origin: str | None = None) -> list[Case]:
    """Every case (runs what the session has not run yet)."""
    return [case(c) for c in case_ids(origin)]


def registrations(*, prefix: str = "", types: tuple[str, ...] = (), origin: str | None = None
                  ) -> Iterator[tuple[Case, Registration]]:
    """``(case, registration)`` over every case, filtered by type prefix and/or exact type tokens."""
    for c in cases(origin):
        for r in c.registrations:
            if r.type.startswith(prefix) and (not types or r.type in types):
                yield c, r


def timings() -> dict[str, float]:
    """Seconds each case run so far in this session cost (an example stack tests/program had already
    previewed costs ~0 here)."""
    return {cid: case(cid).seconds for cid in case_ids() if cid in _DONE}
