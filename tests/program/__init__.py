"""Tests of the Pulumi program, the example stacks and the offline preview (issue 7)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"
CLI = [sys.executable, "-m", "spirit_infra"]

CLOUD_PREFIX = {"aws": "aws:", "azure": "azure-native:", "gcp": "gcp:"}


def cli(*args: str, cwd: Path | str = ROOT, env: dict | None = None, timeout: float = 300
        ) -> subprocess.CompletedProcess:
    """Run ``python -m spirit_infra ARGS`` in a fresh interpreter."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*CLI, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))


@functools.cache
def preview(name: str):
    """The in-process preview of one example stack (cached: a preview is deterministic; under pytest-xdist,
    computed by one worker of the run and loaded by the others: tests/runcache.py)."""
    import runcache

    return runcache.once(f"preview-{name}", lambda: _preview(name))


def _preview(name: str):
    from spirit_infra.preview import find_project, load_stack, preview_stack

    project = find_project(ROOT)
    return preview_stack(project, *load_stack(project, name))


def preview_file(path: Path | str):
    from spirit_infra.preview import find_project, load_stack, preview_stack

    project = find_project(ROOT)
    return preview_stack(project, *load_stack(project, config_file=str(path)))


def with_ids(resources: list[dict]) -> list[dict]:
    """Resources as a reader wants them: the mock runtime's physical id is ``f"{name}-id"``."""
    return [dict(r, id=f"{r['name']}-id") for r in resources]


def stderr_lines(text: str) -> list[str]:
    """stderr lines, split on newlines only (a progress bar's carriage returns stay in their line).

    Nothing is filtered: interpreter-exit noise (an unclosed event loop finalised at exit) used to
    appear here until spirit_infra.testing closed the executor threads' loops; it must not come back.
    """
    if not text:
        return []
    return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
