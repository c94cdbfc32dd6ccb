"""README.md: generated sections equal what the CLI prints; the Quick start is the two commands; the
documented keys, stacks and composition example are real."""

from __future__ import annotations

import re
from pathlib import Path

from spirit_infra.cli import main

from . import ROOT, preview, stack_names


def _script(name: str):
    """A repository script of scripts/ (not a package), loaded by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_scripts_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


readme = _script("readme")

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, title
    return m.group(1)


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def test_generated_sections_are_current():
    """`python scripts/readme.py` would change nothing."""
    assert readme.render(README) == README


def test_generated_sections_equal_the_cli(capsys):
    for name, fmt in (("catalogue", "markdown"), ("mermaid", "mermaid")):
        m = re.search(rf"<!-- BEGIN GENERATED: {name} -->\n(.*?)<!-- END GENERATED: {name} -->", README, re.S)
        assert m, name
        assert main(["catalogue", "--format", fmt]) == 0
        assert m.group(1) == capsys.readouterr().out, name
    assert "```mermaid" in README


def test_the_script_rewrites_a_stale_readme(tmp_path):
    """``python scripts/readme.py FILE``, as a maintainer runs it (the library does not ship it)."""
    import subprocess
    import sys

    stale = tmp_path / "README.md"
    stale.write_text(README.replace("| Call signalling |", "| Call signaling |", 1), encoding="utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme.py"), str(stale)], capture_output=True,
                       text=True, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"updated {stale}\n", "")
    assert stale.read_text(encoding="utf-8") == README
    import spirit_infra

    assert not (Path(spirit_infra.__file__).parent / "readme.py").exists()


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
    from spirit_infra.aws.read import read
    from spirit_infra.aws.rules import SG_CAPS
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


def test_layers_example_runs_and_prints_each_layer(capsys):
    """The README's Layer example: each GCP layer renders the SBC profile as a Plan, widenings named."""
    from spirit_infra.registry import layers_of

    code = _blocks(_section("The layers in Python"), "python")
    assert len(code) == 1
    exec(compile(code[0], "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    layers = layers_of("gcp")
    assert len(lines) == len(layers) and all(ln.startswith(f"{layer.name} ") for ln, layer in zip(lines, layers, strict=True))
    assert "source_ports widened" in lines[0]  # a VPC firewall rule has no source port


# ---- what the README claims is true (issue 11 §6) ---------------------------------------------------------

def _commands() -> list[list[str]]:
    """The Command line block, one argv per line: optional [...] parts dropped, the first of a|b|c taken."""
    out = []
    for line in _blocks(_section("Command line"), "sh")[0].splitlines():
        line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
        assert line[0] == "spirit-infra", line
        out.append([tok.split("|")[0] for tok in line[1:]])
    return out


def test_every_command_but_preview_takes_catalogue(capsys, tmp_path):
    from spirit_infra.catalogue.load import DEFAULT_CATALOGUE

    cat = tmp_path / "mine.yaml"
    cat.write_text(Path(DEFAULT_CATALOGUE).read_text(encoding="utf-8"), encoding="utf-8")
    text = _section("Command line")
    assert "Every command except `preview` takes `--catalogue FILE`" in text
    commands = _commands()
    assert {c[0] for c in commands} >= {"catalogue", "flows", "aws", "azure", "gcp", "nat", "preview"}
    for argv in commands:
        code = main([*argv, "--catalogue", str(cat)])
        err = capsys.readouterr().err
        if argv[0] == "preview":
            assert code == 2 and "--catalogue" in err and "spirit:overrides.catalogue" in err, err
        else:
            assert code == 0, (argv, err)


def _subsection(title_start: str) -> str:
    m = re.search(rf"^### {re.escape(title_start)}[^\n]*\n(.*?)(?=^##|\Z)", README, re.S | re.M)
    assert m, title_start
    return m.group(0)


AUDIENCES = {"Hosted SBC": "sbc", "VDI fleet": "communicator", "Phone sites": "phones"}


def test_each_audience_section_names_its_real_stacks_outputs_and_keys():
    from spirit_infra.stackconfig import KEYS

    keys = {f"spirit:{k.name}" for k in KEYS}
    all_outputs = {o for name in stack_names() for o in preview(name).outputs}
    for title, profile in AUDIENCES.items():
        text = _subsection(title)
        for part in ("**Builds:**", "**You add:**", "**Strict mode blocks**"):
            assert part in text, (title, part)
        assert "management access" in text, title
        heading = text.splitlines()[0]
        stacks = re.findall(r"`([a-z]+(?:-[a-z]+)+)`", heading)
        # every example stack of this profile is named, and only those
        assert sorted(stacks) == [n for n in stack_names() if preview(n).config.profile == profile], heading
        assert f"profile `{profile}`" in heading
        named = set(re.findall(r"`([^`\s]+)`", text))
        for key in {n for n in named if n.startswith("spirit:")}:
            assert key in keys, (title, key)
        # an output the section names is one that one of its stacks really exports
        outputs = {o for n in stacks for o in preview(n).outputs}
        for out in named & all_outputs:
            assert out in outputs, (title, out)


def test_audience_claims_about_strict_priorities_hold():
    """The priorities the README tells users to put their own rules under are Spirit's real ones."""
    text = _section("Who it is for: what each stack builds, what you add")
    assert "under 1000, evaluated before Spirit's\nband 1000-2999" in text and "under 65534" in text
    azure = [n for n in stack_names() if preview(n).config.cloud == "azure"]
    for name in azure:
        prios = preview(name).outputs["nsgPriorities"]
        assert prios and all(1000 <= p <= 2999 for p in prios.values()), (name, prios)
    gcp = [n for n in stack_names() if preview(n).config.cloud == "gcp"]
    for name in gcp:
        fw = [r for r in preview(name).resources if r["type"] == "gcp:compute/firewall:Firewall"]
        denies = [r["inputs"]["priority"] for r in fw if r["inputs"].get("denies")]
        allows = [r["inputs"]["priority"] for r in fw if r["inputs"].get("allows")]
        assert denies and set(denies) == {65534} and all(p < 65534 for p in allows), name


def test_what_is_verified_lists_real_tests_and_what_is_not_checked():
    text = _section("What is verified")
    verified, _, unverified = text.partition("Not verified from this repository:")
    assert unverified, "the section says what is not verified"
    assert "pulumi up" in unverified and all(c in unverified for c in ("AWS", "Azure", "GCP"))
    items = re.findall(r"^- \*\*(.+?)\*\*(.*?)(?=^- |\Z)", verified, re.S | re.M)
    assert len(items) >= 4
    for tool, body in items:
        paths = re.findall(r"`(tests/[^`]+)`", body)
        assert paths, f"{tool}: name the tests"
        for p in paths:
            assert list(ROOT.glob(p)), f"{tool}: {p} does not exist"


def test_stack_comment_says_how_many_nat_gateways():
    """aws-communicator's header comment claimed one NAT gateway per AZ; the stack has one."""
    comment = (ROOT / "stacks" / "Pulumi.aws-communicator.yaml").read_text().split("config:", 1)[0]
    gateways = [r for r in preview("aws-communicator").resources if r["type"] == "aws:ec2/natGateway:NatGateway"]
    zones = {r["inputs"].get("availabilityZone") for r in preview("aws-communicator").resources
             if r["type"] == "aws:ec2/subnet:Subnet" and r["name"].endswith(("vdi-a", "vdi-b"))}
    assert len(zones) == 2
    flat = " ".join(comment.replace("#", " ").split())
    if len(gateways) == 1:
        assert "one managed NAT gateway in" in flat and "per AZ" not in flat and "per subnet" not in flat, flat
    else:  # one per AZ: the comment must say so
        assert len(gateways) == len(zones) and "per AZ" in flat, flat
