"""The analyst query library: named, parameterised ``.cypher`` files with a header.

Each file starts with ``//`` header lines, then the Cypher::

    // name: user-interests
    // purpose: A user's strongest inferred interests in the current model run.
    // param: user_id string required  The user's business key.
    // param: k integer 10  How many topics.
    // example: interestgraph query user-interests -p user_id 2 -p k 5
    MATCH ...

``param`` lines read ``NAME TYPE DEFAULT DESCRIPTION``: TYPE is ``string``, ``integer``,
``float`` or ``boolean``; DEFAULT is ``required`` or a JSON literal (``10``, ``null``,
``"2010-01-01"``). Loading checks that every ``$parameter`` in the Cypher is declared and
every declared parameter is used, so values can only reach a query as parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interestgraph.errors import InputError

__all__ = ["BUILTIN_DIR", "LibraryQuery", "Param", "load_library"]

#: Folder of the queries shipped with the package.
BUILTIN_DIR = Path(__file__).resolve().parent

_TYPES: dict[str, type] = {"string": str, "integer": int, "float": float, "boolean": bool}
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


@dataclass(frozen=True)
class Param:
    """One declared query parameter."""

    name: str
    type: str
    required: bool
    default: Any
    description: str

    def coerce(self, value: Any, query: str) -> Any:
        """Turn a CLI string (or a JSON value) into this parameter's type.

        Raises:
            InputError: The value does not fit the type; the message names query and fix.
        """
        if value is None:
            return None
        want = _TYPES[self.type]
        if isinstance(value, str) and want is not str:
            text = value.strip().lower()
            try:
                if want is bool:
                    if text not in _TRUE | _FALSE:
                        raise ValueError(value)
                    return text in _TRUE
                return want(value)
            except ValueError:
                raise InputError(
                    f"query {query!r}: parameter {self.name} must be {self.type}, "
                    f"got {value!r} (e.g. -p {self.name} {self._example()})"
                ) from None
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise InputError(
                f"query {query!r}: parameter {self.name} must be {self.type}, got {value!r}"
            )
        return value

    def _example(self) -> str:
        return {"string": "abc", "integer": "10", "float": "0.5", "boolean": "true"}[self.type]


@dataclass(frozen=True)
class LibraryQuery:
    """A named, parameterised, read-only Cypher query from the library."""

    name: str
    purpose: str
    params: tuple[Param, ...]
    example: str
    cypher: str
    path: Path
    notes: tuple[str, ...] = field(default_factory=tuple)

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``values`` against the declared parameters; fill in defaults.

        Raises:
            InputError: An unknown or missing parameter, or a value of the wrong type.
        """
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise InputError(
                f"query {self.name!r} has no parameter {', '.join(unknown)}; "
                f"its parameters: {allowed}"
            )
        bound = {}
        for p in self.params:
            if p.name in values:
                bound[p.name] = p.coerce(values[p.name], self.name)
            elif p.required:
                raise InputError(
                    f"query {self.name!r} needs parameter {p.name} ({p.type}: "
                    f"{p.description}); e.g. {self.example}"
                )
            else:
                bound[p.name] = p.default
        return bound


def _parse(path: Path) -> LibraryQuery:
    text = path.read_text(encoding="utf-8")
    header: dict[str, list[str]] = {}
    body: list[str] = []
    key = None
    for line in text.splitlines():
        if not body and line.startswith("//"):
            content = line[2:].strip()
            m = re.match(r"^([a-z]+):\s*(.*)$", content)
            if m and m.group(1) in ("name", "purpose", "param", "example", "note"):
                key = m.group(1)
                header.setdefault(key, []).append(m.group(2))
            elif key and content:  # continuation of the previous header line
                header[key][-1] += " " + content
            continue
        if body or line.strip():
            body.append(line)

    def fail(why: str) -> InputError:
        return InputError(f"{path}: {why} (see interestgraph/queries/library.py for the format)")

    for required in ("name", "purpose", "example"):
        if len(header.get(required, [])) != 1:
            raise fail(f"needs exactly one '// {required}:' header line")
    name = header["name"][0]
    if not _NAME.match(name) or name != path.stem:
        raise fail(f"name {name!r} must be lower-case-with-dashes and equal the file name")
    params = []
    for spec in header.get("param", []):
        parts = spec.split(None, 3)
        if len(parts) < 4 or parts[1] not in _TYPES:
            raise fail(f"param line {spec!r} must read NAME TYPE DEFAULT DESCRIPTION")
        pname, ptype, pdefault, pdesc = parts
        required = pdefault == "required"
        default = None
        if not required:
            try:
                default = json.loads(pdefault)
            except json.JSONDecodeError:
                raise fail(f"default of {pname} must be 'required' or JSON") from None
        params.append(Param(pname, ptype, required, default, pdesc))
    cypher = "\n".join(body).strip()
    if not cypher:
        raise fail("has no Cypher after the header")
    used = set(_PARAM_USE.findall(cypher))
    declared = {p.name for p in params}
    if used - declared:
        raise fail(f"uses undeclared parameters {sorted(used - declared)}")
    if declared - used:
        raise fail(f"declares unused parameters {sorted(declared - used)}")
    return LibraryQuery(
        name=name,
        purpose=header["purpose"][0],
        params=tuple(params),
        example=header["example"][0],
        cypher=cypher,
        path=path,
        notes=tuple(header.get("note", [])),
    )


def load_library(extra_dirs: Iterable[Path] = ()) -> dict[str, LibraryQuery]:
    """All library queries by name: the built-in ones, then ``extra_dirs`` (which may add
    queries but not replace a built-in one).

    Raises:
        InputError: A file does not follow the format, or two files share a name.
    """
    queries: dict[str, LibraryQuery] = {}
    for folder in (BUILTIN_DIR, *extra_dirs):
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"query folder {folder} does not exist (INTERESTGRAPH_QUERIES)")
        for path in sorted(folder.glob("*.cypher")):
            q = _parse(path)
            if q.name in queries:
                raise InputError(
                    f"{path}: query {q.name!r} is already defined in {queries[q.name].path}"
                )
            queries[q.name] = q
    return queries
