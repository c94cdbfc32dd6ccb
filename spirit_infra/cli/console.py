"""Tables and progress for the CLI, drawn by ``rich``.

Output must stay the same on a terminal, in a pipe and in a CI log (tests compare it), so tables are
rendered without colour, borders or wrapping, at a width that never folds a row, with no trailing
spaces. Progress is a rich bar redrawn in place on a terminal; anywhere else one plain line per step.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence

__all__ = ["table", "Progress"]

#: wide enough that no row of ours is folded or cut (rich shrinks columns to the console width)
_WIDTH = 10_000


def table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, indent: str = "  ",
          right: Sequence[str] = (), header: bool = True) -> str:
    """``rows`` under ``columns`` as aligned plain text, each line starting with ``indent``.

    Columns named in ``right`` are right-aligned (numbers); cells are ``str()`` of the values.
    """
    from rich.console import Console
    from rich.table import Table

    t = Table(box=None, show_header=header, header_style=None, show_edge=False, pad_edge=False,
              padding=(0, 1, 0, 0))
    for c in columns:
        t.add_column(c, justify="right" if c in right else "left", no_wrap=True)
    for row in rows:
        t.add_row(*(str(v) for v in row))
    buf = io.StringIO()
    Console(file=buf, width=_WIDTH, color_system=None, force_terminal=False, highlight=False,
            emoji=False, markup=False).print(t)
    return "".join(f"{indent}{line.rstrip()}\n" for line in buf.getvalue().splitlines())


class Progress:
    """``with Progress(n, "preview") as p: p.step(i, name)``; ``p.step(n, "done")`` at the end.

    On a terminal (``stream.isatty()``) a rich progress bar with the step's name, redrawn in place once
    per step; otherwise (a pipe, a CI log) one plain line ``<label> i/n name`` per step, with no carriage
    returns. ``transient`` clears the bar when it stops (the probe's table follows it on the terminal).
    """

    def __init__(self, total: int, label: str, stream=None, transient: bool = False):
        self.total, self.label, self.transient = total, label, transient
        self.stream = sys.stderr if stream is None else stream
        self._bar = None

    def __enter__(self) -> Progress:
        return self

    def step(self, done: int, name: str) -> None:
        if not self.stream.isatty():
            self.stream.write(f"{self.label} {done}/{self.total} {name}\n")
            return
        if self._bar is None:  # started on the first step, so the first frame already names it
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as _Bar

            self._bar = _Bar(TextColumn(self.label), BarColumn(bar_width=30), MofNCompleteColumn(),
                             TextColumn("{task.description}"), console=Console(file=self.stream, highlight=False),
                             auto_refresh=False, transient=self.transient)
            self._task = self._bar.add_task(name, total=self.total or 1, completed=done)
            self._bar.start()
            return
        self._bar.update(self._task, completed=done, description=name)
        self._bar.refresh()

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
