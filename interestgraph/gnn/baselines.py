"""Baseline recommenders, run in the same harness and splits as the GAT.

Each has ``fit(train) -> self`` and ``score(users) -> Tensor[len(users), num_items]``.

* ``MostPop``: item training degree, the same list for everybody;
* ``ItemKNN``: cosine item–item similarity on the binary user×item matrix, the ``k``
  most similar neighbours per item kept, ``score(u) = x_u · S``;
* ``BPRMF``: matrix factorisation trained with BPR (one uniform negative per positive);
  above ``sparse_above`` embedding rows it trains with sparse gradients and
  ``torch.optim.SparseAdam`` (lazy Adam: only the batch's rows move), because dense Adam
  updates the whole table at every step and an epoch would cost purchases × (users + items);
* ``LightGCNRec``: PyG's ``LightGCN`` (mean of layer embeddings) trained with BPR.

The trained baselines use early stopping on validation Recall@20 when a validator is
given (``fit(train, validate=fn)``), keeping the best epoch's parameters.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["BPRMF", "Interactions", "ItemKNN", "LightGCNRec", "MostPop", "bpr_epoch", "bpr_loss"]

log = logging.getLogger(__name__)

#: BPR-MF tables with more rows (users + items) train with sparse gradients (SparseAdam).
SPARSE_ABOVE = 100_000


@dataclass
class Interactions:
    """Training interactions as parallel user / item index arrays."""

    users: np.ndarray
    items: np.ndarray
    num_users: int
    num_items: int

    def matrix(self) -> sp.csr_matrix:
        """Binary user×item CSR matrix (repeated pairs count once)."""
        m = sp.csr_matrix(
            (np.ones(len(self.users), np.float32), (self.users, self.items)),
            shape=(self.num_users, self.num_items),
        )
        m.data[:] = 1.0
        return m


class MostPop:
    """Recommend the most purchased items to everybody."""

    def fit(self, train: Interactions, validate: Callable | None = None) -> MostPop:
        """Count item degrees."""
        self.pop = torch.from_numpy(
            np.bincount(train.items, minlength=train.num_items).astype(np.float32)
        )
        return self

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """The same popularity row for every user."""
        return self.pop.expand(len(users), -1)


class ItemKNN:
    """Item-based k-nearest-neighbours with cosine similarity.

    Args:
        k: Neighbours kept per item.
    """

    def __init__(self, k: int = 100) -> None:
        self.k = k

    def fit(self, train: Interactions, validate: Callable | None = None) -> ItemKNN:
        """Build the pruned item–item cosine similarity matrix."""
        x = train.matrix()
        self.x = x
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel()) + 1e-8
        xn = x.multiply(1.0 / norms).tocsc().astype(np.float32)
        sim = (xn.T @ xn).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        # the k largest per row without a loop over items: sort each row's entries by
        # (row, -similarity), then keep those whose position inside the row is below k
        row = np.repeat(np.arange(sim.shape[0]), np.diff(sim.indptr))
        order = np.lexsort((-sim.data, row))
        rank = np.arange(len(order)) - sim.indptr[row[order]]
        keep = order[rank < self.k]
        self.sim = sp.csr_matrix((sim.data[keep], (row[keep], sim.indices[keep])), shape=sim.shape)
        return self

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """``x_u · S`` for each user."""
        s = (self.x[users.numpy()] @ self.sim).toarray()
        return torch.from_numpy(s.astype(np.float32))


def bpr_epoch(
    batch_loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    train: Interactions,
    opt: torch.optim.Optimizer,
    batch_size: int,
    rng: np.random.Generator,
    device: torch.device | None = None,
) -> float:
    """One BPR epoch: shuffled positives, one uniform negative item each.

    ``batch_loss(users, pos_items, neg_items)`` returns the loss of one batch (the model
    decides how it scores and regularises). Returns the mean loss per positive.
    """
    order = rng.permutation(len(train.users))
    total = 0.0
    for lo in range(0, len(order), batch_size):
        idx = order[lo : lo + batch_size]
        u = torch.from_numpy(train.users[idx]).to(device)
        pos = torch.from_numpy(train.items[idx]).to(device)
        neg = torch.from_numpy(rng.integers(0, train.num_items, len(idx))).to(device)
        loss = batch_loss(u, pos, neg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    return total / len(order)


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor, l2: torch.Tensor, weight: float) -> torch.Tensor:
    """BPR: ``-log σ(pos - neg)`` averaged, plus ``weight * l2 / batch``."""
    return -torch.nn.functional.logsigmoid(pos - neg).mean() + weight * l2 / len(pos)


class _Trained:
    """Shared BPR training loop with early stopping on a validation metric."""

    epochs: int
    patience: int
    eval_every: int
    history: list[dict]
    progress: bool = False  # a tqdm bar over epochs

    def _train(
        self,
        modules: torch.nn.Module,
        step: Callable[[], float],
        validate: Callable | None,
    ) -> None:
        from tqdm.auto import tqdm

        best, best_state, bad = -1.0, None, 0
        self.history = []
        bar = tqdm(
            range(1, self.epochs + 1), desc=type(self).__name__, unit="epoch",
            disable=not self.progress,
        )  # fmt: skip
        for epoch in bar:
            t0 = time.perf_counter()
            loss = step()
            row = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - t0}
            if validate is not None and epoch % self.eval_every == 0:
                metric = validate(self)
                row["val"] = metric
                log.info(
                    "%s epoch %d: loss %.4f, val recall@20 %.4f",
                    type(self).__name__,
                    epoch,
                    loss,
                    metric,
                )
                top = max(best, metric)
                bar.set_postfix(loss=f"{loss:.4f}", val=f"{metric:.4f}", best=f"{top:.4f}")
                if metric > best:
                    best, best_state, bad = metric, copy.deepcopy(modules.state_dict()), 0
                else:
                    bad += 1
                    if bad >= self.patience:
                        self.history.append(row)
                        break
            self.history.append(row)
        if best_state is not None:
            modules.load_state_dict(best_state)


class BPRMF(_Trained):
    """Matrix factorisation with BPR loss."""

    def __init__(
        self,
        dim: int = 64,
        epochs: int = 200,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 2048,
        seed: int = 0,
        patience: int = 5,
        eval_every: int = 5,
        sparse_above: int | None = SPARSE_ABOVE,
    ) -> None:
        self.dim, self.epochs, self.lr, self.wd = dim, epochs, lr, weight_decay
        self.batch_size, self.seed, self.patience, self.eval_every = (
            batch_size,
            seed,
            patience,
            eval_every,
        )
        self.sparse_above = sparse_above

    def fit(self, train: Interactions, validate: Callable | None = None) -> BPRMF:
        """Train with BPR, early-stopping on ``validate(self)`` when given."""
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        rows = train.num_users + train.num_items
        self.sparse = self.sparse_above is not None and rows > self.sparse_above
        self.user = torch.nn.Embedding(train.num_users, self.dim, sparse=self.sparse)
        self.item = torch.nn.Embedding(train.num_items, self.dim, sparse=self.sparse)
        for e in (self.user, self.item):
            torch.nn.init.normal_(e.weight, std=0.1)
        modules = torch.nn.ModuleList([self.user, self.item])
        if self.sparse:
            opt: torch.optim.Optimizer = torch.optim.SparseAdam(
                list(modules.parameters()), lr=self.lr
            )
        else:
            opt = torch.optim.Adam(modules.parameters(), lr=self.lr)

        def batch_loss(u: torch.Tensor, p: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
            eu, ep, en = self.user(u), self.item(p), self.item(n)
            l2 = eu.pow(2).sum() + ep.pow(2).sum() + en.pow(2).sum()
            return bpr_loss((eu * ep).sum(-1), (eu * en).sum(-1), l2, self.wd)

        self._train(
            modules, lambda: bpr_epoch(batch_loss, train, opt, self.batch_size, rng), validate
        )
        return self

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Dot products with every item."""
        with torch.no_grad():
            return self.user(users) @ self.item.weight.T


