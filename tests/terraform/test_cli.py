"""``spirit-infra terraform render``: the files the generator makes, and one line with exit 2 on bad input
(flags, destinations, and the hostile and malformed YAML corpora of the other entry points), with
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spirit_infra import Overrides, build_profile
from spirit_infra.cli import main
from spirit_infra.terraform import render_module

ROOT = Path(__file__).resolve().parents[2]


def test_render_writes_the_generators_module(tmp_path, capsys):
    out = tmp_path / "mod"
    assert main(["terraform", "render", "--cloud", "azure", "--profile", "communicator", "--out", str(out)]) == 0
    want = render_module(build_profile("communicator", Overrides()), "azure").files
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == want
    assert "azure-communicator: 17 resources" in capsys.readouterr().out


def test_render_without_out_prints_the_files(capsys):
    assert main(["terraform", "render", "--cloud", "gcp", "--profile", "sbc", "--layers", "rules"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"] == ["rules"] and set(doc["counts"]) == {"google_compute_firewall"}
    assert doc["files"] == render_module(build_profile("sbc", Overrides()), "gcp", ("rules",)).files


def test_layers_and_extra_flows_reach_the_module(tmp_path, capsys):
    out = tmp_path / "m"
    argv = ["terraform", "render", "--cloud", "aws", "--profile", "sbc", "--layers", "fqdn-firewall,rules",
            "--extra-flows", str(ROOT / "presets" / "sbc-host.yaml"), "--out", str(out)]
    assert main(argv) == 0
    text = (out / "main.tf.json").read_text(encoding="utf-8")
    assert "aws_nat_gateway" not in text and "aws_security_group" in text and "aws_networkfirewall" in text
    assert "sbc-host" in text  # the preset's customer flows are baked in


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(["terraform", "render", *argv])
    except SystemExit as e:  # argparse's own refusals (a bad choice, a missing flag) exit from the parser
        code = e.code
    got = capsys.readouterr()
    return code, got.out, got.err


def _refused(argv: list[str], capsys, *needles: str) -> str:
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and err.startswith("error:") and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


A = ["--cloud", "aws", "--profile", "sbc"]


@pytest.mark.parametrize("argv,needles", [
    (A + ["--layers", "rules,foo"], ["--layers", "'foo' is not a layer"]),
    (A + ["--layers", "RULES"], ["--layers", "'RULES' is not a layer"]),
    (A + ["--layers", ","], ["--layers", "no layer given"]),
    (A + ["--layers", ""], ["--layers", "no layer given"]),
    (A + ["--layers", "rules,,nat"], ["--layers", "'rules,,nat': an empty layer"]),
    (A + ["--layers", "rules,nat,rules"], ["--layers", "'rules' is given twice"]),
    (A + ["--layers"], ["--layers", "expected one argument"]),
    (["--cloud", "oci", "--profile", "sbc"], ["--cloud", "'oci'"]),
    (["--cloud", "AWS", "--profile", "sbc"], ["--cloud", "'AWS'"]),
    (["--cloud", "aws", "--profile", "desk"], ["--profile", "'desk'"]),
    (["--cloud", "aws"], ["--profile"]),
    (["--profile", "sbc"], ["--cloud"]),
    ([], ["--cloud", "--profile"]),
    (A + ["--clod", "aws"], ["unrecognized arguments: --clod"]),
    (A + ["--out", "FILE"], ["--out", "exists and is not a directory"]),
    (A + ["--out", "FILE/sub"], ["--out", "Not a directory"]),
    (A + ["--out", ""], ["--out", "'' is not a directory path"]),
    (A + ["--out", "  "], ["--out", "'  ' is not a directory path"]),
    (A + ["--overrides", "/nonexistent/ov.yaml"], ["--overrides", "/nonexistent/ov.yaml"]),
    (A + ["--catalogue", "DIR"], ["--catalogue", "is a directory"]),
    (A + ["--extra-flows", "BAD"], ["bad.yaml:1", "version: required key is missing"]),
    (A + ["--extra-flows", "/dev/null"], ["/dev/null", "empty"]),
    (A + ["--out", "DIR", "--overrides", "DIR"], ["--out", "is also given as --overrides"]),
    (A + ["--out", "DIR/x/..", "--catalogue", "DIR"], ["--out", "is also given as --catalogue"]),
])
def test_bad_flags_are_one_line_and_exit_2(argv, needles, tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("flows: [{id: 1}]\n")
    subst = {"FILE": str(a_file), "FILE/sub": f"{a_file}/sub", "BAD": str(bad), "DIR": str(tmp_path),
             "DIR/x/..": f"{tmp_path}/x/.."}
    _refused([subst.get(a, a) for a in argv] + ([] if "--out" in argv else ["--out", str(tmp_path / "out")]),
             capsys, *needles)
    assert not (tmp_path / "out").exists()


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): p.read_text(encoding="utf-8") if p.is_file() else "<dir>"
            for p in sorted(d.rglob("*"))}


@pytest.mark.parametrize("stray", ["old.tf", "extra.tf.json", "nat_override.tf", "x.tofu", "x.tofu.json"])
def test_a_destination_with_a_stray_terraform_file_is_refused_untouched(stray, tmp_path, capsys):
    """Terraform loads every .tf/.tf.json (OpenTofu also .tofu) file of a module's directory: rendering
    over one that holds another would make a module that is not the generator's."""
    out = tmp_path / "mod"
    out.mkdir()
    (out / stray).write_text("# mine\n")
    (out / "main.tf.json").write_text("{}")
    before = _tree(out)
    _refused([*A, "--out", str(out)], capsys, "--out", repr(stray), "Terraform would load it")
    assert _tree(out) == before


