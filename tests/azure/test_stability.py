"""Priority and name stability: add, remove or edit one catalogue flow; every other registered rule
keeps its name and priority (NSG SecurityRules and firewall rule collections), compared on the
resources registered under the mock runtime before and after."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

from spirit_infra import Overrides, build_profile
from spirit_infra.azure.components import AzureFirewallPolicy, AzureFirewallPolicyArgs, AzureNsg, AzureNsgArgs
from spirit_infra.catalogue.load import DEFAULT_CATALOGUE

from .helpers import collection_layout, rule_layout, run_components


def _catalogue(tmp_path: Path, name: str, edit) -> str:
    data = yaml.safe_load(Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


@functools.cache
def _record(profile: str, catalogue: str | None):
    ov = Overrides(catalogue=catalogue)

    def build():
        AzureNsg("edge", AzureNsgArgs(profile, "rg", overrides=ov))
        AzureFirewallPolicy("fw", AzureFirewallPolicyArgs(profile, "rg", overrides=ov))

    rec = run_components(build)
    return rule_layout(rec), collection_layout(rec)


def _flow(data: dict, flow_id: str) -> dict:
    return next(f for f in data["flows"] if f["id"] == flow_id)


def _add(data):
    new = dict(_flow(data, "phone-xsi"), id="phone-bla", server_ports=[[8443, 8443]],
               provenance={"table": "phones", "row": 8})
    data["flows"].append(new)


def _remove(data):
    data["flows"] = [f for f in data["flows"] if f["id"] != "phone-xsi"]


def _edit(data):
    _flow(data, "phone-sip")["server_ports"] = [[5060, 5065]]
    _flow(data, "phone-ntp")["client_ports"] = [[123, 123], [1024, 65535]]


def _reorder(data):
    data["flows"].reverse()


@pytest.mark.parametrize("change,touched", [
    (_add, {"phone-bla"}),
    (_remove, {"phone-xsi"}),
    (_edit, {"phone-sip", "phone-ntp"}),
    (_reorder, set()),
])
def test_one_flow_change_leaves_every_other_rule_alone(tmp_path, change, touched):
    before_rules, before_cols = _record("phones", None)
    after_rules, after_cols = _record("phones", _catalogue(tmp_path, change.__name__, change))

    def mine(name: str) -> bool:
        return any(f"-{flow}-" in name + "-" for flow in touched)

    # every NSG rule outside the touched flow: same logical name, same Azure name, same priority
    for name, layout in before_rules.items():
        if not mine(name):
            assert after_rules.get(name) == layout, name
    for name, layout in after_rules.items():
        if not mine(name):
            assert before_rules.get(name) == layout, name
    # firewall rule collections: same name, priority and rules
    for name, layout in before_cols.items():
        if not mine(name):
            assert after_cols.get(name) == layout, name
    assert {n for n in after_cols if not mine(n)} == {n for n in before_cols if not mine(n)}
    changed = {n for n in set(before_rules) | set(after_rules) if before_rules.get(n) != after_rules.get(n)}
    if change is _add:
        assert changed == {"spirit-phone-bla-tcp"}
        assert after_rules["spirit-phone-bla-tcp"][1] not in {p for _, p in before_rules.values()}
    elif change is _remove:
        assert changed == {"spirit-phone-xsi-tcp"}
    elif change is _edit:
        # an edit keeps the rule's name and priority: an in-place update of that rule only
        assert changed == set()
        assert before_rules.keys() == after_rules.keys()
        assert after_cols["spirit-phone-sip-net"][1] != before_cols["spirit-phone-sip-net"][1]
    else:
        assert changed == set() and before_cols == after_cols


def test_edit_changes_only_that_rules_inputs(tmp_path):
    from spirit_infra.azure import rules

    before = {r.name: r.inputs for r in rules.model(build_profile("phones")).rules}
    cat = _catalogue(tmp_path, "edit", _edit)
    after = {r.name: r.inputs for r in rules.model(build_profile("phones", Overrides(catalogue=cat))).rules}
    diff = {n for n in before if before[n] != after[n]}
    assert diff == {"spirit-phone-sip-tcp", "spirit-phone-sip-udp", "spirit-phone-ntp-udp"}
