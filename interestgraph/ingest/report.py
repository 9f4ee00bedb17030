"""Problems found in input files, the rejects file, and the ingest report."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["IngestReport", "Problem", "TableReport", "write_rejects"]


@dataclass(frozen=True)
class Problem:
    """One problem with one value, row, column or file.

    ``line`` is the 1-based line in a CSV file (the header is line 1) or the 1-based row in
    a Parquet file / adapter table; ``None`` when the problem concerns the whole table.
    """

    table: str
    file: str
    line: int | None
    column: str | None
    value: str | None
    reason: str
    fix: str
    row: dict[str, Any] | None = None

    def __str__(self) -> str:
        where = self.file + (f" line {self.line}" if self.line is not None else "")
        col = f", column {self.column}" if self.column else ""
        val = f" ({_short(self.value)})" if self.value is not None else ""
        return f"{where}{col}: {self.reason}{val}; {self.fix}"


def _short(value: str, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]


@dataclass
class TableReport:
    """Counts for one table."""

    table: str
    source: str
    read: int = 0
    rejected: int = 0
    merged: int = 0  # duplicate relationship rows folded into another row
    valid: int = 0
    written: int = 0
    seconds: float = 0.0


@dataclass
class IngestReport:
    """What an ingest did: per-table counts, problems, notes, and where rejects went."""

    tables: dict[str, TableReport] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    strict: bool = False
    written: bool = False
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    #: bulk import only: rows, seconds per phase and the importer's rows/s
    bulk: dict[str, Any] | None = None

    @property
    def rows_written(self) -> int:
        """Rows sent to Neo4j over all tables."""
        return sum(t.written for t in self.tables.values())

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per table for ``--format table|json``."""
        out = []
        for t in self.tables.values():
            out.append(
                {
                    "table": t.table,
                    "source": t.source,
                    "read": t.read,
                    "rejected": t.rejected,
                    "merged": t.merged,
                    "written": t.written,
                    "rows_per_s": round(t.written / t.seconds) if t.seconds > 0 else None,
                }
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (problems capped at 1,000; all are in the rejects file)."""
        return {
            "tables": self.summary_rows(),
            "problems": len(self.problems),
            "first_problems": [str(p) for p in self.problems[:1000]],
            "notes": self.notes,
            "rejects_file": self.rejects_file,
            "strict": self.strict,
            "written": self.written,
            "seconds": round(self.seconds, 2),
            "counters": self.counters,
            **({"bulk": self.bulk} if self.bulk else {}),
        }


def write_rejects(problems: list[Problem], path: Path) -> Path:
    """Write one CSV line per problem with the offending row as JSON; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["table", "file", "line", "column", "value", "reason", "fix", "row"])
        for p in problems:
            d = asdict(p)
            writer.writerow(
                [
                    d["table"],
                    d["file"],
                    d["line"] if d["line"] is not None else "",
                    d["column"] or "",
                    _printable(d["value"]),
                    d["reason"],
                    d["fix"],
                    json.dumps(d["row"], default=str, ensure_ascii=True) if d["row"] else "",
                ]
            )
    return path


def _printable(value: str | None) -> str:
    if value is None:
        return ""
    # Keep the rejects file valid UTF-8 even when the value held undecodable bytes.
    return value.encode("utf-8", "backslashreplace").decode("utf-8")[:1000]
