"""Components under the mock runtime: exactness on the REGISTERED inputs, golden files, rule style."""

from __future__ import annotations

import functools
import inspect

import pytest

from spirit_infra import PROFILES, build_profile, project
from spirit_infra.azure import fqdn as fw
from spirit_infra.azure import rules
from spirit_infra.azure.components import (
    AzureFirewallPolicy,
    AzureFirewallPolicyArgs,
    AzureNsg,
    AzureNsgArgs,
    sdk_class,
)
from spirit_infra.azure.read import (
    read_firewall_policy_report,
    read_nsg,
    read_nsg_report,
)
from spirit_infra.binder import snake
from spirit_infra.errors import QuotaError

from .helpers import as_reader_input, golden_view, run_components

NSG_T, RULE_T = rules.NSG_TYPE, rules.SECURITY_RULE_TYPE


def _both(profile: str, **nsg_kw):
    """Both components for ``profile`` (the default layout is recorded once per profile and shared)."""
    return _record(profile, tuple(sorted(nsg_kw.items())))


@functools.cache
def _record(profile: str, nsg_items: tuple):
    nsg_kw = dict(nsg_items)

    def build():
        AzureNsg("edge", AzureNsgArgs(profile, "rg", location="australiaeast", **nsg_kw))
        AzureFirewallPolicy("fw", AzureFirewallPolicyArgs(profile, "rg", location="australiaeast"))
    return run_components(build)


@pytest.mark.parametrize("profile", PROFILES)
def test_nsg_is_exactly_the_projection(profile):
    rec = _both(profile)
    prof = build_profile(profile)
    expected = project(prof.allowed, rules.NSG_CAPS)
    got, notes = read_nsg_report(as_reader_input(rec))
    assert got == expected.allowed
    assert notes == []
    # labels survive the round trip (from the description marks)
    assert {t.flow for t in got.terms} == {f.id for f in prof.flows}
    # only the FQDN destinations widen, and only to 0.0.0.0/0; source ports never widen on an NSG
    fqdn_flows = {f.id for f in prof.flows if f.peer_fqdns}
    assert {w.flow for w in expected.widened} == fqdn_flows
    assert {(w.dimension, w.after) for w in expected.widened} <= {("destination", "0.0.0.0/0")}
    comp = rec.get("edge")
    assert sorted(comp.outputs["widened"]) == sorted(str(w) for w in expected.widened)


@pytest.mark.parametrize("profile", PROFILES)
def test_firewall_policy_is_exactly_the_egress_projection_and_holds_the_fqdn_flows(profile):
    rec = _both(profile)
    prof = build_profile(profile)
    egress = prof.allowed.select(direction="egress")
    expected = project(egress, fw.FW_CAPS)
    got, notes = read_firewall_policy_report(as_reader_input(rec))
    assert got == expected.allowed and notes == []
    assert {w.dimension for w in expected.widened} <= {"source_ports"}
    # the FQDN flows: exact names and ports (source ports any)
    fqdn = fw.fqdn_flow_ids(egress)
    assert got.select(flows=fqdn) == project(egress.select(flows=fqdn), fw.FW_CAPS).allowed
    if profile == "phones":
        assert fqdn == ("phone-ntp", "phone-ztp")
        assert all(n in str(got.select(flows=fqdn)) for n in ("pool.ntp.org", "ztp.polycom.com"))
    policy = rec.by_type(fw.POLICY_TYPE)[0]
    assert policy.inputs["dnsSettings"] == {"enableProxy": True}
    assert policy.inputs["sku"] == {"tier": "Standard"}


def test_phones_firewall_layout_splits_ztp_into_application_and_network_rules():
    rec = _both("phones")
    group = rec.by_type(fw.GROUP_TYPE)[0]
    cols = {c["name"]: c for c in group.inputs["ruleCollections"]}
    app = cols["spirit-phone-ztp-app"]["rules"][0]
    assert app["ruleType"] == "ApplicationRule"
    assert app["protocols"] == [{"protocolType": "Http", "port": 80}, {"protocolType": "Https", "port": 443}]
    net = cols["spirit-phone-ztp-net"]["rules"][0]
    assert net["destinationFqdns"] and net["destinationPorts"] == ["10000"] and net["ipProtocols"] == ["TCP"]
    ntp = cols["spirit-phone-ntp-net"]["rules"][0]
    assert ntp["destinationFqdns"] == ["pool.ntp.org"] and ntp["ipProtocols"] == ["UDP"]
    assert ntp["destinationPorts"] == ["123"]
    assert all("sourcePorts" not in r for c in cols.values() for r in c["rules"])


@pytest.mark.parametrize("profile", PROFILES)
def test_golden(profile, golden):
    golden(f"azure/{profile}", golden_view(_both(profile)))