class LightGCNRec(_Trained):
    """PyG ``LightGCN`` on the user–item bipartite graph, trained with BPR."""

    def __init__(
        self,
        dim: int = 64,
        layers: int = 3,
        epochs: int = 200,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 2048,
        seed: int = 0,
        patience: int = 5,
        eval_every: int = 5,
    ) -> None:
        self.dim, self.layers, self.epochs, self.lr, self.wd = dim, layers, epochs, lr, weight_decay
        self.batch_size, self.seed, self.patience, self.eval_every = (
            batch_size,
            seed,
            patience,
            eval_every,
        )

    def fit(self, train: Interactions, validate: Callable | None = None) -> LightGCNRec:
        """Train with BPR on full-graph propagation, early-stopping on ``validate``."""
        from torch_geometric.nn.models import LightGCN

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.num_users, self.num_items = train.num_users, train.num_items
        pairs = np.unique(np.stack([train.users, train.items]), axis=1)
        u = torch.from_numpy(pairs[0])
        i = torch.from_numpy(pairs[1]) + train.num_users
        self.edge_index = torch.cat([torch.stack([u, i]), torch.stack([i, u])], dim=1)
        self.model = LightGCN(train.num_users + train.num_items, self.dim, self.layers)
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self._cache: torch.Tensor | None = None

        def batch_loss(bu: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
            pos, neg = pos + self.num_users, neg + self.num_users
            emb = self.model.get_embedding(self.edge_index)
            ego = self.model.embedding.weight
            l2 = ego[bu].pow(2).sum() + ego[pos].pow(2).sum() + ego[neg].pow(2).sum()
            pos_s = (emb[bu] * emb[pos]).sum(-1)
            return bpr_loss(pos_s, (emb[bu] * emb[neg]).sum(-1), l2, self.wd)

        def step() -> float:
            self._cache = None
            return bpr_epoch(batch_loss, train, opt, self.batch_size, rng)

        self._train(self.model, step, validate)
        self._cache = None
        return self

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Dot products of propagated embeddings (cached until the next training step)."""
        with torch.no_grad():
            if self._cache is None:
                self._cache = self.model.get_embedding(self.edge_index)
            emb = self._cache
            return emb[users] @ emb[self.num_users :].T
