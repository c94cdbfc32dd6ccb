"""AWS components under the mock runtime: what is REGISTERED is read back and compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from spirit_infra import Capabilities, ConfigError, Overrides, build_profile, project, testing
from spirit_infra.aws import SG_CAPS, read, read_groups
from spirit_infra.aws.components import (
    AwsManagedNat,
    AwsManagedNatArgs,
    AwsNetworkFirewall,
    AwsNetworkFirewallArgs,
    AwsSecurityGroups,
    AwsSecurityGroupsArgs,
)
from spirit_infra.aws.fqdn import NFW_TARGET, FirewallOptions, model_firewall
from spirit_infra.aws.read import read_firewall
from spirit_infra.aws.rules import TYPE_EGRESS, TYPE_INGRESS, TYPE_SG

PROFILES = ("phones", "communicator", "sbc")
CATALOGUE = Path(__file__).resolve().parents[2] / "spirit_infra" / "catalogue" / "spirit.yaml"


def _sg_stack(profile, **kw):
    return testing.run(lambda: AwsSecurityGroups("spirit", AwsSecurityGroupsArgs(vpc_id="vpc-0abc", profile=profile,
                                                                                      **kw)))


def _as_dicts(rec):
    return [r.to_dict() for r in rec.resources if r.custom]


@pytest.mark.parametrize("name", PROFILES)
def test_registered_inputs_read_back_exactly(name):
    prof = build_profile(name)
    rec = _sg_stack(name)
    proj = project(prof.allowed, SG_CAPS)
    assert read(_as_dicts(rec)) == proj.allowed
    comp = rec.get("spirit")
    assert comp.type == "spirit:index:AwsSecurityGroups"
    # children parented to the component, named <name>-<suffix>, tagged
    for r in rec.resources:
        if r.custom:
            assert r.parent == comp.urn and r.name.startswith("spirit-")
            assert r.inputs["tags"]["spirit-profile"] == name
    # rules are separate resources; the groups carry no inline rules (so no allow-all egress either)
    for g in rec.by_type(TYPE_SG):
        assert "egress" not in g.inputs and "ingress" not in g.inputs
        assert g.inputs["vpcId"] == "vpc-0abc"
    # the widening list names only source ports, plus destination for the FQDN flows
    widened = comp.outputs["widened"]
    assert widened == [str(w) for w in proj.widened]
    fqdn = {f.id for f in prof.flows if f.peer_fqdns}
    for w in proj.widened:
        assert w.dimension == "source_ports" or (w.dimension == "destination" and w.flow in fqdn)
    assert comp.outputs["securityGroupIds"] == [g.id for g in rec.by_type(TYPE_SG)]
    assert comp.outputs["ruleCount"] == len(rec.by_type(TYPE_EGRESS)) + len(rec.by_type(TYPE_INGRESS))


def test_split_groups_read_per_group():
    rec = _sg_stack("sbc", quota=5)
    groups = read_groups(_as_dicts(rec))
    assert sorted(groups) == ["spirit-sg-1", "spirit-sg-2"]
    prof = build_profile("sbc")
    union = groups["spirit-sg-1"] | groups["spirit-sg-2"]
    assert union == project(prof.allowed, SG_CAPS).allowed
    assert rec.get("spirit").outputs["quota"]["layout"] == "cidr"


def test_sbc_prefix_list_and_outputs():
    rec = _sg_stack("sbc")
    pl = rec.get("spirit-spirit-ipv4")
    assert pl.inputs["maxEntries"] == 10 and pl.inputs["addressFamily"] == "IPv4"
    assert rec.get("spirit").outputs["prefixListId"] == pl.id
    refs = [r for r in rec.by_type(TYPE_EGRESS) + rec.by_type(TYPE_INGRESS) if r.inputs.get("prefixListId") == pl.id]
    assert len(refs) == 6


@pytest.mark.parametrize("kw", [{"fqdn_firewall": False}, {}], ids=["off", "default"])
def test_no_fqdn_firewall_warns_in_output_and_log(kw):
    """Alone (the default) the component deploys no FQDN layer, so it never claims one narrows anything."""
    rec = _sg_stack("phones", **kw)
    warnings = rec.get("spirit").outputs["warnings"]
    assert len(warnings) == 2 and all("NOT STRICT" in w for w in warnings)
    assert not any("Network Firewall" in w for w in warnings)
    assert sum("NOT STRICT" in line for line in rec.logs) == 2
    assert not any(r.type.startswith("aws:networkfirewall") for r in rec.resources)


def test_with_a_network_firewall_the_warning_says_it_narrows():
    rec = testing.run(lambda: (
        AwsSecurityGroups("spirit", AwsSecurityGroupsArgs(vpc_id="vpc-0abc", profile="phones",
                                                                fqdn_firewall=True)),
        AwsNetworkFirewall("fw", AwsNetworkFirewallArgs(profile="phones", vpc_id="vpc-0abc",
                                                              subnet_ids=("subnet-a",)))))
    warnings = rec.get("spirit").outputs["warnings"]
    assert len(warnings) == 2 and all("the Network Firewall narrows it" in w for w in warnings)
    assert not any("NOT STRICT" in w for w in warnings)


def test_args_are_validated_at_construction():
    with pytest.raises(ConfigError, match="vpc_id"):
        AwsSecurityGroupsArgs(vpc_id="", profile="sbc")
    with pytest.raises(ConfigError, match="profile"):
        AwsSecurityGroupsArgs(vpc_id="vpc-1", profile="desk")
    with pytest.raises(ConfigError, match="quota"):
        AwsSecurityGroupsArgs(vpc_id="vpc-1", quota=-1)
    with pytest.raises(ConfigError, match="vpc_id"):
        AwsNetworkFirewallArgs(profile="phones", subnet_ids=("subnet-1",))
    with pytest.raises(ConfigError, match="public_subnets"):
        AwsManagedNatArgs(public_subnets={})
    with pytest.raises(ConfigError, match="public_subnets"):
        AwsManagedNatArgs(public_subnets={"Zone A": "subnet-1"})


def _suricata_out(registered: list[dict], file: str) -> str:
    """The Suricata rules of the one stateful rule group, replaced in ``registered`` by the golden file's name."""
    rules = [r["inputs"]["ruleGroup"]["rulesSource"] for r in registered
             if "rulesString" in r["inputs"].get("ruleGroup", {}).get("rulesSource", {})]
    assert len(rules) == 1, rules
    text, rules[0]["rulesString"] = rules[0]["rulesString"], f"<{file}>"
    return text + "\n"


