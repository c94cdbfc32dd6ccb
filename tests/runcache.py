"""Values computed once per test run, shared by the run's pytest-xdist workers (`make test` runs two).

``once(key, compute)`` returns ``compute()``. Under xdist the first worker to ask for ``key`` computes it and
pickles it into the run's own temporary directory (``share()``, called by tests/conftest.py on each worker);
a worker asking while another computes waits on the key's file lock instead of computing it again, then
loads the pickle. Outside xdist (a plain ``pytest``) nothing is written: it just computes. Callers keep
their own in-memory cache (``functools.cache``), so a worker loads a value at most once.

Only deterministic values belong here (a preview, a matrix case): what a worker loads must be what it
would have computed. The directory is new for every run (pytest's numbered basetemp), so nothing carries
over from one run to the next. An exception is not stored: the next worker computes (and fails) again.
"""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_DIR: Path | None = None


def share(directory: Path | None) -> None:
    """Share values through ``directory`` (None: compute in this process only)."""
    global _DIR
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    _DIR = directory


def once(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, computed by one worker of the run and loaded by the others (``key``: a file name)."""
    if _DIR is None:
        return compute()
    path = _DIR / f"{key}.pickle"
    with open(_DIR / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = compute()
        part = path.with_name(path.name + ".part")
        part.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        part.replace(path)
        return value
