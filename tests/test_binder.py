"""The plan IR and the one binder: references, parameters, lookups, names, parents, aliases, the
camelCase -> snake_case rule against the SDKs' real keyword names, and bad plans failing in one line
before anything is registered."""

from __future__ import annotations

import importlib
import json
import re
import sys

import pulumi
import pulumi_aws as aws
import pytest

from spirit_infra import testing
from spirit_infra.binder import bind, snake
from spirit_infra.errors import SpiritError
from spirit_infra.plan import Json, Lookup, Param, Plan, PlanError, Ref, ResourceSpec

SG = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CLASSES = {SG: aws.ec2.SecurityGroup, EGRESS: aws.vpc.SecurityGroupEgressRule}


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, plan: Plan, params=None, lookups=None):
        super().__init__("test:index:Holder", name, None)
        self.created = bind(plan, self, name, CLASSES, params, lookups)
        self.register_outputs({})


def _plan(**rule_inputs) -> Plan:
    return Plan((
        ResourceSpec(EGRESS, "rule", {"securityGroupId": Ref("sg"), "ipProtocol": "udp", "fromPort": 5060,
                                      "toPort": 5060, **rule_inputs}),
        ResourceSpec(SG, "sg", {"vpcId": Param("vpcId"), "description": "d", "tags": {"someKey": "v"}},
                     aliases=("group",)),
    ))


def test_refs_params_lookups_names_parents_and_aliases():
    plan = _plan(cidrIpv4=Param("cidrs", 1), description=Lookup("echo", "x"), referencedSecurityGroupId=Param("none"))
    rec = testing.run(lambda: Holder("h", plan, {"vpcId": "vpc-1", "cidrs": ["10.0.0.0/8", "192.0.2.0/24"],
                                                 "none": None}, {"echo": lambda k: f"looked-up-{k}"}))
    holder, sg, rule = rec.get("h"), rec.get("h-sg"), rec.get("h-rule")
    # registered in dependency order (the referenced group first), children of the holder
    assert [r.name for r in rec.resources if r.custom] == ["h-sg", "h-rule"]
    assert sg.parent == rule.parent == holder.urn
    assert sg.inputs["vpcId"] == "vpc-1" and sg.inputs["tags"] == {"someKey": "v"}
    assert rule.inputs["securityGroupId"] == sg.id  # the Ref: the group's id as the engine gave it
    assert rule.inputs["cidrIpv4"] == "192.0.2.0/24"  # Param with a key
    assert rule.inputs["description"] == "looked-up-x"  # Lookup
    assert "referencedSecurityGroupId" not in rule.inputs  # a top-level Param bound to None: unset


def test_alias_is_registered_under_the_prefix():
    rec = testing.run(lambda: Holder("h", _plan(cidrIpv4="10.0.0.0/8"), {"vpcId": "v"}))
    print(rec.get("h-sg").options)
    assert "h-group" in str(rec.get("h-sg").options.get("aliases"))
    assert not rec.get("h-rule").options.get("aliases")


def test_json_documents_and_paths_into_outputs():
    """A Json document resolves the references inside it (and depends on them); a Ref's path picks a field of a
    structured output: list indexes, an SDK output type's wire names, a plain mapping's keys; None where missing."""
    ingress = [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}]
    plan = Plan((
        ResourceSpec(SG, "sg", {"vpcId": "v", "tags": {"someKey": "tagged"}, "ingress": ingress}),
        ResourceSpec(EGRESS, "doc", {"securityGroupId": Ref("sg"), "ipProtocol": "-1",
                                     "description": Json({"b": [Ref("sg"), 1], "a": Param("vpcId")})}),
        ResourceSpec(EGRESS, "typed", {"securityGroupId": Ref("sg"), "ipProtocol": "-1",
                                       "cidrIpv4": Ref("sg", "ingress", (0, "cidrBlocks", 0)),
                                       "description": Ref("sg", "tags", ("someKey",))}),
        ResourceSpec(EGRESS, "missing", {"securityGroupId": Ref("sg"), "ipProtocol": "-1",
                                         "cidrIpv4": Ref("sg", "ingress", (3, "cidrBlocks", 0)),
                                         "description": Ref("sg", "ingress", (0, "noSuchField"))}),
    ))
    rec = testing.run(lambda: Holder("h", plan, {"vpcId": "vpc-1"}))
    sg, doc, typed, missing = (rec.get(f"h-{n}") for n in ("sg", "doc", "typed", "missing"))
    assert doc.inputs["description"] == json.dumps({"a": "vpc-1", "b": [sg.id, 1]}, sort_keys=True)
    assert sg.urn in doc.options["dependencies"]  # the document waits for the group
    assert typed.inputs["cidrIpv4"] == "10.0.0.0/8" and typed.inputs["description"] == "tagged"
    assert "cidrIpv4" not in missing.inputs and "description" not in missing.inputs
    # a Json's references are checked with the plan's
    with pytest.raises(PlanError, match=r"spec 'r' input policy.x\[0\]: references 'nope'"):
        Plan((ResourceSpec(EGRESS, "r", {"policy": Json({"x": [Ref("nope")]})}),))