@pytest.mark.parametrize("name", PROFILES)
def test_golden(name, golden, golden_text):
    """The registered resources as JSON, their Suricata rules in native form (aws/<profile>.rules)."""
    prof = build_profile(name)
    fw = model_firewall(prof, FirewallOptions(dns_firewall=True, subnet_count=2))
    rec = testing.run(lambda: (
        AwsSecurityGroups("spirit", AwsSecurityGroupsArgs(vpc_id="vpc-0abc", profile=name, fqdn_firewall=True)),
        AwsNetworkFirewall("fw", AwsNetworkFirewallArgs(profile=name, vpc_id="vpc-0abc",
                                                              subnet_ids=("subnet-a", "subnet-b"), dns_firewall=True))))
    registered = [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in rec.resources]
    golden_text(f"aws/{name}.rules", _suricata_out(registered, f"tests/golden/aws/{name}.rules"))
    golden(f"aws/{name}", {
        "registered": registered,
        "outputs": {r.name: r.outputs for r in rec.resources if not r.custom},
        "firewall_widened": [w.to_json() for w in fw.widened],
    })


# ---- network firewall -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PROFILES)
def test_firewall_registered_reads_back(name):
    prof = build_profile(name)
    rec = testing.run(lambda: AwsNetworkFirewall("fw", AwsNetworkFirewallArgs(profile=name)))
    got = read_firewall(_as_dicts(rec))
    fw = model_firewall(prof)
    assert got == fw.projected
    # the firewall is exact (source ports kept) except the named NTP widening: pool.ntp.org -> any address
    if name == "phones":
        assert [(w.flow, w.dimension) for w in fw.widened] == [("phone-ntp", "destination")]
        assert fw.widened[0].target == NFW_TARGET
        others = [f for f in prof.allowed.flow_ids if f != "phone-ntp"]
        ntp = project(prof.allowed.select(flows=["phone-ntp"]), Capabilities("nfw", source_ports=True, fqdn=False))
        assert got == prof.allowed.select(flows=others) | ntp.allowed
    else:
        assert got == prof.allowed and fw.widened == ()
    policy = rec.get("fw-nfw-policy").inputs["firewallPolicy"]
    assert policy["statefulDefaultActions"] == ["aws:drop_established", "aws:alert_established"]


