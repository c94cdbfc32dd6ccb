"""The mock-runtime engine (spirit_infra.testing): recording, determinism, and what a real engine refuses."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest

from spirit_infra import testing
from spirit_infra.errors import ConfigError, SpiritError

SG = "aws:ec2/securityGroup:SecurityGroup"
FW = "gcp:compute/firewall:Firewall"
STACK_URN = "urn:pulumi:test::spirit-infra::pulumi:pulumi:Stack::spirit-infra-test"
DEMO_URN = "urn:pulumi:test::spirit-infra::spirit:index:Demo::edge"


class Demo(pulumi.ComponentResource):
    """A component shaped like ours: children parented, named f"{name}-suffix", register_outputs last."""

    def __init__(self, name: str, cidr: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("spirit:index:Demo", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Spirit SBC signalling",
            vpc_id="vpc-0123",
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="udp", from_port=5060, to_port=5061, cidr_blocks=[cidr], description="SIP")],
            tags={"spirit": "sbc"},
            opts=child,
        )
        self.fw = gcp.compute.Firewall(
            f"{name}-fw",
            network="default",
            direction="INGRESS",
            priority=1000,
            source_ranges=[cidr],
            allows=[gcp.compute.FirewallAllowArgs(protocol="udp", ports=["5060-5061"])],
            # an input that depends on another child's output
            description=self.sg.id.apply(lambda i: f"mirrors {i}"),
            opts=child,
        )
        self.register_outputs({"sgId": self.sg.id, "fwName": self.fw.name})


def demo_program():
    cidr = pulumi.Config("spirit").require("cidr")
    demo = Demo("edge", cidr)
    pulumi.export("sgId", demo.sg.id)
    pulumi.export("sgArn", demo.sg.arn)
    pulumi.export("cloud", pulumi.Config("spirit").get("cloud"))


CONFIG = {"spirit:cidr": "198.51.100.0/24", "spirit:cloud": "aws"}


def test_records_component_children_types_names_parents_and_inputs():
    rec = testing.run(demo_program, config=CONFIG)

    assert [r.name for r in rec.resources] == ["edge-sg", "edge-fw", "edge"]  # sorted by URN ("$" < ":")
    demo = rec.get("edge")
    assert demo.type == "spirit:index:Demo"
    assert demo.urn == DEMO_URN
    assert demo.custom is False and demo.id is None
    assert demo.parent is None  # direct child of the stack
    assert rec.stack_urn == STACK_URN
    assert rec.children_of(None) == [demo] == rec.children_of(STACK_URN)

    sg = rec.get("edge-sg")
    assert sg.type == SG and sg.custom is True
    assert sg.urn == "urn:pulumi:test::spirit-infra::spirit:index:Demo$aws:ec2/securityGroup:SecurityGroup::edge-sg"
    assert sg.parent == DEMO_URN
    assert sg.id == "edge-sg-id"
    assert sg.inputs == {
        "description": "Spirit SBC signalling",
        "vpcId": "vpc-0123",
        "ingress": [{"protocol": "udp", "fromPort": 5060, "toPort": 5061,
                     "cidrBlocks": ["198.51.100.0/24"], "description": "SIP"}],
        "tags": {"spirit": "sbc"},
    }
    assert isinstance(sg.inputs["ingress"][0]["fromPort"], int)  # not 5060.0

    fw = rec.get("edge-fw", FW)
    assert fw.parent == DEMO_URN
    assert fw.inputs["sourceRanges"] == ["198.51.100.0/24"]
    assert fw.inputs["allows"] == [{"protocol": "udp", "ports": ["5060-5061"]}]
    assert fw.inputs["description"] == "mirrors edge-sg-id"
    assert fw.inputs["priority"] == 1000
    assert fw.options["dependencies"] == [sg.urn]  # implicit through the Output input

    assert [r.name for r in rec.children_of(DEMO_URN)] == ["edge-sg", "edge-fw"]  # aws:... < gcp:...
    assert rec.by_type(SG) == [sg] and rec.by_type(FW) == [fw]
    assert demo.outputs == {"sgId": "edge-sg-id", "fwName": "edge-fw"}


def test_stack_outputs_and_config_visible_to_the_program():
    rec = testing.run(demo_program, config=CONFIG)
    assert rec.outputs == {
        "sgId": "edge-sg-id",
        "sgArn": "arn:aws:ec2:us-east-1:123456789012:securitygroup/edge-sg",
        "cloud": "aws",
    }
    rec = testing.run(demo_program, config={**CONFIG, "spirit:cloud": "gcp", "aws:region": "eu-west-1"})
    assert rec.outputs["cloud"] == "gcp"
    assert rec.outputs["sgArn"].startswith("arn:aws:ec2:eu-west-1:")


def test_config_keys_values_and_secrets():
    seen = {}

    def program():
        cfg = pulumi.Config()  # the project's namespace
        seen["flag"] = cfg.require_bool("flag")
        seen["ports"] = cfg.require_object("ports")
        seen["token"] = pulumi.Config("spirit").get_secret("token")
        seen["missing"] = pulumi.Config("spirit").get("cloud")
        seen["project"], seen["stack"] = pulumi.get_project(), pulumi.get_stack()

    testing.run(program, config={"flag": True, "ports": [5060, 5061], "spirit:token": "t0k"},
                secret_keys=["spirit:token"], project="proj", stack="dev")
    assert seen["flag"] is True
    assert seen["ports"] == [5060, 5061]
    assert isinstance(seen["token"], pulumi.Output)
    assert seen["missing"] is None
    assert (seen["project"], seen["stack"]) == ("proj", "dev")


def test_config_does_not_leak_between_runs():
    seen = []
    testing.run(lambda: None, config={"spirit:cloud": "azure"})
    testing.run(lambda: seen.append(pulumi.Config("spirit").get("cloud")))
    assert seen == [None]


def test_two_runs_give_identical_json():
    first = testing.run(demo_program, config=CONFIG).to_json()
    testing.run(lambda: aws.ec2.SecurityGroup("unrelated"))  # something else in between
    second = testing.run(demo_program, config=CONFIG).to_json()
    assert first == second
    data = json.loads(first)
    assert [r["name"] for r in data["resources"]] == ["edge-sg", "edge-fw", "edge"]
    assert first == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_duplicate_urn_is_refused():
    def program():
        Demo("edge", "10.0.0.0/8")
        Demo("edge", "10.0.0.0/8")

    with pytest.raises(testing.EngineError) as info:
        testing.run(program)
    assert isinstance(info.value, SpiritError)
    errors = info.value.errors
    assert any(e.startswith(f"duplicate URN {DEMO_URN}:") for e in errors)
    assert any("securityGroup:SecurityGroup::edge-sg" in e for e in errors)
    assert info.value.recording is not None


def test_same_name_under_different_parent_types_is_not_a_duplicate():
    class Other(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("spirit:index:Other", name, None, None)
            aws.ec2.SecurityGroup("shared-name", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    def program():
        Other("o")
        aws.ec2.SecurityGroup("shared-name")

    rec = testing.run(program)
    assert sorted(r.urn for r in rec.by_type(SG)) == [
        "urn:pulumi:test::spirit-infra::aws:ec2/securityGroup:SecurityGroup::shared-name",
        "urn:pulumi:test::spirit-infra::spirit:index:Other$aws:ec2/securityGroup:SecurityGroup::shared-name",
    ]


def test_nested_components_get_the_full_type_chain():
    class Outer(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("spirit:index:Outer", name, None, None)
            Demo(f"{name}-demo", "10.0.0.0/8", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    rec = testing.run(lambda: Outer("o"))
    assert rec.get("o-demo-sg").urn == (
        "urn:pulumi:test::spirit-infra::spirit:index:Outer$spirit:index:Demo$aws:ec2/securityGroup:SecurityGroup"
        "::o-demo-sg")
    assert rec.get("o-demo-sg").parent == rec.get("o-demo").urn
    assert rec.get("o-demo").parent == rec.get("o").urn


def test_resource_created_inside_apply_is_refused():
    def program():
        sg = aws.ec2.SecurityGroup("sg")
        sg.id.apply(lambda i: aws.ec2.SecurityGroup("late", description=i))

    with pytest.raises(testing.EngineError) as info:
        testing.run(program)
    assert len(info.value.errors) == 1
    assert "SecurityGroup::late was created inside an Output.apply callback" in info.value.errors[0]

    rec = testing.run(program, strict=False)
    assert len(rec.errors) == 1 and rec.get("late").inputs == {"description": "sg-id"}


def test_component_created_inside_output_all_apply_is_refused():
    def program():
        a = aws.ec2.SecurityGroup("a")
        b = aws.ec2.SecurityGroup("b")
        pulumi.Output.all(a.id, b.id).apply(lambda ids: Demo("late", "10.0.0.0/8"))

    rec = testing.run(program, strict=False)
    flagged = sorted(e.split(" ")[1].rsplit("::", 1)[1] for e in rec.errors)
    assert flagged == ["late", "late-fw", "late-sg"]


def test_apply_without_resources_is_fine_and_patch_is_removed():
    original = pulumi.Output.apply
    rec = testing.run(lambda: pulumi.export("x", aws.ec2.SecurityGroup("a").id.apply(str.upper)))
    assert rec.errors == [] and rec.outputs == {"x": "A-ID"}
    assert pulumi.Output.apply is original


class Boom(Exception):
    pass


def test_program_exception_propagates_unchanged_and_silently(capfd):
    def program():
        aws.ec2.SecurityGroup("a")
        raise ConfigError("spirit:cloud must be one of aws, azure, gcp", field="spirit:cloud")

    with pytest.raises(ConfigError, match="spirit:cloud must be one of"):
        testing.run(program)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_exception_inside_apply_propagates_unchanged(capfd):
    def program():
        sg = aws.ec2.SecurityGroup("a")
        aws.ec2.SecurityGroup("b", description=sg.id.apply(lambda _: (_ for _ in ()).throw(Boom("in apply"))))

    with pytest.raises(Boom, match="in apply"):
        testing.run(program)
    assert capfd.readouterr() == ("", "")
    # and the runtime is usable again afterwards
    assert testing.run(demo_program, config=CONFIG).get("edge-sg").id == "edge-sg-id"


def test_async_program_and_exception_in_async_program():
    async def program():
        pulumi.export("n", 1)

    assert testing.run(program).outputs == {"n": 1}

    async def failing():
        raise Boom("async")

    with pytest.raises(Boom):
        testing.run(failing)


def test_preview_flag_and_computed_placeholder():
    def program():
        sg = aws.ec2.SecurityGroup("a")
        pulumi.export("dry", pulumi.runtime.is_dry_run())
        pulumi.export("prefix", sg.name_prefix)  # not set by the program nor the mock: unknown in preview
        aws.ec2.SecurityGroup("b", description=sg.name_prefix)

    rec = testing.run(program)
    assert rec.outputs == {"dry": True, "prefix": testing.COMPUTED}
    assert rec.get("b").inputs == {"description": "<computed>"}
    rec = testing.run(program, preview=False)
    assert rec.outputs == {"dry": False}
    assert rec.get("b").inputs == {}


def test_secrets_unwrapped_and_listed():
    rec = testing.run(lambda: aws.ec2.SecurityGroup(
        "a", description="plain", tags={"k": pulumi.Output.secret("hidden")}))
    assert rec.get("a").inputs == {"description": "plain", "tags": {"k": "hidden"}}
    assert rec.get("a").secrets == ("tags",)


def test_options_recorded():
    def program():
        a = aws.ec2.SecurityGroup("a")
        aws.ec2.SecurityGroup("b", opts=pulumi.ResourceOptions(
            depends_on=[a], protect=True, ignore_changes=["tags"], delete_before_replace=True,
            aliases=[pulumi.Alias(name="old-b")]))

    b = testing.run(program).get("b")
    assert b.options["dependencies"] == ["urn:pulumi:test::spirit-infra::aws:ec2/securityGroup:SecurityGroup::a"]
    assert b.options["protect"] is True
    assert b.options["ignore_changes"] == ["tags"]
    assert b.options["delete_before_replace"] is True
    assert len(b.options["aliases"]) == 1 and "old-b" in b.options["aliases"][0]


def test_invokes_defaults_and_hooks():
    def program():
        pulumi.export("azs", aws.get_availability_zones().names)
        pulumi.export("region", aws.get_region().region)
        pulumi.export("account", aws.get_caller_identity().account_id)
        pulumi.export("other", aws.get_partition().partition)
        eip = aws.ec2.Eip("nat-eip", domain="vpc")
        pulumi.export("ip", eip.public_ip)
        pulumi.export("eipId", eip.id)

    rec = testing.run(program)
    assert rec.outputs["azs"] == ["us-east-1a", "us-east-1b"]
    assert rec.outputs["region"] == "us-east-1"
    assert rec.outputs["account"] == "123456789012"
    assert rec.outputs["ip"].startswith("203.0.113.")
    assert [i.token for i in rec.invokes] == sorted(i.token for i in rec.invokes)
    assert len(rec.invokes) == 4

    rec = testing.run(
        program, config={"aws:region": "eu-central-1"},
        call_for=lambda token, args: {"partition": "aws-cn"} if token.endswith("getPartition") else None,
        outputs_for=lambda typ, name, inputs: {"publicIp": "192.0.2.7", "id": "eipalloc-1"}
        if typ == "aws:ec2/eip:Eip" else None)
    assert rec.outputs["azs"] == ["eu-central-1a", "eu-central-1b"]
    assert rec.outputs["other"] == "aws-cn"
    assert rec.outputs["ip"] == "192.0.2.7"
    assert rec.outputs["eipId"] == "eipalloc-1" == rec.get("nat-eip").id


def test_get_reports_missing_and_ambiguous_names():
    class Wrap(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("spirit:index:Wrap", name, None, None)
            aws.ec2.SecurityGroup("same", opts=pulumi.ResourceOptions(parent=self))
            self.register_outputs({})

    rec = testing.run(lambda: (Wrap("w"), aws.ec2.SecurityGroup("same")))
    with pytest.raises(KeyError, match="no resource named 'nope'"):
        rec.get("nope")
    with pytest.raises(KeyError, match="2 resources named 'same'"):
        rec.get("same")
    assert rec.get("w", "spirit:index:Wrap").custom is False


def test_run_cannot_be_nested():
    with pytest.raises(RuntimeError, match="cannot be called from inside"):
        testing.run(lambda: testing.run(lambda: None))


def test_pulumi_global_settings_left_as_found():
    from pulumi.runtime import settings

    before = (settings.SETTINGS.monitor, settings.SETTINGS.project, settings.get_root_resource())
    testing.run(demo_program, config=CONFIG)
    assert (settings.SETTINGS.monitor, settings.SETTINGS.project, settings.get_root_resource()) == before


def test_read_resources_and_stack_references_are_recorded():
    def program():
        sg = aws.ec2.SecurityGroup.get("existing", "sg-123")
        pulumi.export("arn", sg.arn)
        pulumi.export("vpc", pulumi.StackReference("org/net/prod").get_output("vpcId"))

    rec = testing.run(program, outputs_for=lambda typ, name, inputs: {"outputs": {"vpcId": "vpc-9"}}
                      if typ == "pulumi:pulumi:StackReference" else None)
    existing = rec.get("existing")
    assert (existing.id, existing.options, existing.custom) == ("sg-123", {"read_id": "sg-123"}, True)
    assert rec.get("org/net/prod").type == "pulumi:pulumi:StackReference"
    assert rec.outputs == {"arn": "arn:aws:ec2:us-east-1:123456789012:securitygroup/existing", "vpc": "vpc-9"}
