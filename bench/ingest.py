"""Ingest throughput: batched UNWIND+MERGE against one transaction per row, in one run.

Usage::

    .venv/bin/python bench/ingest.py [--per-row-sample 3000] [--skip-1m]

Starts (or reuses) a local server in ``.bench/home`` on ports 27687/27474 — never the
user's graph — wipes it, and prints:

1. Last.fm PURCHASED (92,834 relationships): batched path vs one transaction per row on a
   sample, rows/s and the ratio, after a warm-up load (median of three fresh loads); both
   with and without ``neo4j-rust-ext`` (the second measurement runs in a child process
   where the Rust extension is blocked);
2. the batched rate for a whole synthetic shop at 100k and 1M purchases (all tables).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _common import bench_settings  # noqa: E402  (sibling benchmark module)


def _block_rust() -> None:
    for name in ("neo4j._rust", "neo4j_rust_ext"):
        sys.modules[name] = None  # type: ignore[assignment]  # makes the import fail


def _settings():
    return bench_settings()


def _wipe(store) -> None:
    store.write_autocommit("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS")
    store.write_autocommit("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS")


def _per_row(store, query: str, rows: list[dict]) -> float:
    began = time.perf_counter()
    for row in rows:
        store.write(query, {"rows": [row]}, op="bench.per_row")
    return len(rows) / (time.perf_counter() - began)


def measure_lastfm(sample: int) -> dict:
    """Batched vs per-row on Last.fm purchases; returns rows/s figures."""
    from interestgraph.datasets import load_lastfm
    from interestgraph.graphstore import GraphStore
    from interestgraph.ingest import ingest
    from interestgraph.ingest.load import QUERIES, load_frame, rows_for
    from interestgraph.ingest.validate import validate

    settings = _settings()
    ds = load_lastfm(settings.datasets_dir)
    clean = validate(ds.tables)
    purchases = clean.frames["purchases"]
    with GraphStore.from_settings(settings) as store:
        _wipe(store)
        nodes = {k: v for k, v in ds.tables.items() if k in ("users", "items", "topics")}
        ingest(store, nodes, progress=False)
        drop = "MATCH ()-[r:PURCHASED]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS"
        load_frame(store, "purchases", purchases, [])  # warm-up: JIT, page cache
        rates = []
        for _ in range(3):  # fresh loads: median of three
            store.write_autocommit(drop)
            began = time.perf_counter()
            stats = load_frame(store, "purchases", purchases, [])
            rates.append(stats.rows / (time.perf_counter() - began))
            assert stats.counters.get("relationships_created") == len(purchases)
        batched = sorted(rates)[1]
        began = time.perf_counter()
        load_frame(store, "purchases", purchases, [])
        rerun = len(purchases) / (time.perf_counter() - began)
        store.write_autocommit(drop)
        rows = list(rows_for("purchases", purchases.iloc[:sample], [], sample))
        per_row = _per_row(store, QUERIES["purchases"], rows)
    return {
        "relationships": len(purchases),
        "batched_rows_per_s": round(batched),
        "batched_rerun_rows_per_s": round(rerun),
        "per_row_sample": sample,
        "per_row_rows_per_s": round(per_row, 1),
        "ratio": round(batched / per_row, 1),
    }


def measure_synthetic(size: int) -> dict:
    """Whole synthetic shop of ``size`` purchases through the public ingest path."""
    from interestgraph.datasets import generate
    from interestgraph.graphstore import GraphStore
    from interestgraph.ingest import ingest

    settings = _settings()
    with GraphStore.from_settings(settings) as store:
        _wipe(store)
        ds = generate(size=size, seed=1)
        report = ingest(store, ds.tables, progress=False)
    rels = sum(report.tables[t].written for t in ("purchases", "follows", "item_topics"))
    rel_seconds = sum(report.tables[t].seconds for t in ("purchases", "follows", "item_topics"))
    return {
        "size": size,
        "rows": report.rows_written,
        "seconds_total_incl_validation": round(report.seconds, 1),
        "rows_per_s": round(report.rows_written / report.seconds),
        "relationships_per_s": round(rels / rel_seconds),
        "purchases_per_s": round(
            report.tables["purchases"].written / report.tables["purchases"].seconds
        ),
    }


def main() -> None:
    """Run the benchmark and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-row-sample", type=int, default=3000)
    parser.add_argument("--skip-1m", action="store_true", help="Only 100k synthetic purchases.")
    parser.add_argument("--child", choices=["norust"], help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    if args.child == "norust":
        _block_rust()
        print(json.dumps(measure_lastfm(args.per_row_sample)))
        return

    from interestgraph.graphstore import LocalServer

    server = LocalServer(_settings())
    server.start()
    try:
        import neo4j._codec.packstream.v1 as pv1  # driver internals, only to report

        rust = getattr(pv1, "_rust_pack", None) is not None
        with_rust = measure_lastfm(args.per_row_sample)
        child = subprocess.run(
            [sys.executable, __file__, "--child", "norust", "--per-row-sample",
             str(args.per_row_sample)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        without_rust = json.loads(child.stdout.strip().splitlines()[-1])
        synth = [measure_synthetic(100_000)]
        if not args.skip_1m:
            synth.append(measure_synthetic(1_000_000))
    finally:
        server.stop()
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "rust_ext_loaded": rust,
        "lastfm_with_rust_ext": with_rust,
        "lastfm_without_rust_ext": without_rust,
        "synthetic": synth,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"ingest benchmark — {result['date']} — {result['machine']}")
    print(f"Last.fm PURCHASED, {with_rust['relationships']:,} relationships (fresh graph):")
    for label, r in (("with neo4j-rust-ext", with_rust), ("pure-Python driver", without_rust)):
        print(
            f"  {label:22s} batched {r['batched_rows_per_s']:>8,} rows/s "
            f"(re-run {r['batched_rerun_rows_per_s']:,}) | one tx per row "
            f"{r['per_row_rows_per_s']:>7,.0f} rows/s on {r['per_row_sample']:,} rows | "
            f"ratio {r['ratio']:.0f}x"
        )
    for s in synth:
        print(
            f"synthetic {s['size']:>9,} purchases: {s['rows']:,} rows in "
            f"{s['seconds_total_incl_validation']}s = {s['rows_per_s']:,} rows/s overall, "
            f"{s['relationships_per_s']:,} relationships/s, purchases {s['purchases_per_s']:,}/s"
        )


if __name__ == "__main__":
    main()
