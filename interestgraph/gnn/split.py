"""Train / validation / test splits of user→item interactions, made before any training.

Protocol (a) ``random_split``: each user's interactions are shuffled (seeded) and cut
80 / 10 / 10 — the RecBole "RO" split. A user with ``n`` interactions gets
``floor(0.1 n)`` validation and ``floor(0.1 n)`` test items, so users with fewer than
10 interactions keep everything in training (and are not evaluated).

Protocol (b) ``temporal_split``: each user's interactions sorted by time; the last 10 %
(``floor``) are test, the 10 % before them validation (Ciao: ``ts`` has day resolution,
ties keep file order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Split", "random_split", "temporal_split"]


@dataclass(frozen=True)
class Split:
    """Interaction indices (into the original edge list) per part.

    Shapes:
        ``train``, ``val``, ``test``: 1-D int64 arrays; disjoint; together all edges.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def check(self, num_edges: int) -> None:
        """Raise ``AssertionError`` unless the parts are disjoint and cover every edge."""
        together = np.concatenate([self.train, self.val, self.test])
        assert len(together) == num_edges and len(np.unique(together)) == num_edges


def _cut(order_per_user: list[np.ndarray], frac: float) -> Split:
    train, val, test = [], [], []
    for idx in order_per_user:
        k = int(np.floor(frac * len(idx)))
        if k == 0:
            train.append(idx)
            continue
        train.append(idx[: len(idx) - 2 * k])
        val.append(idx[len(idx) - 2 * k : len(idx) - k])
        test.append(idx[len(idx) - k :])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)  # noqa: E731
    return Split(cat(train).astype(np.int64), cat(val).astype(np.int64), cat(test).astype(np.int64))


def _by_user(users: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(users, kind="stable")
    bounds = np.flatnonzero(np.diff(users[order])) + 1
    return np.split(order, bounds)


def random_split(users: np.ndarray, *, frac: float = 0.1, seed: int = 0) -> Split:
    """Per-user random split (protocol a).

    Args:
        users: User index of each interaction.
        frac: Fraction for validation and for test each (0.1 → 80/10/10).
        seed: Shuffle seed.
    """
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(g) for g in _by_user(np.asarray(users))]
    return _cut(groups, frac)


def temporal_split(users: np.ndarray, times: np.ndarray, *, frac: float = 0.1) -> Split:
    """Per-user leave-last-out by time (protocol b): the latest ``frac`` is test."""
    users, times = np.asarray(users), np.asarray(times)
    groups = [g[np.argsort(times[g], kind="stable")] for g in _by_user(users)]
    return _cut(groups, frac)
