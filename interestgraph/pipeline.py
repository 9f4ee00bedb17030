"""The main job, end to end: ingest → embed → export → train → infer → evaluate → write-back.

``run_pipeline(settings, dataset)`` starts the local server when no ``NEO4J_URI`` is set,
creates the schema, ingests the dataset (idempotent; a first load of at least
``BULK_MIN_ROWS`` rows into the empty managed database goes through Neo4j's bulk
importer), embeds text (only what changed), exports the graph (fidelity-checked), trains
the GAT (early stopping; test metrics), computes its top-K lists, evaluates MostPop and
BPR-MF (and ItemKNN while its item×item co-occurrence stays small) on the same split for
reference, writes the run back (atomic switch to the new run) and serves a few
recommendations with reasons. Every stage is timed and its peak memory measured (the
Python process and the local Neo4j JVM). A re-run on unchanged data writes nothing to the
observed graph and switches to a new run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from interestgraph.config import Settings
from interestgraph.malloc import active as active_allocator
from interestgraph.resources import peak_rss_gib, reset_peak

__all__ = ["BULK_MIN_ROWS", "ITEMKNN_MAX_PAIRS", "PipelineResult", "run_pipeline"]

log = logging.getLogger(__name__)

#: A first load of at least this many rows into the empty managed database is bulk-imported.
BULK_MIN_ROWS = 500_000
#: ItemKNN joins the reference models while Σ_users (training purchases)² — the size of
#: its item×item co-occurrence — stays at most this (10M synthetic purchases: ~1.3e9).
ITEMKNN_MAX_PAIRS = 100_000_000


@dataclass
class PipelineResult:
    """What the pipeline did, stage by stage."""

    summary: dict[str, Any] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: per stage: peak RSS (GiB) of this process and of the local Neo4j server
    memory: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: per stage: the rows it processed (its unit is in ``units``)
    rows: dict[str, int] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    browser: str | None = None


class _Stages:
    """Times stages and measures each one's peak memory (resetting the peaks in between)."""

    def __init__(self, res: PipelineResult, server_pid: Callable[[], int | None]) -> None:
        self.res, self.server_pid = res, server_pid
        self.t = time.perf_counter()
        self._reset()

    def _reset(self) -> None:
        reset_peak()
        pid = self.server_pid()
        if pid is not None:
            reset_peak(pid)

    def lap(self, stage: str, seconds: float | None = None) -> None:
        now = time.perf_counter()
        took = now - self.t if seconds is None else seconds
        self.res.seconds[stage] = round(took, 1)
        pid = self.server_pid()
        self.res.memory[stage] = {
            "python_peak_gib": _round(peak_rss_gib()),
            "neo4j_peak_gib": _round(peak_rss_gib(pid)) if pid is not None else None,
        }
        log.info("stage %s done in %.1fs", stage, took)
        self.t = now
        self._reset()


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def run_pipeline(
    settings: Settings,
    dataset: str = "synthetic",
    *,
    size: int = 20_000,
    seed: int = 7,
    epochs: int | None = None,
    sample_users: int = 3,
    progress: bool | None = None,
    bulk: bool | None = None,
) -> PipelineResult:
    """Run every stage on ``dataset``; see the module doc.

    ``bulk``: ``True`` always bulk-imports (the database must be empty), ``False`` never,
    ``None`` bulk-imports a first load of at least :data:`BULK_MIN_ROWS` rows into the
    managed server. ``epochs`` caps the GAT's and BPR-MF's epochs alike.
    """
    from interestgraph.api import InterestGraph
    from interestgraph.datasets import load_dataset
    from interestgraph.embedding import TextEncoder, embed_graph_text
    from interestgraph.gnn.baselines import BPRMF, ItemKNN, MostPop
    from interestgraph.gnn.evaluate import Harness, result_row
    from interestgraph.gnn.job import new_run_id, train_job
    from interestgraph.gnn.train import GATConfig
    from interestgraph.graphstore import GraphStore, LocalServer
    from interestgraph.graphstore.schema import ensure_schema
    from interestgraph.graphstore.stats import graph_stats
    from interestgraph.ingest import bulk_ingest, ingest
    from interestgraph.sync import export_graph, save_export
    from interestgraph.sync.writeback import writeback

    res = PipelineResult()
    home = Path(settings.home)
    server = LocalServer(settings) if settings.managed else None
    stages = _Stages(res, lambda: server.status().pid if server is not None else None)

    if server is not None:
        res.browser = server.start().browser_url
    stages.lap("server")
    ds = load_dataset(dataset, settings.datasets_dir, size=size, seed=seed)
    rows_in = sum(t.rows_read for t in ds.tables.values())
    rejects = home / "rejects" / f"{dataset}.csv"
    with GraphStore.from_settings(settings) as store:
        info = store.verify()
        empty = not store.read("MATCH (n) RETURN n LIMIT 1", op="pipeline.empty")
    use_bulk = (
        bulk if bulk is not None else (server is not None and empty and rows_in >= BULK_MIN_ROWS)
    )
    opts = {"notes": ds.notes, "problems": ds.problems, "rejects_path": rejects}
    if use_bulk:
        report = bulk_ingest(settings, ds.tables, progress=progress, **opts)
        b = report.bulk or {}
        res.notes.append(
            f"ingest: bulk import (neo4j-admin) of {b.get('rows', 0):,} rows at "
            f"{b.get('rows_per_s', 0):,} rows/s ({b.get('import_seconds')} s; input files "
            f"{b.get('prepare_seconds')} s, schema {b.get('schema_seconds')} s)"
        )
    else:
        with GraphStore.from_settings(settings) as store:
            ensure_schema(store)
            report = ingest(store, ds.tables, progress=progress, **opts)
    del ds, opts  # the raw tables are not needed past this point
    res.rows["ingest"], res.units["ingest"] = report.rows_written, "rows"
    stages.lap("ingest")

    with GraphStore.from_settings(settings) as store:
        encoder = TextEncoder(
            settings.text_model,
            settings.device,
            backend=settings.text_backend,
            cache_dir=settings.cache_dir / "onnx",
        )
        embedded = embed_graph_text(store, encoder, progress=progress)
        res.rows["embed"], res.units["embed"] = sum(embedded.encoded.values()), "texts"
        stages.lap("embed")
        config = GATConfig(epochs=epochs) if epochs else GATConfig()
        # text vectors only when the model reads them (the default GAT does not)
        data, maps, exported = export_graph(store, features=config.use_text or config.text_init)
        export_dir = save_export(home / "exports" / dataset, data, maps, exported)
        edges = sum(v for k, v in exported.counts.items() if k.startswith("edges:"))
        res.rows["export"], res.units["export"] = edges, "edges"
        stages.lap("export")

        run_id = new_run_id()
        harness = Harness(data, "random")
        trained = train_job(
            data,
            home / "models" / run_id,
            run_id=run_id,
            config=config,
            device=settings.device,
            export_meta={"folder": str(export_dir), "dataset": dataset, **exported.as_dict()},
            maps=maps,
            progress=bool(progress),
            harness=harness,
            on_phase=stages.lap,
        )
        res.rows["train"] = len(harness.train.users) * trained.epochs
        res.units["train"] = "training purchases × epochs"
        res.rows["infer"] = sum(data[t].num_nodes for t in ("user", "item") if t in data.node_types)
        res.units["infer"] = "users + items ranked"

        res.metrics.append(trained.metrics)
        baselines: dict[str, Any] = {"MostPop": MostPop(), "BPR-MF": BPRMF()}
        if epochs:
            baselines["BPR-MF"].epochs = epochs
        degrees = np.bincount(harness.train.users, minlength=harness.num_users).astype(np.float64)
        if float((degrees**2).sum()) <= ITEMKNN_MAX_PAIRS:
            baselines["ItemKNN"] = ItemKNN()
        else:
            res.notes.append(
                "evaluate: ItemKNN left out (its item×item co-occurrence would hold "
                f"~{(degrees**2).sum():.2g} entries > {ITEMKNN_MAX_PAIRS:.0e}); run it with "
                "`interestgraph evaluate --models ItemKNN`"
            )
        for name, model in baselines.items():
            t0 = time.perf_counter()
            model.fit(harness.train, validate=harness.validate)
            row = result_row(harness, name, harness.test(model), time.perf_counter() - t0, dataset)
            res.metrics.append(row)
        res.rows["evaluate"], res.units["evaluate"] = len(harness.train.users), "training purchases"
        stages.lap("evaluate")
        del data, harness
        wb = writeback(store, trained.folder, batch_size=settings.batch_size, progress=progress)
        res.rows["writeback"] = sum(wb.embeddings.values()) + sum(wb.edges.values())
        res.units["writeback"] = "embeddings + edges"
        stages.lap("writeback")
        ig = InterestGraph(store, settings)
        busiest = store.read(
            "MATCH (u:User) WITH u ORDER BY COUNT { (u)-[:PURCHASED]->() } DESC, u.user_id "
            "LIMIT $n RETURN u.user_id AS id",
            {"n": sample_users},
            op="pipeline.sample_users",
        )
        for row in busiest:
            res.samples[row["id"]] = [r.as_dict() for r in ig.recommend(row["id"], k=3)]
        stages.lap("recommend")
        counts = {r["name"]: r["count"] for r in graph_stats(store) if r["count"]}
    res.summary = {
        "server": info["agent"],
        "address": info["address"],
        "dataset": dataset,
        "rows_written": report.rows_written,
        "bulk_import": bool(use_bulk),
        "problems": len(report.problems),
        "texts_encoded": sum(embedded.encoded.values()),
        "texts_unchanged": sum(embedded.skipped.values()),
        "text_backend": encoder.backend if sum(embedded.encoded.values()) else None,
        "export": str(export_dir),
        "run_id": trained.run_id,
        "epochs": trained.epochs,
        "model_folder": str(trained.folder),
        "edges_written_back": sum(wb.edges.values()),
        "writeback_skipped": wb.skipped,
        "allocator": active_allocator(),
        **counts,
    }
    return res
