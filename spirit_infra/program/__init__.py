"""The Pulumi program's composition: stack config in, components out (imports pulumi).

``__main__.py`` calls :func:`main`; the offline preview runs that same ``__main__.py`` under the mock
runtime. Each cloud's composition lives in its own module and imports only its own SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pulumi

from ..errors import ConfigError, InputError, SpiritError
from ..registry import cloud
from ..stackconfig import KEYS, StackConfig, parse

__all__ = ["blame", "config_from_pulumi", "main"]


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
    root = Path(pulumi.get_root_directory())
    file, lines = _stack_file(root, pulumi.get_stack())
    # relative files the config names (spirit:overrides.catalogue, spirit:extraFlows) are relative to the project
    # (Pulumi.yaml's directory, pulumi's root directory), as in the preview
    return parse(raw, file=file, lines=lines, base=root)


#: the stack file the offline preview runs this program for (set by spirit_infra.preview; None: find it)
STACK_FILE: list[Path] = []


def _stack_file(root: Path, stack: str) -> tuple[str, dict]:
    """The stack file's name and the line of each key in it (errors found while planning name them)."""
    from ..errors import InputError
    from ..stackconfig import read_stack_file
    from ..yamlsrc import load_yaml

    if STACK_FILE:
        path = STACK_FILE[-1]
        label = str(path)
    else:
        try:
            project = load_yaml(root / "Pulumi.yaml").data
            sub = project.get("stackConfigDir", ".") if isinstance(project, dict) else "."
        except InputError:
            sub = "."
        label = f"{sub}/Pulumi.{stack}.yaml" if sub != "." else f"Pulumi.{stack}.yaml"
        path = root / label
    try:
        return label, read_stack_file(path)[1] if path.is_file() else {}
    except InputError:
        return label, {}  # pulumi itself read this config; a file it cannot parse has no lines to give


@contextmanager
def blame(cfg: StackConfig, *keys: str) -> Iterator[None]:
    """Locate a refusal raised while planning: the stack file, the line and the ``spirit:*`` key behind it.

    ``keys`` are the stack keys that shape this part of the plan, most specific first; the first one the
    stack file sets is named. An error that already names a file (the override catalogue's) is kept.
    """
    try:
        yield
    except SpiritError as e:
        if isinstance(e, InputError) and e.file:
            raise
        file, line, key = cfg.locate(*keys)
        where = f"{file}:{line}" if line else file
        if isinstance(e, InputError):
            raise ConfigError(f"{e.field}: {e.what}" if e.field else e.what, file=file, line=line,
                              field=key) from None
        try:
            located = type(e)(f"{where}: {key}: {e}")
        except TypeError:
            located = SpiritError(f"{where}: {key}: {e}")
        raise located from None


def main() -> None:
    """Validate config (one line on error, nothing registered), then compose the cloud's components.

    A :class:`~spirit_infra.errors.SpiritError` becomes :class:`pulumi.RunError` (the engine prints it as
    one ``error:`` line, no traceback); the original is its ``__cause__``, which the offline preview
    re-raises so the CLI exits 2.
    """
    try:
        cfg = config_from_pulumi()
        cloud(cfg.cloud).load("program").compose(cfg)
    except SpiritError as e:
        raise pulumi.RunError(str(e)) from e
