"""Neo4j → PyTorch Geometric ``HeteroData``, fidelity-checked.

``export_graph(store, …)`` reads node keys, edges and text embeddings in server-side
chunks (each record carries a whole chunk built with ``collect()``), maps business keys to
contiguous indices with :class:`~interestgraph.sync.idmaps.IdMaps`, builds the tensors,
adds a reverse edge type per relation for message passing, and checks the result:
per-type node and edge counts equal Cypher's counts for the same selection, no edge
points outside the exported nodes, and ``HeteroData.validate()`` passes. A mismatch
raises :class:`ExportFidelityError` with the numbers; nothing is dropped silently.

Selection: the whole graph, or ``seed_users`` + ``hops`` (the induced subgraph on every
node within ``hops`` relationships of a seed, over the chosen edge types, in either
direction); ``since`` / ``until`` restrict PURCHASED by ``ts`` (undated purchases are
then left out); ``node_types`` / ``edge_types`` choose the parts of the schema.

Node features (``x``): Item and Topic → their ``text_embedding``; User (no text of its
own) → the mean text embedding of the items it purchased, else of the topics it follows,
else zeros. ``has_text`` marks rows backed by a real embedding. Models add learned id
embeddings on top (gnn issue). Edge attributes: ``edge_weight`` (float32),
``edge_time`` (int64 Unix seconds, 0 when undated) and ``has_time``.

Streaming (``bench/export.py`` measures it): keys are read in pages in key order (the
unique constraint's index), one record per page; edges per chunk of start nodes come back
as parallel lists whose source is the start node's *position* in the chunk (an integer:
no string lookup) and whose targets are mapped to indices by :meth:`IdMaps.index`
(vectorised); text vectors arrive per chunk as one list of lists. Every chunk is copied
into arrays preallocated from Cypher's counts and dropped, so the only per-row Python
objects are one chunk's decoded values; a background thread fetches the next chunk while
the current one is converted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from interestgraph.errors import InterestGraphError
from interestgraph.gnn.features import mean_of_neighbours
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.schema import KEYS, Label, RelType
from interestgraph.graphstore.store import prefetch
from interestgraph.sync.idmaps import IdMaps, as_keys

__all__ = ["EDGE_TYPES", "NODE_TYPES", "ExportFidelityError", "ExportInfo", "export_graph"]

log = logging.getLogger(__name__)

#: PyG node type → Neo4j label.
NODE_TYPES: dict[str, Label] = {"user": Label.USER, "item": Label.ITEM, "topic": Label.TOPIC}
_TYPE_OF = {lbl: t for t, lbl in NODE_TYPES.items()}

#: PyG edge type → (relationship type, start label, end label).
EDGE_TYPES: dict[tuple[str, str, str], tuple[RelType, Label, Label]] = {
    ("user", "purchased", "item"): (RelType.PURCHASED, Label.USER, Label.ITEM),
    ("user", "follows", "user"): (RelType.FOLLOWS, Label.USER, Label.USER),
    ("user", "follows", "topic"): (RelType.FOLLOWS, Label.USER, Label.TOPIC),
    ("item", "has_topic", "topic"): (RelType.HAS_TOPIC, Label.ITEM, Label.TOPIC),
}

_CHUNK = 5000  # text vectors per query
_KEY_PAGE = 100_000  # keys per page
_EDGE_CHUNK = 20_000  # start nodes per edge query
_NO_TS = -(2**62)
#: concurrent read sessions: the server's Cypher runtime is single-threaded per query, so
#: parallel chunk reads use more of its cores (measured on 2 cores: 1 → 165k, 3 → 274k
#: edges/s on the 1M synthetic shop)
_READERS = 3


class ExportFidelityError(InterestGraphError):
    """The exported tensors do not match the graph (counts, dangling edges, validation)."""


@dataclass
class ExportInfo:
    """What was exported and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)
    text_model: str | None = None
    text_dim: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (saved beside the tensors)."""
        return {
            "counts": self.counts,
            "selection": self.selection,
            "text_model": self.text_model,
            "text_dim": self.text_dim,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _etype_name(et: tuple[str, str, str]) -> str:
    return "__".join(et)


def _ts_filter(rel: RelType, since: int | None, until: int | None) -> str:
    if rel is not RelType.PURCHASED or (since is None and until is None):
        return ""
    parts = ["r.ts IS NOT NULL"]
    if since is not None:
        parts.append("r.ts >= datetime({epochSeconds: $since})")
    if until is not None:
        parts.append("r.ts < datetime({epochSeconds: $until})")
    return " AND " + " AND ".join(parts)


def _read_keys(store: GraphStore, label: Label) -> np.ndarray:
    """Every key of ``label``, in pages of ``_KEY_PAGE`` in key order (sorted, unique)."""
    key = KEYS[label]
    query = (
        f"MATCH (n:{label.value}) WHERE n.{key} > $after WITH n.{key} AS k ORDER BY k "
        "LIMIT $page RETURN collect(k) AS ks"
    )
    pages, after = [], ""
    while True:
        got = store.read_columns(
            query, {"after": after, "page": _KEY_PAGE}, op=f"export.keys.{label.value}"
        )["ks"][0]
        if not got:
            break
        pages.append(as_keys(got))
        after = got[-1]
        if len(got) < _KEY_PAGE:
            break
    return np.concatenate(pages) if pages else as_keys([])


def _expand(
    store: GraphStore,
    seeds: list[str],
    hops: int,
    edge_types: list[tuple[str, str, str]],
    since: int | None,
    until: int | None,
) -> dict[str, set[str]]:
    """Breadth-first k-hop neighbourhood of seed users over ``edge_types``, both directions."""
    reached: dict[str, set[str]] = {t: set() for t in NODE_TYPES}
    known = set(_read_existing(store, Label.USER, seeds))
    missing = sorted(set(seeds) - known)
    if missing:
        raise ExportFidelityError(f"seed users not in the graph: {missing[:10]}")
    reached["user"] = set(seeds)
    frontier: dict[str, set[str]] = {"user": set(seeds)}
    for _ in range(hops):
        new: dict[str, set[str]] = {t: set() for t in NODE_TYPES}
        for et in edge_types:
            rel, a, b = EDGE_TYPES[et]
            for src, dst, pattern in (
                (a, b, f"(x:{a.value} {{{KEYS[a]}: k}})-[r:{rel.value}]->(y:{b.value})"),
                (b, a, f"(x:{b.value} {{{KEYS[b]}: k}})<-[r:{rel.value}]-(y:{a.value})"),
            ):
                ids = sorted(frontier.get(_TYPE_OF[src], ()))
                if not ids:
                    continue
                cols = store.read_columns(
                    f"UNWIND $ids AS k MATCH {pattern} WHERE y.{KEYS[dst]} IS NOT NULL"
                    f"{_ts_filter(rel, since, until)} RETURN collect(DISTINCT y.{KEYS[dst]}) AS ys",
                    {"ids": ids, "since": since, "until": until},
                    op="export.expand",
                )
                for ys in cols["ys"]:
                    new[_TYPE_OF[dst]].update(ys)
        frontier = {t: new[t] - reached[t] for t in NODE_TYPES}
        for t in NODE_TYPES:
            reached[t] |= new[t]
        if not any(frontier.values()):
            break
    return reached


def _read_existing(store: GraphStore, label: Label, ids: list[str]) -> list[str]:
    cols = store.read_columns(
        f"UNWIND $ids AS k MATCH (n:{label.value} {{{KEYS[label]}: k}}) RETURN collect(k) AS ks",
        {"ids": list(ids)},
        op="export.exists",
    )
    return [k for chunk in cols["ks"] for k in chunk]


def _edge_query(rel: RelType, a: Label, b: Label, where: str) -> str:
    """Edges of one chunk of start keys (``$keys``), as four parallel lists in one record:
    the start node's position in ``$keys``, the end key, the weight and the time."""
    ka, kb = KEYS[a], KEYS[b]
    return (
        f"UNWIND range(0, size($keys) - 1) AS i "
        f"MATCH (x:{a.value} {{{ka}: $keys[i]}})-[r:{rel.value}]->(y:{b.value}) "
        f"WHERE y.{kb} IS NOT NULL{where} "
        f"RETURN collect(i) AS s, collect(y.{kb}) AS d, collect(coalesce(r.weight, 1.0)) AS w, "
        f"collect(coalesce(r.ts.epochSeconds, {_NO_TS})) AS t"
    )


