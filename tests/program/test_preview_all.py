"""``spirit-infra preview --all``: every stack, a progress bar on stderr, one line per stack on stdout."""

from __future__ import annotations

import json
import re
import subprocess

from spirit_infra.cli import main

from . import CLI, ROOT, preview, stack_names, stderr_lines

NAMES = stack_names()


def test_preview_all_text():
    raw = subprocess.run([*CLI, "preview", "--all"], cwd=ROOT, capture_output=True, timeout=300)
    # bytes, decoded by hand: text mode would turn the bar's carriage returns into newlines
    r = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
    assert r.returncode == 0, r.stderr
    # stdout: one line per stack, in name order, each exact
    lines = r.stdout.splitlines()
    assert len(lines) == len(NAMES)
    for line, name in zip(lines, NAMES, strict=True):
        m = re.fullmatch(rf"{re.escape(name)}\s+(\d+) resources  exact  widened (\d+)", line)
        assert m, line
        assert int(m.group(1)) == len(preview(name).resources)
        assert int(m.group(2)) == len(preview(name).widened)
    # stderr: a progress bar redrawn in place (carriage returns), from 0/n to n/n, then a newline
    rest = stderr_lines(r.stderr)
    assert len(rest) == 1, r.stderr
    frames = [f for f in rest[0].split("\r") if f]
    assert len(frames) == len(NAMES) + 1
    for i, frame in enumerate(frames):
        m = re.fullmatch(r"\[([#.]{30})\] (\d+)/(\d+) (\S+)\s*", frame)
        assert m, frame
        assert (int(m.group(2)), int(m.group(3))) == (i, len(NAMES))
        assert m.group(4) == (NAMES[i] if i < len(NAMES) else "done")
        assert m.group(1).count("#") == 30 * i // len(NAMES)
    assert r.stderr.endswith("\n")


def test_preview_all_json(capsys):
    assert main(["preview", "--all", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert [d["stack"] for d in data] == NAMES
    for d in data:
        assert d == preview(d["stack"]).to_dict() | {"resources": d["resources"]}
        assert json.dumps(d["resources"], sort_keys=True) == json.dumps(preview(d["stack"]).resources,
                                                                          sort_keys=True)
        assert d["exact"] is True
    assert f"{len(NAMES)}/{len(NAMES)} done" in err
