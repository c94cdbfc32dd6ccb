"""Per-cloud extras: ``spirit-infra[aws]`` installs only the AWS SDK, and a cloud used without its extra is one
line naming the extra (``MissingExtraError``; exit 2 on the CLI).

The wheel test builds the real wheel, installs it with ``[aws]`` only into a clean venv (pip, offline,
against the machine's configured package indexes), previews an AWS stack there (the same resources as
here) and shows that Azure and GCP, whose SDKs that venv lacks, refuse in one line.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from spirit_infra import extras
from spirit_infra.errors import MissingExtraError, SpiritError

from . import ROOT, preview

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MESSAGE = "{cloud}: the {cloud} SDK ({module}) is not installed: pip install 'spirit-infra[{cloud}]'"


def test_each_cloud_sdk_is_an_extra_and_no_core_dependency():
    deps = PYPROJECT["project"]["dependencies"]
    extra = PYPROJECT["project"]["optional-dependencies"]
    sdks = {"aws": "pulumi-aws", "azure": "pulumi-azure-native", "gcp": "pulumi-gcp"}
    assert not [d for d in deps if d.startswith(tuple(sdks.values()))], deps
    for cloud, dist in sdks.items():
        assert [d.split(">")[0] for d in extra[cloud]] == [dist], extra[cloud]
        assert extras.SDKS[cloud] == dist.replace("-", "_")
    assert extra["all"] == ["spirit-infra[aws,azure,gcp]"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^PIP_INSTALL := -m pip install --quiet", makefile, re.M), "make setup's pip command"
    assert "$(PIP_INSTALL) -e '.[all]'" in makefile and "$(PIP_INSTALL) -e '.[all,test]'" in makefile


@pytest.mark.parametrize("cloud", sorted(extras.SDKS))
def test_a_missing_sdk_is_one_line_naming_the_extra(cloud, monkeypatch):
    module = extras.SDKS[cloud]
    monkeypatch.setitem(sys.modules, module, None)  # what an environment without the extra looks like to import
    with pytest.raises(MissingExtraError) as e:
        extras.sdk(cloud)
    assert str(e.value) == MESSAGE.format(cloud=cloud, module=module)
    assert isinstance(e.value, SpiritError) and isinstance(e.value, ModuleNotFoundError)
    assert e.value.name == module and "\n" not in str(e.value)


def test_an_installed_sdk_is_the_module():
    assert extras.sdk("aws") is importlib.import_module("pulumi_aws")
    assert extras.installed("gcp")


def test_a_dependency_missing_inside_an_sdk_is_not_renamed(monkeypatch):
    """Only the SDK's own absence is the extra's: an SDK that is there but broken keeps its own error."""
    def broken(name, *a, **k):
        raise ModuleNotFoundError("No module named 'parver'", name="parver")

    monkeypatch.setattr(extras.importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError) as e:
        extras.sdk("gcp")
    assert not isinstance(e.value, MissingExtraError) and e.value.name == "parver"


# --- the real wheel, installed with [aws] only ----------------------------------------------------------

def _run(*argv, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def aws_only(tmp_path_factory):
    """A clean venv with the built wheel installed as ``spirit-infra[aws]``, and a copy of the project
    (Pulumi.yaml, the program, stacks, presets) without the library, so only the installed one is found."""
    tmp = tmp_path_factory.mktemp("extras")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "spirit_infra", src / "spirit_infra", ignore=shutil.ignore_patterns("__pycache__"))
    # the test venv's pip builds the wheel ("./src": a bare name would be looked up on the index)
    r = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"), "./src", cwd=tmp)
    assert r.returncode == 0, r.stderr
    (wheel,) = (tmp / "dist").glob("spirit_infra-*.whl")
    r = _run(sys.executable, "-m", "venv", str(tmp / "venv"), cwd=tmp)
    assert r.returncode == 0, r.stderr
    venv = tmp / "venv" / "bin"
    # --no-compile: byte-compiling all of pulumi_aws would take most of the install; imports compile what they use
    r = _run(str(venv / "python"), "-m", "pip", "install", "--quiet", "--no-compile", f"{wheel}[aws]", cwd=tmp)
    assert r.returncode == 0, r.stderr
    project = tmp / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    for name in ("stacks", "presets"):
        shutil.copytree(ROOT / name, project / name)
    return venv, project


def test_the_aws_extra_installs_only_the_aws_sdk(aws_only):
    venv, project = aws_only
    r = _run(str(venv / "python"), "-m", "pip", "list", "--format=json", cwd=project)
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(r.stdout)}
    assert {"spirit-infra", "pulumi", "pulumi-aws", "rich"} <= installed, installed
    assert not installed & {"pulumi-azure-native", "pulumi-gcp"}, installed
    r = _run(str(venv / "python"), "-c", "import spirit_infra; print(spirit_infra.__file__)", cwd=project)
    assert r.returncode == 0 and str(venv.parent) in r.stdout, (r.stdout, r.stderr)  # the wheel, not this checkout


def test_an_aws_stack_previews_in_the_aws_only_venv(aws_only):
    venv, project = aws_only
    r = _run(str(venv / "spirit-infra"), "preview", "--stack", "aws-sbc", "--json", "--project", str(project),
             cwd=project)
    assert r.returncode == 0, r.stderr
    there = json.loads(r.stdout)
    assert there["exact"] is True
    here = preview("aws-sbc")
    assert json.dumps(there["resources"], sort_keys=True) == json.dumps(here.resources, sort_keys=True)
    r = _run(str(venv / "spirit-infra"), "aws", "render", "--profile", "sbc", "--json", cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout)["profile"] == "sbc", r.stderr


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_another_cloud_there_is_one_line_naming_its_extra(aws_only, cloud):
    venv, project = aws_only
    line = MESSAGE.format(cloud=cloud, module=extras.SDKS[cloud])
    r = _run(str(venv / "spirit-infra"), "preview", "--stack", f"{cloud}-sbc", "--project", str(project), cwd=project)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"error: {line}\n")
    # the Python API: using the cloud's SDK-facing modules raises the same one line, as a SpiritError (GCP's
    # components load the SDK on import; Azure's class table loads it on the first class looked up)
    use = {"azure": "from spirit_infra.azure.components import CLASSES\n    CLASSES['azure-native:network:Subnet']",
           "gcp": "import spirit_infra.gcp.components"}[cloud]
    code = (f"from spirit_infra.errors import MissingExtraError\ntry:\n    {use}\n"
            "except MissingExtraError as e:\n    print(e)\nelse:\n    raise SystemExit('imported')")
    r = _run(str(venv / "python"), "-c", code, cwd=project)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"{line}\n", ""), r
    # the cloud's pure render needs no SDK
    r = _run(str(venv / "spirit-infra"), cloud, "render", "--profile", "sbc", "--json", cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout), r.stderr


def test_the_cli_here_names_the_extra_too():
    """In this venv (every extra installed), a fresh interpreter that cannot import pulumi_gcp: exit 2, one line."""
    code = ("import sys\nsys.modules['pulumi_gcp'] = None\nfrom spirit_infra.cli import main\n"
            "sys.exit(main(['preview', '--stack', 'gcp-sbc']))")
    r = _run(sys.executable, "-c", code, cwd=ROOT, timeout=300)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"error: {MESSAGE.format(cloud='gcp', module='pulumi_gcp')}\n")
