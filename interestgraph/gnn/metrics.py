"""Full-ranking evaluation: every item is scored for every evaluated user.

Protocol (written down so numbers can be compared): items the user interacted with in
the *history* (training, plus validation when testing) are removed from the ranking; the
remaining items are ranked by score; relevance is binary (held-out items). Per user:

* ``Recall@K`` = hits in top-K / number of held-out items;
* ``NDCG@K`` = DCG@K / IDCG@K with gain 1 and discount 1/log2(rank + 1), IDCG over
  min(held-out, K) hits;
* ``HitRate@K`` = 1 if any held-out item is in the top-K;
* ``MRR`` = 1 / rank of the best-ranked held-out item in the full ranking;

averaged over users with at least one held-out item. ``Coverage@K`` = distinct items in
all top-K lists / number of items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["csr_from_pairs", "evaluate_ranking", "mask_seen"]


def mask_seen(scores: torch.Tensor, seen: list[np.ndarray]) -> torch.Tensor:
    """Set ``scores[r, seen[r]]`` to ``-inf`` in place for every row ``r``; returns it."""
    rows = np.concatenate([np.full(len(items), r) for r, items in enumerate(seen)] or [[]])
    cols = np.concatenate(seen or [[]])
    if len(rows):
        r = torch.from_numpy(rows.astype(np.int64))
        scores[r, torch.from_numpy(cols.astype(np.int64))] = -torch.inf
    return scores


def csr_from_pairs(users: np.ndarray, items: np.ndarray, num_users: int) -> list[np.ndarray]:
    """Per user, the sorted array of items (a list indexed by user)."""
    out: list[np.ndarray] = [np.zeros(0, np.int64)] * num_users
    if len(users) == 0:
        return out
    order = np.lexsort((items, users))
    u, i = np.asarray(users)[order], np.asarray(items)[order]
    bounds = np.flatnonzero(np.diff(u)) + 1
    for grp_u, grp_i in zip(np.split(u, bounds), np.split(i, bounds), strict=True):
        out[int(grp_u[0])] = np.unique(grp_i)
    return out


def evaluate_ranking(
    score: Callable[[torch.Tensor], torch.Tensor],
    history: list[np.ndarray],
    held_out: list[np.ndarray],
    num_items: int,
    *,
    ks: Sequence[int] = (10, 20),
    batch_size: int = 512,
) -> dict[str, float]:
    """Compute ranking metrics by full ranking.

    Args:
        score: Maps a 1-D tensor of user indices to a ``[len(users), num_items]`` score tensor.
        history: Per user, items to exclude from the ranking (already seen).
        held_out: Per user, the relevant items (validation or test).
        num_items: Catalogue size.
        ks: Cut-offs.
        batch_size: Users scored at once.

    Returns:
        ``{"recall@10": …, "ndcg@10": …, "hit@10": …, "coverage@10": …, "mrr": …, "users": n}``.
    """
    users = np.array([u for u, items in enumerate(held_out) if len(items)], dtype=np.int64)
    kmax = max(ks)
    sums = {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg", "hit")}
    mrr = 0.0
    seen_items = {k: np.zeros(num_items, dtype=bool) for k in ks}
    discounts = 1.0 / np.log2(np.arange(2, kmax + 2))
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        with torch.no_grad():
            s = score(torch.from_numpy(batch)).detach().float().cpu().clone()
        mask_seen(s, [history[u] for u in batch])
        top = torch.topk(s, min(kmax, num_items), dim=1).indices.numpy()
        for r, u in enumerate(batch):
            rel = held_out[u]
            hits = np.isin(top[r], rel)
            for k in ks:
                h = hits[:k]
                n_hit = h.sum()
                sums[f"recall@{k}"] += n_hit / len(rel)
                sums[f"hit@{k}"] += float(n_hit > 0)
                idcg = discounts[: min(len(rel), k)].sum()
                sums[f"ndcg@{k}"] += (discounts[:k][h]).sum() / idcg
                seen_items[k][top[r, :k]] = True
            best = s[r, torch.from_numpy(rel.astype(np.int64))].max()
            mrr += 1.0 / (1 + int((s[r] > best).sum()))
    n = max(len(users), 1)
    out = {k: v / n for k, v in sums.items()}
    out["mrr"] = mrr / n
    for k in ks:
        out[f"coverage@{k}"] = float(seen_items[k].sum()) / num_items
    out["users"] = float(len(users))
    return out
