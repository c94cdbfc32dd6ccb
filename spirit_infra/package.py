"""The Spirit component package: every public component, served to any Pulumi language (``components/``).

``components/__main__.py`` runs :func:`serve` the way Pulumi's ``component_provider_host`` does (the engine
starts ``python components/ <engine address>``, reads the port printed on stdout and speaks the
ResourceProvider protocol): the schema is inferred from the components' annotations by Pulumi's analyzer
(``pulumi.provider.experimental.analyzer``) and ``Construct`` builds the very classes the Python API uses.

:class:`SpiritComponentProvider` is Pulumi's ``ComponentProvider`` with two additions, each closing a gap
of the experimental host:

- a refused input (a :class:`~spirit_infra.errors.SpiritError` from an Args, a missing required input, a
  value outside an enum) comes back as one gRPC ``INVALID_ARGUMENT`` status carrying the same one line as
  the Python API, never the host's ``<message>:\\n<traceback>``;
- the analyzer writes no defaults into the schema: each input's default (a plain bool, number, string or
  enum value of the Args dataclass) is added as the property's ``default``; descriptions lose the
  docstrings' source indentation, a field made from a declared setting (:mod:`spirit_infra.settings`)
  gets the declaration's doc, and a field documented by a ``#:`` comment or a row of its class
  docstring's table (the analyzer reads attribute docstrings only) gets that text;
- integers arrive as floats on the wire and the host's own conversion is overwritten (its ``int()`` falls
  through to the raw value): integral floats of integer inputs (also in maps and lists) are made ints here,
  so ``quota: 60`` from TypeScript is the Python API's ``quota=60`` (a non-integral one stays refused).

``python -m spirit_infra.package schema`` prints the schema (``components/schema.json`` is that output,
kept equal by a test).
"""

import ast
import dataclasses
import inspect
import json
import re
import sys
import textwrap
from enum import Enum
from importlib import metadata
from typing import Any

from pulumi.errors import InputPropertiesError, InputPropertyError
from pulumi.provider import main as _provider_main
from pulumi.provider.experimental.analyzer import PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from .args import camel
from .errors import ConfigError, SpiritError
from .settings import setting_of

__all__ = ["NAME", "components", "SpiritComponentProvider", "schema", "serve"]

NAME = "spirit"


def components() -> list[type]:
    """Every public component of every cloud (imports the three cloud SDKs)."""
    from .aws.components import (
        AwsFirewallRouting,
        AwsManagedNat,
        AwsManagementAccess,
        AwsNetwork,
        AwsNetworkFirewall,
        AwsSecurityGroups,
    )
    from .aws.qos_nat import AwsQosNat
    from .azure.components import (
        AzureFirewallPolicy,
        AzureNatGateway,
        AzureNetwork,
        AzureNsg,
        AzureNsgManagement,
        AzureSiteSubnets,
    )
    from .azure.qos_nat import AzureQosNat
    from .gcp.components import (
        GcpCloudNat,
        GcpFirewallPolicy,
        GcpManagementFirewall,
        GcpNetwork,
        GcpVpcFirewall,
    )
    from .gcp.qos_nat import GcpQosNat

    return [AwsSecurityGroups, AwsNetworkFirewall, AwsManagedNat, AwsQosNat, AwsNetwork, AwsFirewallRouting,
            AwsManagementAccess,
            AzureNsg, AzureFirewallPolicy, AzureNatGateway, AzureQosNat, AzureNetwork, AzureSiteSubnets,
            AzureNsgManagement,
            GcpVpcFirewall, GcpFirewallPolicy, GcpCloudNat, GcpQosNat, GcpNetwork, GcpManagementFirewall]


def _version() -> str:
    try:
        return metadata.version("spirit-infra")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout that was never installed
        return "0.0.0"


def args_class(component: type) -> type:
    """The Args dataclass a component's ``__init__`` takes (its ``args`` annotation)."""
    return inspect.get_annotations(component.__init__)["args"]


def _plain_default(f: dataclasses.Field) -> Any:
    """A field's default as the schema writes it (None: no default the schema can hold)."""
    value = f.default
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | float | str) and value != "":
        return value
    return None


_TABLE_ROW = re.compile(r"^\s+(\w+)\s{2,}(\S.*)$")
_FIELD_LINE = re.compile(r"^\s+(\w+)\s*:")


def _attribute_docstrings(source: str) -> dict[str, str]:
    """``field: T`` followed by a string literal, in the first class of ``source`` (as the analyzer reads them)."""
    body = next((n.body for n in ast.parse(textwrap.dedent(source)).body if isinstance(n, ast.ClassDef)), [])
    return {a.target.id: b.value.value for a, b in zip(body, body[1:], strict=False)
            if isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name) and isinstance(b, ast.Expr)
            and isinstance(b.value, ast.Constant) and isinstance(b.value.value, str)}


