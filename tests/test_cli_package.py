"""The command line is one package, ``spirit_infra/cli/``: nothing else in the library imports argparse or the
CLI, every subcommand the parser names is a module that exists, and tables come from rich."""

from __future__ import annotations

import importlib
import importlib.util
import io
import re
from pathlib import Path

import pytest
from imports import PACKAGE, imports

from spirit_infra.cli import app
from spirit_infra.cli.console import Progress
from spirit_infra.text import table, tree

#: standalone programs, not the library: cloud-init installs them verbatim on the QoS NAT instance
#: (/usr/local/sbin/spirit-nat-resolver, /usr/local/sbin/spirit-nat-agent), where they parse their own
#: flags with the standard library
#: and ``python -m spirit_infra``, which is the CLI's entry point and nothing else
STANDALONE = {PACKAGE / "nat" / "resolver.py", PACKAGE / "nat" / "agent.py", PACKAGE / "__main__.py"}


def _cli_imports(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    return sorted(m for m in imports(path, root) if m == "argparse" or m == "spirit_infra.cli"
                  or m.startswith("spirit_infra.cli."))


LIBRARY = sorted(p for p in PACKAGE.rglob("*.py") if PACKAGE / "cli" not in p.parents and p not in STANDALONE)


@pytest.mark.parametrize("path", LIBRARY, ids=[str(p.relative_to(PACKAGE)) for p in LIBRARY])
def test_library_modules_import_neither_argparse_nor_the_cli(path):
    assert _cli_imports(path) == [], f"{path.relative_to(PACKAGE)} imports {_cli_imports(path)}"


@pytest.mark.parametrize("src,found", [
    ("import argparse\n", ["argparse"]),
    ("from ..cli import ascii_int\n", ["spirit_infra.cli", "spirit_infra.cli.ascii_int"]),
    ("def f():\n    from ..cli.args import add_profile_args\n",
     ["spirit_infra.cli.args", "spirit_infra.cli.args.add_profile_args"]),
    ("from .. import cli\n", ["spirit_infra.cli"]),
    ("from spirit_infra.cli import main\n", ["spirit_infra.cli", "spirit_infra.cli.main"]),
    ("from ..errors import ConfigError\nfrom .rules import render\n", []),
])
def test_the_check_bites(tmp_path, src, found):
    """A cloud module that imports the CLI (relatively, inside a function, by its package) is caught."""
    mod = tmp_path / "spirit_infra" / "aws" / "bad.py"
    mod.parent.mkdir(parents=True)
    mod.write_text(src)
    assert _cli_imports(mod, tmp_path) == found


@pytest.mark.parametrize("command,module", sorted(app.COMMAND_MODULES.items()))
def test_every_subcommand_module_exists_in_the_cli_package(command, module):
    assert module.startswith("spirit_infra.cli."), module
    assert importlib.util.find_spec(module) is not None, f"{command}: {module} does not exist"
    assert callable(importlib.import_module(module).register)


def test_every_subcommand_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        app.main(["--help"])
    out = capsys.readouterr().out
    for command in (*app.CORE_COMMANDS, *app.COMMAND_MODULES):
        assert command in out, command


def test_table_aligns_columns_without_trailing_spaces():
    text = table(("name", "n"), [("a", 1), ("longer", 100)], right=("n",))
    assert text == "  name     n\n  a        1\n  longer 100\n", repr(text)
    wide = table(("x",), [("y" * 500,)])
    assert wide == f"  x\n  {'y' * 500}\n"  # never folded or cut at a terminal's width


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_one_plain_line_per_step():
    log = io.StringIO()
    with Progress(2, "preview", stream=log) as p:
        p.step(0, "a")
        p.step(1, "b")
        p.step(2, "done")
    assert log.getvalue() == "preview 0/2 a\npreview 1/2 b\npreview 2/2 done\n"


@pytest.mark.parametrize("transient", [False, True])
def test_progress_on_a_terminal_is_a_rich_bar_redrawn_in_place(transient):
    term = _Terminal()
    with Progress(2, "probing", stream=term, transient=transient) as p:
        p.step(1, "phone-sip")
        p.step(2, "phone-ntp")
    out = term.getvalue()
    assert out.startswith("\x1b[?25l") and "\x1b[?25h" in out  # cursor hidden while it runs, shown after
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    frames = [f for f in plain.rstrip("\n").split("\r") if f.strip()]
    assert re.fullmatch(r"probing [━╸╺]{30} 1/2 phone-sip", frames[0]), frames
    assert re.fullmatch(r"probing [━╸╺]{30} 2/2 phone-ntp", frames[1]), frames
    if transient:  # the bar's line is erased (cursor up, erase line): the probe's table follows
        assert out.endswith("\x1b[1A\x1b[2K"), repr(out)
    else:  # the last frame stays, ending its line
        assert out.endswith("phone-ntp\n\x1b[?25h"), repr(out)


def test_tree_draws_rich_guides_without_trailing_spaces():
    text = tree("Resources (3):", [("a  one", [("b  two", []), ("c  three" + "x" * 300, [])]), ("d  four", [])])
    assert text == ("Resources (3):\n├── a  one\n│   ├── b  two\n│   └── c  three" + "x" * 300 + "\n└── d  four\n")
    assert tree("Resources (0):", []) == "Resources (0):\n"
