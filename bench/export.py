"""Export throughput: our chunked export against naive per-record reads, in one run.

Usage::

    .venv/bin/python bench/export.py [--dataset lastfm|synthetic] [--size N]

Uses its own server in ``.bench/home`` (ports 27687/27474, never your graph), loads the
dataset and its text embeddings if missing, then prints for the same graph:

* topology (all four edge types): ``export_graph``'s edge phase (server-side ``collect``
  per source node, ids mapped with pandas) vs a naive ``.data()`` per record + pandas
  mapping vs per-record tuples without ``collect``: edges/s and ratios;
* text embeddings read back (384 floats per row): chunked ``collect`` vs ``.data()``
  per record: rows/s;
* sentence encoding on this machine's CPU: sentences/s;
* the same topology figures without ``neo4j-rust-ext`` (child process with it blocked).
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _common import prepare  # noqa: E402  (sibling benchmark module)
from ingest import _block_rust, _settings  # noqa: E402  (sibling benchmark script)

_EDGES = {
    "PURCHASED": ("User", "user_id", "Item", "item_id"),
    "FOLLOWS": ("User", "user_id", "User", "user_id"),
    "FOLLOWS_T": ("User", "user_id", "Topic", "topic_id"),
    "HAS_TOPIC": ("Item", "item_id", "Topic", "topic_id"),
}


def _pattern(name: str) -> str:
    a, _, b, _ = _EDGES[name]
    rel = "FOLLOWS" if name.startswith("FOLLOWS") else name
    return f"(x:{a})-[r:{rel}]->(y:{b})"


def naive_topology(store) -> tuple[int, float]:
    """``.data()`` per record → DataFrame → dict lookups: the tutorial path."""
    began = time.perf_counter()
    total = 0
    ids: dict[str, dict[str, int]] = {}
    for label, key in (("User", "user_id"), ("Item", "item_id"), ("Topic", "topic_id")):
        rows = store.read(f"MATCH (n:{label}) RETURN n.{key} AS k")
        ids[label] = {r["k"]: i for i, r in enumerate(sorted(rows, key=lambda r: r["k"]))}
    for name, (a, ka, b, kb) in _EDGES.items():
        rows = store.read(
            f"MATCH {_pattern(name)} RETURN x.{ka} AS s, y.{kb} AS d, r.weight AS w, "
            "r.ts.epochSeconds AS t"
        )
        frame = pd.DataFrame(rows)
        src = frame["s"].map(ids[a]).to_numpy()
        dst = frame["d"].map(ids[b]).to_numpy()
        np.stack([src, dst])
        total += len(frame)
    return total, time.perf_counter() - began


def tuples_topology(store) -> tuple[int, float]:
    """One record per edge, read column-wise (no dicts), ids mapped with pandas."""
    began = time.perf_counter()
    total = 0
    for name, (_, ka, _, kb) in _EDGES.items():
        cols = store.read_columns(
            f"MATCH {_pattern(name)} RETURN x.{ka} AS s, y.{kb} AS d, r.weight AS w"
        )
        pd.Index(sorted(set(cols["s"]))).get_indexer(cols["s"])
        total += len(cols["s"])
    return total, time.perf_counter() - began


def ours_topology(store) -> tuple[int, float]:
    """``export_graph`` without features: nodes + edges + fidelity counts."""
    from interestgraph.sync.export import export_graph

    _, _, info = export_graph(store, reverse=False)
    edges = sum(v for k, v in info.counts.items() if k.startswith("edges:"))
    # exclude the feature phase: report topology (nodes + edges + checks) only
    return edges, info.seconds["nodes"] + info.seconds["edges"]


def vectors(store, label: str, key: str) -> dict:
    """Text-embedding read-back: chunked collect vs .data() per record."""
    from interestgraph.graphstore.schema import Label
    from interestgraph.sync.export import _read_vectors

    keys = np.array(sorted(r["k"] for r in store.read(f"MATCH (n:{label}) RETURN n.{key} AS k")))
    began = time.perf_counter()
    _read_vectors(store, Label(label), keys)
    ours = len(keys) / (time.perf_counter() - began)
    began = time.perf_counter()
    recs = store.read(f"MATCH (n:{label}) RETURN n.{key} AS k, n.text_embedding AS v")
    np.asarray([r["v"] for r in recs if r["v"]], dtype=np.float32)
    naive = len(recs) / (time.perf_counter() - began)
    return {"rows": len(keys), "ours_rows_per_s": round(ours), "naive_rows_per_s": round(naive)}


def encoding(store, n: int = 4000) -> dict:
    """Sentences/s of the default text model on CPU."""
    from interestgraph.embedding import TextEncoder

    texts = [r["t"] for r in store.read(f"MATCH (i:Item) RETURN i.title AS t LIMIT {n}")]
    enc = TextEncoder(device="cpu", batch_size=128)
    enc.encode(texts[:64])  # load + warm-up
    began = time.perf_counter()
    enc.encode(texts)
    return {
        "sentences": len(texts),
        "sentences_per_s": round(len(texts) / (time.perf_counter() - began)),
    }


def topology(store) -> dict:
    """The three topology paths, best of two runs each."""
    out = {}
    for name, fn in (
        ("ours", ours_topology),
        ("naive_data_pandas", naive_topology),
        ("per_record_tuples", tuples_topology),
    ):
        runs = [fn(store) for _ in range(2)]
        edges, secs = min(runs, key=lambda r: r[1])
        out[name] = {"edges": edges, "seconds": round(secs, 3), "edges_per_s": round(edges / secs)}
    return out


def main() -> None:
    """Run and print the export benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["lastfm", "synthetic"], default="lastfm")
    parser.add_argument("--size", type=int, default=1_000_000, help="synthetic purchases")
    parser.add_argument("--child", choices=["norust"], help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        _block_rust()
    from interestgraph.graphstore import GraphStore, LocalServer

    settings = _settings()
    if args.child:
        with GraphStore.from_settings(settings) as store:
            print(json.dumps(topology(store)))
        return
    server = LocalServer(settings)
    server.start()
    try:
        with GraphStore.from_settings(settings) as store:
            prepare(store, args.dataset, args.size)
            topo = topology(store)
            vec = vectors(store, "Item", "item_id")
            enc = encoding(store)
        child = subprocess.run(
            [sys.executable, __file__, "--child", "norust"],
            capture_output=True,
            text=True,
            check=True,
        )
        norust = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "dataset": args.dataset if args.dataset == "lastfm" else f"synthetic({args.size})",
        "topology_with_rust_ext": topo,
        "topology_without_rust_ext": norust,
        "text_vectors": vec,
        "encoding_cpu": enc,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"export benchmark — {result['date']} — {result['machine']} — {result['dataset']}")
    for label, topo_ in (("with neo4j-rust-ext", topo), ("pure-Python driver", norust)):
        ours = topo_["ours"]["edges_per_s"]
        print(f"topology, {label} ({topo_['ours']['edges']:,} edges):")
        for name, r in topo_.items():
            print(
                f"  {name:20s} {r['edges_per_s']:>10,} edges/s  ({r['seconds']}s)  "
                f"ours/this = {ours / r['edges_per_s']:.1f}x"
            )
    print(
        f"text vectors ({vec['rows']:,} x 384): ours {vec['ours_rows_per_s']:,} rows/s, "
        f"naive .data() {vec['naive_rows_per_s']:,} rows/s"
    )
    print(f"encoding on CPU: {enc['sentences_per_s']:,} sentences/s ({enc['sentences']:,} titles)")


if __name__ == "__main__":
    main()
