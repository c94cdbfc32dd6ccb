"""The readers on stacks spirit-infra did not build: inline rules, ARM shape, denies, tags, firewall
collections with deny and application rules."""

from __future__ import annotations

import pytest

from spirit_infra import AllowedSet, Peer, PortSet, Term, build_profile
from spirit_infra.azure import fqdn as fw
from spirit_infra.azure import rules
from spirit_infra.azure.read import (
    read_firewall_policy,
    read_firewall_policy_report,
    read_nsg,
    read_nsg_report,
)
from spirit_infra.errors import CapabilityError

SPIRIT = ("103.80.244.0/22",)


def _nsg(*security_rules, name="foreign"):
    return {"type": rules.NSG_TYPE, "name": name, "inputs": {"securityRules": list(security_rules)}}


def _rule(name, priority, direction="Outbound", access="Allow", protocol="Tcp", **kw):
    base = {"name": name, "priority": priority, "direction": direction, "access": access, "protocol": protocol,
            "sourcePortRange": "*"}
    if "destinationPortRanges" not in kw:
        base["destinationPortRange"] = "*"
    return dict(base, **kw)


def term(direction, transport, cidrs, src=None, dst=None, flow=""):
    return Term(direction, transport, Peer.of(cidrs), PortSet.of(src), PortSet.of(dst), flow)


def test_inline_rules_allow_minus_earlier_deny():
    res = [_nsg(_rule("deny-bad", 100, access="Deny", protocol="*", destinationAddressPrefix="103.80.246.0/24"),
                _rule("allow-spirit", 200, destinationAddressPrefix="103.80.244.0/22",
                      destinationPortRanges=["443", "5060-5062"]),
                _rule("deny-all", 4096, access="Deny", protocol="*", destinationAddressPrefix="*"),
                _rule("late", 4090, destinationAddressPrefix="1.2.3.4"))]
    got = read_nsg(res)
    expected = AllowedSet([term("egress", "tcp", ["103.80.244.0/23", "103.80.247.0/24"], None,
                                [(443, 443), (5060, 5062)]),
                           term("egress", "tcp", ["1.2.3.4/32"])])
    assert got == expected


def test_later_deny_does_not_remove_earlier_allow_and_tags_read_as_everything():
    res = [_nsg(_rule("web", 300, destinationAddressPrefix="Internet", destinationPortRange="443"),
                _rule("deny", 400, access="Deny", protocol="*", destinationAddressPrefix="Internet")),
           _nsg(_rule("in", 100, direction="Inbound", protocol="Udp", sourceAddressPrefix="*",
                      destinationPortRange="5060"), name="other")]
    got = read_nsg(res)
    assert got == AllowedSet([term("egress", "tcp", ["0.0.0.0/0", "::/0"], None, [(443, 443)]),
                              term("ingress", "udp", ["0.0.0.0/0", "::/0"], None, [(5060, 5060)])])


def test_service_tags_and_remote_asgs_are_noted_not_guessed():
    res = [_nsg(_rule("vnet", 100, direction="Inbound", sourceAddressPrefix="VirtualNetwork"),
                _rule("lb", 110, direction="Inbound", sourceApplicationSecurityGroups=[{"id": "x"}]),
                _rule("icmp", 120, protocol="Icmp", destinationAddressPrefix="*"))]
    got, notes = read_nsg_report(res)
    assert got.is_empty
    assert any("VirtualNetwork" in n for n in notes) and any("application security group" in n for n in notes)
    assert any("Icmp" in n for n in notes)


def test_separate_rules_arm_shape_and_mixing_is_noted():
    res = [_nsg(_rule("inline", 100, destinationAddressPrefix="10.0.0.0/8")),
           {"type": rules.SECURITY_RULE_TYPE, "name": "sep",
            "inputs": {"networkSecurityGroupName": "foreign",
                       "properties": {"priority": 150, "direction": "Outbound", "access": "Allow",
                                      "protocol": "Udp", "destinationAddressPrefixes": ["192.0.2.0/24"],
                                      "sourcePortRanges": ["1024-65535"], "destinationPortRange": "123"}}}]
    got, notes = read_nsg_report(res)
    assert got == AllowedSet([term("egress", "tcp", ["10.0.0.0/8"]),
                              term("egress", "udp", ["192.0.2.0/24"], [(1024, 65535)], [(123, 123)])])
    assert any("fight" in n for n in notes)


