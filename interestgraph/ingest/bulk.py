"""First loads through Neo4j's own bulk importer (``neo4j-admin database import full``).

The transactional path (:mod:`interestgraph.ingest.load`) MERGEs ~25–30k rows/s on two
cores; a first load of tens of millions of rows is what the importer is for. This module
turns the *validated* tables (the same :func:`~interestgraph.ingest.validate.validate` as
the MERGE path, so the same rejects and merge rules) into the importer's CSV input and
runs it on the project-managed server:

1. refuse unless the local server is managed here (no ``NEO4J_URI``) and its database is
   empty (checked through Cypher);
2. write one header file and one data file per table (pyarrow's CSV writer: values are
   quoted, nulls are empty fields, so a null is no property and ``""`` an empty string,
   exactly as ``SET n += row.props`` stores them; ``ts`` as ISO-8601 ``…Z`` → ``DATETIME``;
   column types from the frames: ``long``, ``double``, ``boolean`` or string);
3. stop the server, import (``--bad-tolerance=0``: validated input has no bad rows; on any
   failure the partial database is deleted, so nothing is half-written), start it again,
   create the schema and wait for its indexes.

The result equals a MERGE load of the same tables, node for node and property for property
(``tests/integration/test_bulk.py`` compares both snapshots). Incremental loads keep the
MERGE path.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from interestgraph.config import Settings
from interestgraph.errors import InputError
from interestgraph.graphstore import GraphStore, LocalServer, ensure_schema
from interestgraph.graphstore.schema import KEYS, Label, RelType
from interestgraph.ingest.report import IngestReport
from interestgraph.ingest.validate import CleanTables

__all__ = ["bulk_import", "write_import_files"]

log = logging.getLogger(__name__)

_NODES = {"users": Label.USER, "items": Label.ITEM, "topics": Label.TOPIC}
_FIELDS = {"topics": ["name", "parent_id"], "items": ["title", "description"], "users": []}
#: relationship part → (table, relationship type, start label, end label, end column)
_RELS = {
    "item_topics": ("item_topics", RelType.HAS_TOPIC, Label.ITEM, Label.TOPIC, "topic_id"),
    "follows.user": ("follows", RelType.FOLLOWS, Label.USER, Label.USER, "followee_id"),
    "follows.topic": ("follows", RelType.FOLLOWS, Label.USER, Label.TOPIC, "followee_id"),
    "purchases": ("purchases", RelType.PURCHASED, Label.USER, Label.ITEM, "item_id"),
}
_REL_FIELDS = {
    "item_topics": ["weight"],
    "follows": ["weight", "ts"],
    "purchases": ["weight", "ts"],
}
_START = {"item_topics": "item_id", "follows": "user_id", "purchases": "user_id"}


def _typed(name: str, col: pa.ChunkedArray) -> tuple[str, pa.ChunkedArray]:
    """Header entry and values of one property column."""
    t = col.type
    if name == "ts":
        stamp = pc.cast(col, pa.int64()).cast(pa.timestamp("s", tz="UTC"))
        return "ts:datetime", pc.strftime(stamp, format="%Y-%m-%dT%H:%M:%SZ")
    if pa.types.is_boolean(t):
        return f"{name}:boolean", col
    if pa.types.is_integer(t):
        return f"{name}:long", col
    if pa.types.is_floating(t):
        return f"{name}:double", col
    return name, pc.cast(col, pa.string())


def _write(
    folder: Path, name: str, header: list[str], columns: list[pa.ChunkedArray]
) -> list[Path]:
    head, data = folder / f"{name}.header.csv", folder / f"{name}.csv"
    head.write_text(",".join(header) + "\n", encoding="utf-8")
    table = pa.table({f"c{i}": c for i, c in enumerate(columns)})
    options = pcsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pcsv.write_csv(table, data, write_options=options)
    return [head, data]


def _has_newline(columns: list[pa.ChunkedArray]) -> bool:
    for c in columns:
        if pa.types.is_string(c.type) and pc.any(pc.match_substring(c, "\n")).as_py():
            return True
        if pa.types.is_string(c.type) and pc.any(pc.match_substring(c, "\r")).as_py():
            return True
    return False


def write_import_files(
    clean: CleanTables, folder: Path
) -> tuple[list[tuple[str, list[Path]]], list[tuple[str, list[Path]]], list[Path], int]:
    """Write the importer's input for ``clean`` into ``folder``.

    Returns:
        ``(nodes, relationships, multiline files, rows)`` — the first two as
        ``(label or type, [header, data])`` for :meth:`LocalServer.import_full`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    nodes, rels, multiline, rows = [], [], [], 0
    for table, label in _NODES.items():
        frame = clean.frames.get(table)
        if frame is None or frame.empty:
            continue
        key = KEYS[label]
        arrow = pa.Table.from_pandas(frame.drop(columns="_line"), preserve_index=False)
        header = [f"{key}:ID({label.value})"]
        columns = [pc.cast(arrow[key], pa.string())]
        for name in [*_FIELDS[table], *clean.extras.get(table, [])]:
            h, c = _typed(name, arrow[name])
            header.append(h)
            columns.append(c)
        files = _write(folder, table, header, columns)
        if _has_newline(columns):
            multiline.append(files[1])
        nodes.append((label.value, files))
        rows += len(frame)
    for part, (table, rel, start, end, end_col) in _RELS.items():
        frame = clean.frames.get(table)
        if frame is None or frame.empty:
            continue
        if table == "follows":
            frame = frame[frame["followee_type"] == part.split(".")[1]]
            if frame.empty:
                continue
        extras = clean.extras.get(table, []) if table == "purchases" else []
        arrow = pa.Table.from_pandas(
            frame[[_START[table], end_col, *_REL_FIELDS[table], *extras]], preserve_index=False
        )
        header = [f":START_ID({start.value})", f":END_ID({end.value})"]
        columns = [pc.cast(arrow[_START[table]], pa.string()), pc.cast(arrow[end_col], pa.string())]
        for name in [*_REL_FIELDS[table], *extras]:
            h, c = _typed(name, arrow[name])
            header.append(h)
            columns.append(c)
        files = _write(folder, part.replace(".", "_"), header, columns)
        if _has_newline(columns[2:]):
            multiline.append(files[1])
        rels.append((rel.value, files))
        rows += len(frame)
    return nodes, rels, multiline, rows


