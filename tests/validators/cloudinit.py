"""Find every cloud-init document in what a case registered, and the files it writes.

Generic on purpose: :func:`documents` walks every string input of every registration and keeps those
that are a ``#cloud-config`` document, as given or base64 (optionally gzipped) as EC2 user data and
Azure customData carry it; :func:`written_files` decodes each ``write_files`` entry (plain, ``b64``,
``gz+b64``). Nothing here knows which resource or which file a cloud uses.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import json
import re
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

HEADER = "#cloud-config"


@dataclass(frozen=True)
class Document:
    where: str  # "<registration name>.<input path>"
    text: str


@dataclass(frozen=True)
class WrittenFile:
    path: str
    content: str
    permissions: str


def _decode(value: str, header: str | tuple[str, ...] = HEADER) -> str | None:
    if value.startswith(header):
        return value
    if len(value) < 16 or any(c.isspace() for c in value.strip()):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.startswith(header) else None


def _strings(value, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def documents(case) -> list[Document]:
    out = []
    for r in case.registrations:
        for path, s in _strings(r.inputs, ""):
            text = _decode(s)
            if text is not None:
                out.append(Document(f"{r.name}.{path}", text))
    return out


#: how an nftables ruleset starts (a script for ``nft -f``, or a bare ruleset)
NFT_STARTS = ("#!/usr/sbin/nft", "#!/sbin/nft", "#!/usr/bin/nft", "flush ruleset", "table ")


def _payload_ruleset(value: str) -> str | None:
    """The ``ruleset`` of a live payload (a JSON document, as given, base64, or ``gz:`` + base64 gzip, as the
    QoS NAT's channels carry it: an SSM parameter, a metadata key, a VM's userData), else ``None``."""
    for _ in range(2):  # Azure's userData is base64 of the payload
        text = value.strip()
        if text.startswith("gz:"):
            try:
                text = gzip.decompress(base64.b64decode(text[3:], validate=True)).decode("utf-8")
            except (binascii.Error, ValueError, OSError, EOFError, zlib.error, UnicodeDecodeError):
                return None
        if text.startswith("{"):
            try:
                doc = json.loads(text)
            except ValueError:
                return None
            rs = doc.get("ruleset") if isinstance(doc, dict) else None
            return rs if isinstance(rs, str) else None
        if len(text) < 16 or any(c.isspace() for c in text):
            return None
        try:
            value = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
    return None


def rulesets(case) -> list[WrittenFile]:
    """Every nftables ruleset a case registers, wherever it travels: written by a cloud-init document, or
    as any other input string (plain, base64, gzip+base64), or inside a live payload (JSON with a
    ``ruleset``, plain, base64 or ``gz:``), as a channel that delivers it live carries it."""
    out = [f for d in documents(case) for f in written_files(d) if kind(f) == "nft"]
    for r in case.registrations:
        for path, s in _strings(r.inputs, ""):
            text = _decode(s, NFT_STARTS)
            if text is None:
                text = _payload_ruleset(s)
            if text is not None:
                out.append(WrittenFile(f"{r.name}.{path}", text, "0644"))
    return out


def _content(entry: dict) -> str:
    content = entry.get("content", "")
    enc = str(entry.get("encoding", "text/plain")).lower()
    data = content.encode() if isinstance(content, str) else bytes(content)
    if enc in ("b64", "base64"):
        data = base64.b64decode(data)
    elif enc in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        data = gzip.decompress(base64.b64decode(data))
    elif enc in ("gz", "gzip"):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def written_files(doc: Document) -> list[WrittenFile]:
    data = yaml.safe_load(doc.text) or {}
    return [WrittenFile(str(e["path"]), _content(e), str(e.get("permissions", "0644")))
            for e in data.get("write_files") or []]


# ---- validators ----------------------------------------------------------------------------------

def _tool(name: str, *fallbacks: str) -> str:
    for cand in (name, *fallbacks):
        found = shutil.which(cand) or (cand if cand.startswith("/") and Path(cand).is_file() else None)
        if found:
            return found
    raise AssertionError(f"{name} is not installed: `make debs` installs it")


def _run(argv: list[str], **kw) -> tuple[int, list[str]]:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    return r.returncode, [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]


@functools.cache
def versions() -> dict[str, str]:
    """Versions of the external validators used here (for the report)."""
    out = {}
    for name, argv in (("cloud-init", [_tool("cloud-init"), "--version"]),
                       ("systemd", [_tool("systemd-analyze"), "--version"]),
                       ("nft", [_tool("nft", "/usr/sbin/nft"), "--version"]),
                       ("bash", [_tool("bash"), "--version"]),
                       ("python3", [SYSTEM_PYTHON, "--version"])):
        out[name] = _run(argv)[1][0]
    return out


#: Debian 12's interpreter (3.11, the AWS and Azure default image's; GCP defaults to Ubuntu 24.04's 3.12), not the venv's
SYSTEM_PYTHON = "/usr/bin/python3"
UNIT_SUFFIXES = (".service", ".timer", ".socket", ".path", ".target", ".mount")
UNIT_DIRS = ("/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/")


@functools.cache
def schema(text: str) -> tuple[str, ...]:
    """``cloud-init schema -c`` on one document: its findings (empty: valid)."""
    with tempfile.TemporaryDirectory(prefix="spirit-cloudinit-") as d:
        f = Path(d) / "user-data.yaml"
        f.write_text(text, encoding="utf-8")
        rc, lines = _run([_tool("cloud-init"), "schema", "--config-file", str(f)])
    ok = rc == 0 and lines == [f"Valid cloud-config: {f}"]
    return () if ok else tuple(lines) + ((f"cloud-init schema exited {rc}",) if rc else ())


def kind(f: WrittenFile) -> str:
    """What a written file is, from its path and first line (``"unknown"`` is itself a finding)."""
    first = f.content.split("\n", 1)[0]
    p = f.path
    if p.startswith(UNIT_DIRS):
        rest = p.split("/systemd/system/", 1)[1]
        if rest.endswith(UNIT_SUFFIXES) and "/" not in rest:
            return "systemd-unit"
        if re.fullmatch(r"[^/]+\.(" + "|".join(s[1:] for s in UNIT_SUFFIXES) + r")\.d/[^/]+\.conf", rest):
            return "systemd-dropin"
    if first.startswith("#!"):
        if "nft" in first:
            return "nft"
        if "python" in first:
            return "python"
        if re.search(r"\b(ba|da)?sh\b", first):
            return "shell"
    if p.endswith(".py"):
        return "python"
    if p.endswith((".sh", ".bash")):
        return "shell"
    if p.endswith(".nft") or p == "/etc/nftables.conf":
        return "nft"
    if p.endswith(".json"):
        return "json"
    if p.startswith("/etc/sysctl.d/") and p.endswith(".conf"):
        return "sysctl"
    if p.startswith("/etc/modules-load.d/") and p.endswith(".conf"):
        return "modules-load"
    if p.startswith("/etc/modprobe.d/") and p.endswith(".conf"):
        return "modprobe"
    return "unknown"


def _tmpfile(d: str, f: WrittenFile) -> Path:
    out = Path(d) / Path(f.path).name
    out.write_text(f.content, encoding="utf-8")
    return out


@functools.cache
def check_file(f: WrittenFile) -> tuple[str, ...]:
    """Findings for one written file (not units: :func:`check_units` verifies those together)."""
    k = kind(f)
    with tempfile.TemporaryDirectory(prefix="spirit-written-") as d:
        if k == "shell":
            rc, lines = _run([_tool("bash"), "-n", str(_tmpfile(d, f))])
        elif k == "python":
            src = _tmpfile(d, f)
            # -W error: a warning (an invalid escape: SyntaxWarning on Ubuntu 24.04's 3.12) fails too
            rc, lines = _run([SYSTEM_PYTHON, "-W", "error", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], "
                              "cfile=sys.argv[2], doraise=True)", str(src), str(Path(d) / "out.pyc")])
        elif k == "nft":
            # check mode in a throwaway network namespace: nothing of the host's ruleset is touched
            rc, lines = _run([_tool("unshare"), "--net", _tool("nft", "/usr/sbin/nft"), "-c", "-f",
                              str(_tmpfile(d, f))])
        elif k == "json":
            try:
                json.loads(f.content)
                rc, lines = 0, []
            except ValueError as e:
                rc, lines = 1, [f"invalid JSON: {e}"]
        elif k in ("sysctl", "modules-load", "modprobe"):
            pattern = {"sysctl": r"-?[a-z0-9_]+(?:[./][a-z0-9_-]+)+\s*=\s*\S.*",
                       "modules-load": r"[A-Za-z0-9_-]+",
                       "modprobe": r"(?:alias|options|install|remove|softdep|blacklist)\s+\S.*"}[k]
            bad = [ln for ln in f.content.splitlines()
                   if ln.strip() and not ln.lstrip().startswith(("#", ";")) and not re.fullmatch(pattern, ln.strip())]
            rc, lines = (1, [f"not a {k} line: {ln!r}" for ln in bad]) if bad else (0, [])
        elif k.startswith("systemd"):
            return ()
        else:
            return (f"{f.path}: no validator knows this kind of file (add one to tests/validators/cloudinit.py)",)
    return tuple(f"{f.path}: {ln}" for ln in lines) + ((f"{f.path}: {k} check exited {rc}",) if rc else ())


#: units a written drop-in may extend without writing them, and the package that ships them on the image
IMAGE_UNITS = {"nftables.service": "/lib/systemd/system/nftables.service"}


@functools.cache
def check_units(files: tuple[WrittenFile, ...]) -> tuple[str, ...]:
    """``systemd-analyze verify`` (systemd of this Debian 12: 252) over every unit and drop-in written,
    laid out in one unit directory as on the instance; a drop-in's unit, when not written, is the image's
    own (from the Debian package installed here). Every line it prints is a finding: systemd only warns
    about an unknown directive ("Unknown key ...") and then ignores it."""
    units = [f for f in files if kind(f) == "systemd-unit"]
    dropins = [f for f in files if kind(f) == "systemd-dropin"]
    if not units and not dropins:
        return ()
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="spirit-units-") as d:
        root = Path(d) / "system"
        names = []
        for f in units + dropins:
            rel = f.path.split("/systemd/system/", 1)[1]
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(f.content, encoding="utf-8")
            if f in units:
                names.append(rel)
        for f in dropins:
            unit = f.path.split("/systemd/system/", 1)[1].split(".d/", 1)[0]
            if unit not in names:
                src = IMAGE_UNITS.get(unit)
                if src is None or not Path(src).is_file():
                    findings.append(f"{f.path}: extends {unit}, which is neither written nor a known image unit")
                    continue
                shutil.copyfile(src, root / unit)
                names.append(unit)
        rc, lines = _run([_tool("systemd-analyze"), "verify", "--man=no", "--generators=no",
                          *(str(root / n) for n in sorted(set(names)))])
    findings += [ln.replace(str(root), "<units>") for ln in lines]
    if rc:
        findings.append(f"systemd-analyze verify exited {rc}")
    return tuple(findings)
