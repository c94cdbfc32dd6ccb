"""The component package run the way the Pulumi engine runs it, over the engine's own gRPC protocol (no CLI).

The test hosts a recording Engine + ResourceMonitor (tests/components/engine.py), starts ``python components/
<engine address>``, reads the port it prints and calls GetPluginInfo, GetSchema and Construct for every public
component with camelCase Struct inputs. What the package registers is compared with what the Python API
registers for the same Args under the mock runtime.
"""

import json

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2

from spirit_infra import testing
from spirit_infra.args import OverridesArgs
from spirit_infra.errors import SpiritError
from spirit_infra.package import args_class, components

from .cases import CASES, camel_inputs
from .engine import _UNKNOWN, PACKAGE, STACK_URN, Engine, Package, struct_to_plain

COMPONENTS = {c.__name__: c for c in components()}


@pytest.fixture(scope="module")
def host():
    with Engine() as engine:
        package = Package(engine)
        try:
            yield engine, package
        finally:
            package.close()


def _python_args(component: str, kwargs: dict):
    from spirit_infra.azure.components import SubnetAssociation

    nested = {"overrides": OverridesArgs, "subnet": SubnetAssociation}
    return args_class(COMPONENTS[component])(**{k: nested[k](**v) if k in nested else v for k, v in kwargs.items()})


def _construct(package: Package, engine: Engine, component: str, name: str, inputs: dict, *, preview: bool = False):
    engine.reset()
    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = provider_pb2.ConstructRequest(
        project="spirit-infra", stack="test", organization="organization", dryRun=preview,
        monitorEndpoint=engine.address, type=f"spirit:index:{component}", name=name, parent=STACK_URN, inputs=struct)
    return package.stub.Construct(request, timeout=120)


def test_plugin_info_and_schema_equal_the_golden(host):
    _engine, package = host
    from importlib import metadata

    assert package.stub.GetPluginInfo(empty_pb2.Empty()).version == metadata.version("spirit-infra")
    served = package.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema
    assert served == (PACKAGE / "schema.json").read_text(encoding="utf-8"), (
        "the schema the package serves differs from components/schema.json: a component's Args or outputs "
        "changed; review and run `make components-schema` (python -m spirit_infra.package schema)")
    spec = json.loads(served)
    assert sorted(spec["resources"]) == sorted(f"spirit:index:{n}" for n in COMPONENTS)