def test_a_module_file_that_is_a_directory_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "mod"
    (out / "outputs.tf.json").mkdir(parents=True)
    before = _tree(out)
    _refused([*A, "--out", str(out)], capsys, "--out", "'outputs.tf.json' is there and is not a regular file")
    assert _tree(out) == before


def test_rerender_over_a_module_replaces_its_files_and_keeps_others(tmp_path, capsys):
    """The generator's own files are replaced (a symbolic link in their place too, never followed);
    files Terraform does not load (hidden ones, a lock file, notes) stay."""
    out = tmp_path / "mod"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    (out / "main.tf.json").symlink_to(victim)
    (out / "versions.tf").write_text("# stale\n")
    keep = {".terraform.lock.hcl": "# lock\n", "NOTES.txt": "mine\n", ".hidden.tf": "# ignored by terraform\n"}
    for name, text in keep.items():
        (out / name).write_text(text)
    code, _, err = _run([*A, "--out", str(out)], capsys)
    assert code == 0, err
    want = render_module(build_profile("sbc", Overrides()), "aws").files
    got = _tree(out)
    assert got == {**want, **keep}
    assert not (out / "main.tf.json").is_symlink() and victim.read_text() == "keep me\n"


def test_a_failed_write_leaves_nothing_half_written(tmp_path, capsys, monkeypatch):
    """The files are written beside their final names and renamed only when all are written: a write
    that fails (here a temporary name taken by a directory; then a full disk) leaves the destination
    as it was, and a directory the command created is removed again."""
    out = tmp_path / "mod"
    out.mkdir()
    (out / "main.tf.json").write_text("{}")
    (out / ".outputs.tf.json.spirit-infra-tmp").mkdir()
    before = _tree(out)
    _refused([*A, "--out", str(out)], capsys, "--out", str(out))
    assert _tree(out) == before

    import errno
    import os as _os

    real_open, calls = _os.open, []

    def full_disk(path, flags, mode=0o777, **kw):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr("spirit_infra.terraform.module.os.open", full_disk)
    fresh = tmp_path / "new" / "mod"
    _refused([*A, "--out", str(fresh)], capsys, "--out", "No space left on device")
    assert len(calls) == 3 and not (tmp_path / "new").exists()


def test_the_python_api_refuses_in_one_line(tmp_path):
    from spirit_infra.errors import SpiritError
    from spirit_infra.terraform import write_module

    prof = build_profile("sbc", Overrides())
    assert render_module(prof, "gcp", "rules").files == render_module(prof, "gcp", ("rules",)).files
    for call, needle in [
        (lambda: render_module("sbc", "aws"), "expected a built Profile"),
        (lambda: render_module(prof, ["aws"]), "['aws'] is not one of aws, azure, gcp"),
        (lambda: render_module(prof, "aws", ("rules", 3)), "expected a comma-separated string"),
        (lambda: render_module(prof, "aws", ("rules", "rules")), "'rules' is given twice"),
        (lambda: write_module(render_module(prof, "aws"), None), "None is not a directory path"),
    ]:
        with pytest.raises(SpiritError) as e:
            call()
        assert needle in str(e.value) and "\n" not in str(e.value)


