"""Fixtures for real-kernel NAT tests (network namespaces + nftables). See netns.py for the topology.

``topology_module``  one Topology per test module (built in ~50 ms, torn down after the module, even on failure)
``topology``         the module's Topology, reset before each test: empty nat ruleset, empty conntrack
                     table, conntrack timeout sysctls back to their values at build time

Without root or without ip/nft/conntrack the fixtures fail the test with the reason (never skip).
"""

from __future__ import annotations

import pytest

from .netns import Topology, cleanup_stale, requirements_problem


def _require() -> None:
    problem = requirements_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="module")
def topology_module():
    _require()
    cleanup_stale()
    with Topology() as topo:
        yield topo


@pytest.fixture
def topology(topology_module: Topology) -> Topology:
    topology_module.reset()
    return topology_module
