"""Azure's SDK classes for the one binder (imports pulumi; used by the components).

The pure renderers emit camelCase inputs, exactly as Pulumi registers them; :func:`spirit_infra.binder.bind`
turns the top-level keys into the SDK's snake_case keywords (:func:`~spirit_infra.binder.snake`) and sends
nested values as they are. :data:`CLASSES` is this cloud's ``type -> class`` table; the azure-native SDK is
imported when a class is first looked up, so importing the components does not load it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..binder import snake

__all__ = ["snake", "sdk_class", "CLASSES", "TYPES"]

#: every azure-native type the Azure components register
TYPES = (
    "azure-native:network:ApplicationSecurityGroup",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:SecurityRule",
    "azure-native:network:FirewallPolicy",
    "azure-native:network:FirewallPolicyRuleCollectionGroup",
    "azure-native:network:PublicIPAddress",
    "azure-native:network:PublicIPPrefix",
    "azure-native:network:NatGateway",
    "azure-native:network:Subnet",
)


def sdk_class(type_token: str):
    from ..extras import sdk

    azure_native = sdk("azure")  # one line naming the extra when it is not installed
    pkg, module, cls = type_token.split(":")
    assert pkg == "azure-native", type_token
    return getattr(getattr(azure_native, module), cls)


class _Classes(Mapping):
    """:data:`TYPES` -> their SDK classes, imported on first use."""

    def __getitem__(self, type_token: str) -> type:
        if type_token not in TYPES:
            raise KeyError(type_token)
        return sdk_class(type_token)

    def __contains__(self, type_token: object) -> bool:  # without importing the SDK
        return type_token in TYPES

    def __iter__(self) -> Iterator[str]:
        return iter(TYPES)

    def __len__(self) -> int:
        return len(TYPES)


CLASSES: Mapping[str, type] = _Classes()
