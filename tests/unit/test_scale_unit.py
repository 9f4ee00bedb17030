"""The scale paths against their simple reference implementations, on small random data.

Each new path (vectorised metrics, chunked and IVF top-K, the sparse attention layer, the
vectorised duplicate merge, hashed id maps) is compared with the straightforward version it
replaced, kept here as the reference: the results must be identical (or, for the
approximate IVF search, measured).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from interestgraph.gnn.infer import approx_top_k, search, top_k
from interestgraph.gnn.metrics import Csr, csr_from_pairs, evaluate_ranking, mask_seen
from interestgraph.gnn.model import NormalizedGATConv
from interestgraph.gnn.sparse import Adjacency, attention_spmm
from interestgraph.sync.idmaps import IdMaps


# -- references: the implementations the scale paths replaced ------------------------------
def reference_ranking(score, history, held_out, num_items, ks=(10, 20), batch_size=512):
    """The per-user Python loop of the previous ``evaluate_ranking`` (lists per user)."""
    users = np.array([u for u, items in enumerate(held_out) if len(items)], dtype=np.int64)
    kmax = max(ks)
    sums = {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg", "hit")}
    mrr = 0.0
    seen_items = {k: np.zeros(num_items, dtype=bool) for k in ks}
    discounts = 1.0 / np.log2(np.arange(2, kmax + 2))
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        s = score(torch.from_numpy(batch)).detach().float().cpu().clone()
        for r, u in enumerate(batch):
            s[r, torch.from_numpy(history[u].astype(np.int64))] = -torch.inf
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


def reference_merge(keys, frame):
    """The previous pandas merge of repeated relationship rows."""
    order = ["ts", "_line"] if "ts" in frame.columns else ["_line"]
    frame = frame.sort_values(order, na_position="first", kind="stable")
    weights = frame.groupby(keys, sort=False)["weight"].sum()
    first_line = frame.groupby(keys, sort=False)["_line"].min()
    last = frame.drop_duplicates(keys, keep="last").set_index(keys)
    last["weight"] = weights
    last["_line"] = first_line
    return last.reset_index().sort_values("_line", kind="stable").reset_index(drop=True)


def _random_lists(rng, users, items, low, high):
    return [
        np.sort(rng.choice(items, rng.integers(low, high), replace=False)) for _ in range(users)
    ]


# -- metrics ---------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", [7 * 60, 60, 2**26], ids=["7-rows", "1-row", "all"])
def test_vectorised_metrics_equal_the_per_user_loop(chunk):
    rng = np.random.default_rng(0)
    users, items = 90, 60
    scores = torch.from_numpy(rng.normal(size=(users, items)).astype(np.float32))
    scores[:, :5] = scores[:, :1]  # ties
    history = _random_lists(rng, users, items, 0, 20)
    held = [np.setdiff1d(rng.choice(items, rng.integers(0, 6)), h) for h in history]
    held[3] = np.zeros(0, np.int64)  # a user without held-out items is not evaluated
    want = reference_ranking(lambda u: scores[u], history, held, items, ks=(1, 10, 20))
    got = evaluate_ranking(lambda u: scores[u], history, held, items, ks=(1, 10, 20),
                           chunk_elements=chunk)  # fmt: skip
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    sample = np.array([0, 5, 9, 3])  # the chosen users only (user 3 has nothing held out)
    part = evaluate_ranking(lambda u: scores[u], history, held, items, users=sample)
    only = [h if u in sample else np.zeros(0, np.int64) for u, h in enumerate(held)]
    assert part == pytest.approx(reference_ranking(lambda u: scores[u], history, only, items))


def test_csr_rows_pairs_and_masking():
    users = np.array([2, 0, 2, 2, 0])
    items = np.array([5, 1, 3, 5, 1])  # repeats count once
    csr = csr_from_pairs(users, items, 4)
    assert len(csr) == 4 and csr[0].tolist() == [1] and csr[2].tolist() == [3, 5]
    assert csr[1].tolist() == [] and csr.counts().tolist() == [1, 0, 2, 0]
    pos, cols = csr.pairs(np.array([2, 0]))
    assert pos.tolist() == [0, 0, 1] and cols.tolist() == [3, 5, 1]
    s = torch.zeros(2, 6)
    mask_seen(s, csr, np.array([2, 0]))
    assert torch.isinf(s).nonzero().tolist() == [[0, 3], [0, 5], [1, 1]]
    assert Csr.from_lists([np.array([3, 1, 3]), np.zeros(0)])[0].tolist() == [1, 3]


# -- top-K -----------------------------------------------------------------------------------
def test_chunked_top_k_with_rows_and_self_exclusion_matches_brute_force():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 6, generator=g)
    exclude = Csr.from_lists([np.array([i % 7, (i * 3) % 40]) for i in range(40)])
    rows = np.array([39, 0, 17])
    got = top_k(x, x, 5, exclude=exclude, exclude_self=True, rows=rows, chunk=2)
    s = (x @ x.T).numpy()
    for r, q in enumerate(rows):
        s[q, q] = -np.inf
        s[q, exclude[q]] = -np.inf
        want = np.argsort(-s[q], kind="stable")[:5]
        assert got.index[r].tolist() == want.tolist()


def _clustered(rng, n, d=16, centres=20):
    c = rng.normal(size=(centres, d))
    return torch.from_numpy((c[rng.integers(0, centres, n)] + 0.3 * rng.normal(size=(n, d)))
                            .astype(np.float32))  # fmt: skip


def test_ivf_top_k_finds_the_exact_lists_and_honours_exclusions():
    rng = np.random.default_rng(2)
    users, items = _clustered(rng, 300), _clustered(rng, 4000) * 2
    bought = Csr.from_lists(_random_lists(rng, 300, 4000, 1, 30))
    exact = top_k(users, items, 20, exclude=bought)
    approx = approx_top_k(users, items, 20, exclude=bought)
    recall = np.mean([len(np.intersect1d(a, e)) / 20 for a, e in
                      zip(approx.index, exact.index, strict=True)])  # fmt: skip
    assert recall > 0.97
    for u in range(300):
        assert not set(approx.index[u]) & set(bought[u])
        found = approx.index[u] >= 0
        s = (items[approx.index[u][found]] @ users[u]).numpy()
        assert np.allclose(approx.score[u][found], s, atol=1e-4)  # re-scored exactly
        assert (np.diff(approx.score[u][found]) <= 1e-6).all()
    unit = torch.nn.functional.normalize(items, dim=1)
    sim = approx_top_k(unit[:200], unit, 5, exclude_self=True, cosine=True)
    assert all(r not in sim.index[r] for r in range(200))
    tk, meta = search(users, items, 20, exclude=bought, exact_limit=0)
    assert meta["method"] == "ivf" and meta["recall"] > 0.97 and tk.index.shape == (300, 20)
    assert meta["max_codes"] == 32 * 256 and 0 < meta["codes_per_query"] <= 4000
    assert meta["imbalance"] >= 1.0 and meta["largest_list"] >= 4000 // 15
    _, meta = search(users, items, 20, exclude=bought)
    assert meta["method"] == "exact" and set(meta) == {"method", "seconds"}


def test_ivf_search_in_list_order_equals_row_order_across_batches():
    # more queries than one search batch (4,096): the sorted order must map rows back
    rng = np.random.default_rng(5)
    users, items = torch.randn(5000, 8), torch.randn(20_000, 8)
    bought = Csr.from_lists([rng.integers(0, 20_000, 5) for _ in range(5000)])
    a = approx_top_k(users, items, 10, exclude=bought)
    b = approx_top_k(users, items, 10, exclude=bought, by_list=False)
    assert np.array_equal(a.index, b.index) and np.allclose(a.score, b.score, equal_nan=True)
    exact = top_k(users, items, 10, exclude=bought, rows=np.arange(0, 5000, 50))
    hit = np.mean([len(np.intersect1d(x, e)) / 10 for x, e in
                   zip(a.index[::50], exact.index, strict=True)])  # fmt: skip
    assert hit > 0.95
    for u in range(0, 5000, 97):
        assert not set(a.index[u]) & set(bought.indices[bought.indptr[u] : bought.indptr[u + 1]])


def test_ivf_work_per_query_is_bounded_by_max_codes_when_lists_are_unequal():
    # 5 % of the items share one vector (k-means cannot split them: one list of 1,000+)
    # and another 20 % crowd one small ball, so the queries drawn from the items fall in
    # big lists; max_codes stops a query's scan after the list that crosses the bound
    g = torch.Generator().manual_seed(4)
    n, d = 20_000, 16
    same = torch.randn(1, d, generator=g).repeat(n // 20, 1)
    ball = torch.randn(1, d, generator=g) + 0.02 * torch.randn(n // 5, d, generator=g)
    rest = torch.randn(n - len(same) - len(ball), d, generator=g)
    items = torch.nn.functional.normalize(torch.cat([same, ball, rest]), dim=1)
    queries = items[torch.randperm(n, generator=g)[:2000]]
    free: dict = {}
    unbounded = approx_top_k(queries, items, 10, cosine=True, max_codes=0, stats=free)
    bound: dict = {}
    bounded = approx_top_k(queries, items, 10, cosine=True, max_codes=2048, stats=bound)
    assert free["largest_list"] >= n // 20 and free["imbalance"] > 1.5
    assert free["codes_per_query"] > 2048 + free["largest_list"]
    assert bound["codes_per_query"] <= 2048 + bound["largest_list"]
    exact = top_k(queries, items, 10)
    for got, least in ((unbounded, 0.97), (bounded, 0.7)):  # a quarter of the work: ~0.81
        hit = np.mean([len(np.intersect1d(a, e)) / 10 for a, e in
                       zip(got.index, exact.index, strict=True)])  # fmt: skip
        assert hit > least
    default: dict = {}
    approx_top_k(queries, items, 10, cosine=True, stats=default)  # nprobe × 256 = 8,192
    assert default["codes_per_query"] <= 32 * 256 + default["largest_list"]


def test_ivf_rows_crowded_by_exclusions_fall_back_to_exact():
    rng = np.random.default_rng(3)
    users, items = _clustered(rng, 50), _clustered(rng, 500)
    lists = _random_lists(rng, 50, 500, 0, 5)
    lists[7] = np.arange(0, 480)  # user 7 bought almost everything: 20 items remain
    bought = Csr.from_lists(lists)
    approx = approx_top_k(users, items, 10, exclude=bought)
    exact = top_k(users, items, 10, exclude=bought)
    assert approx.index[7].tolist() == exact.index[7].tolist()


# -- the sparse attention layer -------------------------------------------------------------
@pytest.mark.parametrize(
    ("heads", "learned", "frozen_moved"),
    [(1, False, False), (2, False, False), (1, True, False), (3, True, False), (2, False, True)],
)
def test_sparse_attention_equals_gatconv_values_and_gradients(heads, learned, frozen_moved):
    torch.manual_seed(0)
    conv = NormalizedGATConv(8, heads, 0.0, learn_transform=learned)
    with torch.no_grad():
        for p in conv.parameters():
            # frozen identity maps stay put in training; frozen_moved: a map that is frozen
            # but not the identity (e.g. loaded weights) must still be applied
            if p.requires_grad or frozen_moved:
                p.add_(torch.randn_like(p) * 0.3)
    src = torch.randn(30, 8, requires_grad=True)
    dst = torch.randn(20, 8, requires_grad=True)
    ei = torch.stack([torch.randint(0, 30, (150,)), torch.randint(0, 20, (150,))])
    params = [src, dst, *(p for p in conv.parameters() if p.requires_grad)]
    out = conv((src, dst), ei)
    grads = torch.autograd.grad(out.pow(2).sum(), params)
    # the previous computation: PyG's GATConv on degree-scaled sources
    d_src = torch.bincount(ei[0], minlength=30).clamp(min=1)
    d_dst = torch.bincount(ei[1], minlength=20).clamp(min=1)
    ref = conv.conv((src * d_src.rsqrt().unsqueeze(1), dst), ei) * d_dst.sqrt().unsqueeze(1)
    ref_grads = torch.autograd.grad(ref.pow(2).sum(), params)
    assert torch.allclose(out, ref, atol=1e-5)
    for a, b in zip(grads, ref_grads, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
    # a prepared adjacency gives the same result as raw edges
    again = conv((src, dst), Adjacency.build(ei, 30, 20))
    assert torch.allclose(again, out)


def test_attention_spmm_gradients_pass_gradcheck():
    torch.manual_seed(1)
    ei = torch.stack([torch.randint(0, 9, (40,)), torch.randint(0, 6, (40,))])
    adj = Adjacency.build(ei, 9, 6)
    alpha = torch.rand(40, dtype=torch.float64, requires_grad=True)
    x = torch.randn(9, 4, dtype=torch.float64, requires_grad=True)

    def f(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        from interestgraph.gnn.sparse import _AttentionSpMM

        return _AttentionSpMM.apply(a, v, adj)

    assert torch.autograd.gradcheck(f, (alpha, x))
    dense = torch.zeros(6, 9, dtype=torch.float64)
    dense.index_put_((adj.dst, adj.src), alpha.detach(), accumulate=True)
    assert torch.allclose(attention_spmm(alpha.detach().float(), x.float(), adj),
                          (dense @ x.detach()).float(), atol=1e-5)  # fmt: skip


# -- ingest: the vectorised duplicate merge ---------------------------------------------------
def test_vectorised_merge_equals_the_pandas_groupby_merge():
    from interestgraph.ingest.spec import TABLES
    from interestgraph.ingest.validate import _merge_duplicates

    rng = np.random.default_rng(4)
    n = 2000
    frame = pd.DataFrame(
        {
            "user_id": pd.array(rng.integers(0, 40, n).astype(str), dtype="str"),
            "item_id": pd.array(rng.integers(0, 30, n).astype(str), dtype="str"),
            "weight": rng.integers(1, 4, n).astype(float),
            "ts": pd.array(
                np.where(rng.random(n) < 0.2, None, rng.integers(0, 50, n)), dtype="Int64"
            ),
            "rating": rng.integers(1, 6, n),
            "_line": np.arange(2, n + 2),
        }
    )
    got, merged = _merge_duplicates(TABLES["purchases"], frame)
    want = reference_merge(["user_id", "item_id"], frame)
    assert merged == n - len(want)
    cols = list(frame.columns)
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), want[cols], check_dtype=False)


# -- id maps -----------------------------------------------------------------------------------
def test_hashed_id_maps_equal_a_pandas_index_and_survive_collisions(monkeypatch):
    keys = [f"k{i}" for i in range(500)] + ["ü-ñ", "", "a b", "x" * 256]
    maps = IdMaps.from_keys({"t": keys})
    query = ["k7", "missing", "ü-ñ", "x" * 256, "k499", "k7"]
    want = pd.Index(sorted(keys)).get_indexer(query)
    assert maps.index("t", query).tolist() == want.tolist()
    assert maps.keys["t"].tolist() == sorted(keys)
    import interestgraph.sync.idmaps as idmaps

    monkeypatch.setattr(idmaps, "_hash", lambda k: np.zeros(len(k), dtype=np.uint64))
    clash = IdMaps.from_keys({"t": keys})  # every key collides: pandas index fallback
    assert clash.index("t", query).tolist() == want.tolist()
