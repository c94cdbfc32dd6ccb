"""The one table of clouds and their firewall layers (pure: imports no SDK and no cloud module).

Everything that picks code by cloud goes through :data:`CLOUDS`, in the style of Aerleon's generator
registry (one entry per platform, looked up by name, loud on an unknown one):

- the CLI (``spirit-infra aws|azure|gcp ...``: :attr:`Cloud.cli`),
- the program (``spirit:cloud`` -> :attr:`Cloud.program`'s ``compose``),
- the offline preview (the exactness verdicts: :attr:`Cloud.verify`'s ``verify``),
- the policy pack (which resources are whose, and each layer's reader: :attr:`Cloud.layers`),
- the extras (:attr:`Cloud.sdk`, the module ``pip install 'spirit-infra[<cloud>]'`` provides).

Modules are named, not imported: :meth:`Cloud.load` imports one when it is used, so ``spirit-infra
flows`` stays cold-fast and a cloud's SDK is imported only by the cloud in use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from .errors import ConfigError

__all__ = ["Cloud", "Layer", "CLOUDS", "cloud", "cloud_of", "layers_of"]


@dataclass(frozen=True)
class Layer:
    """One firewall layer of a cloud, as the policy pack reads it from a stack's resources.

    ``select(resources)`` gives the instances of this layer among ``resources``, each under its label
    (``{"": [...]}`` for a layer that is one whole; GCP's firewall policies are one instance each), or
    ``{}`` when the layer is absent; ``read(resources)`` is the egress and ingress they allow.
    """

    name: str
    select: Callable[[list[dict]], dict[str, list[dict]]]
    read: Callable[[list[dict]], object]

    def instances(self, resources: list[dict]) -> list[tuple[str, list[dict]]]:
        """``(name, resources)`` of each instance of the layer, in a stable order."""
        return [(f"{self.name} {label}".rstrip(), rs) for label, rs in sorted(self.select(resources).items())]


@dataclass(frozen=True)
class Cloud:
    """A cloud: its name (``spirit:cloud``, the CLI command, the extra), the resource type prefixes of its
    provider, its SDK module, and the modules that serve it (named; :meth:`load` imports one)."""

    name: str
    type_prefixes: tuple[str, ...]
    sdk: str
    cli: str
    program: str
    verify: str
    layers: str

    def load(self, part: str) -> ModuleType:
        """The module of ``part`` (``"cli"``, ``"program"``, ``"verify"`` or ``"layers"``)."""
        if part not in ("cli", "program", "verify", "layers"):
            raise ValueError(part)
        return importlib.import_module(getattr(self, part))

    def owns(self, type_token: str) -> bool:
        return type_token.startswith(self.type_prefixes)


CLOUDS: dict[str, Cloud] = {c.name: c for c in (
    Cloud("aws", ("aws:",), "pulumi_aws", "spirit_infra.cli.aws", "spirit_infra.program.aws",
          "spirit_infra.aws.verify", "spirit_infra.aws.layers"),
    Cloud("azure", ("azure-native:", "azure:"), "pulumi_azure_native", "spirit_infra.cli.azure",
          "spirit_infra.program.azure", "spirit_infra.azure.verify", "spirit_infra.azure.layers"),
    Cloud("gcp", ("gcp:",), "pulumi_gcp", "spirit_infra.cli.gcp", "spirit_infra.program.gcp",
          "spirit_infra.gcp.verify", "spirit_infra.gcp.layers"),
)}


def cloud(name: str) -> Cloud:
    """The table's entry for ``name``; one line naming the clouds there are otherwise."""
    try:
        return CLOUDS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"{name!r} is not a cloud ({', '.join(CLOUDS)})", field="cloud") from None


def cloud_of(resource: dict) -> str:
    """The cloud whose provider registers ``resource`` (by its type token); ``""`` for none of ours."""
    t = str(resource.get("type", ""))
    return next((c.name for c in CLOUDS.values() if c.owns(t)), "")


def layers_of(name: str) -> tuple[Layer, ...]:
    """The firewall layers of cloud ``name``, in the order the policy pack reports them."""
    return tuple(cloud(name).load("layers").LAYERS)
