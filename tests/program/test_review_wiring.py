"""Wiring a real cloud would refuse or silently break, though the mock runtime accepts it.

- AWS: two routes for the same destination in one route table (an SBC's public site route table also
  given a NAT or firewall default route) fail with RouteAlreadyExists at deployment.
- An SBC behind the QoS NAT instance: the instance forwards no inbound connections (no port forwarding),
  so Spirit's SIP and media to the SBC never arrive; such configs are refused before anything registers.
- AWS QoS NAT instance: every Spirit security group must be on its interface, not only the first.
"""

from __future__ import annotations

import itertools

import pytest

from spirit_infra.errors import ConfigError
from spirit_infra.stackconfig import parse

from . import preview_file

SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExample"


def _write(tmp_path, name: str, lines: list[str]):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text("config:\n" + "".join(f"  {line}\n" for line in lines))
    return path


def _raw(cloud: str, profile: str, nat: str, **extra) -> dict:
    raw = {"spirit:cloud": cloud, "spirit:profile": profile, "spirit:nat": nat}
    if cloud == "azure" and nat == "qos-instance":
        raw["spirit:natSshPublicKey"] = SSH
    raw.update({f"spirit:{k}": v for k, v in extra.items()})
    return raw


@pytest.mark.parametrize("profile,nat,layers", [
    (p, n, ly) for p, n, ly in itertools.product(("phones", "communicator", "sbc"), ("none", "managed", "qos-instance"),
                                                 ("[rules]", "[rules, fqdn-firewall]"))
    if not (p == "sbc" and n != "none")])
def test_aws_no_route_table_gets_two_routes_for_one_destination(tmp_path, profile, nat, layers):
    path = _write(tmp_path, "aws-matrix", ["spirit:cloud: aws", f"spirit:profile: {profile}", f"spirit:nat: {nat}",
                                           f"spirit:firewallLayers: {layers}"])
    res = preview_file(path)
    seen: dict[tuple, str] = {}
    for r in res.resources:
        if r["type"] != "aws:ec2/route:Route":
            continue
        key = (r["inputs"]["routeTableId"], r["inputs"]["destinationCidrBlock"])
        assert key not in seen, f"{r['name']} and {seen[key]} both route {key[1]} in {key[0]}"
        seen[key] = r["name"]
    assert res.exact


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_sbc_behind_the_qos_nat_is_refused(cloud):
    with pytest.raises(ConfigError) as e:
        parse(_raw(cloud, "sbc", "qos-instance"), file="f.yaml", lines={"nat": 7})
    assert e.value.field == "spirit:nat" and e.value.lineno == 7
    assert "'qos-instance'" in str(e.value) and "no inbound" in str(e.value)


def test_aws_sbc_with_a_nat_gateway_is_refused():
    with pytest.raises(ConfigError) as e:
        parse(_raw("aws", "sbc", "managed"), file="f.yaml", lines={"nat": 5})
    assert e.value.field == "spirit:nat" and e.value.lineno == 5
    assert "allowed value: none" in str(e.value)


def test_aws_sbc_default_nat_is_refused_at_the_config_line():
    # spirit:nat unset in the stack file: the project default 'managed' conflicts; the line is `config:`
    with pytest.raises(ConfigError) as e:
        parse({"spirit:cloud": "aws", "spirit:profile": "sbc"}, file="f.yaml", lines={"(config)": 1})
    assert e.value.field == "spirit:nat" and e.value.lineno == 1 and "allowed value: none" in str(e.value)


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_sbc_with_the_managed_nat_is_accepted_off_aws(cloud):
    assert parse(_raw(cloud, "sbc", "managed")).nat == "managed"