@pytest.mark.parametrize("component", sorted(CASES))
def test_construct_registers_what_the_python_api_registers(host, component):
    engine, package = host
    name, kwargs = CASES[component]
    response = _construct(package, engine, component, name, camel_inputs(kwargs))
    assert response.urn == f"urn:pulumi:test::spirit-infra::spirit:index:{component}::{name}"
    rec = testing.run(lambda: COMPONENTS[component](name, _python_args(component, kwargs)), preview=False)
    python = [{"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs} for r in rec.resources]
    # the mock runtime records a top-level resource without a parent; Construct passes the stack's URN
    served = [{"type": r["type"], "name": r["name"], "parent": None if r["parent"] == STACK_URN else r["parent"],
               "inputs": r["inputs"]} for r in engine.registered]
    assert len(served) > 1 and served[0]["type"] == f"spirit:index:{component}"
    assert sorted(served, key=json.dumps) == sorted(python, key=json.dumps)
    # every child is the component's; the outputs come back, the same as the Python API registers them
    assert {r["parent"] for r in served[1:]} <= {response.urn} | {r["urn"] for r in engine.registered}
    assert struct_to_plain(response.state) == rec.get(name).outputs == engine.outputs[response.urn]


def test_a_constructed_renamed_component_aliases_its_old_type(host):
    """Over Construct too, the component carries the alias of its old token, under its own parent: the engine
    resolves it to the old URN and gives each child the matching alias (children carry none of their own)."""
    engine, package = host
    name, kwargs = CASES["AzureNsg"]
    _construct(package, engine, "AzureNsg", name, camel_inputs(kwargs))
    comp, *children = engine.registered
    assert comp["aliases"] == [{"spec": {"parentUrn": STACK_URN, "type": "spirit:index:SpiritNsg"}}] or \
        comp["aliases"] == [{"spec": {"parentUrn": "", "type": "spirit:index:SpiritNsg"}}], comp["aliases"]
    assert children and all(not any(a["spec"].get("type", "").startswith("spirit:") for a in c["aliases"])
                            for c in children)


@pytest.mark.parametrize("component,unknown,child_type", [
    ("AwsSecurityGroups", "vpcId", "aws:ec2/securityGroup:SecurityGroup"),
    ("GcpVpcFirewall", "network", "gcp:compute/firewall:Firewall"),
    ("AzureNsg", "resourceGroupName", "azure-native:network:NetworkSecurityGroup")])
def test_preview_with_unknown_inputs(host, component, unknown, child_type):
    """A preview where an input is another resource's output not known yet: Construct still plans and registers
    everything, the unknown passed through to the children that take it; the known outputs come back."""
    engine, package = host
    name, kwargs = CASES[component]
    response = _construct(package, engine, component, name, {**camel_inputs(kwargs), unknown: _UNKNOWN}, preview=True)
    assert response.urn.endswith(f"::{name}")
    takers = [r for r in engine.registered if r["type"] == child_type]
    assert takers and all(r["inputs"][unknown] == testing.COMPUTED for r in takers)
    with_unknown = sorted((r["type"], r["name"]) for r in engine.registered)
    known = _construct(package, engine, component, name, camel_inputs(kwargs), preview=True)
    assert sorted((r["type"], r["name"]) for r in engine.registered) == with_unknown  # the same plan either way
    state = struct_to_plain(response.state)
    assert state["widened"] == struct_to_plain(known.state)["widened"]


def _python_error(component: str, kwargs: dict) -> str:
    with pytest.raises(SpiritError) as e:
        COMPONENTS[component]("x", _python_args(component, kwargs))
    return str(e.value)


BAD = [
    ("missing-required", "AwsSecurityGroups", {"profile": "sbc"}, {"vpc_id": None, "profile": "sbc"}),
    ("wrong-enum", "AwsSecurityGroups", {"vpcId": "vpc-1", "profile": "desk"}, {"vpc_id": "vpc-1", "profile": "desk"}),
    ("bad-cidr", "AwsManagementAccess", {"vpcId": "vpc-1", "managementCidrs": ["10.0.0.0/33"]},
     {"vpc_id": "vpc-1", "management_cidrs": ["10.0.0.0/33"]}),
    ("bad-override-cidr", "GcpVpcFirewall", {"network": "n", "overrides": {"extraSpiritCidrs": ["10.0.0.1/8"]}},
     {"network": "n", "overrides": {"extra_spirit_cidrs": ["10.0.0.1/8"]}}),
    ("bad-subnet-cidr", "AzureNatGateway", {"resourceGroupName": "rg", "subnet": {"virtualNetworkName": "v",
                                                                                 "addressPrefix": "nope"}},
     {"resource_group_name": "rg", "subnet": {"virtual_network_name": "v", "address_prefix": "nope"}}),
    ("wrong-tier", "AzureFirewallPolicy", {"profile": "sbc", "resourceGroupName": "rg", "tier": "Basic"},
     {"profile": "sbc", "resource_group_name": "rg", "tier": "Basic"}),
    ("wrong-logging", "GcpCloudNat", {"network": "n", "logging": "verbose"}, {"network": "n", "logging": "verbose"}),
    ("quota", "AwsSecurityGroups", {"vpcId": "vpc-1", "profile": "phones", "quota": 2},
     {"vpc_id": "vpc-1", "profile": "phones", "quota": 2}),
    # declared settings (spirit_infra/settings.py): the declaration's range and type, as in the Python API
    ("quota-range", "AwsSecurityGroups", {"vpcId": "vpc-1", "quota": 0}, {"vpc_id": "vpc-1", "quota": 0}),
    ("keepalive-range", "GcpCloudNat", {"network": "n", "sipKeepaliveSeconds": 4},
     {"network": "n", "sip_keepalive_seconds": 4}),
    ("keepalive-not-integral", "AwsManagedNat", {"sipKeepaliveSeconds": 29.5}, {"sip_keepalive_seconds": 29.5}),
    ("strict-not-boolean", "AzureNsg", {"profile": "sbc", "resourceGroupName": "rg", "strict": "yes"},
     {"profile": "sbc", "resource_group_name": "rg", "strict": "yes"}),
]


@pytest.mark.parametrize("case,component,inputs,python", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_are_one_line_grpc_errors_like_the_python_api(host, case, component, inputs, python):
    engine, package = host
    expected = _python_error(component, python)
    with pytest.raises(grpc.RpcError) as e:
        _construct(package, engine, component, "x", inputs)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details() == expected and "\n" not in expected
    assert engine.registered == []  # plan first: nothing registered, not even the component
