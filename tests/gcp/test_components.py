"""Components under the mock runtime: exactness on the REGISTERED inputs, stable names and priorities."""

from __future__ import annotations

import pytest

from spirit_infra import Overrides, build_profile, project
from spirit_infra.errors import ConfigError
from spirit_infra.gcp.components import (
    GcpCloudNat,
    GcpCloudNatArgs,
    GcpFirewallPolicyArgs,
    GcpVpcFirewallArgs,
)
from spirit_infra.gcp.fqdn import ASSOCIATION_TYPE, POLICY_CAPS, POLICY_RULE_TYPE, POLICY_TYPE
from spirit_infra.gcp.read import read
from spirit_infra.gcp.rules import FIREWALL_TYPE, VPC_CAPS
from spirit_infra.testing import run

from .helpers import PROFILES, catalogue_copy, flow_of, registered, run_policy, run_vpc


@pytest.mark.parametrize("name", PROFILES)
def test_vpc_exact_on_registered_inputs(name):
    rec = run_vpc(profile=name)
    res = registered(rec)
    assert {r["type"] for r in res} == {FIREWALL_TYPE}
    assert read(res) == project(build_profile(name).allowed, VPC_CAPS).allowed
    comp = rec.get("fw")
    assert comp.type == "spirit:index:GcpVpcFirewall"
    for r in rec.resources:
        if r.custom:
            assert r.parent == comp.urn and r.name.startswith("fw-")
            assert r.inputs["network"] == "voice-vpc"
            assert "spirit-role=" in r.inputs["description"]


@pytest.mark.parametrize("name", PROFILES)
def test_policy_exact_on_registered_inputs_with_fqdns(name):
    rec = run_policy(profile=name)
    res = registered(rec)
    assert read(res) == project(build_profile(name).allowed, POLICY_CAPS).allowed
    (policy,) = rec.by_type(POLICY_TYPE)
    (assoc,) = rec.by_type(ASSOCIATION_TYPE)
    assert assoc.inputs["attachmentTarget"] == "voice-vpc"
    # the policy name derives from the stack (testing.run: "test") and the component ("pol")
    assert assoc.inputs["firewallPolicy"] == policy.inputs["name"] == f"test-pol-{name}"
    rules = rec.by_type(POLICY_RULE_TYPE)
    assert all(r.inputs["firewallPolicy"] == f"test-pol-{name}" for r in rules)
    prios = [r.inputs["priority"] for r in rules]
    assert len(prios) == len(set(prios))
    fqdn_rules = [r for r in rules if "destFqdns" in r.inputs["match"]]
    assert bool(fqdn_rules) == (name == "phones")  # only the phones profile has DNS-only flows


def _names(rec, type_token):
    out = {}
    for r in rec.by_type(type_token):
        out[r.name] = r.inputs.get("priority")
    return out


def _stability(tmp_path, profile, edit, changed_flow, *, kind):
    """Render before/after one catalogue edit; every other flow keeps its names and priorities."""
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    base = Overrides(catalogue=catalogue_copy(tmp_path / "before"))
    new = Overrides(catalogue=catalogue_copy(tmp_path / "after", edit))
    runner, rtype, prefix = (run_vpc, FIREWALL_TYPE, "fw-") if kind == "vpc" else (run_policy, POLICY_RULE_TYPE, "pol-")
    before = _names(runner(profile=profile, overrides=base), rtype)
    after = _names(runner(profile=profile, overrides=new), rtype)
    mine_before = {n for n in before if n.startswith(f"{prefix}{changed_flow}-")}
    mine_after = {n for n in after if n.startswith(f"{prefix}{changed_flow}-")}
    others_before = {n: p for n, p in before.items() if n not in mine_before}
    others_after = {n: p for n, p in after.items() if n not in mine_after}
    assert others_before == others_after
    assert len(others_before) >= 6
    return mine_before, mine_after


@pytest.mark.parametrize("kind", ["vpc", "policy"])
def test_stability_add_flow(tmp_path, kind):
    def edit(d):
        new = dict(flow_of(d, "communicator-messaging"))
        new.update(id="communicator-extra", server_ports=[[9999, 9999]], provenance={"table": "communicator", "row": 9})
        d["flows"].insert(0, new)  # at the front: the position of every other flow shifts
    before, after = _stability(tmp_path, "communicator", edit, "communicator-extra", kind=kind)
    assert not before and len(after) == 1


@pytest.mark.parametrize("kind", ["vpc", "policy"])
def test_stability_remove_flow(tmp_path, kind):
    def edit(d):
        d["flows"] = [f for f in d["flows"] if f["id"] != "communicator-desktop-sharing"]
    before, after = _stability(tmp_path, "communicator", edit, "communicator-desktop-sharing", kind=kind)
    assert len(before) == 1 and not after


