"""Read an input folder (CSV / Parquet) into raw tables, keeping each row's line number.

Reading never fails on a bad row: undecodable bytes, truncated or overlong lines and
unparseable quoting become :class:`~interestgraph.ingest.report.Problem` records naming the
file and line, and the row is left out. Only a folder with no recognisable table, or a table
given twice, is an error.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from interestgraph.errors import InputError
from interestgraph.ingest.report import Problem
from interestgraph.ingest.spec import TABLES

__all__ = ["RawTable", "read_folder", "read_table_file"]

_BAD_BYTES = re.compile("[\udc80-\udcff]")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class RawTable:
    """One table as read: string-or-typed columns plus ``_line``, and the read problems."""

    name: str
    source: str
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0


def read_folder(folder: Path, *, encoding: str = "utf-8") -> dict[str, RawTable]:
    """Read every canonical table found in ``folder``.

    Args:
        folder: Holds ``users.csv`` / ``users.parquet``, ``items.csv``, … (any subset).
        encoding: Text encoding of the CSV files.

    Raises:
        InputError: The folder is missing, holds no canonical table, or a table twice.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{folder} is not a folder; pass the folder holding users.csv, items.csv, …"
        )
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        kind = _SUFFIXES.get(path.suffix.lower())
        if kind is None or path.stem not in TABLES:
            continue
        if path.stem in found:
            raise InputError(
                f"table {path.stem!r} is given twice ({found[path.stem].name} and {path.name}) "
                f"in {folder}; keep one."
            )
        found[path.stem] = path
    if not found:
        expected = ", ".join(f"{t}.csv" for t in TABLES)
        raise InputError(
            f"no input tables in {folder}; expected some of: {expected} (or .parquet)."
        )
    return {name: read_table_file(name, path, encoding=encoding) for name, path in found.items()}


def read_table_file(name: str, path: Path, *, encoding: str = "utf-8") -> RawTable:
    """Read one CSV or Parquet file of table ``name``."""
    if _SUFFIXES.get(path.suffix.lower()) == "parquet":
        return _read_parquet(name, path)
    return _read_csv(name, path, encoding)


def _read_parquet(name: str, path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as e:  # pyarrow raises several unrelated types for corrupt files
        problem = Problem(
            name,
            path.name,
            None,
            None,
            None,
            f"unreadable Parquet file: {e}",
            "re-export the file with a Parquet writer (pandas.to_parquet, pyarrow)",
        )
        return RawTable(name, path.name, pd.DataFrame({"_line": []}), [problem])
    frame.columns = [str(c).strip() for c in frame.columns]
    frame["_line"] = range(1, len(frame) + 1)
    return RawTable(name, path.name, frame, [], len(frame))


def _read_csv(name: str, path: Path, encoding: str) -> RawTable:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode(encoding, errors="surrogateescape")
    except LookupError as e:
        raise InputError(f"unknown encoding {encoding!r}; use e.g. utf-8 or latin-1") from e
    clean_text = _BAD_BYTES.search(text) is None
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as e:
        header = []
        problems.append(
            Problem(name, path.name, 1, None, None, f"unreadable header: {e}", "fix the first line")
        )
    if not header:
        if not problems:
            problems.append(
                Problem(
                    name,
                    path.name,
                    1,
                    None,
                    None,
                    "empty file (no header line)",
                    "add a header line with the column names",
                )
            )
        return RawTable(name, path.name, pd.DataFrame({"_line": []}), problems)
    header = [h.strip() for h in header]
    if not clean_text and any(_BAD_BYTES.search(h) for h in header):
        shown = (
            ",".join(header).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        )
        problems.append(
            Problem(
                name,
                path.name,
                1,
                None,
                shown[:200],
                f"header line has bytes that are not valid {encoding}",
                "re-save the file as UTF-8 with a plain header line of column names",
            )
        )
        return RawTable(name, path.name, pd.DataFrame({"_line": []}), problems)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(
            Problem(
                name,
                path.name,
                1,
                ",".join(dupes),
                None,
                "column named twice in the header",
                "rename or remove the repeated column",
            )
        )
        return RawTable(name, path.name, pd.DataFrame({"_line": []}), problems)
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    ends_with_newline = raw.endswith((b"\n", b"\r"))
    read = 0
    while True:
        start = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            read += 1
            problems.append(
                Problem(
                    name,
                    path.name,
                    start,
                    None,
                    None,
                    f"unparseable CSV ({e})",
                    'close the quote or escape quotes inside values by doubling them ("")',
                )
            )
            continue
        if not rec or rec == [""]:
            continue  # blank line
        read += 1
        if len(rec) != width:
            last = reader.line_num == text.count("\n") + (0 if ends_with_newline else 1)
            if len(rec) < width:
                reason = f"line has {len(rec)} of {width} fields" + (
                    " (truncated: the file ends in the middle of this line)"
                    if last and not ends_with_newline
                    else " (truncated line?)"
                )
                fix = "complete the line or remove it"
            else:
                reason = f"line has {len(rec)} fields, the header has {width}"
                fix = "quote values that contain commas, or remove the extra fields"
            problems.append(
                Problem(
                    name,
                    path.name,
                    start,
                    None,
                    None,
                    reason,
                    fix,
                    row={f"field_{i + 1}": v for i, v in enumerate(rec)},
                )
            )
            continue
        if not clean_text:
            bad = next((i for i, v in enumerate(rec) if _BAD_BYTES.search(v)), None)
            if bad is not None:
                problems.append(
                    Problem(
                        name,
                        path.name,
                        start,
                        header[bad],
                        rec[bad]
                        .encode("utf-8", "surrogateescape")
                        .decode("utf-8", "backslashreplace"),
                        f"bytes that are not valid {encoding}",
                        "re-save the file as UTF-8, or pass --encoding latin-1 if it is Latin-1",
                        row=dict(zip(header, rec, strict=True)),
                    )
                )
                continue
        rows.append(rec)
        lines.append(start)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame = frame.where(frame != "", None)
    frame["_line"] = lines
    return RawTable(name, path.name, frame, problems, read)
