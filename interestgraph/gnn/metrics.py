"""Full-ranking evaluation: every item is scored for every evaluated user.

Protocol (written down so numbers can be compared): items the user interacted with in
the *history* (training, plus validation when testing) are removed from the ranking; the
remaining items are ranked by score; relevance is binary (held-out items). Per user:

* ``Recall@K`` = hits in top-K / number of held-out items;
* ``NDCG@K`` = DCG@K / IDCG@K with gain 1 and discount 1/log2(rank + 1), IDCG over
  min(held-out, K) hits;
* ``HitRate@K`` = 1 if any held-out item is in the top-K;
* ``MRR`` = 1 / rank of the best-ranked held-out item in the full ranking;

averaged over users with at least one held-out item (or a seeded sample of them, see
:func:`evaluate_ranking`'s ``users``). ``Coverage@K`` = distinct items in all top-K lists /
number of items.

Scale: users are scored in chunks of ``max(1, chunk_elements // num_items)`` rows, so the
score matrix never exceeds ``chunk_elements`` floats whatever the catalogue; history and
held-out items are :class:`Csr` matrices (two arrays, no object per user); masking, top-K
and every metric are tensor operations on the scores' device (GPU when the model is there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CHUNK_ELEMENTS", "Csr", "csr_from_pairs", "evaluate_ranking", "mask_seen"]

#: Scores held at once while ranking (floats): 2**24 = 64 MiB of float32 (a chunk that
#: stays in cache measured ~15 % faster than 256 MiB on this CPU).
CHUNK_ELEMENTS = 2**24


@dataclass(frozen=True)
class Csr:
    """Per-row sorted column sets as CSR arrays (``indptr`` ``[rows + 1]``, ``indices``).

    ``csr[r]`` is row ``r``'s columns (a view); ``len(csr)`` the number of rows.
    """

    indptr: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, row: int) -> np.ndarray:
        return self.indices[self.indptr[row] : self.indptr[row + 1]]

    def counts(self) -> np.ndarray:
        """Columns per row."""
        return np.diff(self.indptr)

    def pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(position in rows, column)`` of every entry of ``rows``, vectorised."""
        rows = np.asarray(rows, dtype=np.int64)
        lo, hi = self.indptr[rows], self.indptr[rows + 1]
        n = hi - lo
        pos = np.repeat(np.arange(len(rows)), n)
        starts = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        return pos, self.indices[starts + np.arange(int(n.sum()))]

    @classmethod
    def from_lists(cls, rows: Sequence[np.ndarray]) -> Csr:
        """From one array of columns per row (sorted and de-duplicated here)."""
        sizes = [len(np.unique(r)) for r in rows]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(sizes)
        parts = [np.unique(np.asarray(r, dtype=np.int64)) for r in rows]
        indices = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return cls(indptr, indices.astype(np.int64))


