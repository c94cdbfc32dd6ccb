"""Hostile stack and project files through the preview: one line, exit 2, before anything runs."""

from __future__ import annotations

from hostile_yaml import bomb

from spirit_infra.cli import main

from . import ROOT, cli, stderr_lines

GOOD = "config:\n  spirit:cloud: aws\n  spirit:profile: sbc\n  spirit:nat: none\n"


def _one_line(capsys, argv) -> str:
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err.rstrip("\n")


def test_alias_bomb_under_an_unknown_provider_key(tmp_path, capsys):
    """Provider keys pass through untouched, but the file they sit in is still bounded."""
    stack = tmp_path / "Pulumi.bomb.yaml"
    body = "".join("    " + line + "\n" for line in bomb().splitlines())
    stack.write_text(GOOD + "  aws:whatever:\n" + body)
    line = _one_line(capsys, ["preview", "--config", str(stack)])
    assert line.startswith(f"error: {stack}:") and "more than 50000 values" in line, line


def test_recursive_alias_in_a_stack_file(tmp_path, capsys):
    stack = tmp_path / "Pulumi.rec.yaml"
    stack.write_text(GOOD + "  gcp:thing: &x [*x]\n")
    line = _one_line(capsys, ["preview", "--config", str(stack)])
    assert line == f"error: {stack}:5: (document): alias *x refers to a node that contains it (a recursive alias)"


def test_bomb_in_the_project_file(tmp_path, capsys):
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n" + bomb())
    (tmp_path / "Pulumi.s.yaml").write_text(GOOD)
    line = _one_line(capsys, ["preview", "--stack", "s", "--project", str(tmp_path)])
    assert line.startswith(f"error: {tmp_path / 'Pulumi.yaml'}:") and "more than 50000" in line, line


def test_preview_of_a_project_that_does_not_exist(tmp_path):
    """``--project DIR`` names the project: no search upwards, no fallback to this checkout."""
    r = cli("preview", "--stack", "aws-sbc", "--project", "/nonexistent")
    assert r.returncode == 2 and r.stdout == ""
    assert stderr_lines(r.stderr) == ["error: --project: '/nonexistent' is not a directory"]
    r = cli("preview", "--stack", "aws-sbc", "--project", str(tmp_path))
    assert r.returncode == 2
    assert stderr_lines(r.stderr) == [f"error: --project: {str(tmp_path)!r} is not a Pulumi project "
                                      "(no Pulumi.yaml or __main__.py)"]
    # the checkout itself, named explicitly, still previews
    r = cli("preview", "--stack", "aws-sbc", "--project", str(ROOT), "--json")
    assert r.returncode == 0, r.stderr
