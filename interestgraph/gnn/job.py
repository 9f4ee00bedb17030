"""The training job: split → train (early stopping) → test → checkpoint → inference.

``train_job(data, out, …)`` trains the GAT on the training split of ``data`` (validation
Recall@20 for early stopping), measures the test metrics with the harness, saves the
checkpoint (``model.pt``, ``config.json``, ``curve.svg``), then re-encodes the **full**
graph (every purchase) and writes the top-K lists of :mod:`interestgraph.gnn.infer` to
``inference.pt`` — what the write-back reads. ``run_id`` names the run everywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from torch_geometric.data import HeteroData

from interestgraph.gnn.checkpoint import save_checkpoint
from interestgraph.gnn.evaluate import PURCHASED, Harness, result_row
from interestgraph.gnn.infer import infer
from interestgraph.gnn.metrics import Csr, csr_from_pairs
from interestgraph.gnn.train import GATConfig, GATRec

__all__ = ["TrainResult", "new_run_id", "purchased_lists", "train_job"]


def new_run_id() -> str:
    """A sortable run id, e.g. ``gat-20261129T081900Z``."""
    return "gat-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class TrainResult:
    """What a training job produced."""

    run_id: str
    folder: Path
    metrics: dict[str, Any]
    epochs: int
    best_epoch: int | None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "run_id": self.run_id,
            "folder": str(self.folder),
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            **{k: v for k, v in self.metrics.items() if k not in ("machine", "date")},
            **{f"{k}_seconds": round(v, 1) for k, v in self.seconds.items()},
        }


def train_job(
    data: HeteroData,
    out: Path,
    *,
    config: GATConfig | None = None,
    protocol: str = "random",
    split_seed: int = 0,
    device: str | None = None,
    k: int = 10,
    serve_top: int = 100,
    run_id: str | None = None,
    export_meta: dict[str, Any] | None = None,
    maps: Any | None = None,
    progress: bool = False,
    harness: Harness | None = None,
    on_phase: Callable[[str], object] | None = None,
) -> TrainResult:
    """Train, test, checkpoint and infer; see the module doc.

    ``maps`` (the export's :class:`~interestgraph.sync.IdMaps`) are copied into ``out``
    so the folder is self-contained for the write-back. ``serve_top``: items kept per user
    for serving (see :func:`~interestgraph.gnn.infer.infer`). ``harness``: an existing
    split of ``data`` to use (else one is made with ``protocol`` and ``split_seed``).
    ``on_phase("train")`` and ``on_phase("infer")`` are called as those phases end (the
    pipeline times and measures its stages with them).
    """
    run_id = run_id or new_run_id()
    t0 = time.perf_counter()
    harness = harness or Harness(data, protocol, split_seed)
    rec = GATRec(data, config, device=device)
    rec.progress = progress
    rec.fit(harness.train, validate=harness.validate)
    t_train = time.perf_counter() - t0
    metrics = harness.test(rec)
    dataset = (export_meta or {}).get("dataset") or Path(out).name
    row = result_row(harness, "GAT", metrics, t_train, dataset)
    vals = [r for r in rec.history if "val" in r]
    best = max(vals, key=lambda r: r["val"])["epoch"] if vals else None
    out = Path(out)
    save_checkpoint(out, rec, export=export_meta, metrics={"run_id": run_id, **row})
    t_test = time.perf_counter() - t0 - t_train
    if on_phase is not None:
        on_phase("train")
    t1 = time.perf_counter()
    rec.use_graph(None)  # inference sees every purchase
    result = infer(rec.embeddings(), purchased_lists(data), k, serve_top=serve_top)
    result.save(out / "inference.pt")
    if maps is not None:
        maps.save(out)
    (out / "run.json").write_text(
        json.dumps(
            {"run_id": run_id, "k": k, "serve_top": serve_top, "lists": result.meta}, indent=2
        )
    )
    seconds = {"train": t_train, "test": t_test, "infer": time.perf_counter() - t1}
    if on_phase is not None:
        on_phase("infer")
    return TrainResult(run_id, out, row, len(rec.history), best, seconds)


def purchased_lists(data: HeteroData) -> Csr:
    """Per user, the items purchased in the export (to exclude from recommendations)."""
    users, items = data[PURCHASED].edge_index.numpy()
    return csr_from_pairs(users, items, data["user"].num_nodes)
