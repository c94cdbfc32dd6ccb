"""Golden JSON per profile (VPC rules + firewall policy) and for the default voice NAT."""

from __future__ import annotations

import pytest

from spirit_infra import build_profile
from spirit_infra.gcp.fqdn import model_policy
from spirit_infra.gcp.nat import NatOptions, model_nat_specs
from spirit_infra.gcp.rules import model


@pytest.mark.parametrize("name", ["phones", "communicator", "sbc"])
def test_golden_profile(golden, name):
    prof = build_profile(name)
    a, b = model(prof), model_policy(prof)
    assert model(prof) == a and model_policy(prof) == b  # deterministic
    golden(f"gcp/{name}", {"vpc_firewall": a.to_json(), "firewall_policy": b.to_json()})


def test_golden_nat(golden):
    plan, specs = model_nat_specs(NatOptions(sip_keepalive_seconds=30, region="australia-southeast1"))
    golden("gcp/nat", plan.to_json() | {"resources": list(specs)})