def test_without_a_parent_the_specs_are_the_stacks_children():
    """What a program binds for itself (Azure's resource group): no parent, named <prefix>-<spec>."""
    plan = Plan((ResourceSpec(SG, "sg", {"vpcId": "vpc-1"}, aliases=("old",)),))
    rec = testing.run(lambda: bind(plan, None, "spirit", CLASSES))
    sg = rec.get("spirit-sg")
    assert sg.parent is None and sg.type == SG and sg.inputs["vpcId"] == "vpc-1"
    assert "spirit-old" in str(sg.options.get("aliases"))


@pytest.mark.parametrize("specs, message", [
    ((ResourceSpec(SG, "a"), ResourceSpec(SG, "a")), "two specs are named 'a'"),
    ((ResourceSpec(EGRESS, "r", {"securityGroupId": Ref("nope")}),),
     "spec 'r' input securityGroupId: references 'nope', which is not in the plan"),
    ((ResourceSpec(EGRESS, "r", {"x": [{"y": Ref("missing", "arn")}]}),),
     "spec 'r' input x[0].y: references 'missing'"),
    ((ResourceSpec(SG, "a", {"x": Ref("b")}), ResourceSpec(SG, "b", {"x": Ref("a")})), "in a cycle"),
])
def test_bad_plans_fail_in_one_line_when_built(specs, message):
    with pytest.raises(PlanError) as e:
        Plan(specs)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, SpiritError)


@pytest.mark.parametrize("plan, params, message", [
    (_plan(), {}, "spec 'sg' input vpcId: parameter 'vpcId' is not bound"),
    (Plan((ResourceSpec("aws:no/such:Type", "x"),)), {}, "spec 'x': no SDK class for type 'aws:no/such:Type'"),
    (_plan(description=Lookup("nowhere", "k")), {"vpcId": "v"}, "spec 'rule' input description: no lookup 'nowhere'"),
])
def test_unbindable_plans_register_nothing(plan, params, message):
    errors = []

    def program():
        try:
            Holder("h", plan, params)
        except PlanError as e:
            errors.append(str(e))

    rec = testing.run(program)
    assert len(errors) == 1 and message in errors[0] and "\n" not in errors[0]
    assert [r for r in rec.resources if r.custom] == []  # checked before the first resource


# ---- one camelCase -> snake_case rule, checked against the SDKs' own names --------------------------

#: the classes our renders register, from the three clouds' tables
_TABLES = [("spirit_infra.aws.components", "CLASSES"), ("spirit_infra.gcp.components", "CLASSES"),
           ("spirit_infra.azure.components", "CLASSES")]


def _sdk_names(cls) -> list[tuple[str, str]]:
    """``(wire name, keyword)`` of every input of ``cls``, from its generated Args class."""
    mod = sys.modules[cls.__module__]
    args = getattr(mod, cls.__name__ + "Args", None) or getattr(mod, cls.__name__ + "InitArgs")
    return [(p.fget._pulumi_name, py) for py, p in vars(args).items()
            if isinstance(p, property) and hasattr(p.fget, "_pulumi_name")]


def _all_names() -> list[tuple[str, str, str]]:
    out = []
    for module, table in _TABLES:
        for token, cls in getattr(importlib.import_module(module), table).items():
            out += [(token, w, py) for w, py in _sdk_names(cls)]
    return out


def test_snake_is_every_sdk_keyword_of_every_class_we_register():
    names = _all_names()
    assert len(names) > 300  # every class of the three tables, not a handful
    wrong = [(t, w, py, snake(w)) for t, w, py in names if snake(w) != py]
    assert wrong == []
    # the acronym cases are among them (the ones the former converters got wrong)
    assert ("publicIPAllocationMethod", "public_ip_allocation_method") in {(w, py) for _t, w, py in names}
def test_the_former_converters_bite_on_the_same_names():
    names = _all_names()
    former = [lambda k: re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), k),  # AWS's
              lambda k: re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower()]  # GCP's
    for convert in former:
        assert [w for _t, w, py in names if convert(w) != py], "the check would not catch a wrong converter"
    assert snake("publicIPAllocationMethod") == "public_ip_allocation_method"
    assert snake("cidrIpv4") == "cidr_ipv4" and snake("destFqdns") == "dest_fqdns" and snake("name") == "name"