def csr_from_pairs(users: np.ndarray, items: np.ndarray, num_users: int) -> Csr:
    """Per user, the sorted, distinct items of the ``(user, item)`` pairs."""
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    order = np.lexsort((items, users))
    u, i = users[order], items[order]
    if len(u):
        keep = np.ones(len(u), dtype=bool)
        keep[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
        u, i = u[keep], i[keep]
    indptr = np.zeros(num_users + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(u, minlength=num_users))
    return Csr(indptr, i)


def _as_csr(rows: Csr | Sequence[np.ndarray]) -> Csr:
    return rows if isinstance(rows, Csr) else Csr.from_lists(rows)


def mask_seen(
    scores: torch.Tensor, seen: Csr | Sequence[np.ndarray], rows: np.ndarray | None = None
) -> torch.Tensor:
    """Set ``scores[r, seen[rows[r]]]`` to ``-inf`` in place (``rows``: default 0..R-1)."""
    seen = _as_csr(seen)
    rows = np.arange(len(seen)) if rows is None else rows
    pos, cols = seen.pairs(rows)
    if len(pos):
        dev = scores.device
        r = torch.from_numpy(pos).to(dev)
        scores[r, torch.from_numpy(cols).to(dev)] = -torch.inf
    return scores


def evaluate_ranking(
    score: Callable[[torch.Tensor], torch.Tensor],
    history: Csr | Sequence[np.ndarray],
    held_out: Csr | Sequence[np.ndarray],
    num_items: int,
    *,
    ks: Sequence[int] = (10, 20),
    users: np.ndarray | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> dict[str, float]:
    """Compute ranking metrics by full ranking.

    Args:
        score: Maps a 1-D tensor of user indices to a ``[len(users), num_items]`` score tensor.
        history: Per user, items to exclude from the ranking (already seen).
        held_out: Per user, the relevant items (validation or test).
        num_items: Catalogue size.
        ks: Cut-offs.
        users: Users to evaluate (default: every user with a held-out item).
        chunk_elements: Most scores held at once (rows per chunk = this // num_items).

    Returns:
        ``{"recall@10": …, "ndcg@10": …, "hit@10": …, "coverage@10": …, "mrr": …, "users": n}``.
    """
    history, held_out = _as_csr(history), _as_csr(held_out)
    n_rel_all = held_out.counts()
    if users is None:
        users = np.flatnonzero(n_rel_all > 0)
    users = np.asarray(users, dtype=np.int64)
    users = users[n_rel_all[users] > 0]
    kmax = min(max(ks), num_items)
    sums = {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg", "hit")}
    mrr = 0.0
    covered: dict[int, torch.Tensor] = {}
    rows_per_chunk = max(1, chunk_elements // max(num_items, 1))
    for start in range(0, len(users), rows_per_chunk):
        batch = users[start : start + rows_per_chunk]
        with torch.no_grad():
            s = score(torch.from_numpy(batch)).detach().float()
        if s._base is not None or not s.is_contiguous():  # a view (e.g. MostPop's expand)
            s = s.clone()
        dev = s.device
        mask_seen(s, history, batch)
        pos, cols = held_out.pairs(batch)
        pos_t = torch.from_numpy(pos).to(dev)
        cols_t = torch.from_numpy(cols).to(dev)
        top = torch.topk(s, kmax, dim=1).indices
        # hits: is (row, top item) a held-out pair? Keys row * items + item, sorted search
        held_keys = pos_t * num_items + cols_t  # sorted: rows ascending, items ascending
        rows = torch.arange(len(batch), device=dev).unsqueeze(1)
        hits = torch.isin(rows * num_items + top, held_keys).double()
        n_rel = torch.from_numpy(n_rel_all[batch]).to(dev).double()
        disc = 1.0 / torch.log2(torch.arange(2, kmax + 2, device=dev, dtype=torch.float64))
        cum_disc = torch.cumsum(disc, 0)
        for k in ks:
            kk = min(k, kmax)
            h = hits[:, :kk]
            n_hit = h.sum(1)
            sums[f"recall@{k}"] += float((n_hit / n_rel).sum())
            sums[f"hit@{k}"] += float((n_hit > 0).sum())
            idcg = cum_disc[(torch.clamp(n_rel, max=kk) - 1).long()]
            sums[f"ndcg@{k}"] += float(((h * disc[:kk]).sum(1) / idcg).sum())
            seen = covered.setdefault(k, torch.zeros(num_items, dtype=torch.bool, device=dev))
            seen[top[:, :kk].reshape(-1)] = True
        # MRR: rank of the best held-out item = 1 + items scored strictly higher
        best = torch.full((len(batch),), -torch.inf, device=dev)
        best = best.scatter_reduce(0, pos_t, s[pos_t, cols_t], reduce="amax")
        if dev.type == "cpu":  # numpy counts a boolean mask ~4x faster than torch's sum
            higher = np.count_nonzero(s.numpy() > best.numpy()[:, None], axis=1)
        else:
            higher = (s > best.unsqueeze(1)).sum(1).cpu().numpy()
        mrr += float((1.0 / (1.0 + higher)).sum())
    n = max(len(users), 1)
    out = {k: v / n for k, v in sums.items()}
    out["mrr"] = mrr / n
    for k in ks:
        seen = covered.get(k)
        out[f"coverage@{k}"] = float(seen.sum()) / num_items if seen is not None else 0.0
    out["users"] = float(len(users))
    return out
