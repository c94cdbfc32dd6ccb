"""The Pulumi program's composition: stack config in, components out (imports pulumi).

``__main__.py`` calls :func:`main`; the offline preview runs that same ``__main__.py`` under the mock
runtime. Each cloud's composition lives in its own module and imports only its own SDK.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pulumi

from ..errors import SpiritError
from ..stackconfig import KEYS, StackConfig, parse

__all__ = ["config_from_pulumi", "main"]


def _spirit_keys_set() -> set[str]:
    """Every ``spirit:*`` key the stack sets, known or not (a typo must fail, not be ignored)."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return {k for k in keys if k.startswith("spirit:")}


def config_from_pulumi() -> StackConfig:
    """Read every ``spirit:*`` key through :class:`pulumi.Config` and validate it."""
    conf = pulumi.Config("spirit")
    raw = {}
    for name in sorted({k.name for k in KEYS} | {k.partition(":")[2] for k in _spirit_keys_set()}):
        v = conf.get(name)
        if v is not None:
            raw[f"spirit:{name}"] = v
    stack = pulumi.get_stack()
    # relative files the config names (spirit:overrides.catalogue, spirit:extraFlows) are relative to the project
    # (Pulumi.yaml's directory, pulumi's root directory), as in the preview
    return parse(raw, file=f"stacks/Pulumi.{stack}.yaml", base=Path(pulumi.get_root_directory()))


def main() -> None:
    """Validate config (one line on error, nothing registered), then compose the cloud's components.

    A :class:`~spirit_infra.errors.SpiritError` becomes :class:`pulumi.RunError` (the engine prints it as
    one ``error:`` line, no traceback); the original is its ``__cause__``, which the offline preview
    re-raises so the CLI exits 2.
    """
    try:
        cfg = config_from_pulumi()
        importlib.import_module(f"{__name__}.{cfg.cloud}").compose(cfg)
    except SpiritError as e:
        raise pulumi.RunError(str(e)) from e
