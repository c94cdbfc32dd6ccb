"""Shared helpers of the churn corpus (issue 12): preview a stack before and after one edit, offline,
under the recording test double, and say what changed for resources the edit did not touch.

- :func:`base_config` gives a stack config for every cloud and profile (the example stack where one
  exists, else the cloud's example with the profile swapped in);
- :func:`preview` runs the real program (``__main__.py``) through the offline preview engine
  (:func:`spirit_infra.preview.preview_stack`) for a config dict, written to a temporary
  ``Pulumi.<stack>.yaml`` (same stack name before and after: same URNs);
- :func:`catalogue_variant` writes the packaged catalogue with one edit applied, for
  ``spirit:overrides.catalogue``;
- :func:`touched_flows` says which profile flows an edit changed (compared as built profiles);
- :func:`violations` lists every resource not of a touched flow that disappeared or changed its name,
  priority, zone or a replace-triggering input (:data:`spirit_infra.changes.REPLACE_ON`);
- :func:`boot_user_data` extracts the QoS NAT instance's boot user data (AWS ``userData``, GCP
  ``metadata.user-data``, Azure ``osProfile.customData``) for the site-edit corpus and the NAT tests.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import runcache
import yaml

from spirit_infra.catalogue.load import DEFAULT_CATALOGUE
from spirit_infra.changes import flows_of, identity_inputs
from spirit_infra.preview import load_stack, preview_stack
from spirit_infra.profiles import build_profile
from spirit_infra.stackconfig import load_stack_file

ROOT = Path(__file__).resolve().parents[2]
CLOUDS = ("aws", "azure", "gcp")
PROFILES = ("phones", "communicator", "sbc")
#: the cloud's example stack whose other settings a missing cloud x profile borrows
_DONOR = {"azure": {"phones": "azure-communicator"}}

#: where each cloud's QoS NAT instance carries its boot user data (constant across catalogue edits: it is
#: part of the identity compared below, and tests/churn/test_nat_boot_data.py compares it byte for byte)
BOOT_USER_DATA = {
    "aws:ec2/instance:Instance": ("userData", "userDataBase64"),
    "gcp:compute/instance:Instance": ("metadata",),
    "azure-native:compute:VirtualMachine": ("osProfile",),
}


def base_config(cloud: str, profile: str) -> dict:
    """The ``config:`` mapping of a stack for ``cloud`` and ``profile``."""
    stack = _DONOR.get(cloud, {}).get(profile, f"{cloud}-{profile}")
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    cfg = data["config"]
    cfg["spirit:profile"] = profile
    return cfg


def preview(config: dict, directory: Path, stack: str) -> list[dict]:
    """The resources the program registers for ``config`` (a fresh file under ``directory``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=True), encoding="utf-8")
    name, cfg, merged = load_stack(ROOT, config_file=str(path))
    result = preview_stack(ROOT, name, cfg, merged)
    assert result.exact, f"{stack}: the preview is not exact after the edit"
    return result.resources


