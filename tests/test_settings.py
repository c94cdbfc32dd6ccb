"""Each setting is declared once (spirit_infra/settings.py): the stack key, the CLI flag, the component Args
field, the pure Options field and the policy-pack property of a setting share its default, range and doc,
because they are derived from it, and a bad value is refused at every entry point with one line naming the
field (or file and key, or flag) and the value."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import spirit_infra
from spirit_infra import settings as S
from spirit_infra.args import camel
from spirit_infra.cli import main
from spirit_infra.errors import ConfigError, SpiritError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "components" / "schema.json").read_text())


def _modules():
    for info in pkgutil.walk_packages(spirit_infra.__path__, "spirit_infra."):
        if info.name.endswith(("__main__", ".agent", ".resolver")):
            continue
        yield importlib.import_module(info.name)


def declared_fields() -> list[tuple[type, dataclasses.Field, S.Setting]]:
    """Every dataclass field of the package made from a declaration (Args, Options, settings)."""
    seen, out = set(), []
    for mod in _modules():
        for obj in vars(mod).values():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj not in seen:
                seen.add(obj)
                out += [(obj, f, s) for f in dataclasses.fields(obj) if (s := S.setting_of(f)) is not None]
    return out


FIELDS = declared_fields()


def _bad_values(s: S.Setting) -> list:
    """Values the declaration refuses: outside each bound, and of the wrong type."""
    bad: list = []
    if s.type in (int, float):
        bad += [v for v in (None if s.ge is None else s.ge - 1, None if s.le is None else s.le + 1) if v is not None]
        bad += [True, "30"] + ([30.5] if s.type is int else [])
    elif s.type is bool:
        bad += [1, "true"]
    elif s.type is str:
        bad += [5] + (["nope"] if s.choices else [])
    return bad


def test_every_setting_is_used_and_fields_take_its_default():
    used = {s.name for _cls, _f, s in FIELDS}
    assert len(FIELDS) >= 40, len(FIELDS)
    for cls, f, s in FIELDS:
        assert f.name == s.name, (cls, f.name)
        got = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert got == s.default, (cls.__name__, f.name, got, s.default)
    # every declaration reaches at least one field (a declaration nothing uses is dead code)
    unused = sorted(k for k, s in S.SETTINGS.items() if s.name not in used and s.stack is None and s.flag is None)
    assert unused == [], unused


def test_args_annotations_are_the_declarations():
    """The component Args' annotations (what Pulumi's analyzer reads) come from the declaration."""
    import inspect

    from spirit_infra.package import args_class, components

    checked = 0
    for component in components():
        cls = args_class(component)
        ann = {}
        for klass in reversed(cls.__mro__):
            ann.update(inspect.get_annotations(klass))
        for f in dataclasses.fields(cls):
            s = S.setting_of(f)
            if s is not None:
                assert ann[f.name] == s.arg, (cls.__name__, f.name)
                checked += 1
    assert checked >= 15, checked


def test_schema_inputs_carry_the_declared_default_and_doc():
    from spirit_infra.package import args_class, components

    checked = 0
    for component in components():
        props = SCHEMA["resources"][f"spirit:index:{component.__name__}"]["inputProperties"]
        for f in dataclasses.fields(args_class(component)):
            s = S.setting_of(f)
            if s is None:
                continue
            prop = props[camel(f.name)]
            assert prop["description"] == s.doc, (component.__name__, f.name)
            assert prop["type"] == {int: "integer", bool: "boolean", str: "string", float: "number"}[s.type]
            assert prop.get("default") == s.default, (component.__name__, f.name)
            checked += 1
    assert checked >= 15, checked


# ---- stack config ------------------------------------------------------------------------------------------

STACK_SETTINGS = [s for s in S.SETTINGS.values() if s.stack]
BASE_STACK = {"spirit:cloud": "aws", "spirit:profile": "sbc", "spirit:nat": "none"}


@pytest.mark.parametrize("s", STACK_SETTINGS, ids=lambda s: s.stack)
def test_stack_key_is_derived(s):
    from spirit_infra.profiles import parse_port_text
    from spirit_infra.stackconfig import KEYS, parse

    key = next(k for k in KEYS if k.name == s.stack)
    assert (key.default, key.description, key.choices) == (s.default, s.doc, s.choices)
    cfg = parse(BASE_STACK)
    got = getattr(cfg, s.name) if hasattr(cfg, s.name) else {  # the SBC's ports live in the overrides
        "sbc_sip_ports": cfg.overrides.sbc.sip, "sbc_media_ports": cfg.overrides.sbc.media}[s.name]
    assert got == (s.default if hasattr(cfg, s.name) else parse_port_text(s.default))


@pytest.mark.parametrize("s", [s for s in STACK_SETTINGS if s.type is not str], ids=lambda s: s.stack)
def test_stack_key_refuses_bad_values_in_one_line(s, tmp_path):
    from spirit_infra.stackconfig import load_stack_file

    for value in [v for v in _bad_values(s) if not isinstance(v, str)]:  # a string is Pulumi's form of a value
        stack = tmp_path / "Pulumi.bad.yaml"
        stack.write_text("config:\n  spirit:cloud: aws\n  spirit:profile: sbc\n  spirit:nat: none\n"
                         f"  spirit:{s.stack}: {json.dumps(value)}\n")
        with pytest.raises(ConfigError) as e:
            load_stack_file(stack)
        line = str(e.value)
        assert line.startswith(f"{stack}:5: spirit:{s.stack}: ") and "\n" not in line, line
        assert repr(value) in line or str(value) in line, line
        if s.type is int and value in (s.ge - 1 if s.ge is not None else None, s.le + 1 if s.le else None):
            assert f"out of range ({s.range_text})" in line, line


# ---- CLI flags ---------------------------------------------------------------------------------------------

#: a command and the arguments it needs besides the flag under test
COMMANDS = {
    ("nat", "render"): ["--profile", "sbc", "--lan-if", "eth0", "--wan-if", "eth0"],
    ("aws", "render"): ["--profile", "sbc"],
    ("azure", "render"): ["--profile", "sbc"],
    ("gcp", "render"): ["--profile", "sbc"],
}


def _subparser(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> argparse.ArgumentParser:
    for word in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


def _flags():
    from spirit_infra.cli.app import build_parser

    parser = build_parser()
    for path in COMMANDS:
        sub = _subparser(parser, path)
        flags = sub.get_default("_spirit_flags") or {}
        for name, flag in flags.items():
            yield path, next(s for s in S.SETTINGS.values() if s.name == name and
                             (s.flag == flag or flag in (f"--{name.replace('_', '-')}", s.flag))), flag, sub


FLAGS = list(_flags())


def test_the_commands_take_declared_flags():
    assert {path for path, *_ in FLAGS} == set(COMMANDS)
    assert len(FLAGS) >= 15, len(FLAGS)


@pytest.mark.parametrize("path,s,flag,sub", FLAGS, ids=[f"{' '.join(p)} {f}" for p, _s, f, _sub in FLAGS])
def test_flag_default_is_the_declaration(path, s, flag, sub):
    assert sub.get_default(s.name) == s.default
    action = next(a for a in sub._actions if flag in a.option_strings)
    assert action.dest == s.name


INT_FLAGS = [(p, s, f) for p, s, f, _sub in FLAGS if s.type is int and (s.ge is not None or s.le is not None)]


@pytest.mark.parametrize("path,s,flag", INT_FLAGS, ids=[f"{' '.join(p)} {f}" for p, _s, f in INT_FLAGS])
def test_flag_refuses_out_of_range_in_one_line(path, s, flag, capsys):
    for value in (s.ge - 1 if s.ge is not None else None, s.le + 1 if s.le is not None else None):
        if value is None:
            continue
        assert main([*path, *COMMANDS[path], flag, str(value)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == f"error: {flag}: {value} is out of range ({s.range_text})\n", err


# ---- component Args and pure Options -------------------------------------------------------------------

def _options_classes():
    """The pure Options dataclasses (no pulumi) with declared fields, and one valid instance's kwargs."""
    from spirit_infra.aws.fqdn import FirewallOptions
    from spirit_infra.aws.rules import SgOptions
    from spirit_infra.azure import fqdn as azure_fqdn
    from spirit_infra.azure import nat as azure_nat
    from spirit_infra.azure.rules import NsgOptions
    from spirit_infra.gcp import nat as gcp_nat
    from spirit_infra.gcp.fqdn import PolicyOptions
    from spirit_infra.gcp.rules import VpcOptions
    from spirit_infra.nat.ruleset import NatOptions
    from spirit_infra.policy.settings import Settings

    return [(SgOptions, {}), (FirewallOptions, {}), (NsgOptions, {}), (VpcOptions, {}), (PolicyOptions, {}),
            (azure_fqdn.FirewallOptions, {}), (azure_nat.NatOptions, {}), (gcp_nat.NatOptions, {}),
            (NatOptions, {"lan_if": "eth0", "wan_if": "eth0"}), (Settings, {})]