def test_default_rules_open_egress_of_a_bare_nsg():
    got = read_nsg([_nsg()], include_default_rules=True)
    assert got == AllowedSet([term("egress", t, ["0.0.0.0/0", "::/0"]) for t in ("tcp", "udp")])
    assert read_nsg([_nsg()]).is_empty


def test_ingress_from_everywhere_or_names_is_refused():
    bad = AllowedSet([term("ingress", "udp", ["0.0.0.0/0"], None, [(5060, 5060)], "x")])
    with pytest.raises(CapabilityError, match="least privilege"):
        rules.model(bad, rules.NsgOptions(profile="sbc"))
    named = AllowedSet([Term("ingress", "udp", Peer.of([], ["a.example.com"]), flow="y")])
    with pytest.raises(CapabilityError, match="DNS names"):
        rules.model(named)


def test_render_of_a_bare_allowed_set_with_multiple_terms_per_flow_round_trips():
    s = AllowedSet([term("egress", "tcp", ["10.0.0.0/24"], None, [(443, 443)], "f"),
                    term("egress", "tcp", ["10.1.0.0/24"], [(1000, 2000)], [(80, 80)], "f"),
                    term("ingress", "udp", ["10.2.0.0/24"], None, [(5060, 5060)], "f")])
    plan = rules.model(s, rules.NsgOptions(strict=False))
    assert read_nsg(plan.resources()) == s
    names = [r.name for r in plan.rules]
    assert len(set(names)) == 3 and all(n.startswith("spirit-f-") for n in names)
    assert read_nsg(plan.resources()).flow_ids == ("",)   # no profile: no marks, no labels


def test_rule_count_limit():
    with pytest.raises(Exception, match="limit is 5"):
        rules.model(build_profile("phones"), rules.NsgOptions(max_rules=5))


# ---- firewall policy reader ----------------------------------------------------------------------

def _group(priority, *collections, name="g"):
    return {"type": fw.GROUP_TYPE, "name": name, "inputs": {"priority": priority, "ruleCollections": list(collections)}}


def _coll(name, priority, action, *rs):
    return {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": name, "priority": priority,
            "action": {"type": action}, "rules": list(rs)}


def test_firewall_reader_network_before_application_and_denies():
    res = [_group(200,
                  _coll("deny", 100, "Deny", {"ruleType": "NetworkRule", "ipProtocols": ["Any"],
                                              "destinationAddresses": ["10.0.1.0/24"], "destinationPorts": ["*"]}),
                  _coll("allow", 200, "Allow",
                        {"ruleType": "NetworkRule", "ipProtocols": ["TCP", "UDP"],
                         "destinationAddresses": ["10.0.0.0/23"], "destinationPorts": ["53"]},
                        {"ruleType": "NetworkRule", "ipProtocols": ["UDP"], "destinationFqdns": ["Time.Example.com"],
                         "destinationPorts": ["123"]})),
           _group(100, _coll("web", 100, "Allow",
                             {"ruleType": "ApplicationRule", "protocols": [{"protocolType": "Https", "port": 443},
                                                                          {"protocolType": "Http"}],
                              "targetFqdns": ["a.example.com", "*"], "fqdnTags": ["WindowsUpdate"]}))]
    got, notes = read_firewall_policy_report(res)
    web = [(80, 80), (443, 443)]
    # network rules (the deny included) are evaluated before every application rule, whatever the
    # group priorities: the application rule's "*" loses what the network deny matched
    app = AllowedSet([Term("egress", "tcp", Peer.of(["0.0.0.0/0", "::/0"], ["a.example.com"]),
                           dst_ports=PortSet.of(web))])
    deny = AllowedSet([term("egress", t, ["10.0.1.0/24"]) for t in ("tcp", "udp")])
    assert got == AllowedSet([
        term("egress", t, ["10.0.0.0/24"], None, [(53, 53)]) for t in ("tcp", "udp")
    ] + [Term("egress", "udp", Peer.of([], ["time.example.com"]), dst_ports=PortSet.of([(123, 123)]))]) | (app - deny)
    assert not got.select(transport="tcp") & deny
    assert any("fqdnTags" in n for n in notes)


