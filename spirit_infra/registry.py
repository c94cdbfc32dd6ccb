"""The one table of clouds and their firewall layers (pure: imports no SDK and no cloud module).

Everything that picks code by cloud goes through :data:`CLOUDS`, in the style of Aerleon's generator
registry (one entry per platform, looked up by name, loud on an unknown one):

- the CLI (``spirit-infra aws|azure|gcp ...``: :attr:`Cloud.cli`),
- the program (``spirit:cloud`` -> :attr:`Cloud.program`'s ``compose``),
- the offline preview (the exactness verdicts: :attr:`Cloud.verify`'s ``verify``),
- the policy pack (which resources are whose, and each layer's reader: :attr:`Cloud.layers`),
- the pure renders of every layer (:class:`Layer`, the same module: ``LAYERS``),
- the extras (:attr:`Cloud.sdk`, the module ``pip install 'spirit-infra[<cloud>]'`` provides).

Modules are named, not imported: :meth:`Cloud.load` imports one when it is used, so ``spirit-infra
flows`` stays cold-fast and a cloud's SDK is imported only by the cloud in use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:  # the table stays cheap to import (the CLI reads it before any command)
    from .flows import AllowedSet, Capabilities
    from .plan import Plan

__all__ = ["Cloud", "Layer", "CLOUDS", "DIMENSIONS", "TRANSPORTS", "by_transport", "cloud", "cloud_of", "layers_of"]


#: the transports the allowed-set algebra models (ICMP and other protocols are outside it: every reader
#: ignores them and no render emits them)
TRANSPORTS = ("tcp", "udp")
#: the dimensions a layer may be unable to express; each is a field of :class:`~spirit_infra.flows.Capabilities`
DIMENSIONS = ("source_ports", "fqdn")


@dataclass(frozen=True)
class Layer:
    """One firewall layer of a cloud: what it can express, its pure render and its reader (the Layer protocol).

    - ``capabilities``: the :class:`~spirit_infra.flows.Capabilities` the render projects the profile onto,
      per transport (AWS Network Firewall matches DNS names over TCP only, so its UDP entry differs);
      :meth:`expresses` asks one dimension of one transport; ``directions``: what it renders (Azure's
      firewall policy holds egress only: ingress to the SBC reaches its NIC directly);
    - ``options``: the layer's options class (its defaults: ``options()``);
    - :meth:`render` ``(profile, options=None)``: the layer's resources as a :class:`~spirit_infra.plan.Plan`
      (pure; ``profile`` a :class:`~spirit_infra.profiles.Profile`, ``options`` an ``options`` instance or
      ``None`` for the defaults; ``renderer`` is the cloud's function behind it). ``plan.expected`` is what
      :attr:`read` gives back for those resources once deployed (the cloud's built-in rules included),
      ``plan.widened`` each widening the projection named, ``plan.warnings`` what the operator should know;
    - ``select(resources)``: the instances of this layer among ``resources``, each under its label
      (``{"": [...]}`` for a layer that is one whole; GCP's firewall policies are one instance each), or
      ``{}`` when the layer is absent;
    - ``read(resources)``: the egress and ingress an instance allows (an :class:`~spirit_infra.flows.AllowedSet`).
    """

    name: str
    capabilities: Mapping[str, Capabilities]
    options: type
    renderer: Callable[..., Plan]
    read: Callable[[list[dict]], AllowedSet]
    select: Callable[[list[dict]], dict[str, list[dict]]]
    directions: tuple[str, ...] = ("egress", "ingress")

    def __post_init__(self) -> None:
        if set(self.capabilities) != set(TRANSPORTS):
            raise ValueError(f"layer {self.name!r}: capabilities for {sorted(self.capabilities)}, not {TRANSPORTS}")

    def render(self, profile, options=None) -> Plan:
        """The layer's Plan for ``profile``; a wrong argument is one :class:`ConfigError` line, nothing rendered."""
        from .profiles import Profile

        if not isinstance(profile, Profile):
            raise ConfigError(f"expected a Profile (spirit_infra.build_profile), not {type(profile).__name__}",
                              field="profile")
        if options is not None and not isinstance(options, self.options):
            raise ConfigError(f"the {self.name} take {self.options.__name__}, not {type(options).__name__}",
                              field="options")
        return self.renderer(profile, options)

    def expresses(self, dimension: str, transport: str) -> bool:
        """Whether the layer expresses ``dimension`` (one of :data:`DIMENSIONS`) for ``transport``."""
        if dimension not in DIMENSIONS:
            raise ValueError(dimension)
        return bool(getattr(self.capabilities[transport], dimension))

    def instances(self, resources: list[dict]) -> list[tuple[str, list[dict]]]:
        """``(name, resources)`` of each instance of the layer, in a stable order."""
        return [(f"{self.name} {label}".rstrip(), rs) for label, rs in sorted(self.select(resources).items())]


def by_transport(tcp: Capabilities, udp: Capabilities | None = None) -> dict[str, Capabilities]:
    """A layer's capabilities per transport (the same for both unless ``udp`` is given)."""
    return {"tcp": tcp, "udp": udp if udp is not None else tcp}


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
