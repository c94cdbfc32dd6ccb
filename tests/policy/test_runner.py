"""The policy pack's offline runner (spirit_infra/policy/runner.py): a real pack process, driven over the Pulumi analyzer gRPC protocol on 127.0.0.1.

The sample pack (tests/policy/sample_pack) is started once for the module; each test starts from the config the
CLI would send by default. Packs written into tmp_path cover the process edges (environment, crashes, stdout).
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from spirit_infra.errors import SpiritError
from spirit_infra.policy.runner import (
    UNKNOWN,
    PolicyConfigError,
    PolicyPackError,
    PolicyPackServer,
    Secret,
    Violation,
    reconcile_config,
)

pytestmark = pytest.mark.grpc

SAMPLE = Path(__file__).parent / "sample_pack"
SG = "aws:ec2/securityGroup:SecurityGroup"
SIP_DESCRIPTION = "SIP must not be open to the whole internet."
STACK_DESCRIPTION = "A Spirit stack declares at least one security group."


def sg(name: str, *rules: dict, urn: str | None = None) -> dict:
    resource = {"type": SG, "name": name, "properties": {"name": name, "ingress": list(rules)}}
    if urn:
        resource["urn"] = urn
    return resource


def rule(protocol: str, from_port: int, to_port: int, *cidrs: str) -> dict:
    return {"protocol": protocol, "fromPort": from_port, "toPort": to_port, "cidrBlocks": list(cidrs)}


OPEN_SIP = rule("udp", 5060, 5061, "0.0.0.0/0")
URN = "urn:pulumi:dev::spirit::aws:ec2/securityGroup:SecurityGroup::sbc"


@pytest.fixture(scope="module")
def server_module():
    with PolicyPackServer(SAMPLE, timeout=30) as server:
        yield server
    assert not server.alive


@pytest.fixture
def server(server_module):
    server_module.configure()  # the CLI's default config: policy levels and schema defaults
    return server_module


# -- GetAnalyzerInfo and the config sent at start -----------------------------------------------------------------


def test_info_lists_both_policies_with_levels_types_and_schema(server):
    info = server.info()
    assert info["name"] == "spirit-sample"
    assert info["version"] == "0.2.0"  # from PulumiPolicy.yaml, as the CLI reports it
    assert info["supports_config"] is True
    by_name = {p["name"]: p for p in info["policies"]}
    assert list(by_name) == ["no-open-sip", "require-security-group"]
    sip, stack = by_name["no-open-sip"], by_name["require-security-group"]
    assert (sip["policy_type"], sip["enforcement_level"]) == ("resource", "mandatory")
    assert (stack["policy_type"], stack["enforcement_level"]) == ("stack", "advisory")
    assert sip["description"] == SIP_DESCRIPTION
    assert sip["config_schema"] == {
        "properties": {"sipPort": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5060}},
        "required": [],
    }
    assert stack["config_schema"] is None


def test_start_sends_the_reconciled_config_like_the_cli():
    # A fresh pack, analysed before any explicit configure(): the sample pack reads sipPort only from config,
    # so a flagged SG proves the schema default arrived through Configure at start, as the CLI sends it.
    with PolicyPackServer(SAMPLE, config={"require-security-group": "disabled"}) as fresh:
        assert fresh.applied_config == {
            "no-open-sip": {"enforcementLevel": "mandatory", "properties": {"sipPort": 5060}},
            "require-security-group": {"enforcementLevel": "disabled", "properties": {}},
        }
        assert [v.message for v in fresh.analyze(sg("sbc", OPEN_SIP))] == [
            f"{SIP_DESCRIPTION}\ningress[0] opens port 5060 to 0.0.0.0/0"
        ]
        assert fresh.analyze_stack([]) == []


def test_plugin_info_reports_the_policy_sdk_version(server):
    from pulumi_policy.version import VERSION

    assert server.plugin_info() == {"version": VERSION}


# -- Analyze -------------------------------------------------------------------------------------------------------


def test_open_sip_security_group_is_flagged_once_with_policy_and_urn(server):
    violations = server.analyze(sg("sbc", OPEN_SIP, urn=URN))
    assert violations == [
        Violation(
            policy_name="no-open-sip",
            description=SIP_DESCRIPTION,
            message=f"{SIP_DESCRIPTION}\ningress[0] opens port 5060 to 0.0.0.0/0",
            urn=URN,
            enforcement_level="mandatory",
            policy_pack_name="spirit-sample",
            policy_pack_version="0.2.0",
            severity="",
        )
    ]


def test_closed_security_group_passes(server):
    closed = sg("sbc", rule("udp", 5060, 5061, "203.0.113.0/24"), rule("tcp", 443, 443, "0.0.0.0/0"))
    assert server.analyze(closed) == []


def test_all_protocols_rule_is_flagged_and_other_types_are_ignored(server):
    everything = rule("-1", 0, 0, "10.0.0.0/8", "0.0.0.0/0")
    assert [
        v.policy_name for v in server.analyze(sg("sbc", rule("tcp", 22, 22, "0.0.0.0/0"), everything))
    ] == ["no-open-sip"]
    assert "ingress[1]" in server.analyze(sg("sbc", rule("tcp", 22, 22, "0.0.0.0/0"), everything))[0].message
    not_an_sg = {"type": "aws:ec2/instance:Instance", "name": "vm", "properties": {"ingress": [OPEN_SIP]}}
    assert server.analyze(not_an_sg) == []


def test_missing_urn_is_built_from_project_stack_type_and_name(server):
    (violation,) = server.analyze(sg("edge", OPEN_SIP))
    assert violation.urn == f"urn:pulumi:test::test::{SG}::edge"


def test_secret_values_reach_the_pack_in_plain(server):
    secret_rule = rule("udp", 5060, 5060)
    secret_rule["cidrBlocks"] = Secret(["0.0.0.0/0"])
    assert [v.policy_name for v in server.analyze(sg("sbc", secret_rule))] == ["no-open-sip"]


def test_unknown_value_gives_the_preview_diagnostic_not_a_pass_or_a_crash(server):
    violations = server.analyze(
        sg("sbc", rule("udp", 5060, 5060, "0.0.0.0/0")) | {"properties": {"ingress": UNKNOWN}}
    )
    assert len(violations) == 1
    assert violations[0].policy_name == "no-open-sip"
    assert violations[0].enforcement_level == "advisory"
    assert "during preview" in violations[0].message
    assert server.alive


def test_non_json_properties_are_refused_before_any_rpc(server):
    with pytest.raises(TypeError, match=r"sbc\.properties\.ports: set is not JSON-compatible"):
        server.analyze({"type": SG, "name": "sbc", "properties": {"ports": {5060}}})
    with pytest.raises(TypeError, match="does not fit a protobuf number"):
        server.analyze({"type": SG, "name": "sbc", "properties": {"big": 2**60}})
    with pytest.raises(TypeError, match="unknown keys"):
        server.analyze({"type": SG, "name": "sbc", "propertys": {}})
    with pytest.raises(TypeError, match="analyze_stack"):
        server.analyze({"type": SG, "name": "sbc", "parent": URN})


# -- AnalyzeStack --------------------------------------------------------------------------------------------------


def test_stack_without_security_group_is_flagged_by_the_stack_policy(server):
    stack = [
        {"type": "pulumi:pulumi:Stack", "name": "spirit-dev"},
        {
            "type": "aws:s3/bucket:Bucket",
            "name": "logs",
            "parent": "urn:pulumi:test::test::pulumi:pulumi:Stack::spirit-dev",
            "properties": {"bucket": "logs"},
        },
    ]
    assert server.analyze_stack(stack) == [
        Violation(
            policy_name="require-security-group",
            description=STACK_DESCRIPTION,
            message=f"{STACK_DESCRIPTION}\nthe stack has 2 resources and no {SG}",
            urn="",
            enforcement_level="advisory",
            policy_pack_name="spirit-sample",
            policy_pack_version="0.2.0",
        )
    ]


def test_stack_with_security_group_passes_and_resource_policies_do_not_run_in_analyze_stack(server):
    stack = [
        {"type": "pulumi:pulumi:Stack", "name": "spirit-dev"},
        sg("sbc", OPEN_SIP)
        | {
            "dependencies": ["urn:pulumi:test::test::pulumi:pulumi:Stack::spirit-dev"],
            "propertyDependencies": {"vpcId": [], "name": []},
        },
    ]
    assert server.analyze_stack(stack) == []


# -- Configure -----------------------------------------------------------------------------------------------------


def test_disabled_policy_reports_nothing_and_defaults_come_back(server):
    server.configure({"no-open-sip": "disabled"})
    assert server.analyze(sg("sbc", OPEN_SIP)) == []
    server.configure()
    assert [v.enforcement_level for v in server.analyze(sg("sbc", OPEN_SIP))] == ["mandatory"]


def test_enforcement_level_from_config_is_reported(server):
    sent = server.configure(
        {"no-open-sip": {"enforcementLevel": "advisory"}, "require-security-group": "mandatory"}
    )
    assert sent["no-open-sip"] == {"enforcementLevel": "advisory", "properties": {"sipPort": 5060}}
    assert [v.enforcement_level for v in server.analyze(sg("sbc", OPEN_SIP))] == ["advisory"]
    assert [v.enforcement_level for v in server.analyze_stack([])] == ["mandatory"]


def test_all_sets_every_policy_level(server):
    server.configure({"all": "disabled"})
    assert server.analyze(sg("sbc", OPEN_SIP)) == []
    assert server.analyze_stack([]) == []


def test_config_properties_reach_the_policy(server):
    server.configure({"no-open-sip": {"sipPort": 5080}})
    assert server.analyze(sg("sbc", rule("udp", 5060, 5060, "0.0.0.0/0"))) == []
    (violation,) = server.analyze(sg("sbc", rule("tcp", 5080, 5081, "0.0.0.0/0")))
    assert violation.message.endswith("opens port 5080 to 0.0.0.0/0")
    assert violation.enforcement_level == "mandatory"  # properties alone keep the default level


def test_invalid_config_is_refused_like_the_cli_and_the_pack_keeps_its_config(server):
    with pytest.raises(PolicyConfigError) as err:
        server.configure({"no-open-sip": {"sipPort": 0}})
    assert len(err.value.errors) == 1
    assert err.value.errors[0].startswith("no-open-sip: sipPort: 0 is less than the minimum of 1")
    with pytest.raises(PolicyConfigError, match="'blocking' is not a valid enforcement level"):
        server.configure({"no-open-sip": "blocking"})
    with pytest.raises(PolicyConfigError, match="must be a string or object"):
        server.configure({"no-open-sip": 3})
    assert isinstance(err.value, SpiritError)
    assert [v.enforcement_level for v in server.analyze(sg("sbc", OPEN_SIP))] == ["mandatory"]


def test_reconcile_config_is_pure_and_follows_the_cli_order():
    info = {
        "policies": [
            {
                "name": "a",
                "enforcement_level": "mandatory",
                "config_schema": {
                    "properties": {"n": {"type": "integer", "default": 1}, "s": {"type": "string"}},
                    "required": ["s"],
                },
            },
            {"name": "b", "enforcement_level": "advisory", "config_schema": None},
        ],
        "initial_config": {"a": {"enforcementLevel": "advisory", "properties": {"s": "init"}}},
    }
    assert reconcile_config(info) == {
        "a": {"enforcementLevel": "advisory", "properties": {"n": 1, "s": "init"}},
        "b": {"enforcementLevel": "advisory", "properties": {}},
    }
    assert reconcile_config(info, {"a": {"n": 2}, "all": "mandatory"}) == {
        "a": {"enforcementLevel": "mandatory", "properties": {"n": 2, "s": "init"}},
        "b": {"enforcementLevel": "mandatory", "properties": {}},
        "all": {"enforcementLevel": "mandatory", "properties": {}},  # the CLI passes it through too
    }
    no_initial = dict(info, initial_config={})
    with pytest.raises(PolicyConfigError, match="a: 's' is a required property"):
        reconcile_config(no_initial)


# -- the process: how it is started, and how it ends ---------------------------------------------------------------


PROBE_PACK = """
import os
import pulumi
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def probe(args, report_violation):
    if args.name == "die":
        os._exit(3)
    cfg = pulumi.Config("spirit")
    report_violation(
        f"cwd={os.getcwd()} venv={os.environ.get('VIRTUAL_ENV')} project={pulumi.get_project()} "
        f"stack={pulumi.get_stack()} profile={cfg.get('profile')} tags={dict(args.stack_tags)} "
        f"props={sorted(args.props)}")

