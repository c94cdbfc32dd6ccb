"""Each cloud's Pulumi SDK is an optional extra: ``pip install 'spirit-infra[aws]'`` (or ``[azure]``,
``[gcp]``, ``[all]``). A user of one cloud never installs the others (together about 920 MB).

The modules that talk to a cloud's SDK load it through :func:`sdk`, so using a cloud whose extra is
not installed is one line naming the extra (a :class:`~spirit_infra.errors.MissingExtraError`, exit 2
on the CLI), never a ``ModuleNotFoundError`` traceback. The pure modules (render, read, the CLI's
``render`` commands, the policy checks) import no SDK and work without any extra.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import MissingExtraError
from .registry import CLOUDS

__all__ = ["SDKS", "sdk", "installed"]

#: cloud (the extra's name) -> the SDK module that extra installs (from the registry's table)
SDKS = {c.name: c.sdk for c in CLOUDS.values()}


def sdk(cloud: str) -> ModuleType:
    """The Pulumi SDK module of ``cloud``; :class:`MissingExtraError` when its extra is not installed."""
    module = SDKS[cloud]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:  # the SDK is there but something it needs is not: not ours to rename
            raise
        raise MissingExtraError(cloud, module) from None


def installed(cloud: str) -> bool:
    """Whether ``cloud``'s SDK can be imported (without importing it)."""
    return importlib.util.find_spec(SDKS[cloud]) is not None
