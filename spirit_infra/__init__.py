"""spirit-infra: Spirit Cloud UC's firewall requirements, rendered exactly into AWS, Azure and GCP.

The public surface is small. The pure core (no pulumi import)::

    from spirit_infra import load_catalogue, build_profile, AllowedSet, project

Cloud components live in ``spirit_infra.aws``, ``spirit_infra.azure`` and ``spirit_infra.gcp``
(each imports only its own SDK); the QoS NAT renderer in ``spirit_infra.nat``.
"""

from .catalogue import Catalogue, Flow, load_catalogue
from .errors import (
    CapabilityError,
    CatalogueError,
    ConfigError,
    InputError,
    QuotaError,
    RenderError,
    SpiritError,
)
from .flows import AllowedSet, Capabilities, Peer, PortSet, Projection, Term, Widening, project
from .profiles import PROFILES, Overrides, Profile, ProfileFlow, SbcPorts, build_profile, load_overrides

__version__ = "0.1.0"

__all__ = [
    "AllowedSet",
    "Capabilities",
    "CapabilityError",
    "Catalogue",
    "CatalogueError",
    "ConfigError",
    "Flow",
    "InputError",
    "Overrides",
    "PROFILES",
    "Peer",
    "PortSet",
    "Profile",
    "ProfileFlow",
    "Projection",
    "QuotaError",
    "RenderError",
    "SbcPorts",
    "SpiritError",
    "Term",
    "Widening",
    "build_profile",
    "load_catalogue",
    "load_overrides",
    "project",
]
