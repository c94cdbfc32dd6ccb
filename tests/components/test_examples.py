"""The examples for other languages (examples/yaml, examples/typescript) only use what the schema golden has:
resource types, input property names (and enum values) and output names. They need the Pulumi CLI to run,
which the tests do not have; this is what can be checked without it."""

import json
import re

import pytest
import yaml

from .engine import PACKAGE, ROOT

EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((PACKAGE / "schema.json").read_text(encoding="utf-8"))


def _resource(token: str) -> dict:
    assert token in SCHEMA["resources"], f"{token} is not in components/schema.json"
    return SCHEMA["resources"][token]


def _check_inputs(token: str, props: dict) -> None:
    spec = _resource(token)
    inputs = spec["inputProperties"]
    missing = set(spec.get("requiredInputs", [])) - set(props)
    assert not missing, f"{token}: required inputs {sorted(missing)} not given"
    for key, value in props.items():
        assert key in inputs, f"{token}: no input {key!r}"
        ref = inputs[key].get("$ref", "")
        if ref.startswith("#/types/"):
            typ = SCHEMA["types"][ref[len("#/types/"):]]
            if "enum" in typ:
                assert value in [e["value"] for e in typ["enum"]], f"{token}.{key}: {value!r} is no enum value"
            elif isinstance(value, dict):
                assert set(value) <= set(typ["properties"]), f"{token}.{key}: {sorted(set(value) - set(typ['properties']))}"


def _outputs(token: str) -> set[str]:
    return set(_resource(token)["properties"])


def test_yaml_example_uses_only_the_schema():
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert program["runtime"] == "yaml" and program["packages"] == {"spirit": "../../components"}
    types = {name: r["type"] for name, r in program["resources"].items()}
    assert {"spirit:index:AwsSecurityGroups", "spirit:index:GcpVpcFirewall"} <= set(types.values())
    for res in program["resources"].values():
        _check_inputs(res["type"], res.get("properties", {}))
    refs = re.findall(r"\$\{([\w-]+)\.(\w+)\}", json.dumps(program["outputs"]))
    assert refs
    for name, prop in refs:
        assert prop in _outputs(types[name]), f"{types[name]} has no output {prop!r}"


def _object_literal(text: str, start: int) -> str:
    depth, i = 0, start
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return text[start:i]


def _top_level_keys(literal: str) -> dict[str, str]:
    """The keys of a TypeScript object literal at its top level, with their raw values."""
    body, keys, depth, key_start = literal[1:-1], {}, 0, 0
    parts = []
    for i, ch in enumerate(body):
        depth += {"{": 1, "[": 1, "(": 1, "}": -1, "]": -1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(body[key_start:i])
            key_start = i + 1
    parts.append(body[key_start:])
    for part in filter(str.strip, parts):
        key, _, value = part.partition(":")
        keys[key.strip()] = value.strip()
    return keys


def test_typescript_example_uses_only_the_schema():
    ts = (EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8")
    assert 'import * as spirit from "@pulumi/spirit";' in ts
    package = json.loads((EXAMPLES / "typescript" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["@pulumi/spirit"] == "file:sdks/spirit"
    variables = {}
    for m in re.finditer(r"const (\w+) = new spirit\.(\w+)\(\"[\w-]+\", ", ts):
        token = f"spirit:index:{m.group(2)}"
        props = _top_level_keys(_object_literal(ts, m.end()))
        _check_inputs(token, {k: json.loads(v) if v.startswith('"') else _top_level_keys(v) if v.startswith("{")
                              else v for k, v in props.items()})
        variables[m.group(1)] = token
    assert len(variables) >= 2
    used = re.findall(r"= (\w+)\.(\w+);", ts)
    assert used
    for var, prop in used:
        if var in variables:
            assert prop in _outputs(variables[var]), f"{variables[var]} has no output {prop!r}"


@pytest.mark.parametrize("bad", ["vpcID", "profiles"])
def test_the_check_bites_on_a_misspelt_input(bad):
    with pytest.raises(AssertionError, match=bad):
        _check_inputs("spirit:index:AwsSecurityGroups", {"vpcId": "v", bad: "x"})


def test_the_schema_depends_on_each_cloud_package_at_the_lowest_version_pyproject_pins():
    import tomllib

    extras = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    expected = {}
    for cloud, package in (("aws", "aws"), ("azure", "azure-native"), ("gcp", "gcp")):
        (requirement,) = [r for r in extras[cloud] if r.startswith(f"pulumi-{package}")]
        lowest = requirement.split(">=")[1].split(",")[0].strip()
        expected[package] = ".".join((lowest.split(".") + ["0", "0"])[:3])
    assert {d["name"]: d["version"] for d in SCHEMA["dependencies"]} == expected
    assert [d["name"] for d in SCHEMA["dependencies"]] == sorted(expected)
