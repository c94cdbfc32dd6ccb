"""The shared case matrix itself: what it covers, that refusals are the program's own, and that every
case the program accepts registers a well-formed, exact resource graph."""

from __future__ import annotations

import math

import pytest
from program import preview_file, stack_names

from spirit_infra.errors import ConfigError

from . import matrix


def test_every_example_stack_is_a_case():
    assert matrix.case_ids("stack") == [f"stack-{n}" for n in stack_names()]
    assert len(matrix.case_ids("stack")) >= 8


def test_generated_cases_are_the_product_minus_the_refused():
    total = math.prod(len(v) for v in matrix.DIMENSIONS.values())
    generated = matrix.case_ids("matrix")
    assert len(generated) + len(matrix.REFUSED) == total
    assert not set(generated) & set(matrix.REFUSED)
    # the validation refuses some combinations (an SBC behind the QoS NAT, ...) and accepts most
    assert matrix.REFUSED and len(generated) > total // 2
    # every value of every dimension occurs in some accepted case
    for key, values in matrix.DIMENSIONS.items():
        for v in values:
            want = list(v) if isinstance(v, tuple) else v
            assert any(matrix.raw_config(c)[f"spirit:{key}"] == want for c in generated), (key, v)


@pytest.mark.parametrize("case_id", sorted(matrix.REFUSED))
def test_a_refused_combination_is_refused_by_the_program_too(tmp_path, case_id):
    # the refusal comes from the real validation, and the program path (stack file -> preview) agrees
    line = matrix.REFUSED[case_id]
    assert line.startswith(f"Pulumi.{case_id}.yaml: spirit:") and "\n" not in line
    with pytest.raises(ConfigError) as e:
        preview_file(matrix.stack_file(case_id, tmp_path))
    assert e.value.what in line and e.value.field in line


@pytest.mark.parametrize("case_id", matrix.case_ids())
def test_every_case_registers_a_well_formed_exact_graph(case_id):
    c = matrix.case(case_id)
    assert c.id == case_id and c.origin == ("stack" if case_id.startswith("stack-") else "matrix")
    assert c.registrations, case_id
    urns = [r.urn for r in c.registrations]
    assert len(set(urns)) == len(urns)
    for r in c.registrations:
        assert r.urn.endswith(f"::{r.name}") and isinstance(r.inputs, dict)
        assert r.parent is None or r.parent in urns, (r.name, r.parent)
    if c.origin == "matrix":
        for key in matrix.DIMENSIONS:
            assert c.raw[f"spirit:{key}"] is not None
        assert c.config.cloud == c.raw["spirit:cloud"] and c.config.nat == c.raw["spirit:nat"]
        assert c.config.strict is c.raw["spirit:strict"]
        assert list(c.config.firewall_layers) == c.raw["spirit:firewallLayers"]
    # the preview's readers find exactly the profile's flows in what was registered, in every combination
    assert c.exact, case_id


def test_registrations_iterates_every_case_filtered_by_type():
    aws = list(matrix.registrations(prefix="aws:", origin="stack"))
    assert aws and all(r.type.startswith("aws:") for _, r in aws)
    assert {c.config.cloud for c, _ in aws} == {"aws"}
    sgs = list(matrix.registrations(types=("aws:ec2/securityGroup:SecurityGroup",), origin="stack"))
    assert sgs and {r.type for _, r in sgs} == {"aws:ec2/securityGroup:SecurityGroup"}
    assert len(sgs) == sum(len(c.of_type("aws:ec2/securityGroup:SecurityGroup")) for c in matrix.cases("stack"))
