"""The pure core never imports pulumi or a cloud SDK (checked in a fresh interpreter per module)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = ["spirit_infra", "spirit_infra.catalogue", "spirit_infra.flows", "spirit_infra.profiles",
        "spirit_infra.cli", "spirit_infra.extras", "spirit_infra.values"]
#: the pure cloud modules (a missing one fails: it would no longer be checked)
PURE = [f"spirit_infra.{cloud}.{module}" for cloud in ("aws", "azure", "gcp")
        for module in ("rules", "fqdn", "nat", "read", "layers", "network")] + ["spirit_infra.registry",
                                                                              "spirit_infra.nat.ruleset",
                                                                              "spirit_infra.nat.instance"]


PROBE = r"""
import importlib, json, sys
name, build = sys.argv[1], sys.argv[2] == "1"
mod = importlib.import_module(name)
if build:
    mod.build_parser()  # discovers the cloud CLI modules: they must be pure at import time too
bad = sorted(m for m in sys.modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_")))
print(json.dumps(bad))
"""


def _heavy_modules(name: str, build: bool = False) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, name, "1" if build else "0"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", CORE + PURE)
def test_no_pulumi_on_import(name):
    assert _heavy_modules(name) == [], f"importing {name} pulled in pulumi"


def test_cli_parser_builds_without_pulumi():
    assert _heavy_modules("spirit_infra.cli", build=True) == []

