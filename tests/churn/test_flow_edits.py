"""Churn corpus, single-flow edits (issue 12): for every cloud and profile, each edit (add a flow, remove
each flow in turn, add a port to each flow that lists ports, change each flow's DSCP, add an extra
Spirit CIDR) is previewed before and after under the offline preview engine; no resource of another
flow may disappear or change its name, priority, zone or a replace-triggering input.

A resource "of another flow" is every resource that is not solely of the flows the edit changed (as
built profiles): rules of other flows, rules a changed flow shares with others, and everything that
carries no flow (groups, prefix lists, policies, networks, NATs). The QoS NAT instance (aws-phones,
gcp-phones) is one of them: its boot user data is a replace-triggering input and must not change
(tests/churn/test_nat_boot_data.py runs the same edits on a QoS NAT stack of every cloud).
"""

from __future__ import annotations

import pytest

from .helpers import CLOUDS, PROFILES, Baselines, flow_edits, run_edit

CASES = [(c, p, e) for c in CLOUDS for p in PROFILES for e, _ in flow_edits(p)]
FIGURES = {"edits": 0, "refused (sbc needs the row)": 0, "resources compared": 0,
           "of touched flows, moved (own)": 0, "others changed in place (description/tags)": 0}


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    return Baselines(tmp_path_factory.mktemp)


@pytest.mark.parametrize("cloud,profile,edit", CASES, ids=[f"{c}-{p}-{e}" for c, p, e in CASES])
def test_single_flow_edit_changes_no_other_flow(cloud, profile, edit, tmp_path, baselines):
    out = run_edit(baselines, cloud, profile, edit, tmp_path / "edit")
    FIGURES["edits"] += 1
    FIGURES["refused (sbc needs the row)"] += bool(out.refused)
    FIGURES["resources compared"] += out.compared
    FIGURES["of touched flows, moved (own)"] += len(out.own_moved)
    FIGURES["others changed in place (description/tags)"] += len(out.in_place)
    if out.refused:  # the sbc profile cannot lose a row it is built from: refused in one line
        assert profile == "sbc" and edit.startswith("remove-"), out.refused
        assert "\n" not in out.refused and "the sbc profile needs catalogue flow" in out.refused
        return
    assert not out.violations, "\n".join(out.violations)
    assert out.compared > 0
    if not out.touched:  # an edit the profile does not see changes nothing at all
        assert out.unchanged


def test_the_corpus_covers_every_cloud_profile_and_edit_kind():
    kinds = {(c, p, e.split("-")[0] if not e.startswith("add-") else "-".join(e.split("-")[:2]))
             for c, p, e in CASES}
    for c in CLOUDS:
        for p in PROFILES:
            assert {k for cc, pp, k in kinds if (cc, pp) == (c, p)} == {
                "add-flow", "remove", "add-port", "dscp", "extra"}


def test_figures(capsys):
    """The counts of the corpus above (run after it: pytest keeps file order)."""
    with capsys.disabled():
        print("\nflow churn:", ", ".join(f"{k}: {v}" for k, v in FIGURES.items()))
    assert len(CASES) == len(CLOUDS) * sum(len(flow_edits(p)) for p in PROFILES)
