"""Churn corpus, single-SITE edits (issue 12 §3): insert a site first, remove each site, reorder.

For every cloud (and its NAT modes), each edit is previewed before and after. Every resource that is not
the edited site's own is compared: it keeps its name, type, parent and every input (so its zone, CIDR and
every replace-triggering input); the NAT instance never moves and its boot user data never changes. The
only other resources allowed to appear or go are the ones a zone entering or leaving use needs (AWS: that
zone's edge subnet, NAT gateway and Elastic IP), and the only shared input allowed to change is the list
of site CIDRs the GCP QoS NAT's ingress rule admits (in place). ``test_figures`` prints the counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB6dMaJfUNTTuZ9KvzsVbhKiG0E8kF8S8Sx8mWkH1JjX churn@test"

SITES = [{"name": "north", "cidr": "10.70.1.0/24"}, {"name": "south", "cidr": "10.70.2.0/24"},
         {"name": "east", "cidr": "10.70.3.0/24"}]
NEW = {"name": "aardvark", "cidr": "10.70.9.0/24"}  # listed first, and sorts before every other name

# (id, stack config without sites)
BASES = [
    ("aws-communicator-managed", {"aws:region": "ap-southeast-2", "spirit:cloud": "aws",
                                  "spirit:profile": "communicator", "spirit:nat": "managed"}),
    ("aws-communicator-single-gateway", {"aws:region": "ap-southeast-2", "spirit:cloud": "aws",
                                         "spirit:profile": "communicator", "spirit:nat": "managed",
                                         "spirit:natGatewayPerZone": False}),
    ("aws-phones-qos-fqdn", {"aws:region": "ap-southeast-2", "spirit:cloud": "aws", "spirit:profile": "phones",
                             "spirit:nat": "qos-instance", "spirit:firewallLayers": ["rules", "fqdn-firewall"]}),
    ("aws-sbc", {"aws:region": "ap-southeast-2", "spirit:cloud": "aws", "spirit:profile": "sbc",
                 "spirit:nat": "none"}),
    ("azure-communicator-managed", {"azure-native:location": "australiaeast", "spirit:cloud": "azure",
                                    "spirit:profile": "communicator", "spirit:nat": "managed"}),
    ("azure-phones-qos", {"azure-native:location": "australiaeast", "spirit:cloud": "azure",
                          "spirit:profile": "phones", "spirit:nat": "qos-instance", "spirit:natSshPublicKey": KEY}),
    ("gcp-communicator-managed", {"gcp:project": "p", "gcp:region": "australia-southeast1", "spirit:cloud": "gcp",
                                  "spirit:profile": "communicator", "spirit:nat": "managed"}),
    ("gcp-phones-qos-fqdn", {"gcp:project": "p", "gcp:region": "australia-southeast1", "spirit:cloud": "gcp",
                             "spirit:profile": "phones", "spirit:nat": "qos-instance",
                             "spirit:firewallLayers": ["rules", "fqdn-firewall"]}),
]


def _edits() -> list[tuple[str, list[dict], set[str]]]:
    """(edit, the edited site list, the sites the edit touches)."""
    out = [("insert-first", [NEW, *SITES], {NEW["name"]}),
           ("reorder", list(reversed(SITES)), set())]
    out += [(f"remove-{s['name']}", [x for x in SITES if x is not s], {s["name"]}) for s in SITES]
    return out


EDITS = _edits()
NAT_INSTANCE_TYPES = {"aws:ec2/instance:Instance", "azure-native:compute:VirtualMachine",
                      "gcp:compute/instance:Instance"}
#: per-zone resources a zone entering or leaving use adds or removes (AWS)
ZONE_SCOPED = re.compile(r"^spirit-(net-edge-[a-z](-rta)?|nat-(natgw|eip)-[a-z])$")
#: shared inputs that list every site, changed in place: resource name -> the one input allowed to change
SITE_LISTS = {"spirit-net-to-qos-nat": "sourceRanges"}


def _preview(tmp_path: Path, base: dict, sites: list[dict], tag: str):
    from spirit_infra.preview import find_project, load_stack, preview_stack

    stacks = tmp_path / tag / "stacks"  # one stack name ("churn"): the URNs compare
    stacks.mkdir(parents=True)
    path = stacks / "Pulumi.churn.yaml"
    path.write_text(yaml.safe_dump({"config": {**base, "spirit:networkCidr": "10.70.0.0/16",
                                               "spirit:sites": sites}}, sort_keys=False))
    project = find_project(ROOT)
    return preview_stack(project, *load_stack(project, config_file=str(path)))


def _owner(name: str, sites: set[str]) -> str | None:
    """The site a resource belongs to (its name carries the site's name as a dash-separated part)."""
    parts = name.split("-")
    hits = [s for s in sites if any("-".join(parts[i:i + len(s.split("-"))]) == s for i in range(len(parts)))]
    return hits[0] if len(hits) == 1 else None


FIGURES: dict[str, int] = {"edits": 0, "resources compared": 0, "added or removed (edited site)": 0,
                           "added or removed (zone entering/leaving use)": 0, "changed in place (site list)": 0}


@pytest.mark.parametrize("edit", EDITS, ids=[e[0] for e in EDITS])
@pytest.mark.parametrize("base", BASES, ids=[b[0] for b in BASES])
def test_a_site_edit_changes_no_other_site(base, edit, tmp_path):
    base_id, cfg = base
    edit_id, edited, touched = edit
    before = _preview(tmp_path, cfg, SITES, f"{base_id}-before")
    after = _preview(tmp_path, cfg, edited, f"{base_id}-{edit_id}")
    assert before.exact and after.exact
    old = {r["name"]: r for r in before.resources}
    new = {r["name"]: r for r in after.resources}
    names = {s["name"] for s in SITES} | {NEW["name"]}
    zones_before = {s.zone for s in before.config.sites}
    zones_after = {s.zone for s in after.config.sites}
    moved_zones = zones_before ^ zones_after
    FIGURES["edits"] += 1
    for n in sorted(old.keys() ^ new.keys()):
        owner = _owner(n, names)
        m = ZONE_SCOPED.match(n)
        if owner is not None:
            assert owner in touched, f"{edit_id}: {n} (site {owner}) appeared or went"
            FIGURES["added or removed (edited site)"] += 1
        else:
            assert m and n.split("-")[-1 if not n.endswith("-rta") else -2] in moved_zones, \
                f"{edit_id}: {n} appeared or went, and belongs to no edited site or zone"
            FIGURES["added or removed (zone entering/leaving use)"] += 1
    for n in sorted(old.keys() & new.keys()):
        a, b = old[n], new[n]
        FIGURES["resources compared"] += 1
        assert (a["type"], a["parent"], a["urn"]) == (b["type"], b["parent"], b["urn"]), n
        if n in SITE_LISTS:
            key = SITE_LISTS[n]
            assert {k: v for k, v in a["inputs"].items() if k != key} == \
                {k: v for k, v in b["inputs"].items() if k != key}, n
            assert b["inputs"][key] == sorted(s["cidr"] for s in edited), n
            FIGURES["changed in place (site list)"] += a["inputs"] != b["inputs"]
            continue
        assert a["inputs"] == b["inputs"], f"{edit_id}: {n} changed: " + ", ".join(
            k for k in a["inputs"].keys() | b["inputs"].keys() if a["inputs"].get(k) != b["inputs"].get(k))
    # the NAT (if any) is the same resource with the same inputs: it did not move, its user data is the same
    nat = [n for n, r in old.items() if r["type"] in NAT_INSTANCE_TYPES]
    assert all(n in new and new[n]["inputs"] == old[n]["inputs"] for n in nat)


@pytest.mark.parametrize("base", [b for b in BASES if b[0].startswith("aws")], ids=lambda b: b[0])
def test_every_aws_site_keeps_its_zone(base, tmp_path):
    _id, cfg = base
    zones = {}
    for edit_id, edited, _touched in EDITS:
        res = _preview(tmp_path, cfg, edited, f"{_id}-{edit_id}-z")
        for r in res.resources:
            if r["type"] == "aws:ec2/subnet:Subnet" and r["name"].removeprefix("spirit-net-") in \
                    {s["name"] for s in edited}:
                zones.setdefault(r["name"], set()).add(r["inputs"]["availabilityZone"])
    assert zones and all(len(z) == 1 for z in zones.values()), zones



def test_figures(capsys):
    """The counts of the corpus above (run after it: pytest keeps file order)."""
    with capsys.disabled():
        print("\nsite churn:", ", ".join(f"{k}: {v}" for k, v in FIGURES.items()))
    assert len(EDITS) == 2 + len(SITES) and len(BASES) == 8
