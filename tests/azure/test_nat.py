"""Managed NAT: validated options, the registered gateway, IPs/prefix, subnet and the UDP timeout."""

from __future__ import annotations

import pytest

from spirit_infra.azure.components import AzureNatGateway, AzureNatGatewayArgs, SubnetAssociation
from spirit_infra.azure.nat import UDP_IDLE_TIMEOUT_SECONDS, NatOptions, model_nat
from spirit_infra.errors import ConfigError

from .helpers import run_components


@pytest.mark.parametrize("kw,field", [
    ({"tcp_idle_timeout_minutes": 3}, "tcp_idle_timeout_minutes"),
    ({"tcp_idle_timeout_minutes": 121}, "tcp_idle_timeout_minutes"),
    ({"public_ip_count": 17}, "public_ip_count"),
    ({"public_ip_count": 0}, "public_ip_count"),
    ({"public_ip_prefix_length": 27}, "public_ip_prefix_length"),
    ({"public_ip_count": 1, "public_ip_prefix_length": 28}, "public_ip_prefix_length"),
    ({"sip_keepalive_seconds": 0}, "sip_keepalive_seconds"),
    ({"zones": ("1", "2")}, "zones"),  # a Standard NAT gateway lives in one zone at most
    ({"zones": ("",)}, "zones"),
])
def test_bad_options(kw, field):
    with pytest.raises(ConfigError) as e:
        model_nat(NatOptions(**kw))
    assert e.value.field == field


def test_timeouts_and_warning():
    assert model_nat(NatOptions(tcp_idle_timeout_minutes=120)).tcp_idle_timeout_minutes == 120
    assert model_nat(NatOptions(sip_keepalive_seconds=239)).warnings == ()
    w = model_nat(NatOptions(sip_keepalive_seconds=240)).warnings
    assert len(w) == 1 and "240" in w[0]


def test_component_registers_gateway_ips_prefix_and_subnet():
    def build():
        AzureNatGateway("nat", AzureNatGatewayArgs("rg", location="australiaeast", tcp_idle_timeout_minutes=30,
                                               public_ip_count=2, public_ip_prefix_length=31,
                                               sip_keepalive_seconds=300, profile="communicator",
                                               subnet=SubnetAssociation("vnet", "10.51.1.0/24",
                                                                        subnet_name="avd-pool-1",
                                                                        network_security_group_id="/nsg/1")))
    rec = run_components(build)
    gw = rec.get("nat-natgw")
    assert gw.inputs["sku"] == {"name": "Standard"} and gw.inputs["idleTimeoutInMinutes"] == 30
    assert gw.inputs["publicIpAddresses"] == [{"id": "nat-ip1-id"}, {"id": "nat-ip2-id"}]
    assert gw.inputs["publicIpPrefixes"] == [{"id": "nat-prefix-id"}]
    for ip in ("nat-ip1", "nat-ip2"):
        r = rec.get(ip)
        assert r.inputs["sku"]["name"] == "Standard" and r.inputs["publicIPAllocationMethod"] == "Static"
        assert r.inputs["tags"]["spirit-profile"] == "communicator"
    assert rec.get("nat-prefix").inputs["prefixLength"] == 31
    sub = rec.get("nat-subnet")
    assert sub.inputs["natGateway"] == {"id": "nat-natgw-id"}
    assert sub.inputs["networkSecurityGroup"] == {"id": "/nsg/1"} and sub.inputs["subnetName"] == "avd-pool-1"
    out = rec.get("nat").outputs
    assert out["udpIdleTimeoutSeconds"] == UDP_IDLE_TIMEOUT_SECONDS == 240
    assert out["tcpIdleTimeoutMinutes"] == 30
    assert len(out["publicIps"]) == 2 and all(ip.startswith("203.0.113.") for ip in out["publicIps"])
    assert len(out["warnings"]) == 1 and "sip_keepalive_seconds 300" in out["warnings"][0]
    for r in rec.resources:
        if r.name != "nat":
            assert r.parent == rec.get("nat").urn


def test_bad_args_fail_before_registration():
    with pytest.raises(ConfigError, match="4-120"):
        AzureNatGatewayArgs("rg", tcp_idle_timeout_minutes=200)
    with pytest.raises(ConfigError, match="CIDR"):
        SubnetAssociation("vnet", "nope")
