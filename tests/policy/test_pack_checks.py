"""The pure checks, without a pack process: wire-format tolerance (floats, unknowns), settings, counting."""

from __future__ import annotations

import pytest

from spirit_infra.errors import ConfigError
from spirit_infra.flows import PortSet
from spirit_infra.policy import ingress, nat, quota
from spirit_infra.policy.resources import UNKNOWN_SENTINELS, normalize, role_members
from spirit_infra.policy.settings import Settings, settings_from

SG = "aws:ec2/securityGroup:SecurityGroup"


def test_normalize_turns_wire_floats_into_ints_and_unknowns_into_none():
    unknown = next(iter(UNKNOWN_SENTINELS))
    assert normalize({"fromPort": 5060.0, "x": [1.5, unknown], "ok": True}) == {"fromPort": 5060, "x": [1.5, None],
                                                                               "ok": True}


def test_float_protocol_number_reads_as_udp():
    sg = {"type": SG, "name": "sg", "inputs": normalize({"ingress": [
        {"protocol": 17.0, "fromPort": 5060.0, "toPort": 5060.0, "cidrBlocks": ["0.0.0.0/0"]}]})}
    assert ingress.open_voice_ingress(sg, Settings()) == [
        "ingress udp from 0.0.0.0/0 to SIP ports 5060: SIP/RTP must only be reachable from the Spirit ranges"]


def test_voice_ports_documented_defaults():
    sip, media = Settings().voice_ports()
    assert sip == PortSet.of([(5060, 5062)])
    assert media == PortSet.of([(1024, 65535)])  # phones' RTP client range swallows the rest
    _, narrow = Settings(media_ports="16384-32767").voice_ports()
    assert narrow == PortSet.of([(16384, 32767)])


def test_web_port_open_to_world_is_not_voice():
    sg = {"type": SG, "name": "sg", "inputs": {"ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]}}
    assert ingress.open_voice_ingress(sg, Settings()) == []


def test_settings_policy_config_over_stack_config():
    s = settings_from({"profile": "", "sipKeepaliveSeconds": 45.0},
                      {"spirit:profile": "sbc", "spirit:sipKeepaliveSeconds": "20",
                       "spirit:overrides": '{"extra_spirit_cidrs": ["198.51.100.0/24"]}'})
    assert (s.profile, s.sip_keepalive_seconds, s.extra_spirit_cidrs) == ("sbc", 45, ("198.51.100.0/24",))
    assert "198.51.100.0/24" in s.profile_for("sbc").spirit_cidrs
    with pytest.raises(ConfigError, match="unknown profile"):
        settings_from({"profile": "pbx"})
    with pytest.raises(ConfigError, match="sbcSipPorts"):
        Settings(sbc_sip_ports="50a").voice_ports()


def test_gcp_nat_thresholds():
    def n(**inputs):
        return nat.nat_voice_safe({"type": nat.GCP_ROUTER_NAT, "name": "nat", "inputs": inputs}, Settings())

    assert n(udpIdleTimeoutSec=31, enableEndpointIndependentMapping=True) == []
    assert len(n(udpIdleTimeoutSec=30, enableEndpointIndependentMapping=True)) == 1
    assert len(n(enableEndpointIndependentMapping=True)) == 1  # unset: GCP default 30 s
    assert len(n(udpIdleTimeoutSec=300)) == 1  # EIM unset


@pytest.mark.parametrize(("type_", "fixed"), [(nat.AWS_NAT_GATEWAY, 350), (nat.AZURE_NAT_GATEWAY, 240)])
def test_fixed_timeout_nat_keepalive(type_, fixed):
    res = {"type": type_, "name": "n", "inputs": {}}
    assert nat.managed_nat_keepalive(res, Settings(sip_keepalive_seconds=fixed - 1)) == []
    assert len(nat.managed_nat_keepalive(res, Settings(sip_keepalive_seconds=fixed))) == 1


def test_quota_counts_prefix_lists_at_max_entries_and_separate_rules():
    rs = [{"type": SG, "name": "sg", "urn": "u:sg", "inputs": {"egress": [
              {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8", "10.1.0.0/16"],
               "prefixListIds": ["pl"]}]}},
          {"type": "aws:ec2/managedPrefixList:ManagedPrefixList", "name": "pl", "inputs": {"maxEntries": 50,
                                                                                          "addressFamily": "IPv4"}},
          {"type": "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "name": "r",
           "inputs": {"securityGroupId": {"$ref": "sg"}, "cidrIpv6": "::/0", "ipProtocol": "-1"}},
          {"type": "aws:ec2/securityGroupRule:SecurityGroupRule", "name": "r2",
           "inputs": {"type": "egress", "securityGroupId": "u:sg", "prefixListIds": ["pl"]}}]
    counts, notes = quota.count_rules(rs)
    assert counts == {"sg": {("egress", "ipv4"): 102, ("egress", "ipv6"): 1}} and notes == []
    assert [m for m, _ in quota.sg_quota(rs, 101)] and quota.sg_quota(rs, 102) == []


def test_role_members_follow_containers():
    rs = [{"type": SG, "name": "sg", "inputs": {"tags": {"spirit-role": "sbc"}}},
          {"type": SG, "name": "other", "inputs": {}},
          {"type": "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "name": "in-sg",
           "inputs": {"securityGroupId": "sg"}},
          {"type": "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "name": "in-other",
           "inputs": {"securityGroupId": "other"}}]
    assert [r["name"] for r in role_members(rs, "sbc")] == ["sg", "in-sg"]


GCP_POLICY_RULE = "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule"


def _gcp_rule(match: dict, priority=100) -> dict:
    return {"type": GCP_POLICY_RULE, "name": "r", "inputs": normalize({
        "firewallPolicy": "p", "priority": priority, "action": "allow", "direction": "INGRESS",
        "match": {**match, "layer4Configs": [{"ipProtocol": "udp", "ports": ["5060"]}]}})}


def test_gcp_policy_rule_from_internal_sources_is_not_open_to_the_world():
    assert ingress.open_voice_ingress(_gcp_rule({"srcSecureTags": [{"name": "tagValues/1"}]}), Settings()) == []
    assert ingress.open_voice_ingress(_gcp_rule({"srcNetworkScope": "VPC_NETWORKS"}), Settings()) == []
    assert len(ingress.open_voice_ingress(_gcp_rule({"srcNetworkScope": "INTERNET"}), Settings())) == 2


def test_gcp_policy_rule_with_unknown_priority_is_still_judged():
    unknown = next(iter(UNKNOWN_SENTINELS))
    assert ingress.open_voice_ingress(_gcp_rule({"srcIpRanges": ["0.0.0.0/0"]}, priority=unknown), Settings()) == [
        "ingress udp from 0.0.0.0/0 to SIP ports 5060: SIP/RTP must only be reachable from the Spirit ranges"]
