"""Inference: embeddings and top-K lists as arrays ready for write-back.

Given the node embeddings of a trained model (encoded over the *full* graph, every
purchase included):

* ``user_items``: top-``max(K, serve_top)`` items per user by ``<h_u, h_i>``, already-purchased
  items excluded (the write-back stores them for exact serving);
* ``user_topics``: top-K topics per user by ``<h_u, h_t>`` (the interest decoder);
* ``user_users``: top-K co-interest users per user by cosine similarity, self excluded;
* ``item_items``: top-K similar items per item by cosine similarity, self excluded.

Each list is a pair of ``[rows, K]`` arrays (``index``: node index of the export's id
maps, ``-1`` where fewer than K candidates exist; ``score``: float32, descending).
Computed in row chunks, so memory is O(chunk × candidates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from interestgraph.gnn.metrics import mask_seen

__all__ = ["Inference", "TopK", "infer", "top_k"]


@dataclass
class TopK:
    """Top-K neighbours per row: ``index`` [rows, K] (``-1`` = none) and ``score``."""

    index: np.ndarray
    score: np.ndarray


@dataclass
class Inference:
    """Everything the write-back needs, as arrays indexed like the export's id maps."""

    embeddings: dict[str, np.ndarray]
    lists: dict[str, TopK] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        """Write a flat tensor dict (loadable with ``torch.load(weights_only=True)``)."""
        flat = {f"emb|{t}": torch.from_numpy(v) for t, v in self.embeddings.items()}
        for name, tk in self.lists.items():
            flat[f"top|{name}|index"] = torch.from_numpy(tk.index)
            flat[f"top|{name}|score"] = torch.from_numpy(tk.score)
        torch.save(flat, path)
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> Inference:
        """Read what :meth:`save` wrote."""
        flat = torch.load(path, weights_only=True)
        emb = {k.split("|")[1]: v.numpy() for k, v in flat.items() if k.startswith("emb|")}
        names = {k.split("|")[1] for k in flat if k.startswith("top|")}
        lists = {
            n: TopK(flat[f"top|{n}|index"].numpy(), flat[f"top|{n}|score"].numpy()) for n in names
        }
        return cls(emb, lists)


def top_k(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    exclude: list[np.ndarray] | None = None,
    exclude_self: bool = False,
    chunk: int = 1024,
) -> TopK:
    """Top-``k`` candidates per query row by inner product, in chunks of rows.

    Args:
        queries: ``[Q, d]``. candidates: ``[C, d]``.
        exclude: Per query row, candidate indices to skip (e.g. purchased items).
        exclude_self: Skip candidate ``q`` for query row ``q`` (same node set).
    """
    q_n, c_n = queries.shape[0], candidates.shape[0]
    kk = min(k, c_n)
    index = np.full((q_n, k), -1, dtype=np.int64)
    score = np.full((q_n, k), np.nan, dtype=np.float32)
    for lo in range(0, q_n, chunk):
        hi = min(lo + chunk, q_n)
        with torch.no_grad():
            s = (queries[lo:hi] @ candidates.T).float().cpu()
        if exclude_self:
            r = torch.arange(hi - lo)
            s[r, r + lo] = -torch.inf
        if exclude is not None:
            mask_seen(s, exclude[lo:hi])
        val, idx = torch.topk(s, kk, dim=1)
        ok = torch.isfinite(val)
        index[lo:hi, :kk] = torch.where(ok, idx, -1).numpy()
        score[lo:hi, :kk] = torch.where(ok, val, torch.nan).numpy()
    return TopK(index, score)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=1)


def infer(
    embeddings: dict[str, torch.Tensor],
    purchased: list[np.ndarray],
    k: int = 10,
    *,
    serve_top: int = 100,
    chunk: int = 1024,
) -> Inference:
    """All top-K lists from node embeddings (see the module doc for each list).

    ``serve_top``: length of each user's item list (at least ``k``), kept for serving.
    """
    h = {t: v.detach().float().cpu() for t, v in embeddings.items()}
    lists = {}
    if "user" in h and "item" in h:
        lists["user_items"] = top_k(
            h["user"], h["item"], max(k, serve_top), exclude=purchased, chunk=chunk
        )
        lists["item_items"] = top_k(
            _unit(h["item"]), _unit(h["item"]), k, exclude_self=True, chunk=chunk
        )
    if "user" in h and "topic" in h:
        lists["user_topics"] = top_k(h["user"], h["topic"], k, chunk=chunk)
    if "user" in h:
        lists["user_users"] = top_k(
            _unit(h["user"]), _unit(h["user"]), k, exclude_self=True, chunk=chunk
        )
    return Inference({t: v.numpy() for t, v in h.items()}, lists)