def catalogue_variant(directory: Path, edit) -> str:
    """The packaged catalogue with ``edit(data)`` applied, written under ``directory``; its path."""
    data = yaml.safe_load(Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8"))
    edit(data)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "spirit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def with_overrides(config: dict, **overrides: Any) -> dict:
    out = copy.deepcopy(config)
    out.setdefault("spirit:overrides", {}).update(overrides)
    return out


def profile_of(config: dict, directory: Path):
    """The built profile a config asks for (validated as the program validates it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "Pulumi.profile.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=True), encoding="utf-8")
    cfg, _ = load_stack_file(path)
    return build_profile(cfg.profile, cfg.overrides)


def touched_flows(before, after) -> set[str]:
    """Profile flow ids that differ between two built profiles (added, removed or changed)."""
    a = {f.id: f for f in before.flows}
    b = {f.id: f for f in after.flows}
    return {fid for fid in a.keys() | b.keys() if a.get(fid) != b.get(fid)}


def _priority(r: dict):
    return (r.get("inputs") or {}).get("priority")


def _zone(r: dict):
    inputs = r.get("inputs") or {}
    return {k: inputs.get(k) for k in ("availabilityZone", "zone", "zones") if k in inputs}


def identity(r: dict) -> dict:
    """What must not change for a resource an edit did not touch (a NAT instance's boot user data included)."""
    return {"name": r["name"], "priority": _priority(r), "zone": _zone(r), "inputs": identity_inputs(r)}


@dataclass
class Outcome:
    """One edit's comparison: resources compared, and what moved (allowed: the touched flows' own)."""

    compared: int = 0
    own_moved: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    refused: str = ""
    unchanged: bool = False


def compare(before: list[dict], after: list[dict], touched: set[str]) -> Outcome:
    """Every resource of ``before`` not solely of the ``touched`` flows must keep its URN and identity."""
    new = {r["urn"]: r for r in after}
    out = Outcome()
    for r in before:
        flows = flows_of(r)
        own = bool(flows) and flows <= touched
        twin = new.get(r["urn"])
        if own:
            if twin is None or identity(twin) != identity(r):
                out.own_moved.append(r["name"])
            continue
        out.compared += 1
        if twin is None:
            out.violations.append(f"{r['type']} {r['name']} (flows {sorted(flows) or '-'}) is gone")
            continue
        a, b = identity(r), identity(twin)
        if a != b:
            what = sorted(k for k in a if a[k] != b[k])
            detail = {k: (a[k], b[k]) for k in what}
            out.violations.append(f"{r['type']} {r['name']} (flows {sorted(flows) or '-'}) changed {what}: {detail}")
        elif twin.get("inputs") != r.get("inputs"):
            out.in_place.append(r["name"])
    return out


def boot_user_data(resources: list[dict]) -> dict[str, Any]:
    """URN -> boot user data of every QoS NAT instance in ``resources``."""
    out = {}
    for r in resources:
        keys = BOOT_USER_DATA.get(r["type"])
        if keys:
            inputs = r.get("inputs") or {}
            value = next((inputs[k] for k in keys if k in inputs), None)
            if r["type"].startswith("gcp:"):
                value = (value or {}).get("user-data")
            elif r["type"].startswith("azure-native:"):
                value = (value or {}).get("customData")
            out[r["urn"]] = value
    return out


# ---- the single-flow edits -----------------------------------------------------------------------------

EXTRA_CIDR = "198.51.100.0/24"  # TEST-NET-2: an extra Spirit range an override adds
NEW_PORT = 7443  # a server port no flow uses
CLIENT = {"phones": "phone", "communicator": "communicator", "sbc": "phone"}


def _catalogue_flows() -> list[dict]:
    return yaml.safe_load(Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8"))["flows"]


def flow_edits(profile: str) -> list[tuple[str, Any]]:
    """``(edit id, edit)`` for every single-flow edit of ``profile``; ``edit(config, directory)`` returns
    the edited config. Catalogue edits go through an override catalogue in ``directory``."""
    client = CLIENT[profile]
    flows = [f for f in _catalogue_flows() if f["client"] == client]
    edits: list[tuple[str, Any]] = []

    def catalogue(change, drop_ztp_vendors=False):
        def edit(config, directory):
            path = catalogue_variant(directory, lambda data: change(data["flows"]))
            out = with_overrides(config, catalogue=path)
            if drop_ztp_vendors:  # the ZTP row is gone: so is the stack's list of ZTP vendors it drops
                out["spirit:overrides"].pop("ztp_vendors_drop", None)
            return out
        return edit

    new = {"id": f"{client}-churn-new", "client": client, "provenance": {"table": "override", "row": 1},
           "application": "Churn corpus", "protocols": ["HTTPS"], "transports": ["tcp"], "dscp": "0",
           "client_ports": None, "dns": [], "server_cidrs": ["103.80.244.0/22"],
           "server_ports": [[NEW_PORT, NEW_PORT]], "assumptions": ["any-port"]}
    edits.append(("add-flow", catalogue(lambda fs: fs.append(dict(new)))))
    for f in flows:
        fid = f["id"]
        edits.append((f"remove-{fid}", catalogue(lambda fs, fid=fid: fs.remove(next(x for x in fs if x["id"] == fid)),
                                                 drop_ztp_vendors=fid == "phone-ztp")))
    for f in flows:
        if f["server_ports"]:
            fid = f["id"]
            edits.append((f"add-port-{fid}", catalogue(lambda fs, fid=fid: next(
                x for x in fs if x["id"] == fid)["server_ports"].append([NEW_PORT, NEW_PORT]))))
    for f in flows:
        fid, new_dscp = f["id"], "CS3" if f["dscp"] != "CS3" else "AF41"
        edits.append((f"dscp-{fid}", catalogue(lambda fs, fid=fid, d=new_dscp: next(
            x for x in fs if x["id"] == fid).update(dscp=d))))

    def extra_cidr(config, directory):
        ov = dict(config.get("spirit:overrides") or {})
        ov["extra_spirit_cidrs"] = [*ov.get("extra_spirit_cidrs", []), EXTRA_CIDR]
        return with_overrides(config, **ov)

    edits.append(("extra-spirit-cidr", extra_cidr))
    return edits


class Baselines:
    """The unedited config, profile and preview per cloud and profile, computed once (per run under
    pytest-xdist: tests/runcache.py)."""

    def __init__(self, directory_factory):
        self._dir = directory_factory
        self._cache: dict = {}

    def get(self, cloud: str, profile: str):
        if (cloud, profile) not in self._cache:
            self._cache[(cloud, profile)] = runcache.once(f"churn-base-{cloud}-{profile}",
                                                          lambda: self._compute(cloud, profile))
        return self._cache[(cloud, profile)]

    def _compute(self, cloud: str, profile: str):
        cfg = base_config(cloud, profile)
        d = self._dir(f"{cloud}-{profile}-base")
        return cfg, profile_of(cfg, d), preview(cfg, d, f"{cloud}-{profile}")


def run_edit(baselines: Baselines, cloud: str, profile: str, edit: str, directory: Path) -> Outcome:
    """Preview one edit and compare it with the baseline (see :func:`compare`)."""
    from spirit_infra.errors import ConfigError

    config, prof, before = baselines.get(cloud, profile)
    edited = dict(flow_edits(profile))[edit](config, directory)
    try:
        after_prof = profile_of(edited, directory)
    except ConfigError as e:
        return Outcome(refused=str(e))
    touched = touched_flows(prof, after_prof)
    after = preview(edited, directory, f"{cloud}-{profile}")
    out = compare(before, after, touched)
    out.touched = touched
    out.unchanged = sorted(map(str, before)) == sorted(map(str, after))
    return out
