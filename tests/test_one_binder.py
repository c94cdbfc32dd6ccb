"""No module of spirit_infra but the binder constructs a cloud SDK resource (issue 14: one binder), and
neither do the repository's programs (``__main__.py``, the component host, the policy pack, scripts/).

The check walks every module's AST (no import of the module itself) and resolves each name that refers
to a cloud SDK (``pulumi_aws``, ``pulumi_azure_native``, ``pulumi_gcp``) however it was bound:
``import pulumi_aws as aws``, ``from pulumi_aws import ec2``, ``from pulumi_aws.ec2 import Vpc``, the
project's ``aws = sdk("aws")`` (:func:`spirit_infra.extras.sdk`), and a plain assignment of one of those
(``Vpc = aws.ec2.Vpc``). A resolved dotted name is looked up in the real SDK; it is a *resource class*
when it is a subclass of :class:`pulumi.Resource` (``aws.ec2.Vpc``, ``azure_native.resources.ResourceGroup``).

Decided here:

- Calling a resource class is constructing a resource: refused everywhere but ``spirit_infra/binder.py``.
- A resource class may be *named* only as a value of a dict literal (a cloud's ``type -> class`` table,
  ``CLASSES``, which only the binder calls); any other use (an assignment, an argument, a return, a
  comparison) could reach a call the walk cannot see, so it is refused too.
- Not resources, allowed anywhere an SDK is used: data-source functions (``aws.ec2.get_managed_prefix_list_output``,
  ``get_*`` invokes are provider functions, not registrations), input types (``*Args`` classes, plain data
  that the binder's callers never register) and enums.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pytest

from spirit_infra.extras import SDKS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "spirit_infra"
BINDER = PACKAGE / "binder.py"
PROGRAMS = [ROOT / "__main__.py", *(ROOT / "components").glob("*.py"), *(ROOT / "policypack").glob("*.py"),
            *(ROOT / "scripts").glob("*.py")]
SDK_MODULES = tuple(SDKS.values())  # pulumi_aws, pulumi_azure_native, pulumi_gcp (the registry's table)


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str  # the dotted name as the SDK spells it, e.g. pulumi_aws.ec2.Vpc
    call: bool

    def __str__(self) -> str:
        verb = "constructs" if self.call else "names (outside a type -> class table)"
        return f"{self.module}:{self.line}: {verb} {self.what}"


def _resolve(dotted: str):
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[:i + 1]))
            except ImportError:
                return None
    return obj


def _is_resource_class(dotted: str) -> bool:
    obj = _resolve(dotted)
    return isinstance(obj, type) and issubclass(obj, pulumi.Resource)


class _Walker(ast.NodeVisitor):
    """Names bound to an SDK (module-wide, in source order) and every resource class reached through them."""

    def __init__(self, module: str):
        self.module = module
        self.names: dict[str, str] = {}  # local name -> dotted SDK path
        self.findings: list[Finding] = []
        self.table_classes: list[str] = []  # resource classes named as values of a dict literal (the tables)
        self._table_values: set[int] = set()  # ids of nodes that are values of a dict literal
        self._callees: set[int] = set()

    def _dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    # ---- bindings ----
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name.split(".")[0] in SDK_MODULES:
                self.names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0 and node.module.split(".")[0] in SDK_MODULES:
            for a in node.names:
                self.names[a.asname or a.name] = f"{node.module}.{a.name}"

    def _sdk_call(self, value: ast.AST) -> str | None:
        """``sdk("aws")`` / ``extras.sdk("aws")`` / ``importlib.import_module("pulumi_aws")``: the SDK module."""
        if not isinstance(value, ast.Call) or len(value.args) != 1 or not isinstance(value.args[0], ast.Constant):
            return None
        fn = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", None)
        arg = value.args[0].value
        if fn == "sdk" and arg in SDKS:
            return SDKS[arg]
        if fn == "import_module" and isinstance(arg, str) and arg.split(".")[0] in SDK_MODULES:
            return arg
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        target = self._sdk_call(node.value) or self._dotted(node.value)
        if target:
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.names[t.id] = target
        self.generic_visit(node)

    # ---- uses ----
    def visit_Dict(self, node: ast.Dict) -> None:
        self._table_values.update(id(v) for v in node.values)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._callees.add(id(node.func))
        self.generic_visit(node)

    def _use(self, node: ast.AST) -> None:
        dotted = self._dotted(node)
        if dotted and _is_resource_class(dotted):
            call = id(node) in self._callees
            if call or id(node) not in self._table_values:
                self.findings.append(Finding(self.module, node.lineno, dotted, call))
            else:
                self.table_classes.append(dotted)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self._dotted(node):
            self._use(node)  # the longest chain; its prefixes are modules, never resource classes
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use(node)


def findings(source: str, module: str = "<test>") -> list[Finding]:
    """Every construction (or loose naming) of a cloud SDK resource class in ``source``."""
    w = _Walker(module)
    w.visit(ast.parse(source))
    return w.findings


def _modules() -> list[Path]:
    return sorted(p for p in [*PACKAGE.rglob("*.py"), *PROGRAMS] if p != BINDER)


def test_no_module_but_the_binder_constructs_a_cloud_resource():
    modules = _modules()
    assert len(modules) > 100 and ROOT / "__main__.py" in modules
    found = [f for p in modules for f in findings(p.read_text(encoding="utf-8"), str(p.relative_to(PACKAGE))
                                                    if p.is_relative_to(PACKAGE) else str(p.relative_to(ROOT)))]
    assert [str(f) for f in found] == []


@pytest.mark.parametrize("module", ["aws", "gcp"])
def test_the_walk_resolves_the_class_tables(module):
    """Not vacuous: through ``aws = sdk("aws")`` the walk resolves every class of the cloud's table (the
    tables the binder is given), so the same resolution would see a call to any of them. (Azure's table
    resolves its classes by type token when first used, not by name: nothing there for the walk to see.)"""
    path = PACKAGE / module / "components.py"
    w = _Walker(module)
    w.visit(ast.parse(path.read_text(encoding="utf-8")))
    table = importlib.import_module(f"spirit_infra.{module}.components").CLASSES
    assert {_resolve(d) for d in w.table_classes} == set(table.values())
    assert len(table) >= 5


@pytest.mark.parametrize("source, expected", [
    ("import pulumi_aws as aws\naws.ec2.Vpc('v')", ["pulumi_aws.ec2.Vpc"]),
    ("import pulumi_aws\npulumi_aws.ec2.Vpc('v')", ["pulumi_aws.ec2.Vpc"]),
    ("from pulumi_aws import ec2\nec2.Vpc('v')", ["pulumi_aws.ec2.Vpc"]),
    ("from pulumi_aws.ec2 import Vpc as V\nV('v')", ["pulumi_aws.ec2.Vpc"]),
    ("from ..extras import sdk\naws = sdk('aws')\naws.ec2.Subnet('s')", ["pulumi_aws.ec2.Subnet"]),
    ("from .. import extras\nazure = extras.sdk('azure')\nazure.resources.ResourceGroup('rg')",
     ["pulumi_azure_native.resources.ResourceGroup"]),
    ("import importlib\ng = importlib.import_module('pulumi_gcp')\ng.compute.Network('n')",
     ["pulumi_gcp.compute.Network"]),
    ("import pulumi_gcp as gcp\nNet = gcp.compute.Network\nNet('n')", ["pulumi_gcp.compute.Network"] * 2),
    ("import pulumi_aws as aws\nmake = aws.ec2.Vpc", ["pulumi_aws.ec2.Vpc"]),  # named outside a table
])
def test_the_check_bites(source, expected):
    assert [f.what for f in findings(source)] == expected


@pytest.mark.parametrize("source", [
    "import pulumi_aws as aws\nCLASSES = {'aws:ec2/vpc:Vpc': aws.ec2.Vpc}",  # a type -> class table
    "import pulumi_aws as aws\naws.ec2.get_managed_prefix_list_output(name='x')",  # a data source (invoke)
    "import pulumi_gcp as gcp\ngcp.compute.InstanceBootDiskArgs(image='debian')",  # an input type
    "import pulumi\npulumi.ComponentResource('t:i:C', 'c')",  # pulumi itself: components are not cloud resources
    "def f(classes, t):\n    return classes[t]('x')",  # what the binder does, through a table
])
def test_what_is_not_a_cloud_resource(source):
    assert findings(source) == []