# ---- the hostile and malformed YAML corpora, through terraform render ----------------------------------

def test_hostile_yaml_in_every_file_flag_is_one_line(tmp_path, capsys):
    from tests.hostile import HAZARDS

    for name, text in HAZARDS.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        for flag in ("--catalogue", "--overrides", "--extra-flows"):
            _refused([*A, flag, str(path), "--out", str(tmp_path / "out")], capsys, str(path))
    assert not (tmp_path / "out").exists()


def test_every_malformed_file_is_refused_as_by_the_other_commands(tmp_path, capsys):
    """tests/malformed (each file's ``# expect:`` line), each through terraform render on one of the
    clouds in turn."""
    from tests.test_malformed import CASES, _header

    assert len(CASES) >= 25
    for i, path in enumerate(CASES):
        head = _header(path)
        flag = {"override": "--overrides", "extra": "--extra-flows"}.get(path.name.split("-")[0], "--catalogue")
        cloud = ("aws", "azure", "gcp")[i % 3]
        err = _refused(["--cloud", cloud, "--profile", head.get("profile", "phones"), flag, str(path),
                        "--out", str(tmp_path / "out")], capsys)
        expect = head["expect"]  # this file's line, or (an override's own catalogue) a file beside it
        want = f"error: {path}{expect}" if expect.startswith(":") else f"error: {path.parent / expect}"
        assert err.startswith(want), (path.name, err)
    assert not (tmp_path / "out").exists()


HOSTILE_FLOWS = """version: 1
source: '${file("/etc/passwd")}'
assumptions:
  - id: inj-a
    text: '%{ for x in ["a"] }${x}%{ endfor } ${file("/etc/hostname")}'
flows:
  - id: FLOWID
    application: '${file("/etc/passwd")} | %{ if true }x%{ endif }'
    protocols: [HTTPS]
    transports: [tcp]
    dscp: "0"
    client_ports: null
    dns: [{name: DNSNAME, type: A/CNAME}]
    server_cidrs: null
    server_ports: [[443, 443]]
    assumptions: [inj-a]
"""


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_template_text_in_a_flow_file_never_reaches_terraform(cloud, tmp_path, capsys):
    """A Terraform template (${...}, %{...}) in an extra-flow file's free text would be evaluated by
    Terraform (file() reads the machine's files) if it reached a .tf.json file: it reaches only the
    module's README, which nothing evaluates."""
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE_FLOWS.replace("FLOWID", "inj").replace("DNSNAME", "example.com"), encoding="utf-8")
    out = tmp_path / "mod"
    code, _, err = _run(["--cloud", cloud, "--profile", "phones", "--extra-flows", str(path), "--out", str(out)], capsys)
    assert code == 0, err
    assert "file(" in (out / "README.md").read_text(encoding="utf-8")  # the text did get that far
    for name in ("main.tf.json", "variables.tf.json", "outputs.tf.json", "versions.tf"):
        text = (out / name).read_text(encoding="utf-8")
        assert "file(" not in text and "%{" not in text, name


@pytest.mark.parametrize("flow_id,dns,field", [("spiritpfx-x", "example.com", "id"),
                                                ("inj", "spiritpfx.example.com", "dns")])
def test_a_flow_holding_the_reserved_prefix_is_refused(flow_id, dns, field, tmp_path, capsys):
    """The renders run with the name prefix 'spiritpfx', then replaced by ${var.name_prefix} everywhere: a
    flow id or name holding it would be rewritten (a flow's marks and names, a domain of the firewall)."""
    path = tmp_path / "x.yaml"
    path.write_text(HOSTILE_FLOWS.replace("FLOWID", flow_id).replace("DNSNAME", dns), encoding="utf-8")
    err = _refused([*A, "--extra-flows", str(path), "--out", str(tmp_path / "out")], capsys,
                   f"{path}:7: {field}: ", "'spiritpfx'", "rename it")
    assert not (tmp_path / "out").exists(), err
