"""The QoS NAT renders of the three clouds (pure: ``render_qos_nat -> Plan``): which specs, how they refer to
each other (Ref), what is left to the bind (Param), what a catalogue edit changes (only the live payload),
and bad input refused in one line before any spec exists (and, through the component, before anything
is registered)."""

from __future__ import annotations

import base64
import json

import pytest

from spirit_infra import testing
from spirit_infra.aws import nat as aws_nat
from spirit_infra.azure import nat as azure_nat
from spirit_infra.errors import ConfigError, SpiritError
from spirit_infra.gcp import nat as gcp_nat
from spirit_infra.nat.instance import QosNatSettings
from spirit_infra.plan import Json, Param, Plan, Ref, walk

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"
AWS_NAMES = {"parameter": "/spirit-infra/s-q/ruleset", "role": "s-q-ap-southeast-2-nat", "policy": "s-q-read-ruleset"}
IMAGE = {"publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"}


def live(**settings):
    """A real live plan (boot user data + ruleset payload) for the phones profile."""
    return QosNatSettings(**settings).plan_live(
        "phones", "ens5", {"channel": "test"}, gzipped=True, boot_limit=16384, boot_what="boot",
        payload_limit=65536, payload_what="payload")


def params(plan: Plan) -> set:
    return {(v.name, v.key) for s in plan.specs for _p, v in walk(s.inputs) if isinstance(v, Param)}


def aws(name="q", lv=None, **kw) -> Plan:
    kw = {"profile": "phones", "names": AWS_NAMES, "region": "ap-southeast-2", "instance_type": "t3.small",
          "ami": "ami-1", **kw}
    return aws_nat.render_qos_nat(name, lv or live(), **kw)


def azure(name="z", lv=None, **kw) -> Plan:
    kw = {"profile": "phones", "vm_size": "Standard_B2s", "image": IMAGE, "admin_username": "spiritadmin",
          "ssh_public_key": KEY, **kw}
    return azure_nat.render_qos_nat(name, lv or live(), **kw)


def gcp(name="g", lv=None, **kw) -> Plan:
    kw = {"profile": "phones", "zone": "europe-west1-b", "route_tags": ["spirit"], "machine_type": "e2-small",
          "image": "img", "nat_tag": "spirit-qos-nat", "route_priority": 800, **kw}
    return gcp_nat.render_qos_nat(name, lv or live(), **kw)


# ---- AWS ----------------------------------------------------------------------------------------------

def test_aws_specs_refs_and_params():
    lv = live()
    plan = aws(lv=lv, route_labels=["b", "a"], security_groups=2, channel=True, vpc_cidr="10.0.0.0/16",
               tags={"team": "x"})
    assert [(s.name, s.type.split(":")[-1]) for s in plan.specs] == [
        ("ruleset", "Parameter"), ("role", "Role"), ("read-ruleset", "RolePolicy"), ("profile", "InstanceProfile"),
        ("ssm-endpoint", "SecurityGroup"), ("ssm-endpoint-in", "SecurityGroupIngressRule"),
        ("channel", "SecurityGroup"), ("channel-out", "SecurityGroupEgressRule"), ("ssm", "VpcEndpoint"),
        ("instance", "Instance"), ("eip", "Eip"), ("route-a", "Route"), ("route-b", "Route")]
    ruleset, instance = plan["ruleset"], plan["instance"]
    assert ruleset.inputs["value"] == lv.payload and ruleset.inputs["name"] == AWS_NAMES["parameter"]
    assert instance.inputs["userDataBase64"] == lv.boot and lv.payload not in json.dumps(instance.inputs, default=repr)
    # the role policy is a document naming the parameter's ARN, resolved when bound
    policy = plan["read-ruleset"].inputs["policy"]
    assert isinstance(policy, Json)
    assert policy.value["Statement"] == [{"Effect": "Allow", "Action": "ssm:GetParameter",
                                          "Resource": Ref("ruleset", "arn")}]
    assert plan["profile"].inputs["role"] == Ref("role", "name")
    assert instance.inputs["iamInstanceProfile"] == Ref("profile", "name")
    assert instance.inputs["vpcSecurityGroupIds"] == [Param("securityGroupIds", 0), Param("securityGroupIds", 1),
                                                      Ref("channel")]
    assert plan["channel-out"].inputs["referencedSecurityGroupId"] == Ref("ssm-endpoint")
    assert plan["ssm-endpoint-in"].inputs["cidrIpv4"] == "10.0.0.0/16"
    assert plan["ssm"].inputs["serviceName"] == "com.amazonaws.ap-southeast-2.ssm"
    assert plan["eip"].inputs["instance"] == Ref("instance")
    assert plan["route-a"].inputs["routeTableId"] == Param("routeTableIds", "a")
    assert plan["route-b"].inputs["networkInterfaceId"] == Ref("instance", "primaryNetworkInterfaceId")
    assert params(plan) == {("subnetId", None), ("vpcId", None), ("securityGroupIds", 0), ("securityGroupIds", 1),
                            ("routeTableIds", "a"), ("routeTableIds", "b")}
    assert instance.inputs["tags"] == {"team": "x", "spirit-role": "phone-site", "spirit-profile": "phones",
                                       "Name": "q-qos-nat"}
    assert plan.order() == list(plan.specs)  # each spec after what it references


