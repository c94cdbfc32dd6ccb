#!/usr/bin/env python3
"""Keep README.md's generated sections (catalogue tables, mermaid diagram) equal to what the CLI prints.

A repository script, not part of the library: ``python scripts/readme.py [README.md]`` rewrites them;
``tests/program/test_readme.py`` fails when they drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["generated_sections", "render", "main"]

_MARK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
                   re.S)


def generated_sections() -> dict[str, str]:
    from spirit_infra.catalogue import load_catalogue
    from spirit_infra.catalogue.formats import to_markdown, to_mermaid
    from spirit_infra.profiles import PROFILES, build_profile

    cat = load_catalogue()
    return {
        "catalogue": to_markdown(cat),
        "mermaid": to_mermaid([build_profile(p, catalogue=cat) for p in PROFILES]),
    }


def render(text: str) -> str:
    sections = generated_sections()

    def sub(m: re.Match) -> str:
        return m.group(1) + sections[m.group("name")] + m.group(4)

    return _MARK.sub(sub, text)


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0] if argv else "README.md")
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