def _validated(cls, kwargs):
    from spirit_infra.gcp import nat as gcp_nat

    obj = cls(**kwargs)
    if hasattr(obj, "validate"):
        obj.validate()
    if cls is gcp_nat.NatOptions:  # the Cloud NAT plan validates its options
        gcp_nat.model_nat(obj)
    return obj


def test_every_options_class_with_declared_fields_is_checked():
    from spirit_infra.package import args_class, components

    covered = {cls for cls, _kw in _options_classes()}
    covered |= {base for c in components() for base in args_class(c).__mro__}  # the Args (and their bases)
    assert {cls for cls, _f, _s in FIELDS} <= covered, {cls for cls, _f, _s in FIELDS} - covered


OPTION_CASES = [(cls, kw, f, s, v) for cls, kw in _options_classes() for f in dataclasses.fields(cls)
                if (s := S.setting_of(f)) is not None for v in _bad_values(s)]


@pytest.mark.parametrize("cls,kwargs,f,s,value", OPTION_CASES,
                         ids=[f"{c.__name__}.{f.name}={v!r}" for c, _k, f, _s, v in OPTION_CASES])
def test_options_refuse_bad_values_in_one_line(cls, kwargs, f, s, value):
    _validated(cls, kwargs)  # the base case is valid
    with pytest.raises(ConfigError) as e:
        _validated(cls, {**kwargs, f.name: value})
    line = str(e.value)
    assert line.startswith(f"{f.name}: ") and "\n" not in line and repr(value) in line, line


