"""Hostile YAML is refused before anything is built: depth, alias expansion and size are bounded on the
parser's event stream, so a bomb costs what its bytes cost, not what it expands to.

The bounds are tested with resource limits, not stopwatches: the refusal must happen inside a process
whose address space is capped at 100 MB above what the interpreter already uses and whose CPU time is
capped, and the same process with the bound lifted must die of that limit (the test bites).
Figures (time, peak memory) come from ``bench/hostile_yaml``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hostile import HAZARDS, bomb

from spirit_infra import yamlsrc
from spirit_infra.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def test_the_bomb_is_small():
    assert len(bomb().encode()) < 400  # the bomb is 393 bytes


@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_hazard_is_one_input_error(name):
    with pytest.raises(InputError) as e:
        yamlsrc.load_yaml(f"{name}.yaml", text=HAZARDS[name])
    line = str(e.value)
    assert "\n" not in line and line.startswith(f"{name}.yaml:"), line
    assert ("nested deeper than" in line or "alias" in line), line


def _expanded(node) -> int:
    """Brute force: the number of nodes a constructor builds (aliases expanded), from the composed graph."""
    if isinstance(node, yaml.MappingNode):
        return 1 + sum(_expanded(k) + _expanded(v) for k, v in node.value)
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(_expanded(v) for v in node.value)
    return 1


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: [*x, *x]\n",
    "a: &s 1\nb: [*s, *s, {c: *s}]\n",
    bomb(3, 4),
    "x: &m {k: [1, 2, {z: 3}]}\ny: [*m, *m]\nz: {w: *m}\n",
])
def test_the_count_is_exact(monkeypatch, text):
    """The bound counts exactly the nodes a constructor would build: at the count it passes, one below it fails."""
    n = _expanded(yaml.compose(text, Loader=yaml.SafeLoader))
    monkeypatch.setattr(yamlsrc, "MAX_NODES", n)
    yamlsrc.load_yaml("ok.yaml", text=text)
    monkeypatch.setattr(yamlsrc, "MAX_NODES", n - 1)
    with pytest.raises(InputError, match="more than"):
        yamlsrc.load_yaml("bomb.yaml", text=text)


def test_depth_bound_is_exact(monkeypatch):
    depth = yamlsrc.MAX_DEPTH
    ok = "[" * depth + "]" * depth
    yamlsrc.load_yaml("ok.yaml", text=ok)
    with pytest.raises(InputError, match=f"nested deeper than {depth} levels"):
        yamlsrc.load_yaml("deep.yaml", text="[" + ok + "]")


def test_the_real_files_fit_the_bounds():
    """The shipped catalogue and every example stack stay far inside the bounds."""
    for path in [ROOT / "spirit_infra/catalogue/spirit.yaml", ROOT / "Pulumi.yaml",
                 *sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))]:
        yamlsrc.load_yaml(path)


_LIMITED = textwrap.dedent("""
    import resource, sys
    from spirit_infra import yamlsrc
    from spirit_infra.errors import InputError
    if sys.argv[2] == "unbounded":
        yamlsrc.MAX_NODES = 10 ** 12
    text = open(sys.argv[1]).read()
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vm + 100 * 2 ** 20, vm + 100 * 2 ** 20))
    resource.setrlimit(resource.RLIMIT_CPU, (10, 10))
    try:
        yamlsrc.load_yaml(sys.argv[1], text=text)
    except InputError as e:
        print("refused:", e)
        sys.exit(0)
    except MemoryError:
        print("MemoryError")
        sys.exit(3)
    print("accepted")
    sys.exit(4)
""")


def _limited(path: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _LIMITED, str(path), mode], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("name", ["alias-bomb", "recursive-alias", "nested-flow-lists"])
def test_refused_within_100_mb_and_10_cpu_seconds(name, tmp_path):
    path = tmp_path / f"{name}.yaml"
    path.write_text(HAZARDS[name])
    r = _limited(path, "bounded")
    assert r.returncode == 0 and r.stdout.startswith("refused: "), (r.returncode, r.stdout, r.stderr[-2000:])


def test_without_the_bound_the_bomb_exhausts_the_limits(tmp_path):
    """The limits are tight enough to matter: lift the node bound and the same bomb dies of them."""
    path = tmp_path / "bomb.yaml"
    path.write_text(HAZARDS["alias-bomb"])
    r = _limited(path, "unbounded")
    assert r.returncode != 0 and not r.stdout.startswith("refused"), (r.returncode, r.stdout, r.stderr[-2000:])


def test_control_character_is_one_line_with_its_line():
    with pytest.raises(InputError) as e:
        yamlsrc.load_yaml("c.yaml", text="a: 1\nb: \"\x01\"\n")
    assert str(e.value) == ("c.yaml:2: (syntax): YAML syntax error: unacceptable character #x0001: "
                            "special characters are not allowed")
