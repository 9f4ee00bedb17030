"""Render command results as a table, CSV or JSON (the CLI's ``--format`` option)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FORMATS", "render"]

FORMATS = ("table", "json", "csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def render(data: Mapping[str, Any] | Sequence[Mapping[str, Any]], fmt: str = "table") -> str:
    """Render a record (``key: value``) or a list of rows in ``fmt``.

    Args:
        data: One mapping (shown as two columns, key and value) or a list of row mappings.
        fmt: ``table``, ``json`` or ``csv``.
    """
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    rows: list[Mapping[str, Any]]
    if isinstance(data, Mapping):
        rows = [{"key": k, "value": v} for k, v in data.items()]
    else:
        rows = list(data)
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not rows:
        return "(no rows)"
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)