def _count_query(rel: RelType, a: Label, b: Label, where: str, subgraph: bool) -> str:
    """Cypher's count of the same selection, without the key filters of the export."""
    restrict = f" AND x.{KEYS[a]} IN $xs" if subgraph else ""
    return (
        f"MATCH (x:{a.value})-[r:{rel.value}]->(y:{b.value}) WHERE true{where}{restrict} "
        "RETURN count(r) AS n"
    )


def _read_vectors(
    store: GraphStore, label: Label, keys: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, set[str], set[int]]:
    """Text embeddings of ``keys`` in order, into one preallocated ``[N, dim]`` array.

    Returns ``(x or None when no node has text, has_text mask, models, dimensions)``.
    """
    key = KEYS[label]
    query = (
        f"UNWIND $ids AS k MATCH (n:{label.value} {{{key}: k}}) "
        "RETURN collect(n.text_embedding IS NOT NULL) AS has, collect(n.text_embedding) AS v, "
        "collect(DISTINCT n.text_model) AS m"
    )
    los = range(0, len(keys), _CHUNK)
    calls = (
        partial(store.read_columns, query, {"ids": keys[lo : lo + _CHUNK].tolist()},
                op=f"export.vectors.{label.value}")
        for lo in los
    )  # fmt: skip
    x: np.ndarray | None = None
    has = np.zeros(len(keys), dtype=bool)
    models: set[str] = set()
    dims: set[int] = set()
    for lo, cols in zip(los, prefetch(calls, workers=_READERS, ahead=2 * _READERS), strict=True):
        flags = np.asarray(cols["has"][0], dtype=bool)
        models |= set(cols["m"][0])
        if not flags.any():
            continue
        try:
            v = np.asarray(cols["v"][0], dtype=np.float32)
        except ValueError:  # ragged: vectors of different lengths
            dims |= {len(r) for r in cols["v"][0]}
            break
        dims.add(v.shape[1])
        if len(dims) > 1:
            break
        if x is None:
            x = np.zeros((len(keys), v.shape[1]), dtype=np.float32)
        rows = lo + np.flatnonzero(flags)
        x[rows] = v
        has[rows] = True
    return x, has, models, dims


