"""Splits, ranking metrics (hand-computed cases) and baselines on planted data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interestgraph.gnn.baselines import BPRMF, Interactions, ItemKNN, LightGCNRec, MostPop
from interestgraph.gnn.metrics import csr_from_pairs, evaluate_ranking
from interestgraph.gnn.split import random_split, temporal_split


def test_metrics_match_a_hand_computed_case():
    scores = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]])
    m = evaluate_ranking(
        lambda u: scores[u], history=[np.array([0])], held_out=[np.array([2, 4])], num_items=5,
        ks=(2,),
    )  # fmt: skip
    # ranking without the history item 0: 1, 2, 3, 4 → top-2 = [1, 2], one hit at rank 2
    assert m["recall@2"] == pytest.approx(0.5)
    assert m["hit@2"] == 1.0
    assert m["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["mrr"] == pytest.approx(0.5)  # best held-out item (2) ranks second
    assert m["coverage@2"] == pytest.approx(2 / 5)


def test_metrics_average_over_users_with_held_out_items_only():
    scores = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    held = [np.array([0]), np.array([2]), np.zeros(0, np.int64)]
    m = evaluate_ranking(lambda u: scores[u], [np.zeros(0, np.int64)] * 3, held, 3, ks=(1,))
    assert m["users"] == 2 and m["recall@1"] == 0.5 and m["ndcg@1"] == 0.5


def test_random_split_is_per_user_80_10_10_disjoint_and_seeded():
    users = np.repeat(np.arange(4), [20, 10, 9, 1])
    s = random_split(users, seed=3)
    s.check(len(users))
    assert (np.bincount(users[s.test], minlength=4) == [2, 1, 0, 0]).all()
    assert (np.bincount(users[s.val], minlength=4) == [2, 1, 0, 0]).all()
    again = random_split(users, seed=3)
    assert (again.test == s.test).all()


def test_temporal_split_holds_out_each_users_latest():
    users = np.array([0] * 10 + [1] * 10)
    times = np.concatenate([np.arange(10)[::-1], np.arange(10)])
    s = temporal_split(users, times)
    assert sorted(times[s.test].tolist()) == [9, 9]
    assert sorted(times[s.val].tolist()) == [8, 8]
    train_max = {u: times[s.train][users[s.train] == u].max() for u in (0, 1)}
    assert train_max == {0: 7, 1: 7}


def planted(seed: int = 0, users: int = 120, items: int = 60, groups: int = 4):
    """Users of group g buy items of group g (plus a little noise)."""
    rng = np.random.default_rng(seed)
    u_group = rng.integers(0, groups, users)
    i_group = np.arange(items) % groups
    us, its = [], []
    for u in range(users):
        own = np.flatnonzero(i_group == u_group[u])
        picks = rng.choice(own, 10, replace=False)
        noise = rng.choice(items, 1)
        for i in np.concatenate([picks, noise]):
            us.append(u)
            its.append(i)
    return np.array(us), np.array(its), users, items


@pytest.mark.parametrize(
    "factory",
    [
        lambda: ItemKNN(k=20),
        lambda: BPRMF(dim=16, epochs=60, lr=0.01, batch_size=256),
        lambda: BPRMF(dim=16, epochs=60, lr=0.01, batch_size=256, sparse_above=0),
        lambda: LightGCNRec(dim=16, layers=2, epochs=40, lr=0.01, batch_size=256),
    ],
    ids=["ItemKNN", "BPR-MF", "BPR-MF-sparse", "LightGCN"],
)
def test_baselines_recover_planted_groups_far_above_mostpop(factory):
    users, items, nu, ni = planted()
    split = random_split(users, seed=1)
    train = Interactions(users[split.train], items[split.train], nu, ni)
    hist = csr_from_pairs(train.users, train.items, nu)
    test = csr_from_pairs(users[split.test], items[split.test], nu)
    split.check(len(users))
    pop = evaluate_ranking(MostPop().fit(train).score, hist, test, ni, ks=(10,))
    model = evaluate_ranking(factory().fit(train).score, hist, test, ni, ks=(10,))
    assert model["recall@10"] > 2 * pop["recall@10"]
    assert model["recall@10"] > 0.4


def test_bpr_mf_switches_to_sparse_gradients_above_the_row_limit():
    users, items, nu, ni = planted()
    train = Interactions(users, items, nu, ni)
    small = BPRMF(dim=8, epochs=1, sparse_above=nu + ni).fit(train)
    large = BPRMF(dim=8, epochs=1, sparse_above=nu + ni - 1).fit(train)
    assert not small.sparse and not small.item.sparse
    assert large.sparse and large.item.sparse


def test_item_knn_keeps_the_k_most_similar_per_item_like_the_per_item_loop():
    rng = np.random.default_rng(4)
    nu, ni, k = 300, 120, 7
    train = Interactions(rng.integers(0, nu, 3000), rng.integers(0, ni, 3000), nu, ni)
    model = ItemKNN(k=k).fit(train)
    x = train.matrix()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel()) + 1e-8
    xn = x.multiply(1.0 / norms).tocsc().astype(np.float32)
    sim = (xn.T @ xn).toarray()
    np.fill_diagonal(sim, 0.0)
    got = model.sim.toarray()
    for i in range(ni):  # the reference: each row's k largest non-zero similarities
        row = sim[i]
        nz = np.flatnonzero(row)
        want = nz[np.argsort(-row[nz], kind="stable")[:k]]
        kept = np.flatnonzero(got[i])
        assert len(kept) == min(k, len(nz))
        # equal similarities may be kept in either order: compare the kept values
        assert np.allclose(np.sort(row[kept]), np.sort(row[want]))
        assert np.allclose(got[i, kept], row[kept])
