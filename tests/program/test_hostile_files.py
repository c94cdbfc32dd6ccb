"""Hostile stack and project files through the preview: one line, exit 2, before anything runs."""

from __future__ import annotations

import pytest
from hostile import bomb

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


# (id, cloud, extra stack lines, field, fragment of the message)
STACK_REFUSALS = [
    ("arabic-indic-port", "aws", '  spirit:sbcSipPorts: "٥٠٦٠"', "spirit:sbcSipPorts", "is not a port list"),
    ("arabic-indic-integer", "aws", '  spirit:sipKeepaliveSeconds: "٣٠"', "spirit:sipKeepaliveSeconds",
     "expected an integer"),
    ("tag-trailing-hyphen", "gcp", "  spirit:targetTags: [spirit-]", "spirit:targetTags",
     "'spirit-' is not a valid GCP network tag"),
    ("small-network-aws", "aws", "  spirit:networkCidr: 10.0.0.0/26", "spirit:networkCidr",
     "smaller than the default site"),
    ("small-network-azure", "azure", "  spirit:networkCidr: 10.0.0.0/25", "spirit:networkCidr",
     "smaller than the default site"),
    ("small-network-gcp", "gcp", "  spirit:networkCidr: 10.0.0.0/28", "spirit:networkCidr",
     "smaller than the default site"),
    ("site-32-aws", "aws", "  spirit:sites: [{name: a, cidr: 10.40.0.0/32}]", "spirit:sites",
     "10.40.0.0/32 is smaller than the smallest aws subnet (/28)"),
    ("site-29-aws", "aws", "  spirit:sites: [{name: a, cidr: 10.40.0.0/29}]", "spirit:sites",
     "smaller than the smallest aws subnet (/28)"),
    ("site-30-azure", "azure", "  spirit:sites: [{name: a, cidr: 10.40.0.0/30}]", "spirit:sites",
     "smaller than the smallest azure subnet (/29)"),
    ("site-32-gcp", "gcp", "  spirit:sites: [{name: a, cidr: 10.40.0.0/32}]", "spirit:sites",
     "smaller than the smallest gcp subnet (/29)"),
    ("gcp-site-upper-case", "gcp", "  spirit:sites: [{name: Site-A, cidr: 10.40.0.0/24}]", "spirit:sites",
     "on gcp a site name is part of resource names"),
    ("site-non-ascii", "aws", "  spirit:sites: [{name: café, cidr: 10.40.0.0/24}]", "spirit:sites",
     "must be 1-24 ASCII letters"),
    ("site-name-true", "aws", "  spirit:sites: [{name: true, cidr: 10.40.0.0/24}]", "spirit:sites",
     "name must be a string, got a boolean True"),
    ("site-cidr-number", "aws", "  spirit:sites: [{name: a, cidr: 167772160}]", "spirit:sites",
     "cidr must be a string, got an integer"),
    ("overrides-sbc", "aws", "  spirit:overrides: {sbc: {sip_ports: [[5070, 5071]]}}", "spirit:overrides.sbc",
     "spirit:sbcSipPorts and spirit:sbcMediaPorts"),
    ("overrides-ipv6", "aws", "  spirit:overrides: {extra_spirit_cidrs: [2001:db8::/32]}",
     "spirit:overrides.extra_spirit_cidrs[0]", "is IPv6, but the catalogue is IPv4 only"),
    ("overrides-unknown-vendor", "gcp", "  spirit:overrides: {ztp_vendors_drop: [ztp.nokia.com]}",
     "spirit:overrides.ztp_vendors_drop[0]", "is not a ZTP vendor name"),
    ("overrides-catalogue-missing", "aws", "  spirit:overrides: {catalogue: nope.yaml}",
     "spirit:overrides.catalogue", "nope.yaml: file not found"),
]


@pytest.mark.parametrize("case", STACK_REFUSALS, ids=[c[0] for c in STACK_REFUSALS])
def test_stack_refusal_is_one_line_naming_file_line_and_key(case, tmp_path, capsys):
    _id, cloud, extra, field, fragment = case
    stack = tmp_path / "Pulumi.bad.yaml"
    profile = "phones" if cloud != "azure" else "communicator"
    stack.write_text(f"config:\n  spirit:cloud: {cloud}\n  spirit:profile: {profile}\n{extra}\n")
    line = _one_line(capsys, ["preview", "--config", str(stack)])
    assert line.startswith(f"error: {stack}:4: {field}: "), line
    assert fragment in line, line


