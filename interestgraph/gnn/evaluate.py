"""The evaluation harness: one split, every model, the same full-ranking metrics.

``evaluate_models(data, protocol, models)`` takes an exported ``HeteroData`` (its
``(user, purchased, item)`` edges are the interactions), splits them *before* any model
sees them (:mod:`interestgraph.gnn.split`), trains each model on the training part with
early stopping on validation Recall@20, and reports test metrics with training and
validation items excluded from the ranking (:mod:`interestgraph.gnn.metrics`).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import torch
from torch_geometric.data import HeteroData

from interestgraph.gnn.baselines import BPRMF, Interactions, ItemKNN, LightGCNRec, MostPop
from interestgraph.gnn.metrics import csr_from_pairs, evaluate_ranking
from interestgraph.gnn.split import Split, random_split, temporal_split

__all__ = ["BASELINES", "MODELS", "Recommender", "evaluate_models", "interactions", "make_split"]

PURCHASED = ("user", "purchased", "item")
log = logging.getLogger(__name__)


class Recommender(Protocol):
    """What the harness needs from a model."""

    def fit(self, train: Interactions, validate: Callable | None = None) -> Recommender:
        """Train on ``train``."""
        ...

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """``[len(users), num_items]`` scores."""
        ...


def _gat(data: HeteroData) -> Recommender:
    from interestgraph.gnn.train import GATRec

    return GATRec(data)


#: name → factory of a fresh model, given the export (baselines ignore it).
MODELS: dict[str, Callable[[HeteroData], Recommender]] = {
    "MostPop": lambda data: MostPop(),
    "ItemKNN": lambda data: ItemKNN(),
    "BPR-MF": lambda data: BPRMF(),
    "LightGCN": lambda data: LightGCNRec(layers=2),
    "GAT": _gat,
}
BASELINES = {k: v for k, v in MODELS.items() if k != "GAT"}


def interactions(data: HeteroData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, times, has_time) of the purchase edges of an export."""
    store = data[PURCHASED]
    users, items = store.edge_index.numpy()
    return users, items, store.edge_time.numpy(), store.has_time.numpy()


def make_split(data: HeteroData, protocol: str, seed: int = 0) -> Split:
    """Split the purchases by ``protocol`` (``random`` or ``temporal``)."""
    users, _, times, has_time = interactions(data)
    if protocol == "random":
        return random_split(users, seed=seed)
    if protocol == "temporal":
        if not has_time.all():
            raise ValueError(
                f"temporal protocol needs a timestamp on every purchase; "
                f"{int((~has_time).sum()):,} have none (Last.fm has none: use --protocol random)"
            )
        return temporal_split(users, times)
    raise ValueError(f"unknown protocol {protocol!r}; use random or temporal")


def evaluate_models(
    data: HeteroData,
    protocol: str,
    models: dict[str, Callable[[HeteroData], Recommender]],
    *,
    seed: int = 0,
    ks: tuple[int, ...] = (10, 20),
    dataset: str = "",
) -> list[dict[str, Any]]:
    """Train and test every model on one split; one result row per model."""
    users, items, _, _ = interactions(data)
    num_users, num_items = data["user"].num_nodes, data["item"].num_nodes
    split = make_split(data, protocol, seed)
    split.check(len(users))
    train = Interactions(users[split.train], items[split.train], num_users, num_items)
    hist_train = csr_from_pairs(train.users, train.items, num_users)
    val_items = csr_from_pairs(users[split.val], items[split.val], num_users)
    test_items = csr_from_pairs(users[split.test], items[split.test], num_users)
    hist_test = csr_from_pairs(
        np.concatenate([users[split.train], users[split.val]]),
        np.concatenate([items[split.train], items[split.val]]),
        num_users,
    )

    def validate(model: Recommender) -> float:
        return evaluate_ranking(model.score, hist_train, val_items, num_items, ks=(20,))[
            "recall@20"
        ]

    rows = []
    for name, factory in models.items():
        t0 = time.perf_counter()
        model = factory(data).fit(train, validate=validate)
        fit_seconds = time.perf_counter() - t0
        metrics = evaluate_ranking(model.score, hist_test, test_items, num_items, ks=ks)
        log.info("%s: recall@20 %.4f, trained in %.1fs", name, metrics["recall@20"], fit_seconds)
        rows.append(
            {
                "dataset": dataset,
                "protocol": protocol,
                "model": name,
                **{k: round(v, 4) for k, v in metrics.items() if k != "users"},
                "users": int(metrics["users"]),
                "train_seconds": round(fit_seconds, 1),
                "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
                "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            }
        )
    return rows
