"""Progress for the CLI, drawn by ``rich``: a bar redrawn in place on a terminal; anywhere else (a pipe, a CI
log) one plain line per step. Tables and trees are :mod:`spirit_infra.text`'s."""

from __future__ import annotations

import sys

__all__ = ["Progress"]

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
