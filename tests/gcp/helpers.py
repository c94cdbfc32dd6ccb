"""Shared helpers for the GCP tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from spirit_infra.catalogue.load import DEFAULT_CATALOGUE
from spirit_infra.gcp.components import (
    GcpFirewallPolicy,
    GcpFirewallPolicyArgs,
    GcpVpcFirewall,
    GcpVpcFirewallArgs,
)
from spirit_infra.testing import run

PROFILES = ("phones", "communicator", "sbc")


def registered(rec, prefix: str = "") -> list[dict]:
    """The recorded custom resources as the reader (and the policy pack) sees them."""
    return [{"type": r.type, "name": r.name, "inputs": r.inputs, "urn": r.urn}
            for r in rec.resources if r.custom and r.name.startswith(prefix)]


def run_vpc(**kw):
    return run(lambda: GcpVpcFirewall("fw", GcpVpcFirewallArgs(network="voice-vpc", **kw)))


def run_policy(**kw):
    return run(lambda: GcpFirewallPolicy("pol", GcpFirewallPolicyArgs(network="voice-vpc", **kw)))


def catalogue_copy(tmp_path: Path, edit=None) -> str:
    """Copy the packaged catalogue to ``tmp_path``, apply ``edit(data)``, return the file path."""
    data = yaml.safe_load(Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    path = tmp_path / "spirit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def flow_of(data: dict, flow_id: str) -> dict:
    return next(f for f in data["flows"] if f["id"] == flow_id)
