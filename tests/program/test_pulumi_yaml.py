"""Pulumi.yaml: the project the real CLI runs, documenting every key the program reads."""

from __future__ import annotations

import json

import pytest
import yaml

from spirit_infra.stackconfig import KEYS, load_stack_file

from . import ROOT, STACKS, stack_names

PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
PROVIDER_NAMESPACES = {"aws", "azure-native", "gcp"}


def _default(entry):
    return entry["value"] if isinstance(entry, dict) and "value" in entry else entry


def test_project_shape():
    assert PROJECT["name"] == "spirit-infra"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"
    assert PROJECT["stackConfigDir"] == "stacks"
    assert (ROOT / PROJECT.get("main", "__main__.py")).is_file()
    assert PROJECT["description"]


def test_main_only_composes():
    """__main__.py: a docstring, one import, one call; everything else lives in spirit_infra.program."""
    import ast

    body = ast.parse((ROOT / "__main__.py").read_text()).body
    kinds = [type(n).__name__ for n in body]
    assert kinds == ["Expr", "ImportFrom", "Expr"], kinds
    assert isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    assert body[1].module == "spirit_infra.program" and [a.name for a in body[1].names] == ["main"]
    assert ast.unparse(body[2]) == "main()"


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
def test_every_key_documented_with_its_default(key):
    name = f"spirit:{key.name}"
    config = PROJECT["config"]
    if key.required:
        assert name not in config, "a required key has no project default"
    else:
        assert name in config
        assert _default(config[name]) == key.default
    tmpl = PROJECT["template"]["config"][name]
    assert tmpl["description"].startswith(key.description)
    assert f"Type: {key.type}." in tmpl["description"]
    if key.choices:
        assert f"One of: {', '.join(key.choices)}." in tmpl["description"]
    if not key.required:
        d = tmpl["default"]
        assert (json.loads(d) if key.type in ("array", "object") else d) == key.default


def test_no_other_keys_documented():
    names = {f"spirit:{k.name}" for k in KEYS}
    assert set(PROJECT["config"]) <= names
    assert set(PROJECT["template"]["config"]) == names


def _types_anywhere(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "type":
                yield path
            yield from _types_anywhere(v, path + (k,))


def test_no_type_on_keys_outside_the_project_namespace():
    """The real CLI: "Configuration key 'x:y' is not namespaced by the project and should not define a type"."""
    for key, entry in PROJECT["config"].items():
        namespace = key.partition(":")[0] if ":" in key else PROJECT["name"]
        if namespace != PROJECT["name"]:
            assert not (isinstance(entry, dict) and "type" in entry), key
    # and a typed entry (project namespace) is consistent with its default
    for key, entry in PROJECT["config"].items():
        if isinstance(entry, dict) and "type" in entry:
            assert key.partition(":")[0] in (PROJECT["name"], key)


def test_project_defaults_are_valid_config():
    """Project defaults + the two required keys parse: the defaults themselves are valid."""
    from spirit_infra.stackconfig import parse

    raw = {k: _default(v) for k, v in PROJECT["config"].items()}
    cfg = parse({**raw, "spirit:cloud": "aws", "spirit:profile": "communicator"})
    assert cfg.strict is True and cfg.nat == "managed" and cfg.firewall_layers == ("rules",)


@pytest.mark.parametrize("name", stack_names())
def test_stack_file_keys(name):
    path = STACKS / f"Pulumi.{name}.yaml"
    doc = yaml.safe_load(path.read_text())
    assert set(doc) == {"config"}
    known = {f"spirit:{k.name}" for k in KEYS}
    for key in doc["config"]:
        ns = key.partition(":")[0]
        assert key in known or ns in PROVIDER_NAMESPACES, key
    cfg, _raw = load_stack_file(path)
    assert name.startswith(cfg.cloud + "-") and name.endswith("-" + cfg.profile)
    # a provider key belongs to the stack's own cloud
    for key in doc["config"]:
        ns = key.partition(":")[0]
        if ns in PROVIDER_NAMESPACES:
            assert ns == {"aws": "aws", "azure": "azure-native", "gcp": "gcp"}[cfg.cloud], key
    # every example stack is a comment-documented, realistic deployment
    assert path.read_text().startswith("# ")


def test_every_scalar_on_one_line():
    """No multi-line flow scalars: continuation lines indented less than their key are invalid YAML (the
    spec wants them indented past the mapping), though PyYAML accepts them; Pulumi's Go parser or an editor's
    may not. Every line is a comment, blank, a ``key:`` line or a list item."""
    import re

    for n, line in enumerate((ROOT / "Pulumi.yaml").read_text().splitlines(), 1):
        assert not line.strip() or re.match(r"^\s*(#|- |[\w:.-]+:( |$))", line), f"Pulumi.yaml:{n}: {line!r}"
