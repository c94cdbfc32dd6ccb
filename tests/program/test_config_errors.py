"""Bad stack config: exit 2, exactly one stderr line ``error: <file>:<line>: spirit:<key>: <what>`` naming
the allowed values, and nothing registered (neither by the preview nor by the program itself)."""

from __future__ import annotations

import re

import pulumi
import pytest
import yaml

from spirit_infra import testing
from spirit_infra.cli import main
from spirit_infra.errors import ConfigError, SpiritError
from spirit_infra.preview import find_project
from spirit_infra.preview.stack import _project_defaults, _pulumi_config

from . import ROOT, cli, stderr_lines

BASE = """\
# a valid AWS SBC stack; each case below breaks one thing
config:
  aws:region: ap-southeast-2
  spirit:cloud: aws
  spirit:profile: sbc
  spirit:networkCidr: 10.40.0.0/16
  spirit:sites:
    - name: sbc
      cidr: 10.40.0.0/24
  spirit:firewallLayers: [rules]
  spirit:nat: none
  spirit:strict: true
  spirit:sipKeepaliveSeconds: 30
  spirit:sbcSipPorts: "5060-5061"
  spirit:sbcMediaPorts: "16384-32767"
"""


def _set(key: str, value: str):
    """Replace the line of ``spirit:<key>`` (or add it) with ``value`` (YAML text after the colon)."""
    def edit(text: str) -> str:
        pat = re.compile(rf"^  spirit:{re.escape(key)}:.*(\n    .*)*$", re.M)
        line = f"  spirit:{key}: {value}"
        return pat.sub(lambda _m: line, text, count=1) if pat.search(text) else text + line + "\n"
    return edit


def _sub(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)
    return edit


