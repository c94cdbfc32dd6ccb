"""Cloud NAT planner: the chosen settings, their reasons, and the combinations GCP rejects."""

from __future__ import annotations

import pytest

from spirit_infra.errors import ConfigError
from spirit_infra.gcp.nat import NatOptions, model_nat, model_nat_specs


def test_defaults_for_voice():
    p = model_nat(NatOptions(sip_keepalive_seconds=30))
    s = p.settings
    assert s["enableEndpointIndependentMapping"] is True and s["enableDynamicPortAllocation"] is False
    assert s["udpIdleTimeoutSec"] == 300 and s["tcpEstablishedIdleTimeoutSec"] == 1200
    assert s["minPortsPerVm"] == 1024 and s["natIpAllocateOption"] == "MANUAL_ONLY"
    assert "RFC 4787" in p.reasons["udpIdleTimeoutSec"]
    assert set(p.reasons) >= {"enableEndpointIndependentMapping", "enableDynamicPortAllocation", "udpIdleTimeoutSec",
                              "minPortsPerVm", "natIpAllocateOption", "logConfig"}


@pytest.mark.parametrize("keepalive,udp", [(15, 300), (120, 300), (150, 300), (200, 400), (600, 1200)])
def test_udp_timeout_above_keepalive(keepalive, udp):
    s = model_nat(NatOptions(sip_keepalive_seconds=keepalive)).settings
    assert s["udpIdleTimeoutSec"] == udp > keepalive


@pytest.mark.parametrize("calls,ports", [(1, 64), (8, 64), (9, 128), (100, 1024), (128, 1024), (129, 2048),
                                         (4096, 32768)])
def test_min_ports_power_of_two(calls, ports):
    mp = model_nat(NatOptions(expected_calls=calls)).settings["minPortsPerVm"]
    assert mp == ports and mp & (mp - 1) == 0


def test_refusals():
    with pytest.raises(ConfigError, match="endpoint-independent mapping together with dynamic port allocation"):
        model_nat(NatOptions(dynamic_port_allocation=True))
    with pytest.raises(ConfigError, match=r"udp_idle_timeout_sec: the UDP idle timeout \(60 s\) must be longer"):
        model_nat(NatOptions(sip_keepalive_seconds=90, udp_idle_timeout_sec=60))
    with pytest.raises(ConfigError, match="udp_idle_timeout_sec"):
        model_nat(NatOptions(sip_keepalive_seconds=90, udp_idle_timeout_sec=90))
    with pytest.raises(ConfigError, match="min_ports_per_vm: 1000 is not a power of two"):
        model_nat(NatOptions(endpoint_independent_mapping=False, dynamic_port_allocation=True, min_ports_per_vm=1000))
    with pytest.raises(ConfigError, match="max_ports_per_vm"):
        model_nat(NatOptions(max_ports_per_vm=4096))
    with pytest.raises(ConfigError, match="expected_calls"):
        model_nat(NatOptions(expected_calls=10000))
    with pytest.raises(ConfigError, match="sip_keepalive_seconds"):
        model_nat(NatOptions(sip_keepalive_seconds=0))
    with pytest.raises(ConfigError, match="logging"):
        model_nat(NatOptions(logging="verbose"))


def test_accepted_variants():
    p = model_nat(NatOptions(endpoint_independent_mapping=False, dynamic_port_allocation=True, min_ports_per_vm=256,
                            max_ports_per_vm=4096, logging="off"))
    assert p.settings["enableDynamicPortAllocation"] and p.settings["maxPortsPerVm"] == 4096
    assert p.settings["logConfig"] == {"enable": False, "filter": "ERRORS_ONLY"}
    # static allocation: GCP rounds a non-power of two up (1000 -> 1024), so the plan registers what GCP
    # allocates, and the VM count follows the rounded value
    p = model_nat(NatOptions(min_ports_per_vm=1000))
    assert p.settings["minPortsPerVm"] == 1024 and "rounded up" in p.reasons["minPortsPerVm"]
    assert p.max_vms == 64512 // 1024


def test_dynamic_min_ports_at_least_32():
    with pytest.raises(ConfigError, match="min_ports_per_vm: 16 .*at least 32"):
        model_nat(NatOptions(endpoint_independent_mapping=False, dynamic_port_allocation=True, min_ports_per_vm=16))
    assert model_nat(NatOptions(endpoint_independent_mapping=False, dynamic_port_allocation=True,
                               min_ports_per_vm=32)).settings["minPortsPerVm"] == 32


def test_render_specs():
    plan, specs = model_nat_specs(NatOptions(nat_ip_count=2, region="europe-west1", subnetworks=("sub-b", "sub-a")))
    assert [s["name"] for s in specs] == ["nat-ip-0", "nat-ip-1", "router", "nat"]
    nat = specs[-1]
    assert nat["refs"] == {"router": "res:router.name", "natIps": ["res:nat-ip-0.selfLink", "res:nat-ip-1.selfLink"]}
    assert nat["inputs"]["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert [x["name"] for x in nat["inputs"]["subnetworks"]] == ["sub-a", "sub-b"]
    assert plan.max_vms == 2 * 64512 // 1024


def test_ports_need_more_nat_ips():
    with pytest.raises(ConfigError, match="nat_ip_count: 65536 ports per VM need more than 1 NAT IP"):
        model_nat(NatOptions(expected_calls=8192))
    assert model_nat(NatOptions(expected_calls=8192, nat_ip_count=2)).max_vms == 1
