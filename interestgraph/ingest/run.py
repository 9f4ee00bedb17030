"""The ingest entry point: validate everything, then write (or, in strict mode, refuse)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from tqdm.auto import tqdm

from interestgraph.config import Settings
from interestgraph.errors import ValidationError
from interestgraph.graphstore import GraphStore, ensure_schema
from interestgraph.ingest.load import exists_lookup, load_frame
from interestgraph.ingest.reader import RawTable
from interestgraph.ingest.report import IngestReport, Problem, write_rejects
from interestgraph.ingest.spec import ORDER
from interestgraph.ingest.validate import CleanTables, ExistsLookup, validate

__all__ = ["bulk_ingest", "ingest"]

log = logging.getLogger(__name__)


def _validated(
    raws: dict[str, RawTable],
    exists: ExistsLookup | None,
    *,
    strict: bool,
    rejects_path: Path | None,
    notes: list[str] | None,
    problems: list[Problem] | None,
) -> tuple[CleanTables, IngestReport]:
    """Validate everything; write the rejects file; in strict mode refuse on any problem."""
    clean = validate(raws, exists=exists, read_problems=problems or [])
    report = IngestReport(
        tables=clean.reports,
        problems=clean.problems,
        notes=[*(notes or []), *clean.notes],
        strict=strict,
    )
    if clean.problems and rejects_path is not None:
        report.rejects_file = str(write_rejects(clean.problems, rejects_path))
    if strict and clean.problems:
        first = "\n".join(f"  - {p}" for p in clean.problems[:10])
        more = len(clean.problems) - 10
        raise ValidationError(
            f"strict mode: {len(clean.problems)} problem(s) found, nothing was written.\n{first}"
            + (f"\n  … and {more} more" if more > 0 else "")
            + (f"\nAll problems: {report.rejects_file}" if report.rejects_file else ""),
            problems=clean.problems,
            rejects_file=report.rejects_file,
        )
    return clean, report


def ingest(
    store: GraphStore,
    raws: dict[str, RawTable],
    *,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: bool | None = None,
    notes: list[str] | None = None,
    problems: list[Problem] | None = None,
) -> IngestReport:
    """Validate ``raws`` completely, then load the valid rows (or nothing, in strict mode).

    Args:
        store: Open graph store.
        raws: Raw tables (from :func:`~interestgraph.ingest.reader.read_folder` or an adapter).
        strict: Abort with :class:`ValidationError` and write nothing if any row is invalid.
        rejects_path: Where to write the rejects CSV when there are problems.
        progress: Show a progress bar (``None``: only on a terminal).
        notes: Notes from the adapter, carried into the report.
        problems: Problems already found by an adapter (rows it rejected).

    Returns:
        The report: per-table counts, problems, notes, write counters, throughput.
    """
    began = time.perf_counter()
    clean, report = _validated(
        raws, exists_lookup(store), strict=strict, rejects_path=rejects_path, notes=notes,
        problems=problems,
    )  # fmt: skip
    ensure_schema(store)
    total = sum(len(f) for f in clean.frames.values())
    disable = None if progress is None else not progress  # None: only on a terminal
    with tqdm(total=total, unit="rows", desc="ingest", disable=disable) as bar:
        for name in ORDER:
            frame = clean.frames.get(name)
            if frame is None:
                continue
            bar.set_postfix_str(name)
            stats = load_frame(store, name, frame, clean.extras.get(name, []), progress=bar.update)
            t = report.tables[name]
            t.written, t.seconds = stats.rows, stats.seconds
            for k, v in stats.counters.items():
                report.counters[k] = report.counters.get(k, 0) + v
            if stats.rows:
                log.info(
                    "%s: %d rows in %.1fs (%.0f rows/s)",
                    name,
                    stats.rows,
                    stats.seconds,
                    stats.rows_per_second,
                )
    report.written = True
    report.seconds = time.perf_counter() - began
    return report


def bulk_ingest(
    settings: Settings,
    raws: dict[str, RawTable],
    *,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: bool | None = None,
    notes: list[str] | None = None,
    problems: list[Problem] | None = None,
) -> IngestReport:
    """Validate like :func:`ingest`, then load with Neo4j's bulk importer (first load only).

    The database must be empty and the server managed by the project; see
    :mod:`interestgraph.ingest.bulk`. References are resolved within the input (the
    graph is empty).
    """
    from interestgraph.ingest.bulk import bulk_import

    began = time.perf_counter()
    clean, report = _validated(
        raws, None, strict=strict, rejects_path=rejects_path, notes=notes, problems=problems
    )
    report.seconds = time.perf_counter() - began
    say = None if not progress else (lambda msg: log.warning("bulk import: %s", msg))
    return bulk_import(settings, clean, report, progress=say)
