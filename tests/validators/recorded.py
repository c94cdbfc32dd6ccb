"""What the GCP and Azure validators take: a matrix case's registrations as plain resource dicts."""

from __future__ import annotations

from . import matrix


def resources(case_id: str) -> list[dict]:
    """``[{"type", "name", "inputs"}]`` of every resource the case registered (the program run once)."""
    return [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in matrix.case(case_id).registrations]


def assert_clean(case_id: str, validator) -> int:
    """The validator checks at least one resource of the case and finds nothing; returns how many."""
    checked, findings = validator.validate_all(resources(case_id))
    assert checked > 0, f"{case_id}: no resource for {validator.__name__}"
    assert findings == [], "\n".join(map(str, findings))
    return checked
