"""Every malformed catalogue and override file, through the real CLI in a fresh process.

Each file in tests/malformed/ starts with ``# expect: <text>``: the one stderr line must be
``error: <file><text>...`` (file, line, field and what is wrong, in that order). Override files also
name the profile to build (``# profile: sbc``). Contract for every case: exit status 2, exactly one
line on stderr shaped ``error: <file>[:<line>]: <field>: <what>``, no traceback, nothing on stdout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MALFORMED = HERE / "malformed"
CASES = sorted(MALFORMED.glob("*.yaml"))
CATALOGUES = [p for p in CASES if p.name.startswith("catalogue-")]
OVERRIDES = [p for p in CASES if p.name.startswith("override-")]
EXTRA_FLOWS = [p for p in CASES if p.name.startswith("extra-")]

# error: <file>:<line>: <field>: <what>   (a field is a dotted/indexed path or a "(kind)" word)
LINE_RE = re.compile(r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<field>[A-Za-z0-9_.\[\]()-]+): (?P<what>\S.*)$")
NO_LINE_RE = re.compile(r"^error: (?P<file>[^:]+): (?P<field>\(file\)): (?P<what>\S.*)$")


def _header(path: Path) -> dict[str, str]:
    out = {}
    for raw in path.read_bytes().decode("latin-1").splitlines():
        m = re.match(r"^# (expect|profile): (.*)$", raw)
        if not m:
            break
        out[m.group(1)] = m.group(2)
    return out


def _argv(path: Path) -> list[str]:
    if path.name.startswith("override-"):
        return ["flows", "--profile", _header(path).get("profile", "phones"), "--overrides", str(path)]
    if path.name.startswith("extra-"):
        return ["flows", "--profile", _header(path).get("profile", "phones"), "--extra-flows", str(path)]
    return ["catalogue", "--catalogue", str(path)]


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spirit_infra", *argv], capture_output=True, text=True,
                          timeout=60, cwd=HERE)


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    """Run every case once, a few at a time (each is a cold interpreter)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda p: (p.name, _run(_argv(p))), CASES)
        return dict(done)


def test_enough_cases_cover_the_issue():
    assert len(CASES) >= 25
    names = " ".join(p.name for p in CASES)
    for topic in ("cidr", "port-zero", "port-70000", "reversed", "dscp-unknown", "transport-unknown",
                  "duplicate-flow-id", "empty-destination", "yaml-syntax", "wrong-type", "unknown-key",
                  "missing-key", "duplicate-yaml-key", "unknown-assumption", "dns-name", "empty-file",
                  "not-a-mapping", "override-cidr", "override-ztp-unknown-vendor", "override-sbc-overlap",
                  "override-unknown-key", "extra-cidr-everything", "extra-id-is-spirit-flow", "extra-client-key",
                  "extra-service-tag-bad", "extra-prefix-list-bad", "extra-platform-with-dns", "extra-yaml-syntax"):
        assert topic in names, f"no malformed case for {topic}"
    for p in CASES:
        assert "expect" in _header(p), f"{p.name} has no '# expect:' header"


def _check_one_line(proc: subprocess.CompletedProcess, where: str) -> str:
    assert proc.returncode == 2, f"{where}: exit {proc.returncode}, stderr={proc.stderr!r}"
    assert proc.stdout == "", f"{where}: printed on stdout: {proc.stdout!r}"
    assert "Traceback" not in proc.stderr, f"{where}: traceback:\n{proc.stderr}"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stderr.endswith("\n"), f"{where}: expected one line, got {proc.stderr!r}"
    return lines[0]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_malformed_file_is_one_precise_line(path: Path, results):
    line = _check_one_line(results[path.name], path.name)
    expect = _header(path)["expect"]
    if expect.startswith(":"):
        # the error names this very file, then the expected line, field and message
        assert line.startswith(f"error: {path}{expect}"), f"{path.name}:\n  got      {line}\n  expected error: {path}{expect}..."
    else:
        # the error is in a file the override names (its own catalogue), relative to the override
        assert line.startswith(f"error: {path.parent / expect}"), f"{path.name}:\n  got {line}\n  expected {expect}"
    m = LINE_RE.match(line) or NO_LINE_RE.match(line)
    assert m, f"{path.name}: not 'error: <file>:<line>: <field>: <what>': {line!r}"
    if m.re is NO_LINE_RE:
        assert "(file)" in line  # only an unreadable file has no line
    else:
        n = int(m.group("line"))
        text = Path(m.group("file")).read_bytes().decode("latin-1").splitlines()
        assert 1 <= n <= max(1, len(text)), f"{path.name}: line {n} is outside the file"


@pytest.mark.parametrize("argv,file", [
    (["catalogue", "--catalogue", "no-such-file.yaml"], "no-such-file.yaml"),
    (["flows", "--profile", "sbc", "--catalogue", "no-such-file.yaml"], "no-such-file.yaml"),
    (["flows", "--profile", "phones", "--overrides", "no-such-overrides.yaml"], "no-such-overrides.yaml"),
    (["catalogue", "--catalogue", "malformed"], "malformed"),
], ids=["catalogue", "flows-catalogue", "overrides", "directory"])
def test_missing_file(argv, file):
    line = _check_one_line(_run(argv), file)
    assert NO_LINE_RE.match(line), line
    assert line.startswith(f"error: {file}: (file): "), line
    flag = argv[argv.index(file) - 1]
    assert line.endswith(f" (given as {flag})"), line  # the flag that named the file, not only the file


def test_a_valid_override_next_to_the_bad_ones_works(tmp_path):
    """Guard against the cases passing for the wrong reason (e.g. --overrides broken for everyone)."""
    ok = tmp_path / "ok.yaml"
    ok.write_text("extra_spirit_cidrs: [192.0.2.0/24]\nztp_vendors_drop: [ztp.polycom.com]\n"
                  "sbc: {sip_ports: [[5070, 5071]], media_ports: [[40000, 40999]]}\n")
    for profile in ("phones", "sbc"):
        proc = _run(["flows", "--profile", profile, "--overrides", str(ok)])
        assert proc.returncode == 0, proc.stderr
        assert "192.0.2.0/24" in proc.stdout


def test_quick_schema_check_never_accepts_what_jsonschema_rejects():
    """check_schema skips jsonschema when its quick check says valid: that must never hide an error."""
    import jsonschema

    from spirit_infra.catalogue.load import _schema, extra_flows_schema
    from spirit_infra.errors import InputError
    from spirit_infra.profiles import OVERRIDES_SCHEMA
    from spirit_infra.yamlsrc import _quick_valid, load_yaml

    checked = 0
    for path in CASES:
        try:
            doc = load_yaml(path)
        except InputError:
            continue
        schema = (OVERRIDES_SCHEMA if path.name.startswith("override-")
                  else extra_flows_schema() if path.name.startswith("extra-") else _schema())
        valid = not list(jsonschema.Draft202012Validator(schema).iter_errors(doc.data))
        if _quick_valid(schema, doc.data, schema):
            assert valid, f"{path.name}: the quick check accepted a document jsonschema rejects"
        checked += 1
    assert checked >= 50
