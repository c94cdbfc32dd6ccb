"""Fixtures of the validators: the shared case matrix (tests/validators/matrix.py), run once per session."""

from __future__ import annotations

import pytest

from . import matrix


@pytest.fixture(scope="session")
def matrix_cases() -> list[matrix.Case]:
    """Every example stack and every valid generated combination, each run once per session."""
    return matrix.cases()
