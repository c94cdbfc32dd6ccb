"""Terraform (and OpenTofu) modules from the same renders as the Pulumi components.

``render_module(profile, cloud, layers)`` returns a :class:`Module` whose ``files`` are a
self-contained module (``main.tf.json``, ``variables.tf.json``, ``outputs.tf.json``, ``versions.tf``,
``README.md``); ``write_module`` writes it. ``read_back(cloud, main)`` gives its resources back in the
form the project's readers take, so the exactness proof of the Pulumi components carries over. The
checked-in modules live in ``terraform/modules/<cloud>-<profile>/`` (``python -m
spirit_infra.terraform.regenerate`` rewrites them).
"""

from __future__ import annotations

from .module import (
    CLOUDS,
    DEFAULT_LAYERS,
    LAYERS,
    Module,
    parse_layers,
    render_module,
    resources_of,
    write_module,
)

__all__ = ["CLOUDS", "LAYERS", "DEFAULT_LAYERS", "Module", "render_module", "write_module", "read_back",
           "resources_of", "parse_layers"]


def read_back(cloud: str, main: dict) -> list[dict]:
    """A module's ``main.tf.json`` (parsed) as reader input for ``cloud``."""
    return CLOUDS[cloud].read_back(main)