PolicyPack(name="probe", enforcement_level=EnforcementLevel.ADVISORY,
           policies=[ResourceValidationPolicy(name="probe", description="probe", validate=probe)])
"""


def write_pack(directory: Path, main: str, project: str = "runtime: python\n") -> Path:
    directory.mkdir()
    (directory / "PulumiPolicy.yaml").write_text(project)
    (directory / "__main__.py").write_text(textwrap.dedent(main))
    return directory


def test_pack_runs_in_its_directory_with_the_cli_environment_and_stops_cleanly(tmp_path, monkeypatch):
    venv = Path(sys.prefix)
    pack = write_pack(
        tmp_path / "probe",
        PROBE_PACK,
        f"runtime:\n  name: python\n  options:\n    virtualenv: {venv}\nversion: 1.0.0\n",
    )
    monkeypatch.setenv("PULUMI_CONFIG", '{"spirit:profile": "inherited"}')  # must not leak into the pack
    server = PolicyPackServer(pack, stack_config={"spirit:profile": "sbc"}, project="spirit", stack="dev")
    assert server.python == str(venv / "bin" / "python")
    assert server.command[1:] == ["-u", "-m", "pulumi.policy", "127.0.0.1:1", "."]
    with server:
        pid = server.pid
        server.configure_stack(tags={"team": "voice"})
        # Internal keys ("__" prefix) are dropped, as the CLI marshals with SkipInternalKeys.
        (violation,) = server.analyze(
            {"type": SG, "name": "sbc", "properties": {"name": "sbc", "__defaults": []}}
        )
        assert violation.message == (
            f"probe\ncwd={pack.resolve()} venv={venv} project=spirit stack=dev profile=sbc tags={{'team': 'voice'}} "
            "props=['name']"
        )
        assert violation.urn == f"urn:pulumi:dev::spirit::{SG}::sbc"
        assert violation.policy_pack_version == "1.0.0"
        assert server.alive
    assert not server.alive
    assert server._proc.returncode == 0  # SIGINT: the pack stopped its server and exited normally
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(PolicyPackError, match="not running"):
        server.analyze({"type": SG, "name": "sbc"})


def test_pack_dying_mid_session_is_reported_with_its_status(tmp_path):
    pack = write_pack(tmp_path / "probe", PROBE_PACK)
    with PolicyPackServer(pack, timeout=10) as server:
        with pytest.raises(PolicyPackError, match="pack exited with status 3"):
            server.analyze({"type": SG, "name": "die"})
        assert not server.alive


def test_pack_failing_at_import_surfaces_its_stderr(tmp_path):
    pack = write_pack(
        tmp_path / "broken", "import os\nraise RuntimeError('catalogue missing: spirit.yaml')\n"
    )
    server = PolicyPackServer(pack, timeout=20)
    with pytest.raises(PolicyPackError) as err:
        server.start()
    assert "exited (status 1) before printing its port" in str(err.value)
    assert "RuntimeError: catalogue missing: spirit.yaml" in err.value.stderr
    assert "catalogue missing" in str(err.value)
    assert not server.alive


def test_pack_printing_before_serving_fails_as_with_the_cli(tmp_path):
    main = PROBE_PACK.replace("import os\n", "import os\nprint('loading spirit catalogue')\n", 1)
    server = PolicyPackServer(write_pack(tmp_path / "chatty", main), timeout=20)
    with pytest.raises(PolicyPackError, match=r"non-numeric port to stdout \('loading spirit catalogue'\)"):
        server.start()
    assert not server.alive


def test_project_file_is_checked_before_starting(tmp_path):
    with pytest.raises(PolicyPackError, match="not a policy pack directory"):
        PolicyPackServer(tmp_path)
    node = write_pack(tmp_path / "node", "", "runtime: nodejs\n")
    with pytest.raises(PolicyPackError, match="runtime is 'nodejs'"):
        PolicyPackServer(node)
    missing = write_pack(
        tmp_path / "venvless", "", "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    with pytest.raises(PolicyPackError, match="doesn't appear to be a virtual environment"):
        PolicyPackServer(missing)
