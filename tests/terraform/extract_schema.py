"""How tests/data/terraform_provider_schema.json was made (run once by hand; the tests never run it).

The resource types and argument names come from the providers' published documentation
(``website/docs/r/<name>.html.markdown`` in hashicorp/terraform-provider-azurerm and
hashicorp/terraform-provider-google at the commits recorded in the file): the bullets ``* `name` -``
before the first nested-block section are the resource's arguments; those after ``A/The `block` block
supports`` belong to that block. The hashicorp/aws entries were taken by hand from the same kind of
pages of hashicorp/terraform-provider-aws (its repository is too large to fetch here); each entry
records its page and commit.

    python tests/terraform/extract_schema.py <repo git dir> <provider> <commit> <resource> ... >> fragment.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

BULLET = re.compile(r"^\s*\* `([a-z0-9_]+)` -")
SECTION = re.compile(r"(?:^|>)\s*(?:An?|The) `([a-z0-9_]+)` (?:\([^)]*\) )?(?:configuration )?block", re.I)
END = re.compile(r"^## (Attributes Reference|Attribute Reference|Timeouts|Import)")


def parse(text: str) -> dict:
    args: list[str] = []
    blocks: dict[str, list[str]] = {}
    current = None
    started = False
    for line in text.splitlines():
        if line.startswith("## Argument") or line.startswith("## Arguments"):
            started = True
            continue
        if not started:
            continue
        if END.match(line):
            break
        m = SECTION.search(line)
        if m and not BULLET.match(line):
            current = m.group(1)
            blocks.setdefault(current, [])
            continue
        b = BULLET.match(line)
        if b:
            (blocks[current] if current else args).append(b.group(1))
    return {"arguments": sorted(set(args)), "blocks": {k: sorted(set(v)) for k, v in sorted(blocks.items())}}


def main(argv: list[str]) -> None:
    git_dir, provider, commit, *names = argv
    out = {}
    for name in names:
        path = f"website/docs/r/{name}.html.markdown"
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{path}"], check=True,
                              capture_output=True, text=True).stdout
        entry = parse(text)
        entry["source"] = {"repository": f"hashicorp/terraform-provider-{provider}", "path": path, "commit": commit}
        out[f"{'google' if provider == 'google' else provider}_{name}"] = entry
    json.dump(out, sys.stdout, indent=2, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