@pytest.mark.parametrize("profile", PROFILES)
def test_one_rule_style_separate_rules_parented_and_marked(profile):
    rec = _both(profile)
    nsg = rec.get("edge-nsg")
    assert "securityRules" not in nsg.inputs                  # never inline
    assert nsg.inputs["tags"]["spirit-profile"] == profile
    comp = rec.get("edge")
    assert comp.type == "spirit:index:AzureNsg" and nsg.parent == comp.urn
    prof = build_profile(profile)
    srules = rec.by_type(RULE_T)
    # augmented rules: one per (flow, transport) plus the strict deny, far inside 1000
    assert len(srules) == sum(len(f.transports) for f in prof.flows) + 1
    for r in srules:
        assert r.parent == comp.urn
        assert r.name == f"edge-{r.inputs['securityRuleName']}"
        assert r.inputs["networkSecurityGroupName"] == "edge-nsg"
        assert len(r.inputs["securityRuleName"]) <= 80
        assert "spirit-role=" in r.inputs["description"] and len(r.inputs["description"]) <= 140
        assert 1000 <= r.inputs["priority"] <= 2999
    deny = rec.get("edge-spirit-deny-internet-out")
    assert (deny.inputs["access"], deny.inputs["direction"], deny.inputs["priority"]) == ("Deny", "Outbound", 2999)
    assert deny.inputs["destinationAddressPrefix"] == "Internet"
    prios = [(r.inputs["direction"], r.inputs["priority"]) for r in srules]
    assert len(set(prios)) == len(prios)
    assert comp.outputs["priorities"] == {r.inputs["securityRuleName"]: r.inputs["priority"] for r in srules}


def test_sbc_inbound_only_from_spirit_ranges_and_strict_egress():
    rec = _both("sbc")
    prof = build_profile("sbc")
    got = read_nsg(as_reader_input(rec), include_default_rules=True)
    ingress = got.select(direction="ingress")
    assert ingress == prof.allowed.select(direction="ingress")
    assert {c for t in ingress.terms for c in t.peer.cidrs} == set(prof.spirit_cidrs)
    # with Azure's built-in rules included the strict NSG still allows exactly the profile
    assert got == prof.allowed


def test_non_strict_reads_as_open_egress_with_default_rules():
    rec = _both("communicator", strict=False)
    assert not rec.by_type(RULE_T) or all(r.inputs["access"] == "Allow" for r in rec.by_type(RULE_T))
    opened = read_nsg(as_reader_input(rec), include_default_rules=True)
    assert any(t.peer.cidrs == ("0.0.0.0/0", "::/0") or "0.0.0.0/0" in t.peer.cidrs for t in opened.terms)
    assert read_nsg(as_reader_input(rec)) == build_profile("communicator").allowed


def test_asg_is_the_local_side_when_created_or_given():
    rec = run_components(lambda: AzureNsg("vdi", AzureNsgArgs("communicator", "rg", create_asg=True)))
    asg = rec.get("vdi-asg")
    assert asg.type == "azure-native:network:ApplicationSecurityGroup"
    for r in rec.by_type(RULE_T):
        assert r.inputs["sourceApplicationSecurityGroups"] == [{"id": "vdi-asg-id"}]
        assert "sourceAddressPrefix" not in r.inputs
    rec2 = run_components(lambda: AzureNsg("sbc", AzureNsgArgs("sbc", "rg", asg_id="/subs/x/asg/sbc")))
    for r in rec2.by_type(RULE_T):
        side = "source" if r.inputs["direction"] == "Outbound" else "destination"
        assert r.inputs[f"{side}ApplicationSecurityGroups"] == [{"id": "/subs/x/asg/sbc"}]
    assert read_nsg(as_reader_input(rec2)) == build_profile("sbc").allowed


def test_constraint_errors_happen_before_anything_is_registered():
    registered = []

    def build():
        registered.append(1)
        AzureNsg("edge", AzureNsgArgs("sbc", "rg", priority_width=3))

    with pytest.raises(QuotaError, match="too small"):
        run_components(build)
    with pytest.raises(QuotaError, match="80"):
        AzureNsgArgs("sbc", "rg", name_prefix="p" * 70)


def test_every_registered_input_is_a_real_sdk_argument():
    for token, specs in ((RULE_T, [r.inputs for r in rules.model(build_profile("phones")).rules]),
                         (NSG_T, [{"tags": {}}]),
                         (fw.GROUP_TYPE, [fw.model(build_profile("phones")).group_inputs]),
                         (fw.POLICY_TYPE, [fw.model(build_profile("phones")).policy_inputs])):
        params = inspect.signature(sdk_class(token)._internal_init).parameters
        for spec in specs:
            for key in spec:
                assert snake(key) in params, (token, key)
