"""Validate raw tables against the canonical spec, before anything is written.

Checks, per row and column: required values present, ids well-formed, numbers finite and
positive, timestamps parseable and plausible, text not oversized, entity ids unique, and
every reference resolvable (in this input or already in the graph). Rows with a problem
are rejected with a :class:`Problem` per issue; duplicate relationship rows are merged by
the rule documented in :mod:`interestgraph.ingest.spec`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from interestgraph.graphstore.schema import Label
from interestgraph.ingest.reader import RawTable
from interestgraph.ingest.report import Problem, TableReport
from interestgraph.ingest.spec import (
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    ORDER,
    PROPERTY_NAME,
    TABLES,
    Column,
    TableSpec,
)

__all__ = ["CleanTables", "ExistsLookup", "validate"]

#: ``exists(label, ids)`` → the subset of ``ids`` that already exist in the graph.
ExistsLookup = Callable[[Label, list[str]], set[str]]

_MIN_TS = 631_152_000  # 1990-01-01T00:00:00Z
_MAX_PROBLEM_ROWS = 100_000  # keep the offending row with at most this many problems


@dataclass
class CleanTables:
    """Validated, typed tables ready to load, with the problems and per-table counts."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    reports: dict[str, TableReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extras: dict[str, list[str]] = field(default_factory=dict)


class _Collector:
    """Collects problems for one table and remembers which rows they reject."""

    def __init__(self, raw: RawTable, problems: list[Problem]) -> None:
        self.raw = raw
        self.problems = problems
        self.bad = pd.Series(False, index=raw.frame.index)

    def add(self, mask: pd.Series, column: str | None, reason: str, fix: str) -> None:
        mask = mask.fillna(False).astype(bool)
        idx = mask[mask].index
        if len(idx) == 0:
            return
        frame = self.raw.frame
        for i in idx:
            value = None if column is None else frame.at[i, column]
            keep_row = len(self.problems) < _MAX_PROBLEM_ROWS
            self.problems.append(
                Problem(
                    table=self.raw.name,
                    file=self.raw.source,
                    line=int(frame.at[i, "_line"]),
                    column=column,
                    value=None if value is None or _isnan(value) else str(value),
                    reason=reason,
                    fix=fix,
                    row=_row_dict(frame, i) if keep_row else None,
                )
            )
        self.bad.loc[idx] = True


def _isnan(v: object) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _row_dict(frame: pd.DataFrame, i: object) -> dict[str, object]:
    return {k: (None if _isnan(v) else v) for k, v in frame.loc[i].items() if k != "_line"}


