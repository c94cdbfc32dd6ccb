"""One check for "an integer, not a bool" (spirit_infra/values.py), used by every validation instead of a
hand-written ``isinstance(v, bool) or not isinstance(v, int)``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import spirit_infra
from spirit_infra.values import is_int, is_number

#: still hand-written in a file another change is reshaping at the same time (issue 12/13 work); the check
#: below fails if the pattern appears anywhere else
#: standalone programs cloud-init installs verbatim on the QoS NAT instance, which has the standard library
#: but not spirit_infra: they cannot import spirit_infra.values
STANDALONE = {"nat/agent.py", "nat/resolver.py"}


@pytest.mark.parametrize("value,integer,number", [
    (0, True, True), (5060, True, True), (-1, True, True), (True, False, False), (False, False, False),
    (1.0, False, True), (1.5, False, True), ("5060", False, False), (None, False, False), ([1], False, False),
])
def test_is_int_and_is_number(value, integer, number):
    assert is_int(value) is integer and is_number(value) is number


def test_no_validation_hand_writes_the_check():
    pattern = re.compile(r"isinstance\(([\w.\[\]]+), bool\) or not isinstance\(\1, ")
    root = Path(spirit_infra.__file__).parent
    found = {str(p.relative_to(root)) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))}
    assert found <= STANDALONE, sorted(found - STANDALONE)
    assert pattern.search("if isinstance(v, bool) or not isinstance(v, int) or v < 1:")  # it bites