def test_phones_firewall_domain_list_and_dns_firewall():
    rec = testing.run(lambda: AwsNetworkFirewall("fw", AwsNetworkFirewallArgs(
        profile="phones", vpc_id="vpc-1", subnet_ids=("subnet-a",), dns_firewall=True)))
    src = rec.get("fw-nfw-domains").inputs["ruleGroup"]["rulesSource"]["rulesSourceList"]
    assert src["targetTypes"] == ["HTTP_HOST", "TLS_SNI"] and len(src["targets"]) == 5
    rules = rec.get("fw-nfw-rules").inputs["ruleGroup"]["rulesSource"]["rulesString"]
    assert rules.count("-> $EXTERNAL_NET 10000 (tls.sni") == 5 and "-> $EXTERNAL_NET 123 " in rules
    assert rec.get("fw-nfw").inputs["subnetMappings"] == [{"subnetId": "subnet-a"}]
    domains = rec.get("fw-dnsfw-domains").inputs["domains"]
    assert {"pool.ntp.org", "phreg.access4.com.au", "*.phreg.access4.com.au", "ztp.polycom.com"} <= set(domains)
    assert rec.get("fw-dnsfw-vpc").inputs["vpcId"] == "vpc-1"


# ---- managed NAT ----------------------------------------------------------------------------------------

def test_managed_nat_per_zone_outputs_and_keepalive_warning():
    rec = testing.run(lambda: AwsManagedNat("nat", AwsManagedNatArgs(
        public_subnets={"b": "subnet-b", "a": "subnet-a"}, sip_keepalive_seconds=30)))
    out = rec.get("nat").outputs
    eips = {r.name: r for r in rec.by_type("aws:ec2/eip:Eip")}
    assert sorted(eips) == ["nat-eip-a", "nat-eip-b"]
    assert out["publicIps"] == [testing.default_outputs("aws:ec2/eip:Eip", n, {})["publicIp"]
                                 for n in ("nat-eip-a", "nat-eip-b")]
    gws = {r.name: r for r in rec.by_type("aws:ec2/natGateway:NatGateway")}
    assert gws["nat-natgw-a"].inputs["subnetId"] == "subnet-a"
    assert gws["nat-natgw-a"].inputs["allocationId"].startswith("eipalloc-")
    assert out["idleTimeoutSeconds"] == 350 and out["warnings"] == []
    one = testing.run(lambda: AwsManagedNat("nat", AwsManagedNatArgs(
        public_subnets={"b": "subnet-b", "a": "subnet-a"}, one_per_zone=False, sip_keepalive_seconds=350)))
    assert [r.name for r in one.by_type("aws:ec2/natGateway:NatGateway")] == ["nat-natgw-a"]
    assert "350 s" in one.get("nat").outputs["warnings"][0] and any("keepalive" in x for x in one.logs)


# ---- churn ----------------------------------------------------------------------------------------------

def _names(profile, catalogue):
    ov = Overrides(catalogue=str(catalogue))
    rec = testing.run(lambda: AwsSecurityGroups("spirit", AwsSecurityGroupsArgs(vpc_id="vpc-1", profile=profile,
                                                                                overrides=ov)))
    return {r.name: r for r in rec.resources if r.custom}


def _edit(tmp_path, change):
    data = yaml.safe_load(CATALOGUE.read_text())
    change(data["flows"])
    path = tmp_path / "spirit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _flow(fid, client, port, application="New", protocols=("HTTPS",)):
    """A catalogue flow row: tcp from any client port to Spirit's 103.80.244.0/22 on ``port``."""
    return {"id": fid, "client": client, "provenance": {"table": "override", "row": 1},
            "application": application, "protocols": list(protocols), "transports": ["tcp"], "dscp": "0",
            "client_ports": None, "dns": [], "server_cidrs": ["103.80.244.0/22"], "server_ports": [[port, port]],
            "assumptions": ["any-port"]}


@pytest.mark.parametrize("profile", ["communicator", "phones"])
def test_churn_add_one_flow(tmp_path, profile):
    base = tmp_path / "base.yaml"
    shutil.copy(CATALOGUE, base)
    before = _names(profile, base)
    client = "communicator" if profile == "communicator" else "phone"
    new = _flow(f"{client}-new-thing", client, 9443)
    after = _names(profile, _edit(tmp_path, lambda flows: flows.append(new)))
    added = set(after) - set(before)
    assert set(before) <= set(after)
    assert added and all(after[n].inputs.get("tags", {}).get("spirit-flow") == new["id"] for n in added)
    for n in before:  # nothing else changed, not even an input
        assert after[n].inputs == before[n].inputs, n


def test_churn_a_flow_joining_a_shared_rule_renames_nothing(tmp_path):
    """A new flow whose traffic an existing rule already carries only adds its id to that rule's tag:
    no rule is renamed (a rename would create a duplicate before deleting the old rule)."""
    before = _names("communicator", CATALOGUE)
    twin = _flow("communicator-zzz-twin", "communicator", 5222, "Twin of messaging", ("XMPP",))
    after = _names("communicator", _edit(tmp_path, lambda flows: flows.append(twin)))
    assert set(after) == set(before)
    changed = [n for n in before if before[n].inputs != after[n].inputs]
    assert len(changed) == 1 and before[changed[0]].inputs["tags"]["spirit-flow"] == "communicator-messaging"
    assert after[changed[0]].inputs["tags"]["spirit-flow"] == "communicator-messaging,communicator-zzz-twin"
    # only the description and the tags change (in place): nothing that replaces the rule
    diff = {k for k in before[changed[0]].inputs if before[changed[0]].inputs[k] != after[changed[0]].inputs[k]}
    assert diff == {"description", "tags"}