def test_aws_without_vpc_or_groups_has_no_channel():
    plan = aws()
    assert [s.name for s in plan.specs] == ["ruleset", "role", "read-ruleset", "profile", "instance", "eip"]
    assert "vpcSecurityGroupIds" not in plan["instance"].inputs  # no group at all: the VPC's default
    assert params(plan) == {("subnetId", None)}


def test_aws_ssm_tier_follows_the_payload_size():
    small = aws(lv=live())
    assert len(small["ruleset"].inputs["value"]) <= aws_nat.SSM_STANDARD_LIMIT
    assert small["ruleset"].inputs["tier"] == "Standard"
    big = aws(lv=live(overrides={"extra_spirit_cidrs": [f"10.1.{j}.0/24" for j in range(0, 250, 4)]}))
    assert len(big["ruleset"].inputs["value"]) > aws_nat.SSM_STANDARD_LIMIT
    assert big["ruleset"].inputs["tier"] == "Advanced"


def test_aws_an_edit_changes_only_what_it_touches():
    base = aws(route_labels=["a"], channel=True, vpc_cidr="10.0.0.0/16")
    more = aws(route_labels=["a", "b"], channel=True, vpc_cidr="10.0.0.0/16")
    assert [s for s in more.specs if s.name != "route-b"] == list(base.specs)  # one route more, nothing else
    edited = aws(lv=live(overrides={"extra_spirit_cidrs": ["192.0.2.0/24"]}), route_labels=["a"], channel=True,
                 vpc_cidr="10.0.0.0/16")
    changed = [s.name for s, t in zip(base.specs, edited.specs, strict=True) if s != t]
    assert changed == ["ruleset"]  # a catalogue/override edit: the parameter's value only, never the instance


@pytest.mark.parametrize("kw, message", [
    ({"route_labels": ["Bad_Label"]}, "route_tables: 'Bad_Label' is not a route table label"),
    ({"names": {**AWS_NAMES, "parameter": "/" + "a" * 1011}}, "is over SSM's 1011 characters"),
    ({"names": {"parameter": "/p"}}, "names: no physical name for role, policy"),
    ({"channel": True}, "vpc_cidr: the SSM endpoint needs the VPC's IPv4 CIDR"),
])
def test_aws_refusals(kw, message):
    with pytest.raises(ConfigError) as e:
        aws(**kw)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_aws_component_refuses_before_registering():
    from spirit_infra.aws.qos_nat import AwsQosNat, AwsQosNatArgs

    rec = testing.run(lambda: AwsQosNat("q", AwsQosNatArgs(profile="phones", subnet_id="s",
                                                            parameter_name="/" + "a" * 1011)),
                      raise_program_errors=False)
    assert isinstance(rec.program_error, SpiritError) and "1011" in str(rec.program_error)
    assert rec.resources == []


# ---- Azure --------------------------------------------------------------------------------------------

