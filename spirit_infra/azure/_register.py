"""Register a pure resource spec with its azure-native class (imports pulumi; used by the components).

The pure renderers emit camelCase inputs, exactly as Pulumi registers them. The SDK classes take
snake_case keyword arguments for the top level and pass nested dicts through unchanged, so only the
top-level keys are converted here; nested values stay camelCase (which is what the SDK would send).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

__all__ = ["snake", "register", "sdk_class"]

_A = re.compile(r"([A-Z]+)([A-Z][a-z])")
_B = re.compile(r"([a-z0-9])([A-Z])")


def snake(key: str) -> str:
    """``publicIPAllocationMethod`` -> ``public_ip_allocation_method``."""
    return _B.sub(r"\1_\2", _A.sub(r"\1_\2", key)).lower()


def sdk_class(type_token: str):
    from ..extras import sdk

    azure_native = sdk("azure")  # one line naming the extra when it is not installed
    pkg, module, cls = type_token.split(":")
    assert pkg == "azure-native", type_token
    return getattr(getattr(azure_native, module), cls)


def register(type_token: str, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions,
             **extra: Any) -> pulumi.CustomResource:
    """Create the SDK resource for ``type_token`` with ``inputs`` (camelCase) plus ``extra`` (snake)."""
    kwargs = {snake(k): v for k, v in inputs.items()}
    kwargs.update({k: v for k, v in extra.items() if v is not None})
    return sdk_class(type_token)(name, opts=opts, **kwargs)
