"""Customer extra flows (spirit:extraFlows) and platform destinations through every layer of every cloud.

Each stack below previews with every firewall layer and the QoS NAT where the profile allows it, plus
an extra-flow file that has each kind of destination (CIDRs, DNS names over TCP and UDP, the cloud's own
platform destination). The proof is the preview's own: each layer read back from the registered
resources equals the profile (Spirit's flows plus the customer's) projected onto that layer, and every
customer flow is in what each layer reads back.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from spirit_infra.flows import AllowedSet, Peer, PortSet, Term
from spirit_infra.preview import render_text

from . import ROOT, cli, preview, preview_file, stderr_lines

PRESETS = ROOT / "presets"

GENERIC = [
    {"id": "cust-app", "application": "Line-of-business app", "protocols": ["HTTPS"], "transports": ["tcp"],
     "dscp": "AF41", "client_ports": None, "dns": [], "server_cidrs": ["198.51.100.0/24"],
     "server_ports": [[8443, 8443]]},
    {"id": "cust-mirror", "application": "OS mirror", "protocols": ["HTTPS"], "transports": ["tcp"], "dscp": "0",
     "client_ports": None, "dns": [{"name": "deb.debian.org", "type": "A/CNAME"}], "server_cidrs": None,
     "server_ports": [[80, 80], [443, 443]]},
    {"id": "cust-ntp", "application": "NTP", "protocols": ["NTP"], "transports": ["udp"], "dscp": "0",
     "client_ports": [[1024, 65535]], "dns": [{"name": "time.cloudflare.com", "type": "A/CNAME"}],
     "server_cidrs": None, "server_ports": [[123, 123]]},
]
PLATFORM = {
    "aws": {"id": "cust-s3", "application": "S3", "protocols": ["HTTPS"], "transports": ["tcp"], "dscp": "0",
            "client_ports": None, "dns": [], "server_cidrs": None, "server_ports": [[443, 443]],
            "platform": [{"name": "com.amazonaws.ap-southeast-2.s3", "type": "aws-prefix-list"}]},
    "azure": {"id": "cust-monitor", "application": "Azure Monitor", "protocols": ["HTTPS"], "transports": ["tcp"],
              "dscp": "0", "client_ports": None, "dns": [], "server_cidrs": None, "server_ports": [[443, 443]],
              "platform": [{"name": "AzureMonitor", "type": "azure-service-tag"}]},
}
STACKS = {
    "aws": {"aws:region": "ap-southeast-2", "spirit:cloud": "aws", "spirit:profile": "communicator",
            "spirit:networkCidr": "10.41.0.0/16", "spirit:firewallLayers": ["rules", "fqdn-firewall"],
            "spirit:nat": "qos-instance"},
    "azure": {"azure-native:location": "australiaeast", "spirit:cloud": "azure", "spirit:profile": "communicator",
              "spirit:networkCidr": "10.51.0.0/16", "spirit:firewallLayers": ["rules", "fqdn-firewall"],
              "spirit:nat": "qos-instance", "spirit:natSshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMock"},
    "gcp": {"gcp:project": "p", "gcp:region": "australia-southeast1", "spirit:cloud": "gcp",
            "spirit:profile": "communicator", "spirit:networkCidr": "10.62.0.0/16",
            "spirit:firewallLayers": ["rules", "fqdn-firewall"], "spirit:nat": "qos-instance"},
    "gcp-sbc": {"gcp:project": "p", "gcp:region": "australia-southeast1", "spirit:cloud": "gcp",
                "spirit:profile": "sbc", "spirit:networkCidr": "10.63.0.0/16",
                "spirit:firewallLayers": ["rules", "fqdn-firewall"], "spirit:nat": "managed"},
}


def _write(tmp_path, name: str, flows: list[dict], config: dict):
    extra = tmp_path / f"{name}-flows.yaml"
    extra.write_text(yaml.safe_dump({"version": 1, "flows": flows}, sort_keys=False))
    stack = tmp_path / "stacks" / f"Pulumi.{name}.yaml"
    stack.parent.mkdir(exist_ok=True)
    stack.write_text(yaml.safe_dump({"config": {**config, "spirit:extraFlows": str(extra)}}))
    return stack, extra


def _flows_for(key: str) -> list[dict]:
    cloud = key.split("-")[0]
    return GENERIC + ([PLATFORM[cloud]] if cloud in PLATFORM else [])


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extra")
    return {key: (preview_file(_write(tmp, key, _flows_for(key), cfg)[0]), _flows_for(key))
            for key, cfg in STACKS.items()}


@pytest.mark.parametrize("key", sorted(STACKS))
def test_every_layer_carries_the_customer_flows_exactly(stacks, key):
    res, flows = stacks[key]
    ids = {f["id"] for f in flows}
    assert {f.id for f in res.profile.customer_flows} == ids
    assert res.exact, render_text(res)
    assert len(res.layers) == 2
    for v in res.layers:
        # the customer's flows are in what this layer reads back from the registered resources...
        assert ids <= set(v.actual.flow_ids), (v.layer, v.actual.flow_ids)
        # removing one customer flow makes the layer not exact: the proof does look at them
        for fid in ids & set(v.expected.flow_ids):
            assert v.expected.select(flows=set(v.expected.flow_ids) - {fid}) != v.actual


@pytest.mark.parametrize("key", sorted(STACKS))
def test_customer_flows_are_shown_apart(stacks, key):
    res, flows = stacks[key]
    d = json.loads(res.to_json())
    assert [f["id"] for f in d["customer_flows"]] == [f["id"] for f in flows]
    for f in d["customer_flows"]:
        assert f["origin"].startswith("customer:") and f["origin"].endswith(tuple(f":{n}" for n in range(1, 200)))
    spirit = [f for f in res.profile.flows if not f.customer]
    assert spirit and all(not f.provenance for f in spirit)
    text = render_text(res)
    assert "Customer flows (spirit:extraFlows" in text
    for f in flows:
        assert f"+{f['id']} " in text
    # the FQDN flows widen on the IP layer, named, never silently
    ip_layer = res.layers[0].layer
    widened = {(w["target"], w["flow"]) for w in d["widened"]}
    assert {w for w in widened if w[1] in ("cust-mirror", "cust-ntp")}, widened
    assert all(t for t, _ in widened) and ip_layer


def test_the_nat_forwards_and_marks_the_customer_flows(stacks, tmp_path):
    from spirit_infra.nat.ruleset import NatOptions, render_ruleset

    res, _ = stacks["azure"]
    text = render_ruleset(res.profile, NatOptions(lan_if="eth0", wan_if="eth0"))
    assert "198.51.100.0/24" in text  # the CIDR flow in the allowed set (and its AF41 class)
    assert "fqdn_cust_mirror" in text and "fqdn_cust_ntp" in text
    # a platform destination is widened on the NAT, named in the ruleset's header
    assert "# widened: qos nat: cust-monitor: destination widened from azure-service-tag:AzureMonitor to 0.0.0.0/0" \
        in text
    f = tmp_path / "ruleset.nft"
    f.write_text(text)
    proc = subprocess.run(["nft", "-c", "-f", str(f)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_aws_prefix_list_is_exact_in_the_security_group_and_widened_on_the_firewall(stacks):
    res, _ = stacks["aws"]
    sg, nfw = res.layers
    s3 = Term("egress", "tcp", Peer.of((), (), ["aws-prefix-list:com.amazonaws.ap-southeast-2.s3"]),
              PortSet.of(None), PortSet.of([[443, 443]]))
    assert sg.actual.select(flows=["cust-s3"]) == AllowedSet([s3])
    rules = [r for r in res.resources if r["type"] == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
             and "cust-s3" in r["inputs"].get("tags", {}).get("spirit-flow", "")]
    assert len(rules) == 1
    # the id comes from the aws.ec2.get_managed_prefix_list data source (the test double's answer)
    assert rules[0]["inputs"]["prefixListId"].startswith("pl-")
    assert rules[0]["inputs"]["tags"]["spirit-prefix-list"] == "com.amazonaws.ap-southeast-2.s3"
    assert any("network firewall" in w["target"] and w["flow"] == "cust-s3" and w["after"] == "0.0.0.0/0"
               for w in res.widened)
    assert nfw.actual.select(flows=["cust-s3"]) == AllowedSet([Term(
        "egress", "tcp", Peer.of(["0.0.0.0/0"]), PortSet.of(None), PortSet.of([[443, 443]]))])


def test_azure_service_tag_is_exact_in_the_nsg_and_the_firewall_policy(stacks):
    res, _ = stacks["azure"]
    tag = AllowedSet([Term("egress", "tcp", Peer.of((), (), ["azure-service-tag:AzureMonitor"]), PortSet.of(None),
                           PortSet.of([[443, 443]]))])
    for v in res.layers:
        assert v.actual.select(flows=["cust-monitor"]) == tag, v.layer
    nsg_rules = [r["inputs"] for r in res.resources if r["type"] == "azure-native:network:SecurityRule"]
    assert any(r.get("destinationAddressPrefix") == "AzureMonitor" for r in nsg_rules)
    assert not any(w["flow"] == "cust-monitor" and w["target"] != "qos nat" for w in res.widened)


def test_avd_preset_on_azure_avd_communicator_stack_is_exact_with_the_deny_at_2999():
    res = preview("azure-avd-communicator")
    assert res.exact, render_text(res)
    assert res.config.overrides.extra_flows.path == "presets/avd-session-hosts.yaml"
    rules = [r["inputs"] for r in res.resources if r["type"] == "azure-native:network:SecurityRule"]
    deny = [r for r in rules if r["access"] == "Deny"]
    assert [(r["priority"], r["direction"], r["destinationAddressPrefix"]) for r in deny] == \
        [(2999, "Outbound", "Internet")]
    assert all(r["priority"] < 2999 for r in rules if r["access"] == "Allow")
    tags = {r.get("destinationAddressPrefix") for r in rules}
    assert {"WindowsVirtualDesktop", "AzureMonitor", "AzureActiveDirectory", "AzureCloud",
            "AzureFrontDoor.Frontend"} <= tags
    nsg = res.layers[0]
    assert {f.id for f in res.profile.customer_flows} <= set(nsg.actual.flow_ids)
    for origin in (f.provenance for f in res.profile.customer_flows):
        assert origin.startswith("customer:presets/avd-session-hosts.yaml:")


def test_a_platform_destination_the_cloud_cannot_express_is_one_line_and_nothing_runs(tmp_path):
    stack, extra = _write(tmp_path, "gcp-tag", GENERIC + [PLATFORM["azure"]], STACKS["gcp"])
    r = cli("preview", "--config", str(stack))
    assert r.returncode == 2 and r.stdout == ""
    lines = stderr_lines(r.stderr)
    assert len(lines) == 1, lines
    line = extra.read_text().splitlines()
    n = next(i for i, t in enumerate(line, 1) if "cust-monitor" in t)
    assert lines[0].startswith(f"error: {extra}:{n}: platform: flow cust-monitor: azure-service-tag 'AzureMonitor' "
                               "cannot be expressed on gcp")
    # an AWS-managed list on Azure, and a list whose quota weight is unknown on AWS
    stack, extra = _write(tmp_path, "az-pl", [PLATFORM["aws"]], STACKS["azure"])
    r = cli("preview", "--config", str(stack))
    assert r.returncode == 2 and "aws-prefix-list 'com.amazonaws.ap-southeast-2.s3' cannot be expressed on azure" \
        in r.stderr and len(stderr_lines(r.stderr)) == 1
    odd = dict(PLATFORM["aws"], platform=[{"name": "com.amazonaws.ap-southeast-2.no-such-service",
                                           "type": "aws-prefix-list"}])
    stack, extra = _write(tmp_path, "aws-odd", [odd], STACKS["aws"])
    r = cli("preview", "--config", str(stack))
    assert r.returncode == 2 and "not one spirit-infra knows the quota weight of" in r.stderr
    assert len(stderr_lines(r.stderr)) == 1


def test_the_program_refuses_before_registering_anything(tmp_path):
    """The same refusals from the program itself (pulumi up), under the recording test double."""
    from pulumi import RunError

    from spirit_infra import testing
    from spirit_infra.program import main

    for key, flows in (("gcp", [PLATFORM["azure"]]), ("aws", [dict(GENERIC[0], server_cidrs=["0.0.0.0/0"])])):
        _, extra = _write(tmp_path, f"prog-{key}", flows, STACKS[key])
        config = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in STACKS[key].items()}
        seen = []
        with pytest.raises(RunError) as e:
            testing.run(main, config={**config, "spirit:extraFlows": str(extra)},
                        outputs_for=lambda t, n, i, seen=seen: seen.append(n))
        assert seen == []
        assert str(extra) in str(e.value) and "\n" not in str(e.value)


def test_components_take_extra_flows(tmp_path):
    """extra_flows= on the components' Args: the same flows as the stack key."""
    import pulumi

    from spirit_infra import testing
    from spirit_infra.aws.components import AwsSecurityGroups, AwsSecurityGroupsArgs
    from spirit_infra.aws.read import read
    from spirit_infra.azure.components import AzureNsg, AzureNsgArgs
    from spirit_infra.azure.read import read_nsg
    from spirit_infra.errors import ConfigError
    from spirit_infra.gcp.components import GcpVpcFirewall, GcpVpcFirewallArgs
    from spirit_infra.gcp.read import read as read_gcp
    from spirit_infra.profiles import build_profile

    extra = tmp_path / "f.yaml"
    extra.write_text(yaml.safe_dump({"version": 1, "flows": GENERIC}))

    def program():
        AwsSecurityGroups("sg", AwsSecurityGroupsArgs(vpc_id="vpc-1", profile="sbc", extra_flows=str(extra)))
        AzureNsg("nsg", AzureNsgArgs(profile="sbc", resource_group_name="rg", extra_flows=str(extra)))
        GcpVpcFirewall("fw", GcpVpcFirewallArgs(network="net", profile="sbc", extra_flows=str(extra)))
        pulumi.export("ok", True)

    rec = testing.run(program)
    rs = [{"type": r.type, "name": r.name, "urn": r.urn, "inputs": r.inputs, "id": f"{r.name}-id"}
          for r in rec.resources]
    for reader, typ in ((read, "aws:"), (read_nsg, "azure-native:"), (read_gcp, "gcp:")):
        got = reader([r for r in rs if r["type"].startswith(typ)])
        assert {"cust-app", "cust-mirror", "cust-ntp"} <= set(got.flow_ids), typ
    # Args take the profile's name (serialisable), never a built Profile
    with pytest.raises(ConfigError, match="^profile: expected a profile name"):
        AwsSecurityGroupsArgs(vpc_id="vpc-1", profile=build_profile("sbc"), extra_flows=str(extra))


