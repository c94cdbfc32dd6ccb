"""Management access for an SBC (issue 13 §5): the operator's CIDRs reach the SBC on SSH and HTTPS in
resources of their own (AWS: a security group; Azure: NSG rules in a band of their own; GCP: a rule for a
tag of its own), the Spirit rules are untouched, and the world or an over-broad CIDR is one line."""

from __future__ import annotations

import pytest
import yaml

from spirit_infra.flows import AllowedSet, Peer, PortSet, Term
from spirit_infra.preview import render_text

from . import STACKS, cli, preview, preview_file, stderr_lines

CIDRS = ["203.0.113.0/28", "198.51.100.7/32"]


def _with_mgmt(tmp_path, name: str, extra: dict):
    cfg = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())
    cfg["config"].update(extra)
    # the same stack name as the example (in another folder): physical names carry the stack's name, and the
    # Spirit resources are compared with the example's own
    path = tmp_path / "stacks" / f"Pulumi.{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    return path


def _spirit(res) -> dict:
    """The Spirit firewall resources (everything but the management ones), by name."""
    return {r["name"]: r["inputs"] for r in res.resources if "mgmt" not in r["name"]}


WANT = AllowedSet([Term("ingress", "tcp", Peer.of(CIDRS), PortSet.of(None), PortSet.of([[22, 22], [443, 443]]))])


@pytest.mark.parametrize("name", ["aws-sbc", "azure-sbc", "gcp-sbc"])
def test_management_access_is_exact_and_apart_from_the_spirit_rules(tmp_path, name):
    res = preview_file(_with_mgmt(tmp_path, name, {"spirit:managementCidrs": CIDRS}))
    assert res.exact, render_text(res)
    mgmt = [v for v in res.layers if v.layer == "management access"]
    assert len(mgmt) == 1 and mgmt[0].actual == WANT
    # the Spirit layers are what they were without management access, resource for resource
    base = preview(name)
    assert _spirit(res) == _spirit(base)
    assert [v.actual for v in res.layers if v.layer != "management access"] == [v.actual for v in base.layers]
    added = [r for r in res.resources if "mgmt" in r["name"]]
    cloud = res.config.cloud
    if cloud == "aws":
        groups = [r for r in added if r["type"] == "aws:ec2/securityGroup:SecurityGroup"]
        rules = [r for r in added if r["type"] == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"]
        assert len(groups) == 1 and len(rules) == 4
        assert {r["inputs"]["securityGroupId"] for r in rules} == {f"{groups[0]['name']}-id"}
        assert "managementSecurityGroupId" in res.outputs
    elif cloud == "azure":
        rules = [r["inputs"] for r in added if r["type"] == "azure-native:network:SecurityRule"]
        assert sorted((r["priority"], r["destinationPortRange"]) for r in rules) == [(3010, "22"), (3020, "443")]
        spirit_prios = [i["priority"] for i in _spirit(res).values() if "priority" in i]
        assert spirit_prios and all(1000 <= p <= 2999 for p in spirit_prios)
        assert all(r["sourceAddressPrefixes"] == sorted(CIDRS, key=lambda c: c) or set(r["sourceAddressPrefixes"])
                   == set(CIDRS) for r in rules)
    else:
        (rule,) = [r["inputs"] for r in added if r["type"] == "gcp:compute/firewall:Firewall"]
        assert rule["targetTags"] == ["spirit-mgmt"] and rule["direction"] == "INGRESS"
        assert set(rule["sourceRanges"]) == set(CIDRS)
        assert all("spirit-mgmt" not in (i.get("targetTags") or []) for i in _spirit(res).values())
        assert res.outputs["managementTag"] == "spirit-mgmt"


@pytest.mark.parametrize("value,what", [
    (["0.0.0.0/0"], "is every address: management access is never from the world"),
    (["::/0"], "is every address"),
    (["10.0.0.0/8"], "is over-broad"),
    (["2001:db8::/32"], "is over-broad"),
    (["203.0.113.1/28"], "has host bits set"),
    (["not-a-cidr"], "is not a CIDR"),
])
def test_world_and_over_broad_cidrs_are_one_line(tmp_path, value, what):
    path = _with_mgmt(tmp_path, "aws-sbc", {"spirit:managementCidrs": value})
    r = cli("preview", "--config", str(path))
    assert r.returncode == 2 and r.stdout == ""
    lines = stderr_lines(r.stderr)
    assert len(lines) == 1, lines
    # the line of the value (a block list starts on the line after its key)
    n = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.strip() == f"- {value[0]}"
             or t.strip() == f"- '{value[0]}'")
    assert lines[0].startswith(f"error: {path}:{n}: spirit:managementCidrs[0]: "), lines[0]
    assert what in lines[0]


def test_management_access_is_for_an_sbc(tmp_path):
    path = _with_mgmt(tmp_path, "aws-communicator", {"spirit:managementCidrs": CIDRS})
    r = cli("preview", "--config", str(path))
    assert r.returncode == 2 and len(stderr_lines(r.stderr)) == 1
    assert "spirit:managementCidrs: management access is for an SBC (profile sbc)" in r.stderr


def test_components_refuse_the_world_before_registering():
    from spirit_infra.aws.components import AwsManagementAccessArgs
    from spirit_infra.azure.components import AzureNsgManagementArgs
    from spirit_infra.errors import ConfigError
    from spirit_infra.gcp.components import GcpManagementFirewallArgs

    for make in (lambda c: AwsManagementAccessArgs(vpc_id="vpc-1", management_cidrs=c),
                 lambda c: AzureNsgManagementArgs(resource_group_name="rg", network_security_group_name="n",
                                             management_cidrs=c),
                 lambda c: GcpManagementFirewallArgs(network="net", management_cidrs=c)):
        for bad in (["0.0.0.0/0"], [], ["0.0.0.0/1", "128.0.0.0/1"], "203.0.113.0/28"):
            with pytest.raises(ConfigError) as e:
                make(bad)
            assert "\n" not in str(e.value)
        assert make(CIDRS).plan()[0] == ("198.51.100.7/32", "203.0.113.0/28")


@pytest.mark.parametrize("name", ["aws-sbc", "azure-sbc", "gcp-sbc"])
def test_the_policy_pack_passes_a_stack_with_management_access(tmp_path, name):
    from spirit_infra.policy.offline import run_pack

    from . import ROOT

    res = preview_file(_with_mgmt(tmp_path, name, {"spirit:managementCidrs": CIDRS}))
    violations = run_pack(ROOT / "policypack", res)
    assert violations == [], [v.message for v in violations]
