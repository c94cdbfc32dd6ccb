"""Attach mode (spirit:networkId): the firewall layers are built for an existing network, exactly; the
subnets stay the network owner's, so spirit:sites is refused rather than silently ignored."""

from __future__ import annotations

import pytest
import yaml

from . import STACKS, cli, preview_file

NETWORK = {"aws": "vpc-0123456789abcdef0",
           "azure": "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub",
           "gcp": "projects/spirit-voice-prod/global/networks/hub"}


def _attached(tmp_path, base: str, **extra) -> str:
    doc = yaml.safe_load((STACKS / f"Pulumi.{base}.yaml").read_text())
    cfg = doc["config"]
    cloud = cfg["spirit:cloud"]
    cfg.pop("spirit:sites", None)
    cfg["spirit:networkId"] = NETWORK[cloud]
    cfg["spirit:nat"] = "none"
    cfg.update(extra)
    path = tmp_path / f"Pulumi.{base}-attached.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize("base", ["aws-sbc", "azure-communicator", "gcp-sbc"])
def test_attached_stack_builds_only_the_firewall_layers_exactly(tmp_path, base):
    res = preview_file(_attached(tmp_path, base))
    assert res.exact
    types = {r["type"] for r in res.resources}
    # no network of our own: no VPC / VNet / network, no subnets
    assert not types & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "azure-native:network:VirtualNetwork",
                        "azure-native:network:Subnet", "gcp:compute/network:Network",
                        "gcp:compute/subnetwork:Subnetwork"}
    inputs = [r["inputs"] for r in res.resources]
    assert any(NETWORK["aws"] in str(i) or NETWORK["gcp"] in str(i) for i in inputs) or base.startswith("azure")


def test_sites_with_network_id_is_refused_with_one_line(tmp_path):
    path = _attached(tmp_path, "aws-sbc", **{"spirit:sites": [{"name": "sbc", "cidr": "10.40.0.0/24"}]})
    out = cli("preview", "--config", path)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "spirit:sites" in lines[0] and "networkId" in lines[0]