def export_graph(
    store: GraphStore,
    *,
    seed_users: list[str] | None = None,
    hops: int = 2,
    since: datetime | int | None = None,
    until: datetime | int | None = None,
    node_types: list[str] | None = None,
    edge_types: list[tuple[str, str, str]] | None = None,
    reverse: bool = True,
    features: bool = True,
) -> tuple[HeteroData, IdMaps, ExportInfo]:
    """Export the graph (or a subgraph) to ``HeteroData`` with id maps, fidelity-checked.

    Args:
        store: Open graph store.
        seed_users: Export only the ``hops``-neighbourhood of these user ids.
        hops: Neighbourhood radius for ``seed_users``.
        since: Keep purchases with ``ts >= since`` (datetime or Unix seconds).
        until: Keep purchases with ``ts < until``.
        node_types: Subset of ``user``, ``item``, ``topic`` (default all).
        edge_types: Subset of :data:`EDGE_TYPES` keys (default all whose ends are exported).
        reverse: Add ``rev_<relation>`` edge types for message passing.
        features: Read the text embeddings into ``x`` (off: topology only — what a model
            without text input needs; at 1M items the vectors are 1.5 GB).

    Returns:
        ``(data, id_maps, info)``.

    Raises:
        ExportFidelityError: Counts differ from Cypher's, an edge dangles, or the data is
            inconsistent; the message carries the numbers and sample ids.
    """
    t0 = time.perf_counter()
    ntypes = list(node_types or NODE_TYPES)
    for t in ntypes:
        if t not in NODE_TYPES:
            raise ValueError(f"unknown node type {t!r}; use {', '.join(NODE_TYPES)}")
    etypes = [tuple(e) for e in (edge_types or EDGE_TYPES)]
    for et in etypes:
        if et not in EDGE_TYPES:
            raise ValueError(f"unknown edge type {et!r}; use {list(EDGE_TYPES)}")
        if edge_types is not None and (et[0] not in ntypes or et[2] not in ntypes):
            raise ValueError(f"edge type {et} needs node types {et[0]!r} and {et[2]!r}")
    etypes = [et for et in etypes if et[0] in ntypes and et[2] in ntypes]
    since_s = int(since.timestamp()) if isinstance(since, datetime) else since
    until_s = int(until.timestamp()) if isinstance(until, datetime) else until
    info = ExportInfo(
        selection={
            "seed_users": seed_users,
            "hops": hops if seed_users else None,
            "since": since_s,
            "until": until_s,
            "node_types": ntypes,
            "edge_types": [list(e) for e in etypes],
            "features": features,
        }
    )

    # -- nodes -----------------------------------------------------------------------------
    if seed_users:
        reached = _expand(store, list(seed_users), hops, etypes, since_s, until_s)
        maps = IdMaps.from_keys({t: reached[t] for t in ntypes})
    else:
        maps = IdMaps.from_sorted({t: _read_keys(store, NODE_TYPES[t]) for t in ntypes})
    info.seconds["nodes"] = time.perf_counter() - t0

    # -- edges -----------------------------------------------------------------------------
    t1 = time.perf_counter()
    data = HeteroData()
    for t in ntypes:
        data[t].num_nodes = maps.num_nodes(t)
    params: dict[str, Any] = {"since": since_s, "until": until_s}
    for et in etypes:
        rel, a, b = EDGE_TYPES[et]
        where = _ts_filter(rel, since_s, until_s)
        if seed_users:
            where += f" AND y.{KEYS[b]} IN $ys"
            params = {**params, "ys": maps.keys[et[2]].tolist(), "xs": maps.keys[et[0]].tolist()}
        # fidelity: Cypher's count of the same selection, without the key filters; it also
        # sizes the arrays, which every chunk is copied into
        n = store.read(_count_query(rel, a, b, where, bool(seed_users)), params,
                       op="export.count")[0]["n"]  # fmt: skip
        src, dst = np.empty(n, np.int64), np.empty(n, np.int64)
        weight, ts = np.empty(n, np.float32), np.empty(n, np.int64)
        filled, n_bad, bad_pairs = 0, 0, []
        starts = maps.keys[et[0]]
        query = _edge_query(rel, a, b, where)
        los = range(0, len(starts), _EDGE_CHUNK)
        calls = (
            partial(store.read_columns, query,
                    {**params, "keys": starts[lo : lo + _EDGE_CHUNK].tolist()}, op="export.edges")
            for lo in los
        )  # fmt: skip
        for lo, cols in zip(
            los, prefetch(calls, workers=_READERS, ahead=2 * _READERS), strict=True
        ):
            pos, d_keys = cols["s"][0], cols["d"][0]
            m = len(pos)
            if filled + m > n:
                raise ExportFidelityError(
                    f"{rel.value} ({a.value}→{b.value}): more relationships arrived than "
                    f"Cypher counted ({n:,}); the graph changed during the export — re-run it."
                )
            s_idx = lo + np.asarray(pos, dtype=np.int64)
            d_idx = maps.index(et[2], d_keys)
            bad = d_idx < 0
            if bad.any():
                n_bad += int(bad.sum())
                wrong = np.asarray(d_keys, dtype=object)[bad][:10]
                bad_pairs += list(zip(starts[s_idx[bad][:10]].tolist(), wrong, strict=True))
            src[filled : filled + m], dst[filled : filled + m] = s_idx, d_idx
            weight[filled : filled + m] = cols["w"][0]
            ts[filled : filled + m] = cols["t"][0]
            filled += m
        if n_bad:
            raise ExportFidelityError(
                f"{n_bad} {rel.value} edge(s) point outside the exported "
                f"{et[0]}/{et[2]} nodes, e.g. {bad_pairs[:10]}; the graph changed during the "
                "export or holds nodes without keys — re-run, or fix those nodes."
            )
        if filled != n:
            sample = store.read(
                f"MATCH (x:{a.value})-[r:{rel.value}]->(y:{b.value}) "
                f"WHERE (x.{KEYS[a]} IS NULL OR y.{KEYS[b]} IS NULL){where} "
                f"RETURN coalesce(x.{KEYS[a]}, 'no {KEYS[a]}, elementId ' + elementId(x)) AS x, "
                f"coalesce(y.{KEYS[b]}, 'no {KEYS[b]}, elementId ' + elementId(y)) AS y LIMIT 5",
                params,
                op="export.dangling",
            )
            examples = ", ".join(f"{r['x']} → {r['y']}" for r in sample)
            raise ExportFidelityError(
                f"{rel.value} ({a.value}→{b.value}): Cypher counts {n:,} relationships for this "
                f"selection but {filled:,} were exported; {n - filled:,} touch nodes "
                f"without a {KEYS[a]}/{KEYS[b]} (e.g. written by another tool): {examples}. "
                "Give those nodes keys or delete them, then export again."
            )
        has_time = ts != _NO_TS
        store_ = data[et]
        store_.edge_index = torch.from_numpy(np.stack([src, dst]))
        store_.edge_weight = torch.from_numpy(weight)
        store_.edge_time = torch.from_numpy(np.where(has_time, ts, 0))
        store_.has_time = torch.from_numpy(has_time)
        info.counts["edges:" + _etype_name(et)] = n
    info.seconds["edges"] = time.perf_counter() - t1

    # -- node counts vs Cypher -------------------------------------------------------------
    for t in ntypes:
        label = NODE_TYPES[t]
        if seed_users:
            n = len(_read_existing(store, label, list(maps.keys[t])))
        else:
            n = store.read(f"MATCH (n:{label.value}) RETURN count(n) AS n", op="export.count")[0][
                "n"
            ]
        if n != maps.num_nodes(t):
            raise ExportFidelityError(
                f"{label.value}: Cypher counts {n:,} nodes for this selection but "
                f"{maps.num_nodes(t):,} were exported; {n - maps.num_nodes(t):,} have no "
                f"{KEYS[label]}. Give them keys or delete them, then export again."
            )
        info.counts["nodes:" + t] = maps.num_nodes(t)

    # -- features --------------------------------------------------------------------------
    t2 = time.perf_counter()
    if features:
        _text_features(store, data, maps, ntypes, info)
    info.seconds["features"] = time.perf_counter() - t2

    if reverse:
        for et in etypes:
            s, r, d = et
            rev = data[(d, f"rev_{r}", s)]
            for k, v in data[et].items():
                rev[k] = v.flip(0) if k == "edge_index" else v
    ok = data.validate(raise_on_error=False)
    if not ok:
        raise ExportFidelityError("HeteroData.validate() failed on the exported data")
    info.seconds["total"] = time.perf_counter() - t0
    log.info("exported %s in %.1fs", info.counts, info.seconds["total"])
    return data, maps, info