def _node_count(settings: Settings) -> int:
    with GraphStore.from_settings(settings) as store:
        return int(store.read("MATCH (n) RETURN count(n) AS n", op="bulk.empty")[0]["n"])


def bulk_import(
    settings: Settings,
    clean: CleanTables,
    report: IngestReport,
    *,
    progress: Callable[[str], object] | None = None,
) -> IngestReport:
    """Load validated tables with the bulk importer; see the module doc.

    Raises:
        InputError: ``NEO4J_URI`` points at another server, or the database is not empty.
    """
    if not settings.managed:
        raise InputError(
            f"--bulk writes the store files of the project-managed server, but NEO4J_URI="
            f"{settings.neo4j_uri} points at another one; load it without --bulk "
            "(transactional MERGE), or run `neo4j-admin database import full` on that server."
        )
    say = progress or (lambda msg: None)
    began = time.perf_counter()
    server = LocalServer(settings)
    was_running = server.status().running
    if server.database_exists():
        if not was_running:
            server.start()
        n = _node_count(settings)
        if n:
            raise InputError(
                f"--bulk imports into an empty database only, and the graph in "
                f"{server.data_dir} holds {n:,} nodes; load into it without --bulk (MERGE, "
                "idempotent), or stop the server and delete that folder to start afresh "
                "(this deletes the graph)."
            )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = server.root / "import" / f"bulk-{stamp}"
    say("writing the importer's input files")
    t0 = time.perf_counter()
    try:
        nodes, rels, multiline, rows = write_import_files(clean, folder)
        prepared = time.perf_counter() - t0
        say("stopping the server for the import")
        server.stop()
        say(f"importing {rows:,} rows with neo4j-admin")
        t1 = time.perf_counter()
        summary = server.import_full(nodes, rels, multiline=multiline)
        imported = time.perf_counter() - t1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not server.status().running:
            server.start()
    log.info("bulk import: %s", summary.replace("\n", " | "))
    say("creating the schema")
    t2 = time.perf_counter()
    with GraphStore.from_settings(settings) as store:
        ensure_schema(store)
        store.write_autocommit("CALL db.awaitIndexes($s)", {"s": 3600}, op="bulk.await_index")
    schema_s = time.perf_counter() - t2
    for name, t in report.tables.items():
        t.written = len(clean.frames.get(name, pd.DataFrame()))
        t.seconds = imported
    report.written = True
    report.bulk = {
        "rows": rows,
        "prepare_seconds": round(prepared, 2),
        "import_seconds": round(imported, 2),
        "schema_seconds": round(schema_s, 2),
        "rows_per_s": round(rows / imported) if imported else 0,
    }
    report.seconds += time.perf_counter() - began
    if not was_running:
        server.stop()
    return report