@pytest.mark.parametrize("name", sorted(__import__("hostile").HAZARDS))
def test_hostile_extra_flow_files_are_one_line_and_register_nothing(tmp_path, capsys, name):
    """The hostile-YAML corpus as an extra-flow file, through every entry point: the CLI's --extra-flows,
    the stack key (preview), the program (pulumi up, under the recording double) and a component's Args."""
    from hostile import HAZARDS
    from pulumi import RunError

    from spirit_infra import testing
    from spirit_infra.aws.components import AwsSecurityGroupsArgs
    from spirit_infra.cli import main as cli_main
    from spirit_infra.errors import InputError
    from spirit_infra.program import main

    extra = tmp_path / f"{name}.yaml"
    extra.write_text(HAZARDS[name])
    for argv in (["flows", "--profile", "sbc", "--extra-flows", str(extra)],
                 ["preview", "--config", str(_write(tmp_path, "hostile", [], STACKS["aws"])[0])]):
        if argv[0] == "preview":  # the stack file names the hostile file
            stack = tmp_path / "stacks" / "Pulumi.hostile.yaml"
            stack.write_text(stack.read_text().replace(str(tmp_path / "hostile-flows.yaml"), str(extra)))
        rc = cli_main(argv)
        out, err = capsys.readouterr()
        assert rc == 2 and out == "", (argv, rc, out, err)
        assert len(err.splitlines()) == 1 and err.startswith(f"error: {extra}:"), err
    config = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in STACKS["aws"].items()}
    seen: list[str] = []
    with pytest.raises(RunError) as e:
        testing.run(main, config={**config, "spirit:extraFlows": str(extra)},
                    outputs_for=lambda t, n, i: seen.append(n))
    assert seen == [] and str(e.value).startswith(f"{extra}:") and "\n" not in str(e.value)
    with pytest.raises(InputError) as e:
        AwsSecurityGroupsArgs(vpc_id="vpc-1", profile="sbc", extra_flows=str(extra))
    assert str(e.value).startswith(f"{extra}:") and "\n" not in str(e.value)