def _flows_of(res):
    return set(res.inputs.get("tags", {}).get("spirit-flow", "").split(","))


def test_churn_a_shared_rule_keeps_its_name_when_its_first_flow_leaves_or_a_new_first_flow_joins(tmp_path):
    """Issue 12 section 1: removing phone-provisioning once renamed the rule it shares with phone-xsi;
    adding communicator-analytics (which sorts first) renamed the rule config, desktop-sharing and xsi share."""
    before = _names("phones", CATALOGUE)
    shared = [n for n, r in before.items() if _flows_of(r) == {"phone-provisioning", "phone-xsi"}]
    assert len(shared) == 1 and "phone" not in shared[0]
    after = _names("phones", _edit(tmp_path, lambda flows: flows.remove(
        next(f for f in flows if f["id"] == "phone-provisioning"))))
    assert set(after) == set(before)
    assert _flows_of(after[shared[0]]) == {"phone-xsi"}

    before = _names("communicator", CATALOGUE)
    first = _flow("communicator-analytics", "communicator", 443, "Analytics")
    after = _names("communicator", _edit(tmp_path, lambda flows: flows.append(first)))
    assert set(after) == set(before)
    moved = [n for n in before if _flows_of(before[n]) != _flows_of(after[n])]
    assert len(moved) == 1 and "communicator-analytics" in _flows_of(after[moved[0]])
    assert {"communicator-config", "communicator-xsi"} <= _flows_of(before[moved[0]])


def test_rules_alias_their_pre_issue_12_names_so_a_deployed_stack_adopts_them_in_place():
    """The old names (first flow id first) become aliases: upgrading renames nothing in the engine."""
    rec = _sg_stack("sbc")
    old = {"spirit-sbc-audio-out-out-udp-any-e078f03b", "spirit-sbc-sip-tcp-out-out-tcp-5060-5062-ca030cd9",
           "spirit-sbc-sip-udp-out-out-udp-5060-5062-62a1b2aa", "spirit-sbc-media-in-in-udp-16384-32767-eeabce52",
           "spirit-sbc-sip-tcp-in-in-tcp-5060-5061-458fbb09", "spirit-sbc-sip-udp-in-in-udp-5060-5061-b1881f65"}
    got = set()
    for r in rec.by_type(TYPE_EGRESS) + rec.by_type(TYPE_INGRESS):
        (alias,) = r.options["aliases"]
        got.add(json.loads(alias)["spec"]["name"])
    assert got == old


def test_rule_names_say_what_they_allow_and_do_not_stutter():
    rec = _sg_stack("sbc")
    names = sorted(r.name for r in rec.by_type(TYPE_EGRESS) + rec.by_type(TYPE_INGRESS))
    assert [n.rsplit("-", 1)[0] for n in names] == [
        "spirit-in-tcp-5060-5061-spirit-ipv4", "spirit-in-udp-16384-32767-spirit-ipv4",
        "spirit-in-udp-5060-5061-spirit-ipv4", "spirit-out-tcp-5060-5062-spirit-ipv4",
        "spirit-out-udp-5060-5062-spirit-ipv4", "spirit-out-udp-any-spirit-ipv4"]
    for n in names:
        tokens = n.split("-")
        assert all(a != b for a, b in zip(tokens, tokens[1:], strict=False)), n


def test_churn_edit_and_remove_one_flow(tmp_path):
    before = _names("communicator", CATALOGUE)

    def edit(flows):
        next(f for f in flows if f["id"] == "communicator-file-transfer")["server_ports"] = [[1081, 1083]]

    after = _names("communicator", _edit(tmp_path, edit))
    gone, new = set(before) - set(after), set(after) - set(before)
    assert {n for n in set(before) & set(after) if before[n].inputs != after[n].inputs} == set()
    assert gone and new and all(_flows_of(before[n]) == {"communicator-file-transfer"} for n in gone)
    assert all(_flows_of(after[n]) == {"communicator-file-transfer"} for n in new)

    after = _names("communicator", _edit(tmp_path, lambda flows: flows.remove(
        next(f for f in flows if f["id"] == "communicator-messaging"))))
    assert set(before) - set(after) == {n for n in before if _flows_of(before[n]) == {"communicator-messaging"}}
    assert set(after) <= set(before)