def _text_features(
    store: GraphStore, data: HeteroData, maps: IdMaps, ntypes: list[str], info: ExportInfo
) -> None:
    dims: set[int] = set()
    models: set[str] = set()
    for t in ("item", "topic"):
        if t not in ntypes or maps.num_nodes(t) == 0:
            continue
        x, has, mods, ds = _read_vectors(store, NODE_TYPES[t], maps.keys[t])
        dims |= ds
        models |= mods
        if len(dims) > 1 or len(models) > 1:
            raise ExportFidelityError(
                f"text embeddings of mixed models/dimensions ({sorted(models)}, {sorted(dims)}); "
                "re-run `interestgraph embed` so every node uses one model"
            )
        if x is None:
            continue
        data[t].x = torch.from_numpy(x)
        data[t].has_text = torch.from_numpy(has)
    if not dims:
        return
    info.text_dim = next(iter(dims))
    info.text_model = next(iter(models)) if models else None
    if "user" in ntypes:
        n_users = maps.num_nodes("user")
        x = torch.zeros(n_users, info.text_dim)
        filled = torch.zeros(n_users, dtype=torch.bool)
        # purchases first; users without purchases fall back to followed topics
        for et in (("user", "purchased", "item"), ("user", "follows", "topic")):
            if et not in data.edge_types or "x" not in data[et[2]]:
                continue
            src, dst = data[et].edge_index
            keep = ~filled[src]
            x_new, counts = mean_of_neighbours(src[keep], dst[keep], data[et[2]].x, n_users)
            got = counts > 0
            x[got] = x_new[got]
            filled |= got
        data["user"].x = x
        data["user"].has_text = filled