def test_firewall_render_refuses_wildcards_in_network_rules_and_needs_dns_proxy():
    s = AllowedSet([Term("egress", "udp", Peer.of([], ["*.pool.ntp.org"]), dst_ports=PortSet.single(123), flow="n")])
    with pytest.raises(CapabilityError, match="wildcard"):
        fw.model(s)
    s2 = AllowedSet([Term("egress", "udp", Peer.of([], ["pool.ntp.org"]), dst_ports=PortSet.single(123), flow="n")])
    with pytest.raises(Exception, match="DNS proxy"):
        fw.model(s2, fw.FirewallOptions(dns_proxy=False))
    assert read_firewall_policy(fw.model(s2).resources()) == s2


def test_firewall_fqdn_only_layout():
    prof = build_profile("phones")
    plan = fw.model(prof, fw.FirewallOptions(include_ip_flows=False))
    assert {c["name"] for c in plan.collections} == {"spirit-phone-ztp-net", "spirit-phone-ztp-app",
                                                      "spirit-phone-ntp-net"}
    egress = prof.allowed.select(flows=("phone-ntp", "phone-ztp"))
    assert read_firewall_policy(plan.resources()) == fw.project(egress, fw.FW_CAPS).allowed


def test_enum_words_are_read_case_insensitively():
    # ARM takes "allow"/"outbound"/"tcp" as well as "Allow"/"Outbound"/"Tcp"; a foreign stack that
    # spells them in lower case must not read as allowing nothing.
    res = [_nsg(_rule("web", 100, direction="outbound", access="allow", protocol="tcp",
                      destinationAddressPrefix="1.2.3.4", destinationPortRange="443"),
                _rule("deny", 200, direction="OUTBOUND", access="DENY", protocol="*", destinationAddressPrefix="*"),
                _rule("late", 300, destinationAddressPrefix="5.6.7.8"))]
    assert read_nsg(res) == AllowedSet([term("egress", "tcp", ["1.2.3.4/32"], None, [(443, 443)])])


def test_a_deny_on_a_narrower_local_side_does_not_hide_a_later_allow():
    # The deny only covers one local host; the allow (local "*") still admits everyone else, so the
    # reader must not subtract the deny (reading less than Azure allows would hide a world-open rule).
    res = [_nsg(_rule("deny-one", 100, direction="Inbound", access="Deny", protocol="*", sourceAddressPrefix="*",
                      destinationAddressPrefix="10.0.0.5"),
                _rule("ssh", 200, direction="Inbound", sourceAddressPrefix="*", destinationAddressPrefix="*",
                      destinationPortRange="22"))]
    assert read_nsg(res) == AllowedSet([term("ingress", "tcp", ["0.0.0.0/0", "::/0"], None, [(22, 22)])])
    # the same local side (an ASG, or "*" / VirtualNetwork) does subtract
    asg = [{"id": "asg-sbc"}]
    res = [_nsg(_rule("deny", 100, access="Deny", protocol="*", destinationAddressPrefix="*",
                      sourceApplicationSecurityGroups=asg),
                _rule("web", 200, destinationAddressPrefix="1.2.3.4", destinationPortRange="443",
                      sourceApplicationSecurityGroups=asg),
                _rule("deny-vnet", 300, direction="Inbound", access="Deny", protocol="*", sourceAddressPrefix="*",
                      destinationAddressPrefix="VirtualNetwork"),
                _rule("in", 400, direction="Inbound", sourceAddressPrefix="1.2.3.4", destinationAddressPrefix="*"))]
    assert read_nsg(res).is_empty


def test_firewall_deny_for_other_sources_does_not_hide_an_allow_and_actions_ignore_case():
    net = {"ruleType": "NetworkRule", "ipProtocols": ["TCP"], "destinationAddresses": ["*"], "destinationPorts": ["22"]}
    res = [_group(100,
                  _coll("deny-one-host", 100, "Deny", dict(net, sourceAddresses=["10.0.0.5"])),
                  _coll("allow", 200, "allow", dict(net, sourceAddresses=["*"])))]
    assert read_firewall_policy(res) == AllowedSet([term("egress", "tcp", ["0.0.0.0/0", "::/0"], None, [(22, 22)])])
    res = [_group(100,
                  _coll("deny-all", 100, "DENY", dict(net, sourceAddresses=["*"])),
                  _coll("allow", 200, "Allow", dict(net, sourceAddresses=["10.0.0.0/24"])))]
    assert read_firewall_policy(res).is_empty
