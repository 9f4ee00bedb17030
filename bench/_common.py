"""Shared by the benchmarks: the bench server's settings, dataset preparation, summaries."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def bench_settings():
    """Settings of the benchmark server: ``.bench/home``, ports 27687/27474."""
    from interestgraph.config import Settings

    return Settings.from_env(
        {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")},
        home=ROOT / ".bench" / "home",
        bolt_port=27687,
        http_port=27474,
    )


def prepare(store, dataset: str, size: int, *, embed: bool = True) -> None:
    """Load ``dataset`` (and, with ``embed``, its text embeddings) unless the graph holds it."""
    from interestgraph.datasets import load_dataset
    from interestgraph.embedding import TextEncoder, embed_graph_text
    from interestgraph.ingest import ingest

    ds = load_dataset(dataset, bench_settings().datasets_dir, size=size, seed=1)
    users = store.read("MATCH (u:User) RETURN count(u) AS n")[0]["n"]
    if users != len(ds.tables["users"].frame):
        store.write_autocommit(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS"
        )
        store.write_autocommit("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 50000 ROWS")
        ingest(store, ds.tables, progress=False)
    if embed:
        embed_graph_text(store, TextEncoder(), progress=False)


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50 / p99 / mean in milliseconds."""
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


def growth(rows: list[dict], size: str, group: str, value: str, digits: int = 2) -> dict:
    """Per ``group``: ``value``'s ratio between the two largest ``size``s over their size
    ratio (1.0 = linear); empty with fewer than two sizes. Printed as ``growth[g]=R``."""
    sizes = sorted({r[size] for r in rows})
    if len(sizes) < 2:
        return {}
    a, b = sizes[-2], sizes[-1]
    out = {}
    for g in dict.fromkeys(r[group] for r in rows):
        t = {r[size]: r[value] for r in rows if r[group] == g}
        out[g] = round(t[b] / t[a] / (b / a), digits)
    print(" ".join(f"growth[{k}]={v}" for k, v in out.items()))
    return out