# (id, edit, field, marker of the reported line (None: no line), fragments the message must contain)
CASES = [
    ("unknown-key", _set("netId", "vpc-1"), "spirit:netId", "spirit:netId:",
     ["unknown key", "known: cloud, profile, networkId"]),
    ("near-miss-key", _set("Nat", "managed"), "spirit:Nat", "spirit:Nat:", ["did you mean spirit:nat?"]),
    ("bad-cloud", _set("cloud", "oci"), "spirit:cloud", "spirit:cloud:", ["'oci'", "aws, azure, gcp"]),
    ("bad-profile", _set("profile", "desk"), "spirit:profile", "spirit:profile:",
     ["'desk'", "phones, communicator, sbc"]),
    ("bad-nat", _set("nat", "gateway"), "spirit:nat", "spirit:nat:", ["'gateway'", "none, managed, qos-instance"]),
    ("bad-layer", _set("firewallLayers", "[rules, waf]"), "spirit:firewallLayers", "spirit:firewallLayers:",
     ["'waf'", "rules, fqdn-firewall"]),
    ("layers-not-a-list", _set("firewallLayers", "rules"), "spirit:firewallLayers", "spirit:firewallLayers:",
     ["expected array"]),
    ("keepalive-word", _set("sipKeepaliveSeconds", "thirty"), "spirit:sipKeepaliveSeconds",
     "spirit:sipKeepaliveSeconds:", ["expected an integer", "'thirty'"]),
    ("keepalive-float", _set("sipKeepaliveSeconds", "29.5"), "spirit:sipKeepaliveSeconds",
     "spirit:sipKeepaliveSeconds:", ["expected integer", "29.5"]),
    ("keepalive-zero", _set("sipKeepaliveSeconds", "0"), "spirit:sipKeepaliveSeconds",
     "spirit:sipKeepaliveSeconds:", ["out of range", "5-3600 seconds"]),
    ("strict-word", _set("strict", "maybe"), "spirit:strict", "spirit:strict:", ["expected boolean"]),
    ("cidr-host-bits", _set("networkCidr", "10.40.0.1/16"), "spirit:networkCidr", "spirit:networkCidr:",
     ["'10.40.0.1/16'", "IPv4 network CIDR"]),
    ("cidr-garbage", _set("networkCidr", "10.40.0.0/33"), "spirit:networkCidr", "spirit:networkCidr:",
     ["IPv4 network CIDR"]),
    ("site-outside", _sub("cidr: 10.40.0.0/24", "cidr: 10.99.0.0/24"), "spirit:sites", "- name: sbc",
     ["10.99.0.0/24 is outside networkCidr 10.40.0.0/16"]),
    ("site-duplicate", _sub("      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n    - name: sbc\n"
                                                          "      cidr: 10.40.1.0/24\n"),
     "spirit:sites", "- name: sbc\n      cidr: 10.40.1", ["item 1: duplicate site name 'sbc'"]),
    ("site-overlap", _sub("      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n    - name: sbc2\n"
                                                        "      cidr: 10.40.0.128/25\n"),
     "spirit:sites", "- name: sbc2", ["10.40.0.128/25 overlaps site 'sbc' 10.40.0.0/24"]),
    ("site-on-the-edge", _sub("cidr: 10.40.0.0/24", "cidr: 10.40.255.0/24"), "spirit:sites", "- name: sbc",
     ["overlaps 10.40.255.240/28", "edge subnet"]),
    ("aws-vpc-too-big", lambda t: _sub("cidr: 10.40.0.0/24", "cidr: 10.0.0.0/24")(
        _set("networkCidr", "10.0.0.0/8")(t)), "spirit:networkCidr", "spirit:networkCidr:", ["/16 to /27"]),
    ("site-bad-name", _sub("- name: sbc", "- name: 1sbc"), "spirit:sites", "- name: 1sbc",
     ["letters, digits or '-'"]),
    ("site-extra-field", _sub("      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n      colour: red\n"),
     "spirit:sites", "- name: sbc", ["'name', 'cidr' and optionally 'zone'"]),
    ("site-zone-unknown", _sub("      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n      zone: d\n"),
     "spirit:sites", "- name: sbc", ["item 0: zone 'd' is not one of spirit:zones (a, b, c)"]),
    ("site-zone-on-gcp", lambda t: _sub("      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n      zone: a\n")(
        _set("cloud", "gcp")(t)), "spirit:sites", "- name: sbc", ["zone 'a' does not apply on gcp", "regional"]),
    ("zones-not-letters", _set("zones", "[a, b2]"), "spirit:zones", "spirit:zones:",
     ["item 1: 'b2' is not a zone suffix"]),
    ("zones-repeated", _set("zones", "[a, b, a]"), "spirit:zones", "spirit:zones:", ["item 2: zone 'a' is listed twice"]),
    ("nat-zone-unknown", _set("natZone", "e"), "spirit:natZone", "spirit:natZone:",
     ["'e' is not one of spirit:zones (a, b, c)"]),
    ("zones-on-azure", lambda t: _set("zones", "[a]")(_set("cloud", "azure")(t)), "spirit:zones", "spirit:zones:",
     ["['a'] does not apply on azure"]),
    ("nat-gateway-per-zone-on-gcp", lambda t: _set("natGatewayPerZone", "false")(_set("cloud", "gcp")(t)),
     "spirit:natGatewayPerZone", "spirit:natGatewayPerZone:", ["False applies to aws only"]),
    ("edge-of-a-zone-overlaps-a-site", lambda t: _set("nat", "managed")(_set("profile", "communicator")(_sub(
        "      cidr: 10.40.0.0/24\n", "      cidr: 10.40.0.0/24\n      zone: a\n    - name: b\n"
        "      cidr: 10.40.255.192/27\n      zone: b\n")(t))), "spirit:sites", "- name: b",
     ["item 1: 10.40.255.192/27 overlaps 10.40.255.208/28, the edge subnet (NAT) of zone 'b'"]),
    ("sbc-ports-garbage", _set("sbcSipPorts", '"50x60"'), "spirit:sbcSipPorts", "spirit:sbcSipPorts:",
     ["'50x60'", "'5060-5061' or '5060,5061'"]),
    ("sbc-ports-reversed", _set("sbcSipPorts", '"5061-5060"'), "spirit:sbcSipPorts", "spirit:sbcSipPorts:",
     ["reversed range '5061-5060'", "low port must come first"]),
    ("sbc-ports-out-of-range", _set("sbcMediaPorts", '"16384-70000"'), "spirit:sbcMediaPorts",
     "spirit:sbcMediaPorts:", ["70000", "1-65535"]),
    ("sbc-ports-overlap", _set("sbcMediaPorts", '"5000-6000"'), "spirit:sbcMediaPorts", "spirit:sbcMediaPorts:",
     ["overlaps the SIP ports"]),
    ("override-cidr", _set("overrides", "{extra_spirit_cidrs: [10.0.0.1/8]}"),
     "spirit:overrides.extra_spirit_cidrs[0]", "spirit:overrides:", ["'10.0.0.1/8'", "host bits"]),
    ("override-unknown", _set("overrides", "{extra_cidrs: [10.0.0.0/8]}"), "spirit:overrides.extra_cidrs",
     "spirit:overrides:", ["unknown key 'extra_cidrs'", "extra_spirit_cidrs"]),
    ("missing-cloud", _sub("  spirit:cloud: aws\n", ""), "spirit:cloud", "config:",
     ["required key is missing", "aws, azure, gcp"]),
    ("existing-vpc-with-nat", lambda t: _set("nat", "managed")(_set("networkId", "vpc-0abc")(t)), "spirit:nat",
     "spirit:nat:", ["'managed'", "existing VPC", "allowed value: none"]),
    ("azure-qos-without-key", lambda t: _set("nat", "qos-instance")(_set("cloud", "azure")(t)),
     "spirit:natSshPublicKey", "spirit:nat:", ["required with nat 'qos-instance' on azure"]),
    ("gcp-existing-network-qos", lambda t: _set("nat", "qos-instance")(
        _set("networkId", "projects/p/global/networks/n")(_set("cloud", "gcp")(t))), "spirit:nat", "spirit:nat:",
     ["'qos-instance'", "none, managed"]),
]


