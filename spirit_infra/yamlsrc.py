"""YAML with positions: load a document, remember the line of every value, report errors precisely.

Used for the catalogue, override files and stack config, so that every bad-input error reads
``<file>:<line>: <field>: <what is wrong>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

__all__ = ["Document", "load_yaml", "field_name", "check_schema"]

PathKey = tuple
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: Bounds checked on the event stream, before any node is built (a hostile file costs at most this much):
#: nesting depth, nodes after alias expansion (a 'billion laughs' bomb is a few hundred bytes), and size.
MAX_DEPTH = 64
MAX_NODES = 50_000
MAX_BYTES = 8 * 1024 * 1024


def _check_bounds(text: str, loader: type, file: str, cls: type[InputError]) -> None:
    """Refuse a document too deep, too big, or whose aliases expand too far (or into themselves).

    One pass over the parser's events (iterative: no recursion, no nodes): each open collection counts
    its expanded size; an alias adds the size of the node it names, so nested aliases multiply exactly
    as a constructor would expand them, and the count stops the file long before memory does.
    """
    if len(text) > MAX_BYTES:
        raise cls(f"the file is {len(text)} characters; at most {MAX_BYTES} are read", file=file, field="(file)")
    sizes: dict[str, int] = {}
    open_: list[list] = []  # [expanded size so far, anchor] per open collection
    total = 0
    for ev in yaml.parse(text, Loader=loader):
        if isinstance(ev, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise cls(f"nested deeper than {MAX_DEPTH} levels", file=file,
                          line=ev.start_mark.line + 1, field="(document)")
            open_.append([1, ev.anchor])
            total += 1
            continue
        if isinstance(ev, yaml.CollectionEndEvent):
            size, anchor = open_.pop()  # its nodes are counted in ``total`` already
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(ev, yaml.ScalarEvent):
            size = 1
            total += 1
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
        elif isinstance(ev, yaml.AliasEvent):
            if ev.anchor in sizes:
                size = sizes[ev.anchor]
            elif any(o[1] == ev.anchor for o in open_):
                raise cls(f"alias *{ev.anchor} refers to a node that contains it (a recursive alias)", file=file,
                          line=ev.start_mark.line + 1, field="(document)")
            else:
                continue  # undefined: the composer reports it with its line
            total += size
        else:
            continue
        if open_:
            open_[-1][0] += size
        if total > MAX_NODES:
            raise cls(f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?)", file=file,
                      line=ev.start_mark.line + 1, field="(document)")


def _compose(text: str, loader: type, file: str, cls: type[InputError]) -> yaml.Node | None:
    _check_bounds(text, loader, file, cls)
    return yaml.compose(text, Loader=loader)


class Document:
    """A parsed YAML document plus the line number (1-based) of every node, keyed by its path."""

    def __init__(self, data: Any, lines: dict[PathKey, int], file: str):
        self.data = data
        self.lines = lines
        self.file = file

    def line(self, path: Iterable) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def error(self, cls: type[InputError], path: Iterable, what: str) -> InputError:
        path = tuple(path)
        return cls(what, file=self.file, line=self.line(path), field=field_name(path) or "(document)")


def field_name(path: Iterable) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


class _Scalars(yaml.constructor.SafeConstructor):
    """One safe constructor per document, for its scalars (making one per scalar cost 9 us each)."""

    def scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as e:
            # an explicit tag the value does not fit (``!!float x``, ``!!int y``): PyYAML raises plain errors
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]} ({e})", node.start_mark
            ) from None


def _construct(node: yaml.Node, path: PathKey, lines: dict, doc_file: str, cls: type[InputError],
               scalars: _Scalars) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise cls("mapping keys must be plain strings", file=doc_file, line=knode.start_mark.line + 1,
                          field=field_name(path) or "(document)")
            key = scalars.scalar(knode)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                raise cls(f"duplicate key {key!r}", file=doc_file, line=knode.start_mark.line + 1,
                          field=field_name(path + (key,)))
            out[key] = _construct(vnode, path + (key,), lines, doc_file, cls, scalars)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, path + (i,), lines, doc_file, cls, scalars) for i, v in enumerate(node.value)]
    try:
        return scalars.scalar(node)
    except yaml.constructor.ConstructorError as e:
        raise cls(f"cannot read value: {e.problem}", file=doc_file, line=node.start_mark.line + 1,
                  field=field_name(path) or "(value)") from None


def load_yaml(path: str | Path, cls: type[InputError] = InputError, *, text: str | None = None) -> Document:
    """Parse one YAML document; syntax errors become ``cls`` with the file and line."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise cls("file not found", file=file, field="(file)") from None
        except IsADirectoryError:
            raise cls("is a directory, not a file", file=file, field="(file)") from None
        except UnicodeDecodeError as e:
            raise cls(f"not UTF-8 text ({e.reason})", file=file, field="(file)") from None
        except OSError as e:
            raise cls(f"cannot read: {e.strerror}", file=file, field="(file)") from None
    try:
        try:
            # libyaml when present (8x faster); its messages differ, so errors are re-read by the pure parser
            node = _compose(text, _FAST_LOADER, file, cls)
        except yaml.MarkedYAMLError as e:
            if e.problem == "exceeded maximum nesting depth":  # libyaml's own bound (1000): ours is lower
                raise cls(f"nested deeper than {MAX_DEPTH} levels", file=file,
                          line=e.problem_mark.line + 1 if e.problem_mark else None, field="(document)") from None
            node = _compose(text, yaml.SafeLoader, file, cls)
        except yaml.YAMLError:
            node = _compose(text, yaml.SafeLoader, file, cls)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = (e.problem or e.context or "syntax error").strip()
        if e.problem and e.context and not e.context.startswith("while "):
            # the composer's context carries the point: "expected a single document in the stream"
            problem = f"{e.context.strip()}, {problem}"
        raise cls(f"YAML syntax error: {problem}", file=file, line=line, field="(syntax)") from None
    except yaml.reader.ReaderError as e:
        # a character YAML does not allow: its own message adds a second line ('in "<unicode string>"...')
        line = text[:e.position].count("\n") + 1 if isinstance(e.position, int) else None
        what = f"#x{e.character:04x}" if isinstance(e.character, int) else repr(e.character)
        raise cls(f"YAML syntax error: unacceptable character {what}: {e.reason}",
                  file=file, line=line, field="(syntax)") from None
    except yaml.YAMLError as e:
        raise cls(f"YAML error: {' '.join(str(e).split())}", file=file, field="(syntax)") from None
    if node is None:
        raise cls("the document is empty", file=file, line=1, field="(document)")
    lines: dict[PathKey, int] = {}
    try:
        data = _construct(node, (), lines, file, cls, _Scalars())
    except yaml.constructor.ConstructorError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise cls(f"cannot read value: {e.problem}", file=file, line=line, field="(value)") from None
    return Document(data, lines, file)


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def check_schema(doc: Document, schema: dict, cls: type[InputError]) -> None:
    """Validate against a JSON Schema; raise one precise ``cls`` for the most relevant error."""
    if _quick_valid(schema, doc.data, schema):
        return  # the common case: no need to import jsonschema (~60 ms cold)
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    # report the error that comes first in the file (not first by the path's spelling: flows[10] < flows[2])
    errors = sorted(validator.iter_errors(doc.data),
                    key=lambda e: (doc.line(e.absolute_path) or 0, len(e.absolute_path), str(e.validator)))
    if not errors:
        return
    err = errors[0]
    # descend into oneOf/anyOf to the error that explains the most specific thing
    while err.context:
        ctx = err.context
        deepest = max(len(e.absolute_path) for e in ctx)
        if deepest == len(err.absolute_path) and all(e.validator == "type" for e in ctx):
            # every alternative failed on the value's type itself: name them all ("null or array")
            wants: list[str] = []
            for e in ctx:
                w = e.validator_value
                wants.extend(w if isinstance(w, list) else [w])
            raise doc.error(cls, tuple(err.absolute_path),
                            f"expected {' or '.join(dict.fromkeys(wants))}, got {_describe(err.instance)} "
                            f"({err.instance!r})")
        err = sorted(ctx, key=lambda e: (-len(e.absolute_path), str(e.validator)))[0]
    path = tuple(err.absolute_path)
    v, inst = err.validator, err.instance
    if v == "additionalProperties":
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        key = extra[0] if extra else "?"
        raise doc.error(cls, path + (key,), f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        raise doc.error(cls, path + (missing[0],), "required key is missing")
    if v == "enum":
        allowed = ", ".join("null" if x is None else str(x) for x in err.validator_value)
        hint = ""
        if not isinstance(inst, str) and str(inst) in err.validator_value:
            hint = f" (quote it: \"{inst}\" is a string, {inst!r} is {_describe(inst)})"
        raise doc.error(cls, path, f"{inst!r} is not one of: {allowed}{hint}")
    if v == "const":
        raise doc.error(cls, path, f"{inst!r} must be {err.validator_value!r}")
    if v == "type":
        want = err.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        raise doc.error(cls, path, f"expected {want}, got {_describe(inst)} ({inst!r})")
    if v in ("minimum", "maximum"):
        raise doc.error(cls, path, f"{inst!r} is out of range (allowed {schema_range(err.schema)})")
    if v == "pattern":
        raise doc.error(cls, path, f"{inst!r} does not match {err.validator_value!r}")
    if v in ("minItems", "maxItems"):
        raise doc.error(cls, path, f"expected {err.validator_value} item(s) {'at least' if v == 'minItems' else 'at most'}, got {len(inst)}")
    if v == "minLength":
        raise doc.error(cls, path, "must not be empty")
    if v == "uniqueItems":
        raise doc.error(cls, path, f"items must be unique: {inst!r}")
    raise doc.error(cls, path, err.message)


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _quick_valid(s: dict, v: Any, root: dict) -> bool:
    """A strict yes/no check for the JSON Schema subset our schemas use.

    True only when the value is certainly valid; anything it does not know answers False, and then
    jsonschema runs and explains. So it can make loading faster but never accept a bad document.
    """
    known = {"$schema", "$id", "title", "description", "$defs", "$ref", "type", "enum", "const", "required",
             "properties", "additionalProperties", "items", "minItems", "maxItems", "uniqueItems", "minLength",
             "minimum", "maximum", "pattern", "oneOf"}
    if not set(s) <= known:
        return False
    if "$ref" in s:
        ref = s["$ref"]
        if not ref.startswith("#/$defs/"):
            return False
        if not _quick_valid(root["$defs"][ref[len("#/$defs/"):]], v, root):
            return False
    t = s.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES.get(x, lambda _v: False)(v) for x in types):
            return False
    if "enum" in s and not any(v == e and type(v) is type(e) for e in s["enum"]):
        return False
    if "const" in s and not (v == s["const"] and type(v) is type(s["const"])):
        return False
    if "oneOf" in s and sum(_quick_valid(sub, v, root) for sub in s["oneOf"]) != 1:
        return False
    if isinstance(v, dict):
        if any(k not in v for k in s.get("required", ())):
            return False
        props = s.get("properties", {})
        extra = s.get("additionalProperties", True)
        for k, item in v.items():
            if k in props:
                if not _quick_valid(props[k], item, root):
                    return False
            elif extra is False:
                return False
            elif extra is not True:
                return False
    if isinstance(v, list):
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", len(v)):
            return False
        if s.get("uniqueItems") and (not all(isinstance(x, str) for x in v) or len(set(v)) != len(v)):
            return False
        if "items" in s and not all(_quick_valid(s["items"], x, root) for x in v):
            return False
    if isinstance(v, str):
        if len(v) < s.get("minLength", 0):
            return False
        if "pattern" in s:
            import re

            if not re.search(s["pattern"], v):
                return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            return False
        if "maximum" in s and v > s["maximum"]:
            return False
    return True


def schema_range(s: dict) -> str:
    return f"{s.get('minimum', '-inf')}..{s.get('maximum', 'inf')}"
