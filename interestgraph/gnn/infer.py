"""Inference: embeddings and top-K lists as arrays ready for write-back.

Given the node embeddings of a trained model (encoded over the *full* graph, every
purchase included):

* ``user_items``: top-``max(K, serve_top)`` items per user by ``<h_u, h_i>``, already-purchased
  items excluded (the write-back stores them for serving);
* ``user_topics``: top-K topics per user by ``<h_u, h_t>`` (the interest decoder);
* ``user_users``: top-K co-interest users per user by cosine similarity, self excluded;
* ``item_items``: top-K similar items per item by cosine similarity, self excluded.

Each list is a pair of ``[rows, K]`` arrays (``index``: node index of the export's id
maps, ``-1`` where fewer than K candidates exist; ``score``: float32, descending).

How each list is searched (recorded per list in :attr:`Inference.meta`):

* **exact** — chunked matrix products and ``torch.topk`` on the embeddings' device, rows
  per chunk = ``chunk_elements // candidates`` so memory is bounded by that setting, not
  by the catalogue. Used on CUDA, and on CPU while ``rows × candidates`` is at most
  ``exact_limit`` (default 2·10⁹ scores: ~30 s on two cores). Its cost grows with
  ``rows × candidates``: quadratic in the size of the shop.
* **ivf** — beyond that on CPU: an inverted-file index (faiss ``IndexIVFFlat``, ``C /
  LIST_SIZE`` k-means lists of ~256 candidates, ``nprobe`` = 32 of them searched per
  query; inner products through the MIPS→L2 augmentation ``[h, √(M²−|h|²)]``), then the
  candidates re-scored exactly. Queries are searched in the order of their nearest list
  (``search_preassigned``), so one batch of queries shares a few hundred lists that stay
  in cache instead of scattering over the whole index. k-means lists are not equal, and
  queries drawn from the candidates' distribution land in the big ones, so a query's scan
  stops at ``max_codes`` = ``nprobe × LIST_SIZE`` = 8,192 candidates: the work per query
  is constant and the search grows with ``rows`` (the lists' imbalance and the candidates
  scanned per query are stored in ``meta``); what still grows
  with ``C`` is the choice of the lists (``rows × C / 256`` centroid products, ~1/256 of
  an exact ranking) and the k-means fit (``40·nlist`` points). Its recall against the
  exact lists is measured on a seeded sample of rows and stored beside the lists
  (``meta[list]["recall"]``), so nobody mistakes these lists for exact ones.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interestgraph.gnn.metrics import CHUNK_ELEMENTS, Csr, mask_seen

__all__ = ["EXACT_LIMIT", "Inference", "TopK", "approx_top_k", "infer", "search", "top_k"]

log = logging.getLogger(__name__)

#: On CPU, lists with at most this many (row, candidate) scores are computed exactly.
EXACT_LIMIT = 2_000_000_000
#: Rows whose approximate list is compared with the exact one (recall in the metadata).
RECALL_SAMPLE = 1000
#: Candidates per inverted list of the IVF index (``nlist = C // LIST_SIZE``).
LIST_SIZE = 256
#: Lists searched per query.
NPROBE = 32


def _nlist(c_n: int) -> int:
    return max(1, c_n // LIST_SIZE)


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
    #: per list: how it was searched (``method``, ``recall`` for approximate lists, …)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def save(self, path: Path) -> Path:
        """Write a flat tensor dict (loadable with ``torch.load(weights_only=True)``)."""
        flat: dict[str, Any] = {f"emb|{t}": torch.from_numpy(v) for t, v in self.embeddings.items()}
        for name, tk in self.lists.items():
            flat[f"top|{name}|index"] = torch.from_numpy(tk.index)
            flat[f"top|{name}|score"] = torch.from_numpy(tk.score)
        flat["meta"] = json.dumps(self.meta)
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
        return cls(emb, lists, json.loads(flat.get("meta", "{}")))

    def exact(self, name: str) -> bool:
        """True when list ``name`` was computed exactly (runs before this field: exact)."""
        return self.meta.get(name, {}).get("method", "exact") == "exact"


def _empty(rows: int, k: int) -> TopK:
    return TopK(np.full((rows, k), -1, dtype=np.int64), np.full((rows, k), np.nan, np.float32))


def top_k(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    exclude: Csr | list[np.ndarray] | None = None,
    exclude_self: bool = False,
    chunk: int | None = None,
    chunk_elements: int = CHUNK_ELEMENTS,
    rows: np.ndarray | None = None,
) -> TopK:
    """Exact top-``k`` candidates per query row by inner product, in chunks of rows.

    Args:
        queries: ``[Q, d]``. candidates: ``[C, d]`` (on the same device).
        exclude: Per query row, candidate indices to skip (e.g. purchased items).
        exclude_self: Skip candidate ``q`` for query row ``q`` (same node set).
        chunk: Rows per product (default ``chunk_elements // C``).
        chunk_elements: Most scores held at once when ``chunk`` is not given.
        rows: Only these query rows (``exclude`` and ``exclude_self`` still refer to the
            full row numbers); the result has one row per entry.
    """
    rows = np.arange(queries.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    q_n, c_n = len(rows), candidates.shape[0]
    kk = min(k, c_n)
    out = _empty(q_n, k)
    if q_n == 0 or kk == 0:
        return out
    step = chunk or max(1, chunk_elements // max(c_n, 1))
    cand_t = candidates.T
    for lo in range(0, q_n, step):
        part = rows[lo : lo + step]
        idx_t = torch.from_numpy(part).to(queries.device)
        with torch.no_grad():
            s = (queries[idx_t] @ cand_t).float()
        if exclude_self:
            r = torch.arange(len(part), device=s.device)
            s[r, idx_t] = -torch.inf
        if exclude is not None:
            mask_seen(s, exclude, part)
        val, idx = torch.topk(s, kk, dim=1)
        ok = torch.isfinite(val)
        out.index[lo : lo + len(part), :kk] = torch.where(ok, idx, -1).cpu().numpy()
        out.score[lo : lo + len(part), :kk] = torch.where(ok, val, torch.nan).cpu().numpy()
    return out


def approx_top_k(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    exclude: Csr | None = None,
    exclude_self: bool = False,
    cosine: bool = False,
    nprobe: int = NPROBE,
    max_codes: int | None = None,
    seed: int = 0,
    by_list: bool = True,
    stats: dict[str, Any] | None = None,
) -> TopK:
    """Top-``k`` by an inverted-file index (faiss), candidates re-scored exactly.

    ``by_list``: search the queries in the order of their nearest list (same results;
    ``False``, in row order, is the slower baseline kept for ``bench/infer.py``).

    ``max_codes``: most candidates scanned per query (default ``nprobe × LIST_SIZE``, what
    ``nprobe`` lists of the nominal size hold; ``0`` = no bound). k-means lists are not
    equal: queries drawn from the candidates' own distribution fall in the big lists, so
    without the bound the work per query grows with the lists' imbalance (2.3× the nominal
    at 10M, 2026-12-04) instead of staying constant. ``stats``, when given, receives the
    lists' imbalance factor, the largest list and the mean candidates scanned per query.

    ``cosine``: rows are unit vectors (inner product = cosine); otherwise inner products
    are searched through the MIPS→L2 augmentation. Rows whose excluded candidates crowd
    out the list (fewer than ``k`` left) are computed exactly.
    """
    import faiss

    q = queries.detach().float().cpu().numpy()
    c = candidates.detach().float().cpu().numpy()
    q_n, c_n, dim = len(q), len(c), c.shape[1]
    if exclude is not None:
        extra = int(np.percentile(exclude.counts(), 95)) if len(exclude) else 0
    else:
        extra = 0
    fetch = min(c_n, k + extra + int(exclude_self))
    nlist = _nlist(c_n)
    if cosine:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        base, probe = c, q
    else:
        norms = np.linalg.norm(c, axis=1)
        m = float(norms.max()) if c_n else 1.0
        base = np.hstack([c, np.sqrt(np.maximum(m * m - norms**2, 0))[:, None]]).astype(np.float32)
        probe = np.hstack([q, np.zeros((q_n, 1), np.float32)])
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim + 1), dim + 1, nlist, faiss.METRIC_L2)
    t_build = time.perf_counter()
    rng = np.random.default_rng(seed)
    train = base[rng.choice(c_n, min(c_n, 40 * nlist), replace=False)]
    index.cp.seed = seed
    index.cp.niter = 10
    index.train(np.ascontiguousarray(train))
    index.add(np.ascontiguousarray(base))
    index.nprobe = min(nprobe, nlist)
    index.max_codes = nprobe * LIST_SIZE if max_codes is None else max_codes
    faiss.cvar.indexIVF_stats.reset()
    t_search = time.perf_counter()
    out = _empty(q_n, k)
    short: list[np.ndarray] = []
    cand_t = torch.from_numpy(c)
    step = 4096  # rows per search: [step, fetch, d] candidate rows re-scored at once
    # queries in the order of their nearest list: a batch then scans a few hundred lists
    # (cache-resident) instead of nprobe × step scattered ones across the whole index. The
    # nearest list is found in a first pass and the nprobe lists again per batch: keeping
    # every row's nprobe assignment would hold rows × nprobe × 12 bytes (0.6 GB at 1.5M)
    query_order = np.arange(q_n)
    if by_list:
        first = np.empty(q_n, np.int64)
        for lo in range(0, q_n, 65_536):
            first[lo : lo + 65_536] = index.quantizer.search(probe[lo : lo + 65_536], 1)[1][:, 0]
        query_order = np.argsort(first, kind="stable")
    for lo in range(0, q_n, step):
        rows = query_order[lo : lo + step]
        batch = np.ascontiguousarray(probe[rows])
        dq, iq = index.quantizer.search(batch, index.nprobe)
        _, ids = index.search_preassigned(batch, fetch, iq, dq)
        ids = torch.from_numpy(ids)
        valid = ids >= 0
        rows_t = torch.from_numpy(rows).unsqueeze(1)
        if exclude_self:
            valid &= ids != rows_t
        if exclude is not None:
            pos, cols = exclude.pairs(rows)
            if len(pos):
                key = torch.from_numpy(pos * c_n + cols)
                flat = torch.arange(len(rows)).unsqueeze(1) * c_n + ids.clamp(min=0)
                valid &= ~torch.isin(flat, key)
        qv = torch.from_numpy(q[rows])
        s = torch.einsum("qd,qkd->qk", qv, cand_t[ids.clamp(min=0)])
        s = torch.where(valid, s, torch.full_like(s, -torch.inf))
        val, order = torch.topk(s, min(k, fetch), dim=1)
        got = torch.gather(ids, 1, order)
        ok = torch.isfinite(val)
        out.index[rows, : order.shape[1]] = torch.where(ok, got, -1).numpy()
        out.score[rows, : order.shape[1]] = torch.where(ok, val, torch.nan).numpy()
        lacking = (ok.sum(1) < min(k, c_n - int(exclude_self))).numpy()
        if lacking.any():
            short.append(np.sort(rows[lacking]))
    scanned = faiss.cvar.indexIVF_stats.ndis / max(q_n, 1)
    imbalance = index.invlists.imbalance_factor()
    if stats is not None:
        largest = max(index.invlists.list_size(i) for i in range(nlist))  # nlist = C/256 calls
        stats.update(
            imbalance=round(imbalance, 3), largest_list=int(largest),
            codes_per_query=round(scanned, 1),
        )  # fmt: skip
    log.info(
        "IVF %d × %d (top %d, %d fetched): index %.1f s, search %.1f s, "
        "list imbalance %.2f, %.0f candidates scanned per query",
        q_n, c_n, k, fetch, t_search - t_build, time.perf_counter() - t_search, imbalance, scanned,
    )  # fmt: skip
    if short:
        redo = np.concatenate(short)
        if exclude is not None:  # only rows that could hold k: the rest are exact already
            room = c_n - exclude.counts()[redo] - int(exclude_self)
            redo = redo[room > (out.index[redo] >= 0).sum(1)]
        if len(redo):
            exact = top_k(
                queries.cpu(), candidates.cpu(), k, exclude=exclude, exclude_self=exclude_self,
                rows=redo,
            )  # fmt: skip
            out.index[redo], out.score[redo] = exact.index, exact.score
    return out


def _recall(approx: TopK, exact: TopK, rows: np.ndarray) -> float:
    hits, total = 0, 0
    for r, want in zip(rows, exact.index, strict=True):
        want = want[want >= 0]
        hits += len(np.intersect1d(approx.index[r], want))
        total += len(want)
    return hits / total if total else 1.0


def search(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    *,
    exclude: Csr | None = None,
    exclude_self: bool = False,
    cosine: bool = False,
    exact_limit: int = EXACT_LIMIT,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> tuple[TopK, dict[str, Any]]:
    """Top-``k`` exactly or by IVF (see the module doc); returns the list and its metadata."""
    q_n, c_n = queries.shape[0], candidates.shape[0]
    t0 = time.perf_counter()
    if queries.device.type == "cuda" or q_n * c_n <= exact_limit:
        tk = top_k(
            queries, candidates, k, exclude=exclude, exclude_self=exclude_self,
            chunk_elements=chunk_elements,
        )  # fmt: skip
        return tk, {"method": "exact", "seconds": round(time.perf_counter() - t0, 2)}
    stats: dict[str, Any] = {}
    tk = approx_top_k(
        queries, candidates, k, exclude=exclude, exclude_self=exclude_self, cosine=cosine,
        stats=stats,
    )  # fmt: skip
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(q_n, min(q_n, RECALL_SAMPLE), replace=False))
    exact = top_k(
        queries, candidates, k, exclude=exclude, exclude_self=exclude_self, rows=sample,
        chunk_elements=chunk_elements,
    )  # fmt: skip
    meta = {
        "method": "ivf",
        "recall": round(_recall(tk, exact, sample), 5),
        "recall_rows": len(sample),
        "nlist": _nlist(c_n),
        "nprobe": min(NPROBE, _nlist(c_n)),
        "max_codes": NPROBE * LIST_SIZE,
        **stats,
        "seconds": round(t1 - t0, 2),
        "recall_seconds": round(time.perf_counter() - t1, 2),
    }
    log.info("top-%d of %d rows by IVF: recall@%d %.4f on %d rows", k, q_n, k, meta["recall"],
             len(sample))  # fmt: skip
    return tk, meta


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=1)


def infer(
    embeddings: dict[str, torch.Tensor],
    purchased: Csr,
    k: int = 10,
    *,
    serve_top: int = 100,
    exact_limit: int = EXACT_LIMIT,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> Inference:
    """All top-K lists from node embeddings (see the module doc for each list).

    ``serve_top``: length of each user's item list (at least ``k``), kept for serving.
    The products run on the embeddings' device.
    """
    h = {t: v.detach().float() for t, v in embeddings.items()}
    opts = {"exact_limit": exact_limit, "chunk_elements": chunk_elements}
    res = Inference({t: v.cpu().numpy() for t, v in h.items()})

    def put(name: str, found: tuple[TopK, dict[str, Any]]) -> None:
        res.lists[name], res.meta[name] = found

    if "user" in h and "item" in h:
        put(
            "user_items", search(h["user"], h["item"], max(k, serve_top), exclude=purchased, **opts)
        )
        items = _unit(h["item"])
        put("item_items", search(items, items, k, exclude_self=True, cosine=True, **opts))
    if "user" in h and "topic" in h:
        put("user_topics", search(h["user"], h["topic"], k, **opts))
    if "user" in h:
        users = _unit(h["user"])
        put("user_users", search(users, users, k, exclude_self=True, cosine=True, **opts))
    return res