def _missing(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object:
        return s.isna() | (s == "").fillna(False).astype(bool)
    return s.isna()


def _all_text(s: pd.Series) -> bool:
    """True when every value is a string or missing (checked in C, no per-row Python)."""
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def _longer_than(s: pd.Series, limit: int) -> pd.Series:
    """Mask of string values longer than ``limit`` (vectorised for text columns)."""
    if _all_text(s):
        return s.str.len().gt(limit).fillna(False).astype(bool)
    return s.map(lambda v: isinstance(v, str) and len(v) > limit).astype(bool)


def _isin(s: pd.Series, values: pa.Array) -> pd.Series:
    """``s.isin(values)`` for id columns through Arrow (pandas' own loops in Python)."""
    arr = pa.array(s, type=pa.string(), from_pandas=True)
    hit = pc.is_in(arr, value_set=values, skip_nulls=True).fill_null(False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index)


def _ids(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Turn a column into id strings; returns (ids, mask of values that are not ids)."""
    if _all_text(s):  # the common case: already text
        return s, pd.Series(False, index=s.index)
    ids = pd.Series(None, index=s.index, dtype=object)
    notna = s.notna()
    if pd.api.types.is_bool_dtype(s.dtype):
        return ids, notna
    if pd.api.types.is_integer_dtype(s.dtype):
        ids[notna] = s[notna].astype("int64").astype(str)
        return ids, pd.Series(False, index=s.index)
    if pd.api.types.is_float_dtype(s.dtype):
        integral = notna & (s == np.floor(s))
        ids[integral] = s[integral].astype("int64").astype(str)
        return ids, notna & ~integral

    def is_id(v: object) -> bool:
        return (
            v is None
            or _isnan(v)
            or isinstance(v, str)
            or (isinstance(v, int | np.integer) and not isinstance(v, bool))
        )

    kinds = s.astype(object).map(is_id)
    converted = s.astype(object).map(
        lambda v: None if v is None or _isnan(v) else (v if isinstance(v, str) else str(v))
    )
    return converted.where(kinds, None), ~kinds


def _timestamps(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse a ts column → (epoch seconds as Int64, unparseable mask, out-of-range mask)."""
    missing = _missing(s)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        t = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
        secs = (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        secs = secs.astype("Int64")
        unparseable = pd.Series(False, index=s.index)
    else:
        num = pd.to_numeric(s.where(~missing), errors="coerce")
        is_num = num.notna()
        integral = is_num & np.isfinite(num.fillna(0)) & (num.fillna(0) == np.floor(num.fillna(0)))
        text = s.where(~missing & ~is_num)
        iso = pd.to_datetime(text.astype(object), utc=True, errors="coerce", format="ISO8601")
        iso_secs = (iso - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        secs = pd.Series(pd.NA, index=s.index, dtype="Int64")
        secs[integral] = num[integral].astype("int64")
        ok_iso = iso_secs.notna()
        secs[ok_iso] = iso_secs[ok_iso].astype("int64")
        unparseable = ~missing & secs.isna()
    now = int(time.time()) + 86_400
    out_of_range = secs.notna() & ((secs < _MIN_TS) | (secs > now))
    return secs, unparseable.fillna(False), out_of_range.fillna(False).astype(bool)


_DEFAULTS: dict[str, Callable[[pd.Index], pd.Series]] = {
    "id": lambda idx: pd.Series(None, index=idx, dtype=object),
    "text": lambda idx: pd.Series(None, index=idx, dtype=object),
    "weight": lambda idx: pd.Series(1.0, index=idx),
    "ts": lambda idx: pd.Series(pd.NA, index=idx, dtype="Int64"),
    "followee_type": lambda idx: pd.Series("user", index=idx, dtype=object),
}


def _check_column(col: Column, frame: pd.DataFrame, c: _Collector) -> pd.Series | None:
    if col.name not in frame.columns:
        return None
    s = frame[col.name]
    if col.kind == "id":
        ids, wrong_type = _ids(s)
        c.add(
            wrong_type,
            col.name,
            "not an id (ids are text or whole numbers)",
            "write the id as text",
        )
        miss = _missing(ids) & ~wrong_type
        if col.required:
            c.add(miss, col.name, f"missing {col.name}", f"fill in {col.name} or remove the row")
        too_long = _longer_than(ids, MAX_ID_LENGTH)
        c.add(
            too_long,
            col.name,
            f"id longer than {MAX_ID_LENGTH} characters",
            "shorten the id (use a stable key, not free text)",
        )
        return ids.where(~miss, None)
    if col.kind == "text":
        if _all_text(s):
            text = s
        else:
            text = s.astype(object).map(lambda v: v if v is None or isinstance(v, str) else str(v))
        text = text.where(~_missing(s), None)
        if col.required:
            c.add(text.isna(), col.name, f"missing {col.name}", f"fill in {col.name}")
        too_long = _longer_than(text, MAX_TEXT_LENGTH)
        c.add(
            too_long,
            col.name,
            f"text longer than {MAX_TEXT_LENGTH:,} characters",
            "shorten the text",
        )
        return text
    if col.kind == "weight":
        miss = _missing(s)
        num = pd.to_numeric(s.where(~miss), errors="coerce")
        bad = ~miss & (num.isna() | ~np.isfinite(num.fillna(1.0)) | (num <= 0))
        c.add(
            bad,
            col.name,
            "weight is not a positive finite number",
            "use a number > 0, or leave it empty for 1",
        )
        return num.where(~miss, 1.0).astype(float)
    if col.kind == "ts":
        secs, unparseable, out_of_range = _timestamps(s)
        c.add(
            unparseable,
            col.name,
            "not a timestamp",
            "use ISO 8601 (2011-04-12T07:00:00Z) or Unix seconds, or leave it empty",
        )
        c.add(
            out_of_range,
            col.name,
            "timestamp before 1990 or in the future",
            "check the unit (Unix seconds, not milliseconds) or leave it empty",
        )
        return secs
    if col.kind == "followee_type":
        text = s.astype(object).map(lambda v: v.strip().lower() if isinstance(v, str) else v)
        text = text.where(~_missing(s), "user")
        c.add(
            ~text.isin(["user", "topic"]),
            col.name,
            "followee_type must be user or topic",
            "write user or topic, or leave it empty for user",
        )
        return text
    raise AssertionError(col.kind)  # pragma: no cover


def _extra(s: pd.Series) -> pd.Series:
    """Type an extra (property) column: numbers when every value is numeric, else text."""
    if s.dtype != object:
        return s
    miss = _missing(s)
    num = pd.to_numeric(s.where(~miss), errors="coerce")
    if (num.notna() | miss).all() and np.isfinite(num.dropna()).all():
        return num
    return s.astype(object).map(lambda v: v if v is None or isinstance(v, str) else str(v))


def _validate_table(spec: TableSpec, raw: RawTable, out: CleanTables) -> pd.DataFrame:
    frame = raw.frame
    c = _Collector(raw, out.problems)
    missing_cols = [name for name in spec.required if name not in frame.columns]
    if missing_cols:
        have = ", ".join(x for x in frame.columns if x != "_line") or "(none)"
        out.problems.append(
            Problem(
                spec.name,
                raw.source,
                1,
                ",".join(missing_cols),
                None,
                f"missing required column(s) {', '.join(missing_cols)}; the header has: {have}",
                "add the column(s) to the header",
            )
        )
        out.reports[spec.name].rejected = raw.rows_read
        return pd.DataFrame()
    clean = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        values = _check_column(col, frame, c)
        clean[col.name] = values if values is not None else _DEFAULTS[col.kind](frame.index)
    extras = []
    for name in frame.columns:
        if name == "_line" or spec.column(name) is not None:
            continue
        if not spec.extra_columns:
            out.notes.append(f"{raw.source}: column {name!r} is not part of {spec.name}; ignored")
        elif not PROPERTY_NAME.match(name) or name in ("_line",):
            out.problems.append(
                Problem(
                    spec.name,
                    raw.source,
                    1,
                    name,
                    None,
                    "column name is not a valid property name",
                    "rename it to letters, digits and _ (not starting with a digit)",
                )
            )
        else:
            values = _extra(frame[name])
            if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
                too_long = _longer_than(values, MAX_TEXT_LENGTH)
                c.add(
                    too_long, name, f"text longer than {MAX_TEXT_LENGTH:,} characters", "shorten it"
                )
            clean[name] = values
            extras.append(name)
    out.extras[spec.name] = extras
    clean["_line"] = frame["_line"]
    clean = clean[~c.bad]
    if spec.key is not None:
        dup = clean.duplicated(spec.key, keep="first")
        if dup.any():
            first_line = clean.groupby(spec.key, sort=False)["_line"].transform("first")
            for i in dup[dup].index:
                out.problems.append(
                    Problem(
                        spec.name,
                        raw.source,
                        int(clean.at[i, "_line"]),
                        spec.key,
                        str(clean.at[i, spec.key]),
                        f"duplicate {spec.key} (first on line {int(first_line[i])})",
                        "remove the repeated row or give it its own id",
                        row=_row_dict(frame, i),
                    )
                )
            out.reports[spec.name].rejected += int(dup.sum())
            clean = clean[~dup]
    out.reports[spec.name].rejected += int(c.bad.sum())
    return clean


def _known(known: dict[Label, list[pa.Array]], label: Label) -> pa.Array:
    parts = known[label]
    return pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())


def _check_references(
    name: str,
    raw: RawTable,
    frame: pd.DataFrame,
    known: dict[Label, list[pa.Array]],
    exists: ExistsLookup | None,
    out: CleanTables,
) -> pd.DataFrame:
    spec = TABLES[name]
    bad = pd.Series(False, index=frame.index)
    checks: list[tuple[str, Label, pd.Series]] = []
    for col in spec.columns:
        if col.refers_to is not None and col.name in frame.columns:
            checks.append((col.name, col.refers_to, frame[col.name].notna()))
    if name == "follows":
        is_user = frame["followee_type"] == "user"
        checks.append(("followee_id", Label.USER, is_user))
        checks.append(("followee_id", Label.TOPIC, ~is_user))
        self_follow = is_user & (frame["followee_id"] == frame["user_id"])
        _reject(
            out,
            raw,
            frame,
            self_follow,
            "followee_id",
            "a user cannot follow themselves",
            "remove the row",
        )
        bad |= self_follow
    for column, label, applies in checks:
        ids = pa.array(frame.loc[applies, column], type=pa.string(), from_pandas=True)
        distinct = pc.unique(ids.drop_null())
        have = _known(known, label)
        unknown = distinct.filter(pc.invert(pc.is_in(distinct, value_set=have)))
        if len(unknown) and exists is not None:
            found = exists(label, sorted(unknown.to_pylist()))
            if found:
                known[label].append(pa.array(sorted(found), type=pa.string()))
        missing = applies & ~_isin(frame[column], _known(known, label))
        table = {Label.USER: "users", Label.ITEM: "items", Label.TOPIC: "topics"}[label]
        _reject(
            out,
            raw,
            frame,
            missing,
            column,
            f"unknown {label.value} id: not in {table} nor in the graph",
            f"add it to {table} or fix the reference",
        )
        bad |= missing
    out.reports[name].rejected += int(bad.sum())
    return frame[~bad]


def _reject(
    out: CleanTables,
    raw: RawTable,
    frame: pd.DataFrame,
    mask: pd.Series,
    column: str,
    reason: str,
    fix: str,
) -> None:
    for i in mask[mask].index:
        out.problems.append(
            Problem(
                raw.name,
                raw.source,
                int(frame.at[i, "_line"]),
                column,
                str(frame.at[i, column]),
                reason,
                fix,
                row=_row_dict(raw.frame, i) if len(out.problems) < _MAX_PROBLEM_ROWS else None,
            )
        )


def _group_codes(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One int64 group id per row for the combination of ``keys`` (factorised, no strings)."""
    group = np.zeros(len(frame), dtype=np.int64)
    for k in keys:
        codes, uniques = pd.factorize(frame[k], use_na_sentinel=False)
        group = group * max(len(uniques), 1) + codes
        group = pd.factorize(group)[0].astype(np.int64)  # stays < rows: no overflow
    return group


def _merge_duplicates(spec: TableSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Merge repeated relationship rows: weights summed, latest ts, other columns from it."""
    keys = list(spec.merge_on)
    if frame.empty:
        return frame, 0
    group = _group_codes(frame, keys)
    groups = int(group.max()) + 1
    if groups == len(frame):
        return frame, 0
    lines = frame["_line"].to_numpy(dtype=np.int64)
    if "ts" in frame.columns:  # missing ts sorts first: a dated row is "later"
        ts = frame["ts"].astype("Float64").to_numpy(dtype=np.float64, na_value=-np.inf)
        order = np.lexsort((lines, ts, group))
    else:
        order = np.lexsort((lines, group))
    g_sorted = group[order]
    last = order[np.r_[g_sorted[1:] != g_sorted[:-1], True]]
    weights = np.bincount(group, weights=frame["weight"].to_numpy(dtype=np.float64))
    first_line = np.full(groups, np.iinfo(np.int64).max)
    np.minimum.at(first_line, group, lines)
    out = frame.iloc[last].copy()
    out["weight"] = weights[group[last]]
    out["_line"] = first_line[group[last]]
    out = out.sort_values("_line", kind="stable").reset_index(drop=True)
    return out, len(frame) - len(out)


def validate(
    raws: dict[str, RawTable],
    *,
    exists: ExistsLookup | None = None,
    read_problems: Iterable[Problem] = (),
) -> CleanTables:
    """Validate raw tables in load order; return clean frames, problems and counts.

    Args:
        raws: Tables by canonical name (any subset of :data:`~interestgraph.ingest.spec.TABLES`).
        exists: Looks up ids of references not found in this input (``None``: input only).
        read_problems: Problems already found while reading (kept first in the list).
    """
    out = CleanTables(problems=list(read_problems))
    known: dict[Label, list[pa.Array]] = {Label.USER: [], Label.ITEM: [], Label.TOPIC: []}
    for name in ORDER:
        raw = raws.get(name)
        if raw is None:
            continue
        out.problems.extend(raw.problems)
        report = TableReport(name, raw.source, read=raw.rows_read, rejected=len(raw.problems))
        out.reports[name] = report
        spec = TABLES[name]
        frame = _validate_table(spec, raw, out)
        if frame.empty:
            out.frames[name] = frame
            continue
        if spec.key is not None:
            keys = pa.array(frame[spec.key], type=pa.string(), from_pandas=True)
            known[spec.label].append(keys)  # type: ignore[index]
        if name == "topics" or spec.key is None:
            frame = _check_references(name, raw, frame, known, exists, out)
        if spec.merge_on:
            frame, merged = _merge_duplicates(spec, frame)
            report.merged = merged
        report.valid = len(frame)
        out.frames[name] = frame
    rank = {name: i for i, name in enumerate(ORDER)}
    out.problems.sort(key=lambda p: (rank.get(p.table, len(rank)), p.line or 0))
    return out