def test_azure_specs_refs_and_params():
    lv = live()
    plan = azure(lv=lv, network_security_group=True, tags={"t": "1"})
    assert [(s.name, s.type.split(":")[-1]) for s in plan.specs] == [
        ("pip", "PublicIPAddress"), ("nic", "NetworkInterface"), ("vm", "VirtualMachine"), ("rt", "RouteTable"),
        ("default", "Route")]
    nic, vm, route = plan["nic"], plan["vm"], plan["default"]
    assert nic.inputs["ipConfigurations"][0]["publicIPAddress"] == {"id": Ref("pip")}
    assert nic.inputs["ipConfigurations"][0]["subnet"]["id"] == Param("subnetId")
    assert nic.inputs["networkSecurityGroup"] == {"id": Param("networkSecurityGroupId")}
    assert vm.inputs["networkProfile"] == {"networkInterfaces": [{"id": Ref("nic"), "primary": True}]}
    assert vm.inputs["osProfile"]["customData"] == lv.boot  # constant: customData cannot change on a VM
    assert base64.b64decode(vm.inputs["userData"]).decode() == lv.payload  # the live channel
    assert vm.inputs["osProfile"]["computerName"] == "z-qos-nat"
    assert vm.inputs["storageProfile"]["imageReference"] == IMAGE
    assert route.inputs["routeTableName"] == Ref("rt", "name")
    assert route.inputs["nextHopIpAddress"] == azure_nat.PRIVATE_IP == Ref("nic", "ipConfigurations",
                                                                           (0, "privateIPAddress"))
    assert params(plan) == {("resourceGroupName", None), ("location", None), ("subnetId", None),
                            ("networkSecurityGroupId", None)}
    assert "networkSecurityGroup" not in azure()["nic"].inputs
    assert vm.inputs["tags"] == {"t": "1", "spirit-role": "phone-site", "spirit-profile": "phones"}


def test_azure_an_edit_changes_only_the_user_data():
    base, edited = azure(), azure(lv=live(overrides={"extra_spirit_cidrs": ["192.0.2.0/24"]}))
    changed = {s.name: [k for k in s.inputs if s.inputs[k] != t.inputs[k]]
               for s, t in zip(base.specs, edited.specs, strict=True) if s != t}
    assert changed == {"vm": ["userData"]}


def test_azure_refusals():
    with pytest.raises(ConfigError) as e:
        azure(image={"publisher": "Debian", "offer": "debian-12"})
    assert str(e.value) == "image: image reference lacks sku, version"
    assert "\n" not in str(e.value)


# ---- GCP ----------------------------------------------------------------------------------------------

def test_gcp_specs_refs_and_params():
    lv = live()
    plan = gcp(lv=lv, route_tags=["b", "a"], labels={"l": "v"})
    assert [(s.name, s.type.split(":")[-1]) for s in plan.specs] == [
        ("ip", "Address"), ("instance", "Instance"), ("route", "Route")]
    ip, instance, route = plan["ip"], plan["instance"], plan["route"]
    assert ip.inputs["region"] == "europe-west1"
    assert instance.inputs["networkInterfaces"] == [{"subnetwork": Param("subnetwork"),
                                                     "accessConfigs": [{"natIp": Ref("ip", "address")}]}]
    assert instance.inputs["metadata"] == {"user-data": lv.boot, gcp_nat.RULESET_KEY: lv.payload,
                                           "block-project-ssh-keys": "true"}
    assert instance.inputs["tags"] == ["spirit-qos-nat"]
    assert route.inputs["nextHopInstance"] == Ref("instance", "selfLink")
    assert route.inputs["tags"] == ["b", "a"] and route.inputs["priority"] == 800
    assert params(plan) == {("network", None), ("subnetwork", None)}
    assert ip.inputs["labels"] == instance.inputs["labels"] == {"l": "v", "spirit-role": "phone-site",
                                                                 "spirit-profile": "phones"}


def test_gcp_an_edit_changes_only_the_ruleset_metadata():
    base, edited = gcp(), gcp(lv=live(overrides={"extra_spirit_cidrs": ["192.0.2.0/24"]}))
    changed = [(s.name, k) for s, t in zip(base.specs, edited.specs, strict=True)
               for k in s.inputs if s.inputs[k] != t.inputs[k]]
    assert changed == [("instance", "metadata")]
    assert base["instance"].inputs["metadata"]["user-data"] == edited["instance"].inputs["metadata"]["user-data"]


@pytest.mark.parametrize("kw, message", [
    ({"route_tags": []}, "route_tags: at least one network tag is required"),
    ({"route_tags": ["a", "spirit-qos-nat"]}, "route_tags: the gateway's own tag 'spirit-qos-nat' would route it"),
])
def test_gcp_refusals(kw, message):
    with pytest.raises(ConfigError) as e:
        gcp(**kw)
    assert message in str(e.value) and "\n" not in str(e.value)
