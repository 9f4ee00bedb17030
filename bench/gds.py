"""The incumbent's recipe beside ours: Neo4j GDS FastRP + KNN vs export + GAT + write-back.

Usage::

    .venv/bin/python bench/gds.py [--dataset lastfm|ciao|epinions|synthetic] [--size N]
        [--gat-epochs 30] [--baselines MostPop,ItemKNN,BPR-MF] [--grid full|small]
        [--export DIR] [--json OUT.json]

Starts the bench server (``.bench/home``, GDS on), loads the dataset unless the graph already
holds it (no text embedding: neither path below uses text), then:

1. **quality** (the harness, one split: protocol ``random``, seed 0): the GDS baselines
   (``GDS-FastRP``, ``GDS-FastRP-KNN``: 24 trials each with ``--grid full``, 6 with
   ``--grid small``; chosen on validation Recall@20)
   beside the ``--baselines`` and the GAT (``--gat-epochs``, early stopping on validation;
   0 leaves it out), test metrics read once;
2. **GDS recipe, end to end in the server** on the whole graph, with the FastRP setting and
   ``top_k`` chosen in 1: project (Cypher projection of ``PURCHASED`` + user ``FOLLOWS``),
   embed (``gds.fastRP.mutate``), ``gds.knn.write`` of ``(:User)-[:BENCH_GDS_SIMILAR]->(:User)``
   (deleted afterwards), and recommendations in Cypher (what the similar users bought);
3. **ours, end to end**: export, GAT training (the run of 1), write-back.

Prints seconds, Python peak RSS and the Neo4j JVM's peak RSS after every stage, and the
quality table. ``--export DIR`` skips loading and exporting (quality only: the GDS
models need only the server, never the dataset in the graph).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import torch
from _common import bench_settings, prepare

from interestgraph.gnn.baselines import BPRMF, ItemKNN, MostPop
from interestgraph.gnn.evaluate import Harness, result_row
from interestgraph.gnn.gds_baselines import FASTRP_GRID, FastRPConfig, gds_models
from interestgraph.graphstore import GraphStore, LocalServer
from interestgraph.graphstore.gds import require_gds
from interestgraph.output import render

BASELINES = {"MostPop": MostPop, "ItemKNN": ItemKNN, "BPR-MF": BPRMF}
#: The FastRP settings validation chose on Last.fm and Ciao (bench/results/gds-2026-12-04-*).
SMALL_GRID = (FastRPConfig(256, (0.0, 1.0, 1.0, 1.0, 1.0), 0.0),
              FastRPConfig(256, (0.0, 1.0, 1.0, 1.0, 1.0), -0.5),
              FastRPConfig(256, (1.0, 1.0, 1.0, 1.0), 0.0))  # fmt: skip
COLUMNS = ["model", "recall@10", "ndcg@10", "recall@20", "ndcg@20", "mrr", "coverage@20",
           "train_seconds"]  # fmt: skip


class Meter:
    """Seconds and peak RSS (this process, the Neo4j JVM) of consecutive stages."""

    def __init__(self, neo4j_pid: int | None) -> None:
        self.pid, self.rows = neo4j_pid, []
        self.t = time.perf_counter()

    def _jvm_peak_gib(self) -> float | None:
        if self.pid is None:
            return None
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 2**20, 2)
        return None

    def stage(self, path: str, name: str, what: str = "") -> None:
        """Close a stage that began when the previous one ended."""
        now = time.perf_counter()
        self.rows.append({
            "path": path, "stage": name, "seconds": round(now - self.t, 1), "what": what,
            "python_peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "neo4j_peak_gib": self._jvm_peak_gib(),
        })  # fmt: skip
        print(f"  {path} {name}: {now - self.t:.1f}s {what}", flush=True)
        self.t = time.perf_counter()

    def restart(self) -> None:
        """Start timing the next stage now."""
        self.t = time.perf_counter()


def gds_recipe(store: GraphStore, meter: Meter, config: FastRPConfig, top_k: int) -> dict:
    """The recipe a Neo4j shop runs today, on the whole graph, timed stage by stage."""
    name = f"bench-gds-{uuid.uuid4().hex[:8]}"
    meter.restart()
    g = store.read(
        "MATCH (u:User)-[:PURCHASED|FOLLOWS]->(x) WHERE x:Item OR x:User "
        "WITH gds.graph.project($name, u, x, {sourceNodeLabels: labels(u), "
        "targetNodeLabels: labels(x)}, {undirectedRelationshipTypes: ['*']}) AS g "
        "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels",
        {"name": name},
    )[0]
    meter.stage("GDS", "project", f"{g['nodes']:,} nodes, {g['rels']:,} relationships")
    try:
        store.read(
            "CALL gds.fastRP.mutate($name, $c) YIELD nodePropertiesWritten RETURN 1",
            {"name": name, "c": config.gds("fastrp")},
        )
        meter.stage("GDS", "embed (fastRP.mutate)", f"{config.embedding_dimension}-d")
        store.write(
            "CALL gds.knn.write($name, {nodeLabels: ['User'], nodeProperties: ['fastrp'], "
            "topK: $k, writeRelationshipType: 'BENCH_GDS_SIMILAR', writeProperty: 'score', "
            "concurrency: 4}) YIELD relationshipsWritten RETURN relationshipsWritten AS n",
            {"name": name, "k": top_k},
        )
        written = store.read("MATCH ()-[r:BENCH_GDS_SIMILAR]->() RETURN count(r) AS n")[0]["n"]
        meter.stage("GDS", "knn.write", f"{written:,} relationships, top_k {top_k}")
        users = [r["u"] for r in store.read("MATCH (u:User) RETURN u.user_id AS u LIMIT 200")]
        t0 = time.perf_counter()
        for u in users:
            store.read(
                "MATCH (u:User {user_id: $u})-[s:BENCH_GDS_SIMILAR]->(v)-[:PURCHASED]->(i:Item) "
                "WHERE NOT (u)-[:PURCHASED]->(i) "
                "RETURN i.item_id AS item, sum(s.score) AS score ORDER BY score DESC LIMIT 10",
                {"u": u},
            )
        per = (time.perf_counter() - t0) / max(len(users), 1)
        meter.stage("GDS", "recommend (Cypher)", f"{len(users)} users, {per * 1000:.1f} ms each")
    finally:
        store.read("CALL gds.graph.drop($name, false) YIELD graphName RETURN 1", {"name": name})
        store.write_autocommit(
            "MATCH ()-[r:BENCH_GDS_SIMILAR]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS"
        )
    return {"nodes": g["nodes"], "relationships": g["rels"], "knn_relationships": written}


def main() -> None:
    """Run both paths and print the stage and quality tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="lastfm",
                        choices=["lastfm", "ciao", "epinions", "synthetic"])  # fmt: skip
    parser.add_argument("--size", type=int, default=100_000, help="Synthetic purchases.")
    parser.add_argument("--gat-epochs", type=int, default=30, help="0: no GAT.")
    parser.add_argument("--baselines", default="MostPop,ItemKNN,BPR-MF")
    parser.add_argument("--grid", choices=["full", "small"], default="full",
                        help="full: the 12 FastRP settings of FASTRP_GRID; small: the 3 that "
                        "validation chose on Last.fm and Ciao (for large catalogues).")  # fmt: skip
    parser.add_argument("--export", type=Path, help="Use this export (quality only).")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from interestgraph.sync import export_graph, load_export

    settings = bench_settings()
    server = LocalServer(settings)
    status = server.start()
    meter = Meter(status.pid)
    grid = FASTRP_GRID if args.grid == "full" else SMALL_GRID
    stages: list[dict] = []
    with GraphStore.from_settings(settings) as store:
        version = require_gds(store, "bench/gds.py", settings)
        if args.export:
            data, maps, info = load_export(args.export)
            dataset = args.export.name
        else:
            prepare(store, args.dataset, args.size, embed=False)  # neither path reads text
            meter.restart()
            data, maps, info = export_graph(store)
            meter.stage("ours", "export", f"{data.num_edges:,} tensor edges (reverses included)")
            dataset = args.dataset
        harness = Harness(data, "random", 0)
        rows, chosen = [], {}
        for name in [b for b in args.baselines.split(",") if b]:
            t0 = time.perf_counter()
            model = BASELINES[name]().fit(harness.train, validate=harness.validate)
            rows.append(result_row(harness, name, harness.test(model),
                                   time.perf_counter() - t0, dataset))  # fmt: skip
        for name, factory in gds_models(store, grid).items():
            t0 = time.perf_counter()
            model = factory(data).fit(harness.train, validate=harness.validate)
            row = result_row(harness, name, harness.test(model), time.perf_counter() - t0, dataset)
            row["chosen"] = chosen[name] = model.best
            rows.append(row)
            print(f"  {name}: chose {model.best}", flush=True)
        gat = None
        if args.gat_epochs and not args.export:
            from interestgraph.gnn.job import train_job
            from interestgraph.gnn.train import GATConfig
            from interestgraph.sync.writeback import writeback

            folder = Path(tempfile.mkdtemp(prefix="bench-gds-gat-"))
            meter.restart()
            gat = train_job(data, folder, config=GATConfig(epochs=args.gat_epochs),
                            harness=harness, maps=maps, export_meta=info.as_dict())  # fmt: skip
            meter.stage("ours", "train (GAT)", f"{gat.epochs} epochs (cap {args.gat_epochs})")
            rows.append(
                {**gat.metrics, "model": f"GAT ({gat.epochs} epochs, cap {args.gat_epochs})"}
            )
            meter.restart()
            report = writeback(store, folder, progress=False)
            meter.stage("ours", "writeback", f"{sum(report.embeddings.values()):,} embeddings, "
                        f"{sum(report.edges.values()):,} edges")  # fmt: skip
        if not args.export:
            knn = chosen["GDS-FastRP-KNN"]
            config = FastRPConfig(knn["embedding_dimension"], tuple(knn["iteration_weights"]),
                                  knn["normalization_strength"])  # fmt: skip
            recipe = gds_recipe(store, meter, config, int(knn["knob"]))
        else:
            recipe = None
        stages = meter.rows
    print(f"\n{dataset}, protocol random (seed 0), {rows[0]['users']} test users, GDS {version}, "
          f"{datetime.now(UTC):%Y-%m-%d}, torch threads {torch.get_num_threads()}")  # fmt: skip
    print(render([{c: r.get(c) for c in COLUMNS} for r in rows], "table"))
    if stages:
        print()
        print(render(stages, "table"))
    if args.json:
        args.json.write_text(json.dumps({"dataset": dataset, "gds": version, "quality": rows,
                                         "stages": stages, "recipe": recipe,
                                         "grid": [c.__dict__ for c in grid]},
                                        indent=2, default=str))  # fmt: skip


if __name__ == "__main__":
    main()
