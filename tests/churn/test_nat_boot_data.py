"""Churn corpus: the QoS NAT instance across every single-FLOW edit of the corpus (issue 12 §4), on every cloud.

The edits are the flow corpus's own (tests/churn/helpers.py ``flow_edits``: add a flow, remove each flow in
turn, add a port to each flow, change each flow's DSCP, add an extra Spirit CIDR), applied to a stack with
``nat: qos-instance`` for each cloud and each profile that can have one (phones, communicator; an SBC takes
its traffic on its own address and has no QoS NAT). For each edit the stack is previewed before and after:

- the NAT instance keeps its URN, and its boot user data is byte-identical;
- every other input of the instance is unchanged, except the live channel (GCP: the ``spirit-nat-ruleset``
  metadata key; Azure: the VM's ``userData``; AWS: the SSM parameter, a resource of its own);
- the channel carries the edit: its ruleset differs exactly when the edit changed the profile's flows.

``test_figures`` prints the counts.
"""

from __future__ import annotations

import base64

import pytest
import runcache

from spirit_infra.nat import agent

from .helpers import BOOT_USER_DATA, flow_edits, preview, profile_of, touched_flows

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB6dMaJfUNTTuZ9KvzsVbhKiG0E8kF8S8Sx8mWkH1JjX churn@test"
BASES = {
    "aws": {"aws:region": "ap-southeast-2", "spirit:cloud": "aws"},
    "azure": {"azure-native:location": "australiaeast", "spirit:cloud": "azure", "spirit:natSshPublicKey": KEY},
    "gcp": {"gcp:project": "p", "gcp:region": "australia-southeast1", "spirit:cloud": "gcp"},
}
PROFILES = ("phones", "communicator")
#: the instance input that is the live channel (changes in place), or None (AWS: a resource of its own)
LIVE = {"aws": None, "azure": "userData", "gcp": "metadata"}
CASES = [(c, p, e) for c in sorted(BASES) for p in PROFILES for e, _ in flow_edits(p)]
FIGURES = {"edits": 0, "boot user data compared (identical)": 0, "rulesets changed through the channel": 0,
           "edits the profile does not see (nothing changed)": 0}


def _config(cloud: str, profile: str) -> dict:
    return {**BASES[cloud], "spirit:profile": profile, "spirit:nat": "qos-instance",
            "spirit:networkCidr": "10.70.0.0/16", "spirit:sites": [{"name": "hub", "cidr": "10.70.0.0/24"}]}


def _nat(resources: list[dict]) -> dict:
    [inst] = [r for r in resources if r["type"] in BOOT_USER_DATA]
    return inst


def _boot(inst: dict, cloud: str) -> str:
    i = inst["inputs"]
    return {"aws": lambda: i["userDataBase64"], "azure": lambda: i["osProfile"]["customData"],
            "gcp": lambda: i["metadata"]["user-data"]}[cloud]()


def _channel(resources: list[dict], cloud: str) -> dict:
    inst = _nat(resources)
    if cloud == "aws":
        [param] = [r for r in resources if r["type"] == "aws:ssm/parameter:Parameter"]
        return agent.decode(param["inputs"]["value"])
    if cloud == "azure":
        return agent.decode(base64.b64decode(inst["inputs"]["userData"]))
    return agent.decode(inst["inputs"]["metadata"]["spirit-nat-ruleset"])


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    cache: dict = {}

    def compute(cloud: str, profile: str):
        d = tmp_path_factory.mktemp(f"base-{cloud}-{profile}")
        cfg = _config(cloud, profile)
        return cfg, profile_of(cfg, d), preview(cfg, d, "churn")

    def get(cloud: str, profile: str):
        if (cloud, profile) not in cache:  # once per run under pytest-xdist (tests/runcache.py)
            cache[(cloud, profile)] = runcache.once(f"churn-nat-base-{cloud}-{profile}",
                                                    lambda: compute(cloud, profile))
        return cache[(cloud, profile)]
    return get


@pytest.mark.parametrize("cloud,profile,edit", CASES, ids=[f"{c}-{p}-{e}" for c, p, e in CASES])
def test_a_flow_edit_never_touches_the_nat_instance_boot(cloud, profile, edit, baselines, tmp_path):
    cfg, prof, before = baselines(cloud, profile)
    edited = dict(flow_edits(profile))[edit](cfg, tmp_path)
    touched = touched_flows(prof, profile_of(edited, tmp_path))
    after = preview(edited, tmp_path, "churn")
    a, b = _nat(before), _nat(after)
    FIGURES["edits"] += 1
    assert a["urn"] == b["urn"]
    assert _boot(a, cloud) == _boot(b, cloud)
    FIGURES["boot user data compared (identical)"] += 1
    live = LIVE[cloud]
    assert {k: v for k, v in a["inputs"].items() if k != live} == {k: v for k, v in b["inputs"].items() if k != live}
    if cloud == "gcp":  # only the ruleset key of the metadata may change; user-data is the same bytes
        assert {k: v for k, v in a["inputs"]["metadata"].items() if k != "spirit-nat-ruleset"} == \
            {k: v for k, v in b["inputs"]["metadata"].items() if k != "spirit-nat-ruleset"}
    old, new = _channel(before, cloud), _channel(after, cloud)
    if touched:
        assert old["ruleset"] != new["ruleset"], f"{edit} changed {sorted(touched)}: it must reach the instance"
        FIGURES["rulesets changed through the channel"] += 1
    else:
        assert old == new
        FIGURES["edits the profile does not see (nothing changed)"] += 1
    if edit.startswith("remove-") and touched:
        flow = edit.removeprefix("remove-")
        assert f"{flow}" not in new["ruleset"].split("\n", 2)[1]  # the profile line lists the flows


def test_figures(capsys):
    with capsys.disabled():
        print("\nNAT boot-data churn:", ", ".join(f"{k}: {v}" for k, v in FIGURES.items()))
    assert len(CASES) == sum(len(flow_edits(p)) for p in PROFILES) * len(BASES)
