"""``spirit-infra preview --all``: every stack, progress on stderr (a bar on a terminal, plain lines in a log),
one line per stack on stdout."""

from __future__ import annotations

import json
import re
import subprocess

from spirit_infra.cli import main

from . import CLI, ROOT, preview, stack_names, stderr_lines

NAMES = stack_names()


def _stdout_is_one_exact_line_per_stack(stdout: str) -> None:
    lines = stdout.splitlines()
    assert len(lines) == len(NAMES)
    for line, name in zip(lines, NAMES, strict=True):
        m = re.fullmatch(rf"{re.escape(name)}\s+(\d+) resources  exact  widened (\d+)", line)
        assert m, line
        assert int(m.group(1)) == len(preview(name).resources)
        assert int(m.group(2)) == len(preview(name).widened)


def test_preview_all_text_in_a_log():
    """stderr not a terminal (a CI log, a pipe): one plain line per stack, no carriage returns, no bar."""
    r = subprocess.run([*CLI, "preview", "--all"], cwd=ROOT, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    _stdout_is_one_exact_line_per_stack(r.stdout.decode())
    err = r.stderr.decode()
    assert "\r" not in err and "#" not in err
    expected = [f"preview {i}/{len(NAMES)} {name}" for i, name in enumerate(NAMES)]
    assert stderr_lines(err) == [*expected, f"preview {len(NAMES)}/{len(NAMES)} done"]
    assert err.endswith("\n")


def test_preview_all_text_on_a_terminal():
    """stderr a terminal (a pseudo-terminal here): rich's progress bar redrawn in place, 0/n to n/n, then a
    newline, the cursor hidden while it runs and shown again after."""
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([*CLI, "preview", "--all"], cwd=ROOT, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        chunks = []
        while True:  # read until the child closes the terminal (EIO on Linux), bounded by the timeout below
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        out, _ = proc.communicate(timeout=300)
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)
    assert proc.returncode == 0
    _stdout_is_one_exact_line_per_stack(out.decode())
    # the terminal's line discipline turns "\n" into "\r\n"; the bar's own redraws are bare "\r" + erase line
    err = b"".join(chunks).decode()
    assert err.startswith("\x1b[?25l") and err.endswith("\r\n\x1b[?25h"), repr(err)  # cursor hidden, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)[:-2]  # no colours/cursor codes, no final newline
    assert "\n" not in plain, repr(plain)  # one line on the terminal, redrawn in place
    frames = [f for f in plain.split("\r") if f]
    assert frames[-1] == frames[-2]  # stopping draws the last frame once more
    frames = frames[:-1]
    assert len(frames) == len(NAMES) + 1, frames
    for i, frame in enumerate(frames):
        m = re.fullmatch(r"preview ([━╸╺]{30}) (\d+)/(\d+) (\S+)\s*", frame)
        assert m, frame
        assert (int(m.group(2)), int(m.group(3))) == (i, len(NAMES))
        assert m.group(4) == (NAMES[i] if i < len(NAMES) else "done")


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
