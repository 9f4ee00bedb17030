"""Training the heterogeneous GAT for user→item link prediction (full-graph, BPR).

The message-passing graph is the export's graph with its purchase edges **replaced by the
training split** (and their reverse), so no validation or test purchase is ever visible
to the model; user text features are recomputed from training purchases only for the
same reason. Loss: BPR with one uniform negative item per positive, L2 on the id
embeddings of the batch. Device: CUDA when available, else CPU (same code).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch_geometric.data import HeteroData

from interestgraph.gnn.baselines import Interactions, _Trained, bpr_epoch, bpr_loss
from interestgraph.gnn.model import HeteroGATEncoder, dot_scores

__all__ = ["GATRec", "training_graph"]

PURCHASED = ("user", "purchased", "item")
REV_PURCHASED = ("item", "rev_purchased", "user")


def training_graph(
    data: HeteroData, train: Interactions
) -> tuple[dict[str, torch.Tensor], dict[tuple[str, str, str], torch.Tensor]]:
    """Features and edges for message passing, with purchases limited to ``train``."""
    edges = {
        et: data[et].edge_index for et in data.edge_types if et not in (PURCHASED, REV_PURCHASED)
    }
    pairs = torch.from_numpy(np.unique(np.stack([train.users, train.items]), axis=1))
    edges[PURCHASED] = pairs
    edges[REV_PURCHASED] = pairs.flip(0)
    x = {t: data[t].x for t in data.node_types if "x" in data[t]}
    if "item" in x and "user" in x:
        # user text = mean text of *training* purchases (the export's used all purchases)
        ux = torch.zeros_like(x["user"])
        ux.index_add_(0, pairs[0], x["item"][pairs[1]])
        counts = torch.bincount(pairs[0], minlength=ux.shape[0]).clamp(min=1).unsqueeze(1)
        bought = torch.bincount(pairs[0], minlength=ux.shape[0]) > 0
        x["user"] = torch.where(bought.unsqueeze(1), ux / counts, x["user"] * 0)
    return x, edges


class GATRec(_Trained):
    """The heterogeneous GAT as a recommender for the evaluation harness.

    Args:
        data: The export (all node and edge types; purchases are replaced by ``train``).
        hidden, heads, layers, dropout: Encoder size (see :class:`HeteroGATEncoder`).
        epochs, lr, weight_decay, batch_size, seed, patience, eval_every: Training.
        device: ``None`` → CUDA when available.
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        heads: int = 2,
        layers: int = 2,
        dropout: float = 0.1,
        epochs: int = 100,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 8192,
        seed: int = 0,
        patience: int = 3,
        eval_every: int = 2,
        device: str | None = None,
    ) -> None:
        self.data = data
        self.hidden, self.heads, self.layers, self.dropout = hidden, heads, layers, dropout
        self.epochs, self.lr, self.wd, self.batch_size = epochs, lr, weight_decay, batch_size
        self.seed, self.patience, self.eval_every = seed, patience, eval_every
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def fit(self, train: Interactions, validate: Callable | None = None) -> GATRec:
        """Train with BPR on full-graph message passing; early stopping on ``validate``."""
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        x, edges = training_graph(self.data, train)
        self.x = {t: v.to(self.device) for t, v in x.items()}
        self.edges = {et: v.to(self.device) for et, v in edges.items()}
        self.model = HeteroGATEncoder(
            {t: self.data[t].num_nodes for t in self.data.node_types},
            {t: v.shape[1] for t, v in x.items()},
            list(edges),
            hidden=self.hidden,
            heads=self.heads,
            layers=self.layers,
            dropout=self.dropout,
        ).to(self.device)
        with torch.no_grad():  # initialise the lazy GATConv shapes
            self.model(self.x, self.edges)
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self._cache: dict[str, torch.Tensor] | None = None

        def batch_loss(u: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
            h = self.model(self.x, self.edges)
            ids = self.model.id_emb
            l2 = (
                ids["user"].weight[u].pow(2).sum()
                + ids["item"].weight[pos].pow(2).sum()
                + ids["item"].weight[neg].pow(2).sum()
            )
            hu = h["user"][u]
            return bpr_loss(
                dot_scores(hu, h["item"][pos]), dot_scores(hu, h["item"][neg]), l2, self.wd
            )

        def step() -> float:
            self.model.train()
            self._cache = None
            return bpr_epoch(batch_loss, train, opt, self.batch_size, rng, self.device)

        self._train(self.model, step, validate)
        self._cache = None
        return self

    def embeddings(self) -> dict[str, torch.Tensor]:
        """Node embeddings of the trained model (eval mode, cached)."""
        if self._cache is None:
            self.model.eval()
            with torch.no_grad():
                self._cache = self.model(self.x, self.edges)
        return self._cache

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """User · item scores for every item."""
        h = self.embeddings()
        return (h["user"][users.to(self.device)] @ h["item"].T).cpu()
