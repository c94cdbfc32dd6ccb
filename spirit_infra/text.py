"""Plain-text tables and trees for every text report (the CLI's renders, the offline preview), drawn by ``rich``.

The text must be the same on a terminal, in a pipe and in a CI log (tests compare it), so it is rendered
without colour, borders or wrapping, at a width that never folds a line, with no trailing spaces.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

__all__ = ["table", "tree", "Node"]

#: a tree node: its label and its children
Node = tuple[str, Sequence["Node"]]

#: wide enough that no row of ours is folded or cut (rich shrinks columns to the console width)
_WIDTH = 10_000


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, indent: str = "  ",
          right: Sequence[str] = (), header: bool = True) -> str:
    """``rows`` under ``columns`` as aligned plain text, each line starting with ``indent``.

    Columns named in ``right`` are right-aligned (numbers); cells are ``str()`` of the values.
    """
    from rich.table import Table

    t = Table(box=None, show_header=header, header_style=None, show_edge=False, pad_edge=False,
              padding=(0, 1, 0, 0))
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=True)
    for row in rows:
        t.add_row(*(str(v) for v in row))
    return "".join(f"{indent}{line}\n" for line in _plain(t))


def _plain(renderable) -> list[str]:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=_WIDTH, color_system=None, force_terminal=False, highlight=False,
            emoji=False, markup=False).print(renderable)
    return [line.rstrip() for line in buf.getvalue().splitlines()]


def tree(label: str, nodes: Sequence[Node]) -> str:
    """``label``, then ``nodes`` under it with rich's guides (``├── ``, ``└── ``, ``│   ``), one per line."""
    from rich.text import Text
    from rich.tree import Tree

    def add(parent, children: Sequence[Node]) -> None:
        for text, kids in children:
            add(parent.add(Text(text)), kids)

    root = Tree(Text(label))
    add(root, nodes)
    return "".join(f"{line}\n" for line in _plain(root))