def field_docs(cls: type) -> dict[str, str]:
    """Each field's documentation where it is not an attribute docstring of ``cls`` itself (which the analyzer
    reads): an attribute docstring of a base class (the analyzer reads the class's own source only), the
    ``#:`` comment lines above the field, or the field's row in the class docstring's table."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        for line in (klass.__doc__ or "").splitlines():
            m = _TABLE_ROW.match(line)
            if m:
                docs[m.group(1)] = m.group(2).strip()
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        docs.update(_attribute_docstrings(source))
        lines = source.splitlines()
        comment: list[str] = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("#:"):
                comment.append(stripped[2:].strip())
                continue
            m = _FIELD_LINE.match(line)
            if m and comment:
                docs[m.group(1)] = " ".join(comment)
            comment = []
    return docs


def _add_defaults(properties: dict, cls: type) -> None:
    by_name = {camel(f.name): f for f in dataclasses.fields(cls)}
    docs = {camel(k): v for k, v in field_docs(cls).items()}
    docs.update({key: s.doc for key, f in by_name.items() if (s := setting_of(f)) is not None})
    for key, prop in properties.items():
        f = by_name.get(key)
        default = _plain_default(f) if f is not None else None
        if default is not None:
            prop["default"] = default
        if not prop.get("description") and key in docs:
            prop["description"] = docs[key]


def _clean_descriptions(value: Any) -> Any:
    """Docstrings as descriptions without their source indentation (the analyzer keeps it)."""
    if isinstance(value, dict):
        return {k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _clean_descriptions(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_descriptions(v) for v in value]
    return value


_CLOUD_REQUIREMENT = re.compile(r"^pulumi-(aws|azure-native|gcp)\b[^;]*>=\s*([0-9][0-9.]*)")


def cloud_dependencies() -> list[dict[str, str]]:
    """The cloud packages the components' resources come from, at the lowest version the project pins
    (the ``>=`` bound of each cloud extra in pyproject.toml, read from the installed distribution's metadata):
    what a consumer's generated SDK must depend on. The analyzer adds none, because no component's input or
    output is a type of those packages."""
    found: dict[str, str] = {}
    for requirement in metadata.requires("spirit-infra") or []:
        match = _CLOUD_REQUIREMENT.match(requirement)
        if match:
            parts = (match.group(2).split(".") + ["0", "0"])[:3]
            found[match.group(1)] = ".".join(parts)
    return [{"name": name, "version": found[name]} for name in sorted(found)]


class SpiritComponentProvider(ComponentProvider):
    """Pulumi's ComponentProvider for the Spirit components: one-line errors, defaults in the schema."""

    def __init__(self, components: list[type], name: str = NAME, namespace: str | None = None,
                 version: str | None = None) -> None:
        super().__init__(components, name, namespace, version or _version())
        spec = json.loads(self.schema)
        for component in components:
            res = spec["resources"][f"{name}:index:{component.__name__}"]
            _add_defaults(res.get("inputProperties", {}), args_class(component))
        for token, typ in spec.get("types", {}).items():
            py = self._type_defs[token.rsplit(":", 1)[1]].python_type
            if dataclasses.is_dataclass(py):
                _add_defaults(typ.get("properties", {}), py)
        spec["dependencies"] = cloud_dependencies()
        self.schema = json.dumps(_clean_descriptions(spec), sort_keys=True, indent=2) + "\n"

    def map_input_properties(self, inputs, properties, mapping, component_name, property_path):
        mapped = super().map_input_properties(inputs, properties, mapping, component_name, property_path)
        for schema_name, prop in properties.items():
            py = mapping[schema_name]
            if py in mapped:
                mapped[py] = _integers(mapped[py], prop)
        return mapped

    def construct(self, name, resource_type, inputs, options=None):
        component = resource_type.rsplit(":", 1)[-1]
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as e:
            if isinstance(e.inner, SpiritError):
                raise _invalid(e.inner) from None
            raise
        except SpiritError as e:  # an enum value (ProfileName) refused while the inputs were mapped
            raise _invalid(e) from None
        except InputPropertyError as e:  # a required input missing: the Python API's own line for it
            definition = self._component_defs.get(component)
            py = definition.inputs_mapping.get(e.property_path, e.property_path) if definition else e.property_path
            if e.reason.startswith("Missing required input"):
                raise _invalid(ConfigError("is required", field=py)) from None
            raise


def _integers(value: Any, prop: Any) -> Any:
    """``value`` with the integral floats of an integer property (or of its items / map values) as ints."""
    if prop.type == PropertyType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.type == PropertyType.ARRAY and prop.items is not None and isinstance(value, list):
        return [_integers(v, prop.items) for v in value]
    if prop.type == PropertyType.OBJECT and prop.additional_properties is not None and isinstance(value, dict):
        return {k: _integers(v, prop.additional_properties) for k, v in value.items()}
    return value


def _invalid(error: SpiritError) -> InputPropertiesError:
    """One ``INVALID_ARGUMENT`` status: the one line as its message, the field (camelCase) as its property."""
    line = str(error)
    field = getattr(error, "field", None) or ""
    path = ".".join(camel(part) for part in field.split("."))
    return InputPropertiesError(line, [{"property_path": path, "reason": line}])


def schema() -> str:
    """The package's schema as the host serves it (sorted JSON, one trailing newline)."""
    return SpiritComponentProvider(components()).schema


def serve(argv: list[str] | None = None) -> None:
    """Run the provider as the engine starts it: ``<plugin dir> <engine address> [flags]`` (prints the port)."""
    _provider_main(SpiritComponentProvider(components()), list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":  # python -m spirit_infra.package schema
    if sys.argv[1:] == ["schema"]:
        sys.stdout.write(schema())
    else:
        sys.exit("usage: python -m spirit_infra.package schema")