@pytest.fixture
def registrations(monkeypatch):
    """Every resource registration any mock run makes in this test (the root stack excluded)."""
    seen: list[str] = []
    from spirit_infra.preview.engine import RecordingMonitor

    original = RecordingMonitor.RegisterResource

    def spy(self, request):
        if request.type != "pulumi:pulumi:Stack":
            seen.append(f"{request.type}::{request.name}")
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    return seen


def _write(tmp_path, text: str, name: str = "bad"):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


def _line_of(text: str, marker: str) -> int:
    """The line where ``marker`` starts (after indentation); a marker may span lines."""
    lines = text.splitlines()
    return next(i for i in range(1, len(lines) + 1) if "\n".join(lines[i - 1:]).lstrip().startswith(marker))


def _one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    return lines[0]


def test_base_is_valid(tmp_path, capsys, registrations):
    path = _write(tmp_path, BASE, "good")
    assert main(["preview", "--config", str(path), "--json"]) == 0
    assert registrations, "the spy sees registrations when there are some"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_config_one_line_exit_2_nothing_registered(case, tmp_path, capsys, registrations):
    _id, edit, field, marker, fragments = case
    text = edit(BASE)
    path = _write(tmp_path, text)
    assert main(["preview", "--config", str(path)]) == 2
    line = _one_line(capsys)
    prefix = f"error: {path}:{_line_of(text, marker)}: {field}: "
    assert line.startswith(prefix), (line, prefix)
    for f in fragments:
        assert f in line, (f, line)
    assert registrations == []


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_program_refuses_before_registering(case, tmp_path, registrations):
    """The program itself (what `pulumi up` runs) refuses the same config before any registration."""
    _id, edit, field, _marker, fragments = case
    from spirit_infra.program import main as program

    raw = yaml.safe_load(edit(BASE))["config"]
    config = _pulumi_config({**_project_defaults(find_project(ROOT)), **raw})  # strings, as Pulumi hands them
    with pytest.raises(pulumi.RunError) as info:
        testing.run(program, stack="bad", config=config)
    assert isinstance(info.value.__cause__, ConfigError)
    msg = str(info.value)
    assert "\n" not in msg and f"{field}: " in msg and not msg.startswith("error:"), msg
    for f in fragments:
        if not f.startswith(("expected", "'")) and "29.5" not in f:  # types differ once Pulumi stringifies
            assert f in msg, (f, msg)
    assert registrations == []


@pytest.mark.parametrize("text,field,marker,fragment", [
    (BASE + "stack: prod\n", "stack", "stack:", "unknown top-level key 'stack'"),
    (BASE.replace("config:\n", "config: [\n", 1), "(syntax)", None, "YAML syntax error"),
    (BASE + "  spirit:nat: [unclosed\n", "(syntax)", None, "YAML syntax error"),
    (BASE.replace("  spirit:nat: none\n", "  spirit:nat: none\n  spirit:nat: managed\n"), "config.spirit:nat",
     None, "duplicate key 'spirit:nat'"),
    ("config: 3\n", "config", "config:", "a 'config:' mapping"),
], ids=["unknown-top-level-key", "yaml-syntax", "yaml-unclosed", "duplicate-key", "config-not-a-mapping"])
def test_bad_stack_file(text, field, marker, fragment, tmp_path, capsys, registrations):
    path = _write(tmp_path, text)
    assert main(["preview", "--config", str(path)]) == 2
    line = _one_line(capsys)
    m = re.match(rf"error: {re.escape(str(path))}:(\d+): {re.escape(field)}: (.*)$", line)
    assert m, line
    if marker:
        assert int(m.group(1)) == _line_of(text, marker)
    assert fragment in m.group(2)
    assert registrations == []


def test_unknown_stack_name(capsys, registrations):
    assert main(["preview", "--stack", "aws-nope"]) == 2
    line = _one_line(capsys)
    assert line.startswith("error: --stack: no stack 'aws-nope' (known: aws-communicator, ")
    assert "aws-sbc" in line and "gcp-phones" in line
    assert registrations == []


def test_config_file_missing(tmp_path, capsys, registrations):
    path = tmp_path / "Pulumi.gone.yaml"
    assert main(["preview", "--config", str(path)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"error: {path}") and "not found" in line
    assert registrations == []


def test_no_target_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["preview"])
    assert e.value.code == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_through_a_fresh_process(tmp_path):
    path = _write(tmp_path, _set("cloud", "oci")(BASE))
    r = cli("preview", "--config", str(path), "--json")
    assert r.returncode == 2 and r.stdout == ""
    assert stderr_lines(r.stderr) == [f"error: {path}:4: spirit:cloud: 'oci' is not one of: aws, azure, gcp"]


def test_errors_are_spirit_errors():
    assert issubclass(ConfigError, SpiritError) and ConfigError.exit_code == 2
