"""README.md: generated sections equal what the CLI prints; the Quick start is the two commands; the
documented keys, stacks and composition example are real."""

from __future__ import annotations

import re

from spirit_infra import readme
from spirit_infra.cli import main

from . import ROOT, stack_names

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, title
    return m.group(1)


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def test_generated_sections_are_current():
    """`python -m spirit_infra.readme` would change nothing."""
    assert readme.render(README) == README


def test_generated_sections_equal_the_cli(capsys):
    for name, fmt in (("catalogue", "markdown"), ("mermaid", "mermaid")):
        m = re.search(rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)<!-- END GENERATED: {name} -->", README, re.S)
        assert m, name
        assert main(["catalogue", "--format", fmt]) == 0
        assert m.group(1) == capsys.readouterr().out, name
    assert "```mermaid" in README


def test_render_replaces_a_stale_section():
    stale = README.replace("| Call signalling |", "| Call signaling |", 1)
    assert stale != README and readme.render(stale) == README


def test_quick_start_is_the_two_commands():
    blocks = _blocks(_section("Quick start"), "sh")
    assert len(blocks) == 1
    assert [ln.strip() for ln in blocks[0].splitlines() if ln.strip()] == ["make preview", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^preview:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    default = re.search(r"^DEFAULT_STACK \?= (\S+)$", makefile, re.M).group(1)
    assert default == "aws-sbc" and default in stack_names()
    assert "$(VENV)/bin/spirit-infra preview --stack $(DEFAULT_STACK)" in makefile


def test_who_and_what():
    intro = README.split("## ", 1)[0]
    for word in ("AWS", "Azure", "GCP", "SBC", "VDI", "Pulumi", "offline preview", "policy pack"):
        assert word in intro, word


def test_running_the_real_thing():
    sh = "\n".join(_blocks(_section("Running the real thing"), "sh"))
    for cmd in ("pulumi login --local", "pulumi stack select", "pulumi config set", "pulumi up"):
        assert cmd in sh, cmd
    text = _section("Running the real thing")
    assert "Pulumi.yaml" in text and "stacks/" in text
    for name in stack_names():
        assert f"`{name}`" in text, name


def test_composition_example_runs_and_is_exact():
    """The README's own program, run under the library's test double, registers an exact SBC group."""
    from spirit_infra import Overrides, build_profile, project
    from spirit_infra.aws.rules import SG_CAPS, read
    from spirit_infra.testing import run

    code = _blocks(_section("Composing the components in your own program"), "python")
    assert len(code) == 1
    rec = run(lambda: exec(compile(code[0], "README.md", "exec"), {}), stack="readme")
    assert set(rec.outputs) == {"sbcSecurityGroupIds"}
    resources = [{"type": r.type, "name": r.name, "inputs": r.inputs, "id": r.id, "urn": r.urn}
                 for r in rec.resources]
    want = project(build_profile("sbc", Overrides(extra_spirit_cidrs=("203.0.113.0/28",))).allowed, SG_CAPS)
    assert read(resources) == want.allowed
    for r in rec.resources:
        assert r.type.startswith(("aws:", "spirit:index:"))