@pytest.mark.parametrize("kind", ["vpc", "policy"])
def test_stability_edit_flow(tmp_path, kind):
    def edit(d):
        flow_of(d, "phone-xsi")["server_ports"] = [[443, 443], [8443, 8443]]
    before, after = _stability(tmp_path, "phones", edit, "phone-xsi", kind=kind)
    assert len(before) == len(after) == 1 and before != after


def test_stability_edit_fqdn_flow_policy(tmp_path):
    def edit(d):
        flow_of(d, "phone-ztp")["dns"].append({"name": "ztp.example.com", "type": "A/CNAME"})
    before, after = _stability(tmp_path, "phones", edit, "phone-ztp", kind="policy")
    assert len(before) == len(after) == 1 and before != after


def test_args_validated_at_construction():
    with pytest.raises(ConfigError, match="network"):
        GcpVpcFirewallArgs(network="")
    with pytest.raises(ConfigError, match="profile"):
        GcpVpcFirewallArgs(network="n", profile="desk")
    with pytest.raises(ConfigError, match="name_prefix"):
        GcpVpcFirewallArgs(network="n", name_prefix="Bad")
    with pytest.raises(ConfigError, match="max_ranges"):
        GcpFirewallPolicyArgs(network="n", max_ranges=0)
    with pytest.raises(ConfigError, match="dynamic_port_allocation"):
        GcpCloudNatArgs(network="n", dynamic_port_allocation=True)
    with pytest.raises(ConfigError, match="udp_idle_timeout_sec"):
        GcpCloudNatArgs(network="n", sip_keepalive_seconds=120, udp_idle_timeout_sec=90)


def test_voice_nat_registered_and_outputs():
    def program():
        import pulumi

        nat = GcpCloudNat("voice", GcpCloudNatArgs(network="voice-vpc", region="australia-southeast1", nat_ip_count=2,
                                                sip_keepalive_seconds=30, expected_calls=200))
        pulumi.export("natIps", nat.nat_ips)

    rec = run(program)
    addrs = rec.by_type("gcp:compute/address:Address")
    assert [a.name for a in addrs] == ["voice-nat-ip-0", "voice-nat-ip-1"]
    assert all(a.inputs["addressType"] == "EXTERNAL" and a.inputs["labels"]["spirit-role"] == "sbc" for a in addrs)
    (router,) = rec.by_type("gcp:compute/router:Router")
    assert router.inputs["network"] == "voice-vpc"
    (nat,) = rec.by_type("gcp:compute/routerNat:RouterNat")
    i = nat.inputs
    assert i["router"] == router.inputs["name"]
    assert i["natIpAllocateOption"] == "MANUAL_ONLY" and len(i["natIps"]) == 2
    assert i["enableEndpointIndependentMapping"] is True and i["enableDynamicPortAllocation"] is False
    assert i["udpIdleTimeoutSec"] == 300 and i["minPortsPerVm"] == 2048  # 200 x 4 x 2 = 1600 -> 2048
    assert i["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}
    assert len(rec.outputs["natIps"]) == 2 and all(ip.startswith("203.0.113.") for ip in rec.outputs["natIps"])
    assert all(r.parent == rec.get("voice").urn for r in rec.resources if r.custom)


def test_cloud_nat_deprecated_keepalive_name_still_accepted():
    """``sip_keepalive_sec`` (the field's name before every component said ``sip_keepalive_seconds``) still
    works, with a DeprecationWarning, and registers exactly what the new name does; a bad or conflicting
    value is one line naming the old field."""
    def program(**kw):
        return lambda: GcpCloudNat("voice", GcpCloudNatArgs(network="vpc", region="r", **kw))

    with pytest.warns(DeprecationWarning, match="sip_keepalive_seconds"):
        old = run(program(sip_keepalive_sec=200))
    new = run(program(sip_keepalive_seconds=200))
    (a,), (b,) = old.by_type("gcp:compute/routerNat:RouterNat"), new.by_type("gcp:compute/routerNat:RouterNat")
    assert a.inputs == b.inputs and a.inputs["udpIdleTimeoutSec"] == 400
    with pytest.warns(DeprecationWarning):
        GcpCloudNatArgs(network="n", sip_keepalive_sec=60, sip_keepalive_seconds=60)
    with pytest.raises(ConfigError, match=r"^sip_keepalive_sec: 4 is out of range") as e:
        GcpCloudNatArgs(network="n", sip_keepalive_sec=4)
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="sip_keepalive_sec.*60.*sip_keepalive_seconds is 90"):
        GcpCloudNatArgs(network="n", sip_keepalive_sec=60, sip_keepalive_seconds=90)