def test_the_same_stacks_fixed_preview(tmp_path, capsys):
    """Guard: each refusal above is about its one line (the base stacks preview)."""
    for cloud, profile in (("aws", "phones"), ("azure", "communicator"), ("gcp", "phones")):
        stack = tmp_path / f"Pulumi.{cloud}.yaml"
        stack.write_text(f"config:\n  spirit:cloud: {cloud}\n  spirit:profile: {profile}\n"
                         "  spirit:sites: [{name: site-a, cidr: 10.40.0.0/28}]\n")
        assert main(["preview", "--config", str(stack), "--json"]) == 0, capsys.readouterr().err
        capsys.readouterr()


def _project_with_catalogue(tmp_path):
    """A project whose stack names a catalogue relative to the project (one Spirit range changed)."""
    import shutil

    project = tmp_path / "proj"
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: spirit-infra\nruntime: python\nstackConfigDir: stacks\n")
    (project / "__main__.py").write_text("from spirit_infra.program import main\nmain()\n")
    cat = (ROOT / "spirit_infra/catalogue/spirit.yaml").read_text()
    assert "45.64.148.0/22" in cat
    (project / "custom.yaml").write_text(cat.replace("45.64.148.0/22", "198.51.100.0/22"))
    stack = "config:\n  spirit:cloud: aws\n  spirit:profile: sbc\n  spirit:nat: none\n" \
            "  spirit:overrides: {catalogue: custom.yaml}\n"
    (project / "stacks" / "Pulumi.rel.yaml").write_text(stack)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(project / "stacks" / "Pulumi.rel.yaml", elsewhere / "Pulumi.rel.yaml")
    return project, elsewhere / "Pulumi.rel.yaml"


def test_relative_catalogue_is_relative_to_the_project(tmp_path, capsys, monkeypatch):
    """One rule, in the preview (stack in stacks/ or anywhere else) and in the program under the engine:
    a relative spirit:overrides.catalogue is relative to the project directory (where Pulumi.yaml is)."""
    from spirit_infra import testing
    from spirit_infra.program import main as program_main

    project, other = _project_with_catalogue(tmp_path)
    monkeypatch.chdir(tmp_path)  # not the project: the cwd must not matter
    for argv in (["--stack", "rel"], ["--config", str(other)]):
        assert main(["preview", *argv, "--project", str(project), "--json"]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert "198.51.100.0/22" in out and "45.64.148.0/22" not in out
    rec = testing.run(program_main, root_directory=str(project), config={
        "spirit:cloud": "aws", "spirit:profile": "sbc", "spirit:nat": "none",
        "spirit:overrides": {"catalogue": "custom.yaml"}})
    text = str([r.inputs for r in rec.resources])
    assert "198.51.100.0/22" in text and "45.64.148.0/22" not in text


def test_a_catalogue_row_opening_the_sbc_to_the_world_names_its_file_and_line(tmp_path, capsys):
    """The refusal is found while building the profile (before anything is rendered or registered) and points
    at the catalogue row, not at whichever cloud renderer would have met it."""
    text = (ROOT / "spirit_infra/catalogue/spirit.yaml").read_text()
    lines = text.splitlines()
    row = next(i for i, t in enumerate(lines, 1) if t.strip() == "- id: phone-sip")
    cidrs_at = next(i for i in range(row, len(lines) + 1) if lines[i - 1].strip().startswith("server_cidrs:"))
    lines[cidrs_at - 1] = "    server_cidrs: [0.0.0.0/1, 128.0.0.0/1]"
    cat = tmp_path / "world.yaml"
    cat.write_text("\n".join(lines) + "\n")
    for cloud in ("aws", "azure", "gcp"):
        stack = tmp_path / f"Pulumi.{cloud}.yaml"
        stack.write_text(f"config:\n  spirit:cloud: {cloud}\n  spirit:profile: sbc\n  spirit:nat: none\n"
                         f"  spirit:overrides: {{catalogue: {cat}}}\n")
        line = _one_line(capsys, ["preview", "--config", str(stack)])
        assert line == (f"error: {cat}:{row}: flows[phone-sip]: server_cidrs cover 0.0.0.0/0: the sbc profile takes "
                        "ingress from this row's servers, which would open the SBC to the whole Internet (list "
                        "Spirit's ranges)"), line
