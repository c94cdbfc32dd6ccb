"""One validation path: every entry point refuses the same bad override values with the same one line.

The entry points are an override file (``--overrides``), a stack's ``spirit:overrides``, the CLI flag
``aws render --extra-cidr`` and the Python API (``Overrides(...)``, also as given to a component's Args).
Each bad value in :data:`BAD_CIDRS` goes through every entry point; each must fail with exit 2 / a
:class:`SpiritError`, one line, and the same ``<what is wrong>`` text, located in that entry point's terms.
"""

from __future__ import annotations

import json

import pytest
from hostile import BAD_CIDRS

from spirit_infra.cli import main
from spirit_infra.errors import ConfigError, SpiritError
from spirit_infra.profiles import Overrides, SbcPorts, build_profile

IDS = [c[0] for c in BAD_CIDRS]


def _api(values) -> str:
    with pytest.raises(SpiritError) as e:
        build_profile("phones", Overrides(extra_spirit_cidrs=tuple(values)))
    assert isinstance(e.value, ConfigError)
    return str(e.value)


def _yaml_list(values) -> str:
    return json.dumps(values)  # JSON is YAML: the same values, typed the same


def _cli(argv, capsys) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, (out, err)
    assert err.startswith("error: ")
    return err[len("error: "):-1]


@pytest.mark.parametrize("case", BAD_CIDRS, ids=IDS)
def test_python_api(case):
    _id, values, fragment = case
    line = _api(values)
    assert fragment in line and "\n" not in line, line
    assert line.startswith("Overrides: extra_spirit_cidrs"), line


@pytest.mark.parametrize("case", BAD_CIDRS, ids=IDS)
def test_component_args(case):
    """What a component receives is the Python API: its Args refuse before anything is registered."""
    from spirit_infra.aws.components import AwsSecurityGroupsArgs

    _id, values, fragment = case
    with pytest.raises(ConfigError, match="extra_spirit_cidrs"):
        AwsSecurityGroupsArgs(vpc_id="vpc-1", profile="phones", overrides=Overrides(extra_spirit_cidrs=tuple(values)))


@pytest.mark.parametrize("case", BAD_CIDRS, ids=IDS)
def test_override_file(case, tmp_path, capsys):
    _id, values, fragment = case
    f = tmp_path / "ov.yaml"
    f.write_text(f"extra_spirit_cidrs: {_yaml_list(values)}\n")
    line = _cli(["flows", "--profile", "phones", "--overrides", str(f)], capsys)
    assert line.startswith(f"{f}:1: extra_spirit_cidrs"), line
    assert fragment in line
    assert line.split(": ", 2)[-1] == _api(values).split(": ", 2)[-1]  # the same <what>


@pytest.mark.parametrize("case", BAD_CIDRS, ids=IDS)
def test_stack_config(case, tmp_path, capsys):
    _id, values, fragment = case
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text("config:\n  spirit:cloud: aws\n  spirit:profile: phones\n  spirit:overrides:\n"
                     f"    extra_spirit_cidrs: {_yaml_list(values)}\n")
    line = _cli(["preview", "--config", str(stack)], capsys)
    assert line.startswith(f"{stack}:5: spirit:overrides.extra_spirit_cidrs"), line
    assert fragment in line
    api = _api(values)
    assert line.split(": ", 2)[-1] == api.split(": ", 2)[-1]  # the same <what>


@pytest.mark.parametrize("case", BAD_CIDRS, ids=IDS)
def test_cli_flag(case, capsys):
    """Flags are strings: the flag carries each value's text, and is refused with the API's message for it."""
    _id, values, fragment = case
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    argv = ["aws", "render", "--profile", "phones"]
    for t in texts:
        argv += [f"--extra-cidr={t}"]
    line = _cli(argv, capsys)
    assert line.startswith("--extra-cidr: "), line
    assert line[len("--extra-cidr: "):] == _api(texts).split(": ", 2)[-1]
    if all(isinstance(v, str) for v in values):
        assert fragment in line


@pytest.mark.parametrize("kwargs,fragment", [
    ({"extra_spirit_cidrs": "10.0.0.0/8"}, "extra_spirit_cidrs: expected a list of strings, got str"),
    ({"extra_spirit_cidrs": 5}, "extra_spirit_cidrs: expected a list of strings, got int 5"),
    ({"ztp_vendors_drop": "ztp.polycom.com"}, "ztp_vendors_drop: expected a list of strings, got str"),
    ({"ztp_vendors_drop": ("not a name",)}, "ztp_vendors_drop[0]: 'not a name' is not a valid DNS name"),
    ({"sbc": "5060"}, "sbc: expected SbcPorts, got str"),
    ({"sbc": SbcPorts(sip=((0, 10),))}, "sbc.sip_ports[0][0]: 0 is out of range"),
    ({"sbc": SbcPorts(sip=((5061, 5060),))}, "sbc.sip_ports[0]: reversed range [5061, 5060]"),
    ({"sbc": SbcPorts(sip=5060)}, "sbc.sip_ports: expected ranges like ((5060, 5061),), got 5060"),
    ({"sbc": SbcPorts(sip=(("a", "b"),))}, "sbc.sip_ports[0][0]: expected integer, got a string ('a')"),
    ({"sbc": SbcPorts(media=((5060, 5070),))}, "sbc.media_ports: the media range overlaps the SIP ports"),
    ({"catalogue": 3}, "catalogue: expected string, got an integer (3)"),
])
def test_python_api_wrong_types_are_one_line(kwargs, fragment):
    """Wrong types give the same ConfigError as a file would, never AddrFormatError/AttributeError/ValueError."""
    with pytest.raises(ConfigError) as e:
        Overrides(**kwargs)
    assert str(e.value) == f"Overrides: {fragment}" or str(e.value).startswith(f"Overrides: {fragment}"), str(e.value)


def test_good_values_pass_every_entry_point(tmp_path, capsys):
    """The refusals above are not everything being refused."""
    ov = Overrides(extra_spirit_cidrs=("192.0.2.0/24",))
    assert "192.0.2.0/24" in build_profile("phones", ov).spirit_cidrs
    assert main(["aws", "render", "--profile", "phones", "--extra-cidr", "192.0.2.0/24", "--json"]) == 0
    assert "192.0.2.0/24" in capsys.readouterr().out
    f = tmp_path / "ov.yaml"
    f.write_text("extra_spirit_cidrs: [192.0.2.0/24]\n")
    assert main(["flows", "--profile", "phones", "--overrides", str(f)]) == 0
    assert "192.0.2.0/24" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["aws", "render", "--profile", "sbc", "--quota", "٦٠"],
    ["azure", "render", "--profile", "sbc", "--priority-start", "١٠٠٠"],
    ["gcp", "nat", "--keepalive", "٣٠"],
    ["nat", "render", "--profile", "phones", "--lan-if", "ens6", "--wan-if", "ens5", "--sip-keepalive", "٣٠"],
])
def test_integer_flags_take_ascii_digits_only(argv, capsys):
    """int() reads Arabic-Indic digits ('٦٠' is 60); a flag, like a stack key, refuses them in one line."""
    with pytest.raises(SystemExit) as e:  # argparse's own refusal (exit 2, one line)
        main(argv)
    out, err = capsys.readouterr()
    assert e.value.code == 2 and out == "" and err.count("\n") == 1, (out, err)
    assert err.startswith("error: ") and err.endswith(f"invalid int value: {argv[-1]!r}\n"), err
    good = [*argv[:-1], str(int(argv[-1]))]  # the same number in ASCII digits is accepted
    assert main(good) == 0
    capsys.readouterr()
