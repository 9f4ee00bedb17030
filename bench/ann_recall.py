"""Recall of `recommend` (vector index) against the exact top-K, by candidates and HNSW build.

Usage::

    .venv/bin/python bench/ann_recall.py --run DIR [--users 500] [--candidates 100,200,400,800]
        [--hnsw 16/100,32/200]

``recommend`` ranks candidates by the exact model score. They come from the user's stored
exact top-N list (``top_items_<slot>``, written back) and, when that list cannot answer
(new users, ``k`` beyond it), from the item vector index (HNSW, approximate), so it can
only miss an item the index did not return. This script measures both paths: the served
path as written back, then the index alone (the stored lists removed for the measurement
and written again afterwards). Uses the bench server
(``.bench/home``, ports 27687/27474, Last.fm loaded like ``bench/serve.py``); ``--run`` is a
``train`` output folder for that export (written back first; skipped when already complete).
For the served path, then for each index build (``m/ef_construction``: the current slot's
item index is dropped and rebuilt) and each candidate count, it calls
``InterestGraph.recommend`` for a sample of users and prints, beside the exact
brute-force top-K in numpy over the same embeddings:

* recall@K: the share of the exact top-K items that ``recommend`` returned;
* exact lists: the share of users whose list equals the exact list, in order;
* p50 / p99 latency of the call (concurrency 1).

At the end the index is rebuilt the way ``writeback`` builds it and the lists restored.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bench_settings, percentiles

from interestgraph.output import render


def exact_top_k(
    h_u: np.ndarray, h_i: np.ndarray, bought: list[np.ndarray], k: int, users: list[int]
) -> dict[int, np.ndarray]:
    """For ``users``, the exact top-``k`` item indices by dot product, purchases excluded."""
    out = {}
    for u in users:
        s = h_i @ h_u[u]
        s[bought[u]] = -np.inf
        top = np.argpartition(-s, k)[:k]
        out[u] = top[np.argsort(-s[top], kind="stable")]
    return out


def rebuild_item_index(store, slot: int, dim: int, m: int | None, ef: int | None) -> float:
    """Drop and rebuild the serving slot's item index with this HNSW build; seconds taken."""
    from interestgraph.graphstore.schema import Label, ensure_vector_index, vector_index_name
    from interestgraph.sync.writeback import embedding_property

    prop = embedding_property(slot)
    t0 = time.perf_counter()
    store.write(f"DROP INDEX {vector_index_name(Label.ITEM, prop)} IF EXISTS")
    ensure_vector_index(
        store, Label.ITEM, prop, dim, quantized=False, hnsw_m=m, hnsw_ef_construction=ef
    )
    store.write_autocommit("CALL db.awaitIndexes($s)", {"s": 3600})
    return time.perf_counter() - t0


def measure(ig, users: list[int], keys: np.ndarray, exact: dict, k: int) -> dict[str, float]:
    """Recall@k, exact-list share and latency of ``recommend`` for ``users``."""
    hits, same, times = 0, 0, []
    for u in users:
        t0 = time.perf_counter()
        got = [r.item_id for r in ig.recommend(str(keys[u]), k=k)]
        times.append(time.perf_counter() - t0)
        want = [str(x) for x in exact[u]]
        hits += len(set(got) & set(want))
        same += got == want
    return {
        f"recall@{k}": round(hits / (k * len(users)), 5),
        "exact_lists": round(same / len(users), 4),
        **{k_: v for k_, v in percentiles(times).items() if k_ != "mean_ms"},
    }


def main() -> None:
    """Measure and print recall and latency per index build and candidate count."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="A train output folder.")
    parser.add_argument("--users", type=int, default=500, help="Users sampled (0: all).")
    parser.add_argument("--candidates", default="100,200,400,800")
    parser.add_argument("--hnsw", default="16/100,32/200", help="m/ef_construction builds.")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from interestgraph.api import InterestGraph
    from interestgraph.gnn.infer import Inference
    from interestgraph.graphstore import GraphStore, LocalServer
    from interestgraph.sync.idmaps import IdMaps
    from interestgraph.sync.writeback import (
        HNSW_EF_CONSTRUCTION,
        HNSW_M,
        current_run,
        top_items_property,
        write_top_items,
        writeback,
    )

    settings = bench_settings()
    server = LocalServer(settings)
    server.start()
    inf = Inference.load(args.run / "inference.pt")
    maps = IdMaps.load(args.run, ["user", "item"])
    rows = []
    try:
        with GraphStore.from_settings(settings) as store:
            writeback(store, args.run, progress=False)
            run = current_run(store)
            pairs = store.read_columns(
                "MATCH (u:User)-[:PURCHASED]->(i:Item) RETURN u.user_id AS u, i.item_id AS i"
            )
            uix = maps.index("user", pairs["u"])
            iix = maps.index("item", pairs["i"])
            bought = [np.sort(iix[uix == u]) for u in range(maps.num_nodes("user"))]
            n_users = maps.num_nodes("user")
            rng = np.random.default_rng(args.seed)
            users = sorted(rng.choice(n_users, min(args.users or n_users, n_users), replace=False))
            t0 = time.perf_counter()
            exact = exact_top_k(
                inf.embeddings["user"], inf.embeddings["item"], bought, args.k, users
            )
            numpy_ms = (time.perf_counter() - t0) / len(users) * 1000
            exact = {u: maps.keys["item"][e] for u, e in exact.items()}
            dim = inf.embeddings["item"].shape[1] + 1
            stored = top_items_property(int(run["slot"]))
            ig = InterestGraph(store, settings)
            measure(ig, users[:20], maps.keys["user"], exact, args.k)  # warm-up
            served = measure(ig, users, maps.keys["user"], exact, args.k)
            rows.append({"path": "served (stored top-N + index)", **served})
            print(rows[-1], flush=True)
            store.write(f"MATCH (u:User) REMOVE u.{stored}")
            for build in args.hnsw.split(","):
                m, ef = (int(x) for x in build.split("/"))
                seconds = rebuild_item_index(store, int(run["slot"]), dim, m, ef)
                for c in (int(x) for x in args.candidates.split(",")):
                    ig = InterestGraph(store, settings.with_overrides(ann_candidates=c))
                    measure(ig, users[:20], maps.keys["user"], exact, args.k)  # warm-up
                    rows.append(
                        {
                            "path": f"index only, m/ef_construction {build}",
                            "index build s": round(seconds, 1),
                            "candidates": c,
                            **measure(ig, users, maps.keys["user"], exact, args.k),
                        }
                    )
                    print(rows[-1], flush=True)
            rebuild_item_index(store, int(run["slot"]), dim, HNSW_M, HNSW_EF_CONSTRUCTION)
            write_top_items(store, maps, inf.lists["user_items"], int(run["slot"]))
    finally:
        server.stop()
    print(
        f"\n{run['run_id']}: {len(users)} users, {maps.num_nodes('item'):,} items, "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores"
    )
    print(render(rows))
    print(f"exact brute force in numpy (recall 1 by definition): {numpy_ms:.2f} ms per user")


if __name__ == "__main__":
    main()
