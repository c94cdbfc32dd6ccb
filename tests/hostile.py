"""The hostile inputs shared by the tests and bench/hostile_yaml (the same inputs refused and measured)."""

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


# (id, extra_spirit_cidrs, fragment of the message every entry point gives)
BAD_CIDRS = [
    ("everything", ["0.0.0.0/0"], "'0.0.0.0/0' is not a Spirit range (it is everything)"),
    ("everything-in-halves", ["0.0.0.0/1", "128.0.0.0/1"], "together these cover every address (0.0.0.0/0)"),
    ("everything-in-quarters", ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
     "together these cover every address (0.0.0.0/0)"),
    ("host-bits", ["10.0.0.1/8"], "'10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)"),
    ("prefix-33", ["10.0.0.0/33"], "'10.0.0.0/33' is not a valid CIDR"),
    ("garbage", ["garbage"], "'garbage' is not a valid CIDR"),
    ("partial", ["10.1/16"], "'10.1/16' is not a valid CIDR"),
    ("leading-zero", ["010.0.0.0/8"], "'010.0.0.0/8' is not a valid CIDR"),
    ("bare-number", ["5"], "'5' is not a valid CIDR"),
    ("padded", ["10.0.0.0/8 "], "'10.0.0.0/8 ' is not a valid CIDR"),
    ("ipv6-everything", ["::/0"], "'::/0' is not a Spirit range (it is everything)"),
    ("ipv6", ["2001:db8::/32"], "'2001:db8::/32' is IPv6, but the catalogue is IPv4 only"),
    ("empty-string", [""], "must not be empty"),
    ("integer", [5], "expected string, got an integer (5)"),
    ("boolean", [True], "expected string, got a boolean (True)"),
    ("null", [None], "expected string, got null (None)"),
    ("nested-list", [["10.0.0.0/8"]], "expected string, got a list"),
]
