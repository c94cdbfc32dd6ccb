"""The per-cloud QoS NAT components under the mock runtime (spirit_infra.testing.run)."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys

import pytest
import yaml

from spirit_infra import ConfigError, Overrides, QuotaError, build_profile, marks
from spirit_infra.nat import NatOptions, agent
from spirit_infra.nat.cloudinit import AGENT_CONFIG, payload, render_boot_cloud_init
from spirit_infra.testing import run

AWS_INSTANCE, AWS_EIP, AWS_ROUTE = "aws:ec2/instance:Instance", "aws:ec2/eip:Eip", "aws:ec2/route:Route"
AZ = "azure-native:"
GCP_INSTANCE, GCP_ADDRESS, GCP_ROUTE = ("gcp:compute/instance:Instance", "gcp:compute/address:Address",
                                        "gcp:compute/route:Route")
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests spirit@test"
HUGE = Overrides(extra_spirit_cidrs=tuple(f"20.{(2 * i) // 256}.{(2 * i) % 256}.0/24" for i in range(1000)))


def gunzip_b64(text: str) -> str:
    return gzip.decompress(base64.b64decode(text)).decode()


def live(profile: str, interface: str, **opts) -> dict:
    """The payload the channel must hold: the ruleset, sysctls and FQDN sets of this profile."""
    return payload(build_profile(profile), NatOptions(interface, interface, **opts))


def agent_config(user_data: str) -> dict:
    doc = yaml.safe_load(user_data)
    return json.loads(next(f["content"] for f in doc["write_files"] if f["path"] == AGENT_CONFIG))


def _children_parented(rec, token: str, name: str) -> None:
    comp = rec.get(name, token)
    assert not comp.custom
    kids = rec.children_of(comp.urn)
    assert kids and all(k.name.startswith(f"{name}-") for k in kids)
    assert {r.urn for r in rec.resources if r.custom} == {k.urn for k in kids}


# ---- AWS --------------------------------------------------------------------------------------------------

def aws_nat(**kw):
    from spirit_infra.aws.qos_nat import AwsQosNat, AwsQosNatArgs

    args = {"profile": "phones", "subnet_id": "subnet-public", "route_tables": {"private-a": "rtb-a", "private-b": "rtb-b"},
            **kw}
    return lambda: AwsQosNat("gw", AwsQosNatArgs(**args))


def test_aws_instance_eip_and_routes():
    rec = run(aws_nat(security_group_ids=["sg-1"]))
    _children_parented(rec, "spirit:index:AwsQosNat", "gw")
    inst = rec.get("gw-instance", AWS_INSTANCE).inputs
    assert inst["sourceDestCheck"] is False
    boot = gunzip_b64(inst["userDataBase64"])
    param = rec.get("gw-ruleset", "aws:ssm/parameter:Parameter")
    channel = agent_config(boot)
    assert channel == {"channel": "aws-ssm", "parameter": param.inputs["name"], "region": "ap-southeast-2", "poll": 30}
    assert boot == render_boot_cloud_init(channel)  # no catalogue input in the boot user data
    assert agent.decode(param.inputs["value"]) == live("phones", "ens5")
    assert param.inputs["type"] == "String" and param.inputs["tier"] == "Standard"
    # the instance role may read that one parameter, nothing else
    role = rec.get("gw-role", "aws:iam/role:Role").inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]
    pol = rec.get("gw-read-ruleset", "aws:iam/rolePolicy:RolePolicy").inputs
    [stmt] = json.loads(pol["policy"])["Statement"]
    assert stmt["Action"] == "ssm:GetParameter" and stmt["Effect"] == "Allow"
    assert stmt["Resource"].startswith("arn:aws:ssm:") and stmt["Resource"].endswith("/gw-ruleset")  # the mock's ARN
    assert pol["role"] == rec.get("gw-role").id
    # physical names from the stack's and the component's names (naming.py); IAM is account-wide: + region
    assert param.inputs["name"] == "/spirit-infra/test-gw/ruleset"
    assert role["name"] == "test-gw-ap-southeast-2-nat" and pol["name"] == "test-gw-read-ruleset"
    prof = rec.get("gw-profile", "aws:iam/instanceProfile:InstanceProfile").inputs
    assert prof["role"] == role["name"] and prof["name"] == role["name"]
    assert inst["iamInstanceProfile"] == prof["name"]
    assert inst["userDataReplaceOnChange"] is True
    assert inst["ami"].startswith("resolve:ssm:/aws/service/debian/") and inst["instanceType"] == "t3.small"
    assert inst["metadataOptions"]["httpTokens"] == "required"
    assert inst["vpcSecurityGroupIds"] == ["sg-1"] and inst["subnetId"] == "subnet-public"
    assert {k: inst["tags"][k] for k in marks.tags("phones")} == marks.tags("phones")
    eip = rec.get("gw-eip", AWS_EIP).inputs
    assert eip["domain"] == "vpc" and eip["instance"] == rec.get("gw-instance", AWS_INSTANCE).id
    routes = {r.name: r.inputs for r in rec.by_type(AWS_ROUTE)}
    assert set(routes) == {"gw-route-private-a", "gw-route-private-b"}
    assert {r["routeTableId"] for r in routes.values()} == {"rtb-a", "rtb-b"}
    for r in routes.values():
        assert r["destinationCidrBlock"] == "0.0.0.0/0" and r["networkInterfaceId"].startswith("eni-")


def test_aws_route_names_follow_labels_not_positions():
    before = {r.name for r in run(aws_nat()).by_type(AWS_ROUTE)}
    after = {r.name for r in run(aws_nat(route_tables={"private-b": "rtb-b", "private-c": "rtb-c",
                                                       "private-a": "rtb-a"})).by_type(AWS_ROUTE)}
    assert before < after and after - before == {"gw-route-private-c"}


def test_aws_parameters_and_validation():
    rec = run(aws_nat(instance_type="c7i.large", ami="ami-0123456789abcdef0", interface="eth0", profile="sbc",
                      sip_keepalive_seconds=200))
    inst = rec.get("gw-instance", AWS_INSTANCE).inputs
    assert inst["instanceType"] == "c7i.large" and inst["ami"] == "ami-0123456789abcdef0"
    value = agent.decode(rec.get("gw-ruleset").inputs["value"])
    assert "unreplied : 400" in value["ruleset"] and value["sysctls"]["net.netfilter.nf_conntrack_udp_timeout"] == 400
    assert "unreplied" not in gunzip_b64(inst["userDataBase64"])
    with pytest.raises(ConfigError, match="route_tables"):
        aws_nat(route_tables={"Private A": "rtb"})()
    with pytest.raises(ConfigError, match="subnet_id"):
        aws_nat(subnet_id="")()
    with pytest.raises(ConfigError, match="profile"):
        run(aws_nat(profile="pbx"))
    with pytest.raises(ConfigError, match="sip_keepalive_seconds"):
        run(aws_nat(sip_keepalive_seconds=1))
    with pytest.raises(QuotaError, match="8192"):
        run(aws_nat(overrides=HUGE))


# ---- Azure ------------------------------------------------------------------------------------------------

def azure_nat(**kw):
    from spirit_infra.azure.qos_nat import AzureQosNat, AzureQosNatArgs

    args = {"profile": "sbc", "resource_group_name": "rg-spirit", "subnet_id": "/subscriptions/x/subnets/nat",
            "ssh_public_key": SSH_KEY, "location": "australiaeast", **kw}
    return lambda: AzureQosNat("gw", AzureQosNatArgs(**args))


def _azure_outputs(type_, name, inputs):
    if type_ == f"{AZ}network:NetworkInterface":
        cfgs = [dict(c, privateIPAddress="10.1.0.4") for c in inputs.get("ipConfigurations", [])]
        return {"ipConfigurations": cfgs}
    return None


def test_azure_vm_nic_public_ip_and_route_table():
    rec = run(azure_nat(), outputs_for=_azure_outputs)
    _children_parented(rec, "spirit:index:AzureQosNat", "gw")
    pip = rec.get("gw-pip", f"{AZ}network:PublicIPAddress").inputs
    assert pip["sku"]["name"] == "Standard" and pip["publicIPAllocationMethod"] == "Static"
    nic = rec.get("gw-nic", f"{AZ}network:NetworkInterface").inputs
    assert nic["enableIPForwarding"] is True
    assert nic["ipConfigurations"][0]["publicIPAddress"]["id"] == rec.get("gw-pip").id
    vm = rec.get("gw-vm", f"{AZ}compute:VirtualMachine").inputs
    assert gunzip_b64(vm["osProfile"]["customData"]) == render_boot_cloud_init({"channel": "azure", "poll": 30})
    assert agent.decode(base64.b64decode(vm["userData"])) == live("sbc", "eth0")
    assert vm["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert vm["hardwareProfile"]["vmSize"] == "Standard_B2s"
    # Debian 12: cloud-init, nftables and python3 on the image, nothing installed at boot (issue 13 §4)
    assert vm["storageProfile"]["imageReference"] == {"publisher": "Debian", "offer": "debian-12", "sku": "12",
                                                      "version": "latest"}
    assert vm["networkProfile"]["networkInterfaces"][0]["id"] == rec.get("gw-nic").id
    rt = rec.get("gw-rt", f"{AZ}network:RouteTable")
    route = rec.get("gw-default", f"{AZ}network:Route").inputs
    assert route["addressPrefix"] == "0.0.0.0/0" and route["nextHopType"] == "VirtualAppliance"
    assert route["nextHopIpAddress"] == "10.1.0.4" and route["routeTableName"] == "gw-rt"
    assert rt.inputs["tags"] == marks.tags("sbc")
    assert rec.get("gw").outputs["privateIp"] == "10.1.0.4"


def test_azure_parameters_and_validation():
    image = {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"}
    vm = run(azure_nat(vm_size="Standard_D2s_v5", image=image)).get("gw-vm").inputs
    assert vm["hardwareProfile"]["vmSize"] == "Standard_D2s_v5" and vm["storageProfile"]["imageReference"] == image
    with pytest.raises(ConfigError, match="ssh_public_key"):
        azure_nat(ssh_public_key="hunter2")()
    with pytest.raises(ConfigError, match="admin_username"):
        azure_nat(admin_username="root")()
    with pytest.raises(ConfigError, match="image"):
        azure_nat(image={"publisher": "Canonical"})()


# ---- GCP --------------------------------------------------------------------------------------------------

def gcp_nat(**kw):
    from spirit_infra.gcp.qos_nat import GcpQosNat, GcpQosNatArgs

    args = {"profile": "communicator", "network": "vpc-spirit", "subnetwork": "nat-subnet", "zone": "europe-west1-b",
            "route_tags": ["spirit-vdi"], **kw}
    return lambda: GcpQosNat("gw", GcpQosNatArgs(**args))


def test_gcp_instance_address_and_tagged_route():
    rec = run(gcp_nat())
    _children_parented(rec, "spirit:index:GcpQosNat", "gw")
    addr = rec.get("gw-ip", GCP_ADDRESS)
    assert addr.inputs["region"] == "europe-west1" and addr.inputs["addressType"] == "EXTERNAL"
    inst = rec.get("gw-instance", GCP_INSTANCE).inputs
    assert inst["canIpForward"] is True and inst["tags"] == ["spirit-qos-nat"]
    channel = {"channel": "gcp", "key": "spirit-nat-ruleset", "wait_seconds": 300}
    assert inst["metadata"]["user-data"] == render_boot_cloud_init(channel)
    assert agent.decode(inst["metadata"]["spirit-nat-ruleset"]) == live("communicator", "ens4")
    assert inst["networkInterfaces"][0]["accessConfigs"][0]["natIp"].startswith("203.0.113.")  # the address's
    assert inst["machineType"] == "e2-small" and inst["bootDisk"]["initializeParams"]["image"].startswith("ubuntu-os-cloud/")
    assert inst["labels"] == marks.tags("communicator")
    route = rec.get("gw-route", GCP_ROUTE).inputs
    assert route["destRange"] == "0.0.0.0/0" and route["tags"] == ["spirit-vdi"] and route["priority"] == 800
    assert route["nextHopInstance"].endswith("/gw-instance") and route["nextHopInstanceZone"] == "europe-west1-b"
    assert marks.parse_description(route["description"])["spirit-role"] == "vdi"


def test_gcp_validation():
    with pytest.raises(ConfigError, match="route_tags"):
        gcp_nat(route_tags=[])()
    with pytest.raises(ConfigError, match="route_tags"):
        gcp_nat(route_tags=["spirit-qos-nat"])()
    with pytest.raises(ConfigError, match="route_tags"):
        gcp_nat(route_tags=["Bad_Tag"])()
    with pytest.raises(ConfigError, match="zone"):
        gcp_nat(zone="europe-west1")()
    with pytest.raises(ConfigError, match="route_priority"):
        gcp_nat(route_priority=70000)()
    inst = run(gcp_nat(machine_type="n2-standard-2", image="ubuntu-os-cloud/ubuntu-2204-lts")).get("gw-instance").inputs
    assert inst["machineType"] == "n2-standard-2" and inst["bootDisk"]["initializeParams"]["image"].endswith("2204-lts")


def test_the_pure_nat_package_imports_no_pulumi():
    code = ("import sys, spirit_infra.nat, spirit_infra.cli.nat, spirit_infra.nat.instance; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_gcp', "
            "'pulumi_azure_native')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
