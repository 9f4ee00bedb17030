"""Serving and write-back speed on Last.fm: ``recommend`` latency and write-back throughput.

Usage::

    .venv/bin/python bench/serve.py [--run DIR] [--epochs 5] [--calls 1000] [--naive-rows 2000]

Uses its own server in ``.bench/home`` (ports 27687/27474, never your graph) with Last.fm
loaded and embedded (``INTERESTGRAPH_DATASETS``). Trains a short GAT run (or takes
``--run``, a ``train`` output folder for this export), then prints, side by side:

* write-back: our batched writer (embeddings/s, edges/s) beside a one-row-per-transaction
  writer on a sample of the same rows;
* ``recommend`` p50/p99 latency through Neo4j at concurrency 1 and 8, beside a brute-force
  numpy top-K over the same embeddings in-process (the floor without a database).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bench_settings, percentiles, prepare

from interestgraph.output import render


def naive_writes(store, folder: Path, slot: int, n: int) -> dict[str, float]:
    """One transaction per row: ``n`` embeddings and ``n`` edges (then removed)."""
    from interestgraph.gnn.infer import Inference
    from interestgraph.sync.idmaps import IdMaps

    inf = Inference.load(folder / "inference.pt")
    maps = IdMaps.load(folder, ["user", "item"])
    prop = f"embedding_{slot}"
    vec = np.hstack([inf.embeddings["item"], np.zeros((len(inf.embeddings["item"]), 1))])
    t0 = time.perf_counter()
    for i in range(min(n, len(vec))):
        store.write(
            "MATCH (n:Item {item_id: $id}) CALL db.create.setNodeVectorProperty(n, $p, $v)",
            {"id": str(maps.keys["item"][i]), "p": prop, "v": vec[i].astype(np.float32).tolist()},
        )
    emb_s = min(n, len(vec)) / (time.perf_counter() - t0)
    tk = inf.lists["item_items"]
    pairs = [(a, b) for a in range(len(tk.index)) for b in tk.index[a] if b >= 0][:n]
    t0 = time.perf_counter()
    for rank, (a, b) in enumerate(pairs):
        store.write(
            "MATCH (a:Item {item_id: $a}) MATCH (b:Item {item_id: $b}) "
            "CREATE (a)-[:SIMILAR_TO {run_id: 'bench-naive', score: 0.0, rank: $r}]->(b)",
            {"a": str(maps.keys["item"][a]), "b": str(maps.keys["item"][b]), "r": rank},
        )
    edge_s = len(pairs) / (time.perf_counter() - t0)
    store.write("MATCH ()-[x:SIMILAR_TO {run_id: 'bench-naive'}]->() DELETE x")
    return {"embeddings_per_s": round(emb_s), "edges_per_s": round(edge_s)}


def latency(ig, users: list[str], calls: int, threads: int) -> dict[str, float]:
    """``recommend`` latency over ``calls`` calls spread over ``threads`` threads."""

    def one(u: str) -> float:
        t0 = time.perf_counter()
        ig.recommend(u, k=10)
        return time.perf_counter() - t0

    picks = [users[i % len(users)] for i in range(calls)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        times = list(pool.map(one, picks))
    wall = time.perf_counter() - t0
    return {**percentiles(times), "calls_per_s": round(calls / wall)}


def numpy_latency(folder: Path, bought: list[np.ndarray], calls: int) -> dict[str, float]:
    """Brute-force top-10 over the same embeddings, one user per call."""
    from interestgraph.gnn.infer import Inference

    inf = Inference.load(folder / "inference.pt")
    h_u, h_i = inf.embeddings["user"], inf.embeddings["item"]
    times = []
    for c in range(calls):
        u = c % len(h_u)
        t0 = time.perf_counter()
        s = h_i @ h_u[u]
        s[bought[u]] = -np.inf
        top = np.argpartition(-s, 10)[:10]
        top[np.argsort(-s[top])]
        times.append(time.perf_counter() - t0)
    return percentiles(times)


def main() -> None:
    """Run the serving benchmark and print both sides."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="A train output folder for this export.")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--naive-rows", type=int, default=2000)
    args = parser.parse_args()

    from interestgraph.api import InterestGraph
    from interestgraph.gnn.job import purchased_lists, train_job
    from interestgraph.gnn.train import GATConfig
    from interestgraph.graphstore import GraphStore, LocalServer
    from interestgraph.sync import export_graph
    from interestgraph.sync.writeback import current_run, writeback

    settings = bench_settings()
    server = LocalServer(settings)
    server.start()
    try:
        with GraphStore.from_settings(settings) as store:
            prepare(store, "lastfm", 0)
            data, maps, info = export_graph(store)
            folder = args.run
            if folder is None:
                folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
                train_job(
                    data, folder, config=GATConfig(epochs=args.epochs), device="cpu",
                    run_id=f"gat-bench-{datetime.now(UTC):%Y%m%dT%H%M%S}",
                    export_meta=info.as_dict(), maps=maps,
                )  # fmt: skip
            # first write-back into an empty slot, then two more runs (same vectors, new run
            # ids): the third reuses the first one's slot, the steady state of a live graph
            first = writeback(store, folder, progress=False).as_dict()
            for n in (2, 3):
                again = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "run"
                shutil.copytree(folder, again)
                meta = json.loads((again / "run.json").read_text())
                meta["run_id"] = f"{meta['run_id']}-{n}"
                (again / "run.json").write_text(json.dumps(meta))
                report = writeback(store, again, progress=False)
            ours = report.as_dict()
            slot = 1 - int(current_run(store)["slot"])
            naive = naive_writes(store, folder, slot, args.naive_rows)
            ig = InterestGraph(store)
            users = [str(k) for k in maps.keys["user"]]
            latency(ig, users[:50], 100, 1)  # warm-up: plans and page cache
            rows = [
                {"path": "recommend via Neo4j", "concurrency": 1,
                 **latency(ig, users, args.calls, 1)},
                {"path": "recommend via Neo4j", "concurrency": 8,
                 **latency(ig, users, args.calls * 2, 8)},
                {"path": "brute-force numpy (in-process)", "concurrency": 1,
                 **numpy_latency(folder, purchased_lists(data), args.calls)},
            ]  # fmt: skip
    finally:
        server.stop()
    print(
        f"Last.fm, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Neo4j {info.as_dict().get('server', '5')}"
    )
    print("\nwrite-back (ours batched vs one row per transaction):")
    written = f"{sum(report.embeddings.values()):,} emb / {sum(report.edges.values()):,} edges"
    writers = [
        {"writer": "batched (ours), first run into an empty slot",
         "embeddings_per_s": first["embeddings_per_s"], "edges_per_s": first["edges_per_s"],
         "rows": written},
        {"writer": "batched (ours), third run (slot reused)",
         "embeddings_per_s": ours["embeddings_per_s"], "edges_per_s": ours["edges_per_s"],
         "rows": written},
        {"writer": "one row per tx", **naive, "rows": f"{args.naive_rows:,} each"},
    ]  # fmt: skip
    print(render(writers))
    print("\nrecommend latency (k=10):")
    print(render(rows))


if __name__ == "__main__":
    main()
