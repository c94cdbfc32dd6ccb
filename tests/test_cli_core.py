"""The core CLI: catalogue formats, the JSON contract, flows, determinism, entry points, bad flags."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spirit_infra import build_profile, load_catalogue
from spirit_infra.catalogue.load import DEFAULT_CATALOGUE
from spirit_infra.cli import main

REPO = Path(__file__).resolve().parents[1]


def _guideline_tables():
    """The guideline tables of test_catalogue_rows (tests/data/guideline_tables.yaml; loaded by path: tests/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_spirit_rows", Path(__file__).with_name("test_catalogue_rows.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.TABLES


TABLES = _guideline_tables()
CONTRACT_KEYS = {"id", "client", "application", "protocols", "transports", "dscp", "client_ports", "dns",
                 "server_cidrs", "server_ports", "assumptions"}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _ranges_ok(v):
    return v is None or (isinstance(v, list) and all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(p, int) for p in r) and r[0] <= r[1] for r in v))


def test_json_contract(capsys):
    code, out, err = run(capsys, "catalogue", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert isinstance(data["flows"], list) and len(data["flows"]) == 15
    for f in data["flows"]:
        assert CONTRACT_KEYS <= set(f), CONTRACT_KEYS - set(f)
        assert f["client"] in ("phone", "communicator")
        assert isinstance(f["application"], str) and f["application"]
        assert isinstance(f["protocols"], list)
        assert f["transports"] and set(f["transports"]) <= {"tcp", "udp"}
        assert f["dscp"] in ("CS3", "EF", "AF41", "0", None)
        assert _ranges_ok(f["client_ports"]) and _ranges_ok(f["server_ports"])
        assert all(set(d) >= {"name", "type"} and d["type"] in ("NAPTR", "SRV", "A/CNAME") for d in f["dns"])
        assert f["server_cidrs"] is None or all(isinstance(c, str) and "/" in c for c in f["server_cidrs"])
        assert isinstance(f["assumptions"], list)
    by_id = {f["id"]: f for f in data["flows"]}
    # null means any
    assert by_id["phone-audio"]["server_ports"] is None
    assert by_id["phone-ztp"]["server_cidrs"] is None
    assert by_id["communicator-sip"]["client_ports"] is None
    assert by_id["phone-sip"]["client_ports"] == [[5060, 8060]]
    assert by_id["communicator-messaging"]["dns"] == [{"name": "_xmpp-client._tcp.spirit.com.au", "type": "SRV"}]
    # the contract round-trips the model
    assert data == load_catalogue().to_json()


def test_table_flags_assumptions(capsys):
    code, out, _ = run(capsys, "catalogue")
    assert code == 0
    for f in load_catalogue().flows:
        line = next(ln for ln in out.splitlines() if ln.startswith(f.id + " "))
        if f.assumptions:
            assert "!" in line and f.assumptions[0] in line
    assert "Assumptions" in out
    for a in load_catalogue().assumptions:
        assert f"{a.id}:" in out


def _md_tables(text: str) -> list[list[list[str]]]:
    tables, cur = [], None
    for ln in text.splitlines():
        if ln.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", ln.strip())[1:-1]]
            if set("".join(cells)) <= {"-"}:
                continue
            if cur is None:
                cur = []
                tables.append(cur)
            cur.append(cells)
        else:
            cur = None
    return tables


def test_markdown_recreates_both_guideline_tables(capsys):
    code, out, _ = run(capsys, "catalogue", "--format", "markdown")
    assert code == 0
    tables = _md_tables(out)
    assert len(tables) == 2
    for md, (name, rows) in zip(tables, TABLES.items(), strict=True):
        header, body = md[0], md[1:]
        assert len(body) == len(rows), name
        for cells, row in zip(body, rows, strict=True):
            cell = dict(zip(header, cells, strict=True))
            assert cell["Application"] == row["Application"]
            if row["Application protocol"]:
                assert cell["Application protocol"] == row["Application protocol"]
            if row["Transport protocol"]:
                assert cell["Transport protocol"] == row["Transport protocol"]
            if name == "phones" and row["Phone DCSP"]:
                assert cell["Phone DSCP"] == row["Phone DCSP"]
            ports_col = "Phone ports" if name == "phones" else "Communicator ports"
            if row[ports_col]:
                assert cell[ports_col] == row[ports_col]
            srv_col = "Server ports" if name == "phones" else "Spirit server end ports"
            assert re.split(r"[,\s]+", cell[srv_col]) and \
                sorted(re.split(r"[,\s]+", cell[srv_col])) == sorted(re.split(r"[,\s]+", row[srv_col]))
            if "/" in row["Server addresses"]:
                assert cell["Server addresses"] == row["Server addresses"]
            dns_words = [w for w in row["DNS addresses"].split() if "." in w and not w.startswith("SRV_")]
            for w in dns_words:
                assert w.lower() in cell["DNS addresses"].lower()
            assert cell["Assumptions"]


def test_mermaid_has_every_profile(capsys):
    code, out, _ = run(capsys, "catalogue", "--format", "mermaid")
    assert code == 0
    assert out.startswith("```mermaid\nflowchart LR\n") and out.rstrip().endswith("```")
    for name in ("phones", "communicator", "sbc"):
        assert f"subgraph {name}[" in out
        for f in build_profile(name).flows:
            assert f"{f.id}:" in out


@pytest.mark.parametrize("profile", ["phones", "communicator", "sbc"])
@pytest.mark.parametrize("as_json", [False, True])
def test_flows_deterministic_across_processes(profile, as_json):
    argv = [sys.executable, "-m", "spirit_infra", "flows", "--profile", profile] + (["--json"] if as_json else [])
    a = subprocess.run(argv, capture_output=True, cwd=REPO, timeout=60)
    b = subprocess.run(argv, capture_output=True, cwd=REPO, timeout=60,
                       env={**__import__("os").environ, "PYTHONHASHSEED": "12345"})
    assert a.returncode == 0 and a.stderr == b""
    assert a.stdout == b.stdout
    if as_json:
        data = json.loads(a.stdout)
        assert data["profile"] == profile
        assert data["allowed"] == build_profile(profile).allowed.to_json()
    else:
        first = a.stdout.decode().splitlines()[0]
        assert first.startswith(f"profile {profile}: ")
        assert "assumptions:" in a.stdout.decode()


def test_flows_with_catalogue_flag(tmp_path, capsys):
    cat = tmp_path / "c.yaml"
    cat.write_text(DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace("[[5222, 5222]]", "[[5299, 5299]]"))
    code, out, _ = run(capsys, "flows", "--profile", "communicator", "--catalogue", str(cat))
    assert code == 0 and "dport=5299" in out and str(cat) in out
    code, out, _ = run(capsys, "catalogue", "--catalogue", str(cat), "--format", "json")
    assert code == 0 and {f["id"]: f for f in json.loads(out)["flows"]}["communicator-messaging"]["server_ports"] == \
        [[5299, 5299]]


def test_entry_points():
    exe = shutil.which("spirit-infra", path=str(Path(sys.executable).parent))
    assert exe, "the spirit-infra console script is not installed next to the interpreter"
    a = subprocess.run([exe, "flows", "--profile", "sbc"], capture_output=True, timeout=60)
    b = subprocess.run([sys.executable, "-m", "spirit_infra", "flows", "--profile", "sbc"], capture_output=True,
                       timeout=60)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and a.stdout.startswith(b"profile sbc: ")
    v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert v.returncode == 0 and v.stdout.startswith("spirit-infra ")


@pytest.mark.parametrize("argv,field", [
    (["flows", "--profile", "pbx"], "--profile"),
    (["flows"], "--profile"),
    (["catalogue", "--format", "html"], "--format"),
    (["catalogue", "--bogus"], "--bogus"),
    (["no-such-command"], "no-such-command"),
    ([], "COMMAND"),
])
def test_bad_flags_are_one_line(argv, field):
    proc = subprocess.run([sys.executable, "-m", "spirit_infra", *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and field in lines[0] and "Traceback" not in proc.stderr
