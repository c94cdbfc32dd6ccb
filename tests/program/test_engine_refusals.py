"""What a real engine refuses and plain mocks accept: the preview of any project (``--project DIR``) fails
with one clear line and no traceback."""

from __future__ import annotations

import textwrap

import pytest

from spirit_infra.cli import main

from . import cli, stderr_lines

STACK = """\
config:
  spirit:cloud: aws
  spirit:profile: sbc
  spirit:nat: none
"""

PROGRAMS = {
    "duplicate-urn": """
        import pulumi

        class Thing(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("spirit:index:Thing", name)
                self.register_outputs({})

        Thing("twice")
        Thing("twice")
    """,
    "resource-in-apply": """
        import pulumi

        class Thing(pulumi.ComponentResource):
            def __init__(self, name):
                super().__init__("spirit:index:Thing", name)
                self.register_outputs({})

        pulumi.export("late", pulumi.Output.from_input("b").apply(lambda v: Thing("late-" + v).urn))
    """,
    "run-error": """
        import pulumi

        raise pulumi.RunError("spirit:thing: this project refuses to run")
    """,
    "config-error": """
        from spirit_infra.errors import ConfigError

        raise ConfigError("not today", field="spirit:thing")
    """,
}
EXPECTED = {
    "duplicate-urn": r"error: duplicate URN urn:pulumi:bad::spirit-infra::spirit:index:Thing::twice: two resources "
                     r"of type spirit:index:Thing named 'twice' under the same parent",
    "resource-in-apply": r"error: resource urn:pulumi:bad::spirit-infra::spirit:index:Thing::late-b was created "
                         r"inside an Output.apply callback",
    "run-error": r"error: .*__main__.py: spirit:thing: this project refuses to run",
    "config-error": r"error: spirit:thing: not today",
}


def _project(tmp_path, program: str):
    (tmp_path / "Pulumi.yaml").write_text("name: spirit-infra\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(program))
    (tmp_path / "stacks").mkdir()
    stack = tmp_path / "stacks" / "Pulumi.bad.yaml"
    stack.write_text(STACK)
    return stack


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_refusal_in_process(case, tmp_path, capsys):
    import re

    stack = _project(tmp_path, PROGRAMS[case])
    rc = main(["preview", "--config", str(stack), "--project", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert re.match(EXPECTED[case], err), err


@pytest.mark.parametrize("case", ["duplicate-urn", "resource-in-apply"])
def test_refusal_through_the_cli(case, tmp_path):
    import re

    stack = _project(tmp_path, PROGRAMS[case])
    r = cli("preview", "--config", str(stack), "--project", str(tmp_path), "--json")
    assert r.returncode == 2 and r.stdout == ""
    lines = stderr_lines(r.stderr)
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert re.match(EXPECTED[case], lines[0]), lines


def test_stack_name_from_the_project(tmp_path, capsys):
    """``--stack NAME --project DIR`` reads DIR/stacks, and the URNs carry that stack name."""
    _project(tmp_path, PROGRAMS["duplicate-urn"])
    assert main(["preview", "--stack", "bad", "--project", str(tmp_path)]) == 2
    assert "urn:pulumi:bad::" in capsys.readouterr().err


def test_a_good_program_in_another_project(tmp_path, capsys):
    """The same machinery previews a well-behaved program: only the refusals above fail."""
    stack = _project(tmp_path, "from spirit_infra.program import main\nmain()\n")
    assert main(["preview", "--config", str(stack), "--project", str(tmp_path), "--json"]) == 0
    assert '"exact": true' in capsys.readouterr().out
