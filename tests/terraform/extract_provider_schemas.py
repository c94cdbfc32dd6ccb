"""How tests/data/terraform_provider_schemas.json was made (run once by hand; the tests never run it).

The providers' own schemas (``terraform providers schema -json``, one resource per file) as published
by the lonegunmanb/terraform-<provider>-schema repositories (generated/resource/<camelName>.go, a Go
string constant holding the JSON; a commit per provider release, "update schema to version X"): for
each provider, the release at the lower bound of the module's pinned range (or the first one those
repositories hold) and the newest one they hold. Descriptions are dropped; types, required / optional /
computed / deprecated flags, nested blocks with their nesting mode and item bounds are kept.

    python tests/terraform/extract_provider_schemas.py > tests/data/terraform_provider_schemas.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

MIRROR = "/work/.mirror/lonegunmanb+terraform-{}-schema/repo"
#: provider -> (release, commit) of each version kept
VERSIONS = {
    "aws": [("5.40.0", "7c54d765259b24e1b1d8fa2212d508cc8617f3a7"), ("6.47.0", "6812d62211f5dc84e446faf0ffc86523c0c209bb")],
    "azurerm": [("4.0.1", "0a9724b02e8dee75d33c0d6367017ae5b7614745"),
                ("4.79.0", "195b01c1a5db0a8280fcd7770835c50509fcb536")],
    "google": [("5.26.0", "f129de358af548d08f9be30be97df51f580ea429"),
               ("6.50.0", "6f7355e34c02f684d34ea16c2158cd34ddbcad6a")],
}
KEEP = ("type", "required", "optional", "computed", "deprecated", "sensitive")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def trim(block: dict) -> dict:
    out: dict = {}
    attrs = {k: {f: v[f] for f in KEEP if f in v} for k, v in sorted(block.get("attributes", {}).items())}
    if attrs:
        out["attributes"] = attrs
    blocks = {}
    for k, v in sorted(block.get("block_types", {}).items()):
        blocks[k] = {"nesting_mode": v["nesting_mode"], "block": trim(v["block"]),
                     **{f: v[f] for f in ("min_items", "max_items") if f in v}}
    if blocks:
        out["block_types"] = blocks
    return out


def load(provider: str, commit: str, kind: str, name: str) -> dict:
    path = f"generated/{kind}/{camel(name)}.go"
    text = subprocess.run(["git", "--git-dir", MIRROR.format(provider), "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout
    m = re.search(r"= `(\{.*\})`\n", text, re.S)
    raw = m.group(1).replace('` + "`" + `', "`")  # a backquote inside a Go raw string
    return trim(json.loads(raw)["block"])


def main(types: dict[str, list[str]]) -> None:
    out = {"_about": __doc__.split("\n\n")[1].replace("\n", " "), "providers": {}}
    for provider, versions in VERSIONS.items():
        names = sorted(t for t in types["resource"] if t.startswith(provider + "_"))
        data_names = sorted(t for t in types["data"] if t.startswith(provider + "_"))
        out["providers"][provider] = [{
            "version": version,
            "source": {"repository": f"lonegunmanb/terraform-{provider}-schema", "commit": commit,
                       "path": "generated/{resource,data}/<camelCase type>.go"},
            "resources": {n: load(provider, commit, "resource", n) for n in names},
            "data": {n: load(provider, commit, "data", n) for n in data_names},
        } for version, commit in versions]
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.path.insert(0, ".")
    from spirit_infra.terraform.regenerate import expected_files

    used: dict[str, set] = {"resource": set(), "data": set()}
    for rel, text in expected_files().items():
        if rel.endswith("main.tf.json"):
            doc = json.loads(text)
            for kind in used:
                used[kind] |= set(doc.get(kind, {}))
    used["data"] |= {"aws_ec2_managed_prefix_list"}
    main({k: sorted(v) for k, v in used.items()})
