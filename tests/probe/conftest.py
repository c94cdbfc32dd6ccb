"""One deployment (namespaces + dnsmasq, SIPp, TLS/TCP peers, chronyd) for the whole probe test session.

Built once (~2 s), torn down at the end even on failure. Tests that change a peer (DNS drift, a wrong
certificate, a SIP error status) restore it in a ``finally``. Without root or a peer binary the fixture fails
the test with the reason (never skips).
"""

from __future__ import annotations

import pytest

from tests.nat.netns import cleanup_stale
from tests.nat.netns import requirements_problem as netns_problem

from .deployment import Deployment, requirements_problem


@pytest.fixture(scope="session")
def deployment():
    import importlib.util

    problem = netns_problem() or requirements_problem()
    if importlib.util.find_spec("dns") is None:
        problem = "the probe needs dnspython (a dependency since the probe landed): run make setup-test"
    if problem:
        pytest.fail(problem, pytrace=False)
    cleanup_stale()
    with Deployment() as dep:
        yield dep
