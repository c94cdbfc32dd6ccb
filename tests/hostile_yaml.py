"""Hostile YAML documents shared by the tests and bench/hostile_yaml (the same inputs refused and measured)."""

from __future__ import annotations


def bomb(levels: int = 9, width: int = 9) -> str:
    """The 'billion laughs' document: ``width ** levels`` strings after expansion, a few hundred bytes."""
    names = "abcdefghijklmnopqrstuvwxyz"
    lines = [f"{names[0]}: &{names[0]} [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ",".join([f"*{names[i - 1]}"] * width) + "]")
    return "\n".join(lines) + "\n"


HAZARDS = {
    "alias-bomb": bomb(),
    "recursive-alias": "a: &a [*a]\n",
    "recursive-alias-mapping": "a: &a {b: *a}\n",
    "nested-flow-lists": "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "nested-block-lists": "a:\n" + "".join(" " * i + "-\n" for i in range(1, 2000)),
    "nested-mappings": "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n",
}
