"""Type checks of values from files and Args, shared by every validation (pure).

Python's ``bool`` is an ``int`` (``isinstance(True, int)``), but ``true`` is never a port, a priority or
a count: every integer setting is checked with :func:`is_int`, never with ``isinstance(v, int)``.
"""

from __future__ import annotations

__all__ = ["is_int", "is_number"]


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