def _args_bad():
    from components.cases import CASES

    from spirit_infra.args import OverridesArgs
    from spirit_infra.azure.components import SubnetAssociation
    from spirit_infra.package import args_class, components

    nested = {"overrides": OverridesArgs, "subnet": SubnetAssociation}
    for component in components():
        cls = args_class(component)
        declared = [(f.name, s) for f in dataclasses.fields(cls) if (s := S.setting_of(f)) is not None]
        if not declared:
            continue
        _name, kwargs = CASES[component.__name__]
        base = {k: nested[k](**v) if k in nested else v for k, v in kwargs.items()}
        for name, s in declared:
            for v in _bad_values(s):
                yield component.__name__, cls, base, name, v


ARGS_BAD = list(_args_bad())


@pytest.mark.parametrize("component,cls,base,name,value", ARGS_BAD,
                         ids=[f"{c}.{n}={v!r}" for c, _cls, _b, n, v in ARGS_BAD])
def test_args_refuse_bad_values_in_one_line(component, cls, base, name, value):
    cls(**base)
    with pytest.raises(SpiritError) as e:
        cls(**{**base, name: value})
    line = str(e.value)
    assert line.startswith(f"{name}: ") and "\n" not in line and repr(value) in line, line


# ---- policy pack -------------------------------------------------------------------------------------------

POLICY_SETTINGS = [s for s in S.SETTINGS.values() if s.policy]


@pytest.mark.parametrize("s", POLICY_SETTINGS, ids=lambda s: s.policy)
def test_policy_property_is_derived(s):
    from spirit_infra.policy.settings import settings_from
    from spirit_infra.policy.spec import PROPERTIES

    prop = PROPERTIES[s.policy]
    assert prop["type"] == {int: "integer", str: "string"}[s.type]
    assert prop.get("maximum") == s.le and prop["description"].startswith(s.doc)
    unset = prop["default"] in (0, "")
    assert unset == bool(s.stack)  # a stack setting's property is "unset" by default: the stack's applies
    assert getattr(settings_from({}), s.name) == s.default
    if s.type is int:
        for value in (v for v in (s.ge - 1 if s.ge and s.ge > 1 else None, s.le + 1) if v is not None):
            for props, stack, where in (({s.policy: value}, {}, s.policy),
                                        ({}, {f"spirit:{s.stack}": str(value)}, f"spirit:{s.stack}")):
                if not s.stack and stack:
                    continue
                with pytest.raises(ConfigError) as e:
                    settings_from(props, stack)
                assert str(e.value) == f"{where}: {value} is out of range ({s.range_text})"


# ---- one change moves all ----------------------------------------------------------------------------------

MOVE = r"""
import dataclasses, json
from spirit_infra import settings as S
S.SIP_KEEPALIVE = dataclasses.replace(S.SIP_KEEPALIVE, default=45, le=1800)
S.QUOTA = dataclasses.replace(S.QUOTA, default=50)
from spirit_infra.aws.components import AwsSecurityGroupsArgs
from spirit_infra.aws.rules import SgOptions
from spirit_infra.cli.app import build_parser
from spirit_infra.nat.ruleset import NatOptions
from spirit_infra.policy.settings import Settings
from spirit_infra.policy.spec import PROPERTIES
from spirit_infra.stackconfig import parse
nat = build_parser().parse_args(["nat", "render", "--profile", "sbc", "--lan-if", "a", "--wan-if", "a"])
aws = build_parser().parse_args(["aws", "render", "--profile", "sbc"])
print(json.dumps({
    "stack": parse({"spirit:cloud": "aws", "spirit:profile": "sbc", "spirit:nat": "none"}).sip_keepalive_seconds,
    "flag": nat.sip_keepalive_seconds, "options": NatOptions("a", "a").sip_keepalive_seconds,
    "policy": [Settings().sip_keepalive_seconds, PROPERTIES["sipKeepaliveSeconds"]["maximum"]],
    "quota": [aws.quota, SgOptions().quota, AwsSecurityGroupsArgs(vpc_id="v").quota, Settings().quota,
              PROPERTIES["quota"]["default"]],
}))
"""


def test_one_change_to_a_declaration_moves_every_entry_point():
    """A fresh interpreter edits two declarations before anything else imports them: every entry point moves."""
    proc = subprocess.run([sys.executable, "-c", MOVE], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"stack": 45, "flag": 45, "options": 45, "policy": [45, 1800], "quota": [50] * 5}
