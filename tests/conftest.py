"""Shared test fixtures: golden files (update deliberately with --update-golden), and what the pytest-xdist
workers of one run share (tests/runcache.py: `make test` runs the suite on every core)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import runcache
from hypothesis import settings

# Property tests run the same examples on every run (CI must not pass or fail by luck); set
# HYPOTHESIS_PROFILE=explore locally to let hypothesis search new examples.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")


def canonical_json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _compare(request, path: Path, text: str) -> None:
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"golden file {path} is missing: run pytest --update-golden once and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from golden file {path} (rerun with --update-golden if intended)"


@pytest.fixture
def golden(request):
    """``golden("aws/sbc", data)``: compare sorted JSON with tests/golden/aws/sbc.json."""
    return lambda name, data: _compare(request, GOLDEN_DIR / f"{name}.json", canonical_json(data))


@pytest.fixture
def golden_text(request):
    """``golden_text("nat/sbc.nft", text)``: compare text in its native form with tests/golden/nat/sbc.nft
    (an nftables ruleset ``nft -c -f`` reads, a cloud-config YAML document), byte for byte."""
    return lambda name, text: _compare(request, GOLDEN_DIR / name, text)


@pytest.fixture(scope="session", autouse=True)
def _runcache(request, tmp_path_factory):
    """Under xdist, each worker shares computed values through the run's basetemp (pytest-of-<user>/pytest-N,
    the parent of every worker's own basetemp; new for every run); a plain pytest keeps them in memory."""
    if hasattr(request.config, "workerinput"):
        runcache.share(tmp_path_factory.getbasetemp().parent / "runcache")
    yield
    runcache.share(None)