def test_aws_qos_nat_instance_carries_every_spirit_security_group(tmp_path):
    cidrs = ", ".join(f"198.{i}.100.0/24" for i in range(1, 40, 2))  # 20 disjoint ranges: two groups
    path = _write(tmp_path, "aws-qos-groups", ["spirit:cloud: aws", "spirit:profile: phones",
                                                "spirit:nat: qos-instance",
                                                f"spirit:overrides: {{extra_spirit_cidrs: [{cidrs}]}}"])
    res = preview_file(path)
    groups = res.outputs["securityGroupIds"]
    assert len(groups) >= 2
    inst = next(r for r in res.resources if r["type"] == "aws:ec2/instance:Instance")
    # its LAN group, every Spirit group, and its own group (HTTPS to the SSM endpoint of its ruleset channel)
    assert inst["inputs"]["vpcSecurityGroupIds"] == ["spirit-net-lan-id", *groups, "spirit-qos-nat-channel-id"]
    assert len(inst["inputs"]["vpcSecurityGroupIds"]) <= 5  # AWS: 5 groups per interface by default
    assert res.exact


def test_text_outputs_say_cloud_assigned_values_are_placeholders(tmp_path):
    # a NAT address in the preview is a documentation address (TEST-NET-3), not one to give Spirit
    from spirit_infra.preview import render_text

    res = preview_file(_write(tmp_path, "aws-nat", ["spirit:cloud: aws", "spirit:profile: communicator"]))
    text = render_text(res)
    head = next(line for line in text.splitlines() if line.startswith("Outputs"))
    assert "placeholders" in head and "203.0.113.0/24" in head
    assert "203.0.113." in text.split(head, 1)[1]


def test_azure_fqdn_layer_warns_that_the_policy_needs_a_firewall(tmp_path):
    # spirit-infra registers an Azure Firewall Policy only; unless a firewall enforces it, the preview says so
    res = preview_file(_write(tmp_path, "azure-fqdn", ["spirit:cloud: azure", "spirit:profile: phones",
                                                       "spirit:firewallLayers: [rules, fqdn-firewall]"]))
    assert not any(r["type"] == "azure-native:network:AzureFirewall" for r in res.resources)
    assert any("not enforced" in w and "firewallPolicyId" in w for w in res.warnings)
    assert res.outputs["warnings"] == res.warnings and res.exact


def test_aws_qos_nat_own_egress_is_https_to_its_ssm_endpoint_only(tmp_path):
    """Strict mode on AWS: the Spirit groups open nothing for the NAT's own needs. It reaches its ruleset
    (SSM) through an interface endpoint in the VPC, by one named egress rule of its own group."""
    path = _write(tmp_path, "aws-qos-channel", ["spirit:cloud: aws", "spirit:profile: communicator",
                                                 "spirit:nat: qos-instance", "spirit:networkCidr: 10.50.0.0/16"])
    res = preview_file(path)
    by = {r["name"]: r for r in res.resources}
    ep = by["spirit-qos-nat-ssm"]
    assert ep["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"
    assert {k: ep["inputs"][k] for k in ("serviceName", "vpcEndpointType", "privateDnsEnabled", "subnetIds",
                                          "securityGroupIds", "vpcId")} == {
        "serviceName": "com.amazonaws.ap-southeast-2.ssm", "vpcEndpointType": "Interface",
        "privateDnsEnabled": True, "subnetIds": ["spirit-net-edge-a-id"],
        "securityGroupIds": ["spirit-qos-nat-ssm-endpoint-id"], "vpcId": "spirit-net-vpc-id"}
    own = [r for r in res.resources if r["inputs"].get("securityGroupId") == "spirit-qos-nat-channel-id"]
    assert [(r["type"], r["inputs"]["ipProtocol"], r["inputs"]["fromPort"], r["inputs"]["toPort"],
             r["inputs"]["referencedSecurityGroupId"]) for r in own] == [
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "tcp", 443, 443, "spirit-qos-nat-ssm-endpoint-id")]
    into = [r for r in res.resources if r["inputs"].get("securityGroupId") == "spirit-qos-nat-ssm-endpoint-id"]
    assert [(r["type"], r["inputs"]["fromPort"], r["inputs"]["cidrIpv4"]) for r in into] == [
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", 443, "10.50.0.0/16")]
    # and no Spirit group opens HTTPS to the world for it (communicator: Spirit's own ranges only)
    assert not [r for r in res.resources if r["type"].endswith("EgressRule") and r["inputs"].get("cidrIpv4")
                == "0.0.0.0/0" and r["inputs"].get("fromPort") == 443]
    assert res.exact
