"""Stable, hash-derived priorities: determinism, independence from other rules, collisions, bands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spirit_infra.azure.priorities import Band, ReservedPriority, Slot, assign_priorities, hash_slot
from spirit_infra.errors import ConfigError, QuotaError

BAND = Band(1000, 2000)


def test_hash_slot_is_deterministic_and_inside_the_allow_slots():
    p = hash_slot("Outbound:phone-sip:udp", BAND)
    assert p == hash_slot("Outbound:phone-sip:udp", BAND)
    assert BAND.start <= p <= BAND.end - 1          # never the deny slot
    assert hash_slot("Outbound:phone-sip:tcp", BAND) != p


keys = st.lists(st.text("abcdefghijklmnop-", min_size=1, max_size=12), min_size=1, max_size=12, unique=True)


@settings(max_examples=200, deadline=None)
@given(keys, st.text("qrstuvwxyz", min_size=1, max_size=8))
def test_adding_or_removing_one_slot_never_moves_another(names, newcomer):
    band = Band(100, 3997)
    slots = [Slot(n, n) for n in names]
    try:
        before = assign_priorities(slots, band)
        after = assign_priorities(slots + [Slot(newcomer, newcomer)], band)
    except QuotaError:
        return  # a collision is reported, never resolved by moving someone
    assert {k: after[k] for k in before} == before
    removed = assign_priorities(slots[1:], band)
    assert {k: before[k] for k in removed} == removed


def _colliding_pair(band: Band) -> tuple[str, str]:
    seen: dict[int, str] = {}
    for i in range(100000):
        k = f"flow-{i}"
        p = hash_slot(k, band)
        if p in seen:
            return seen[p], k
        seen[p] = k
    raise AssertionError("no collision found")


def test_collision_is_an_error_naming_both_rules_and_a_free_pin():
    band = Band(1000, 50)
    a, b = _colliding_pair(band)
    with pytest.raises(QuotaError) as e:
        assign_priorities([Slot(a, a), Slot(b, b)], band)
    msg = str(e.value)
    assert "priority collision" in msg and a in msg and b in msg and "priority_pins" in msg


def test_a_pin_settles_a_collision_without_moving_the_other_rule():
    band = Band(1000, 50)
    a, b = _colliding_pair(band)
    free = next(p for p in range(band.start, band.end) if p != hash_slot(a, band))
    got = assign_priorities([Slot(a, a), Slot(b, b)], band, pins={b: free})
    assert got == {a: hash_slot(a, band), b: free}


def test_scopes_are_independent_priority_spaces():
    got = assign_priorities([Slot("x", "in", "Inbound"), Slot("x", "out", "Outbound")], BAND)
    assert got["in"] == got["out"]


def test_user_rule_collision_and_deny_slot():
    p = hash_slot("k", BAND)
    with pytest.raises(QuotaError, match="user rule mine"):
        assign_priorities([Slot("k", "r", "Outbound")], BAND, reserved=[ReservedPriority("mine", p)])
    # a user rule in the other direction does not collide
    assign_priorities([Slot("k", "r", "Outbound")], BAND, reserved=[ReservedPriority("mine", p, "Inbound")])
    with pytest.raises(QuotaError, match="strict deny slot"):
        assign_priorities([Slot("k", "r", "Outbound")], BAND, reserved=[ReservedPriority("mine", BAND.end)],
                          deny_scopes=["Outbound"])


def test_band_checks():
    with pytest.raises(QuotaError, match="too small"):
        assign_priorities([Slot(str(i), str(i)) for i in range(5)], Band(1000, 5))
    with pytest.raises(ConfigError, match="ends after 4096"):
        Band(4000, 200).validate()
    with pytest.raises(ConfigError, match="outside 100-4096"):
        Band(50, 10).validate()
    with pytest.raises(ConfigError, match="priority_pins"):
        assign_priorities([Slot("a", "a")], BAND, pins={"nope": 1500})
    with pytest.raises(ConfigError, match="deny slot"):
        assign_priorities([Slot("a", "a")], BAND, pins={"a": BAND.end})
