"""Write a trained run back into Neo4j: embeddings, inferred edges and a ModelRun node.

What is written for run ``R`` (from a training folder: ``inference.pt``, ``ids_*``,
``config.json``, ``run.json``):

* ``embedding_<slot>`` on every User / Item / Topic: the GAT embedding as a vector
  property, with a cosine vector index per label and slot (``ig_<label>_embedding_<slot>``).
  Items are stored with the MIPS-to-cosine augmentation ``[h_i, sqrt(M² - |h_i|²)]``
  (``M`` = the largest item norm, kept on the run) and users and topics as ``[h, 0]``, so
  cosine similarity orders items by the model's dot-product score exactly (the index search
  itself is approximate):
  ``dot(u, i) = (2·score - 1)·|u|·M`` for the index score of ``queryNodes``;
* ``top_items_<slot>`` on every User: the ids of its top-N items (purchases excluded;
  N = ``train --serve-top``, default 100) — exact (brute force over all items) up to the
  inference's exact limit, beyond it found by IVF with the recall measured against brute
  force on a sample; the ModelRun says which (``top_items_exact``, ``top_items_recall``).
  The index is approximate (HNSW; ``bench/ann_recall.py`` measures its misses), so
  ``recommend`` ranks from this list when it holds ``k`` items the user has not bought
  since, which makes its answer exact when the list is, and adds index candidates
  otherwise;
* ``(:User)-[:INTERESTED_IN]->(:Topic)``, ``(:User)-[:CO_INTEREST]->(:User)`` and
  ``(:Item)-[:SIMILAR_TO]->(:Item)``, each with ``score``, ``rank`` (1..K) and ``run_id``;
* ``(:ModelRun {run_id})`` with parameters, metrics, data watermark, text model, slot,
  status (``writing`` → ``complete``) and ``current``.

Atomic switch, double-buffered: a new run writes into the slot the current run does not
use and tags its edges with its own ``run_id``, so readers, which always go through
``(:ModelRun {current: true})``, keep seeing the old run's complete data while the new one
is written (the free slot's index is dropped, the new vectors written over the old ones, values
of nodes the export does not know removed, and the index rebuilt and awaited before the
switch). One transaction then moves
``current`` to the new run. Afterwards only the
last ``keep_runs`` runs' edges are kept (default 2; embeddings: current and previous).

Idempotent: a run that is ``complete`` is not written again. A run left ``writing`` by a
crash is resumed: its partial edges are deleted, then everything is written again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from interestgraph.errors import InputError
from interestgraph.gnn.infer import Inference, TopK
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.schema import (
    KEYS,
    Label,
    RelType,
    ensure_vector_index,
    vector_index_name,
)
from interestgraph.sync.idmaps import IdMaps, as_keys

__all__ = [
    "INFERRED",
    "SLOTS",
    "WritebackReport",
    "current_run",
    "embedding_property",
    "top_items_property",
    "write_top_items",
    "writeback",
]

log = logging.getLogger(__name__)

SLOTS = (0, 1)
#: HNSW build of the embedding indexes (links per node, build beam); ``None``: Neo4j's
#: defaults (16, 100). ``bench/ann_recall.py`` measures recall per build.
HNSW_M: int | None = None
HNSW_EF_CONSTRUCTION: int | None = None
#: concurrent write transactions (measured on 2 cores, 1M synthetic shop: SIMILAR_TO edges
#: 24.6k/s with 1 writer, 37.6k/s with 2, 39.8k/s with 3)
WRITERS = 2
LABELS = {"user": Label.USER, "item": Label.ITEM, "topic": Label.TOPIC}
#: inference list → (relationship type, source type, target type)
INFERRED: dict[str, tuple[RelType, str, str]] = {
    "user_topics": (RelType.INTERESTED_IN, "user", "topic"),
    "user_users": (RelType.CO_INTEREST, "user", "user"),
    "item_items": (RelType.SIMILAR_TO, "item", "item"),
}


def _slot_property(base: str, slot: int) -> str:
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {SLOTS}")
    return f"{base}_{slot}"


def embedding_property(slot: int) -> str:
    """Vector property of a slot, e.g. ``embedding_0``."""
    return _slot_property("embedding", slot)


def top_items_property(slot: int) -> str:
    """User property of a slot holding the exact top-N item ids, e.g. ``top_items_0``."""
    return _slot_property("top_items", slot)


@dataclass
class WritebackReport:
    """What a write-back did."""

    run_id: str
    slot: int
    skipped: bool = False
    resumed: bool = False
    embeddings: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    removed_runs: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary with rates."""
        emb_s, edge_s = self.seconds.get("embeddings", 0), self.seconds.get("edges", 0)
        n_emb, n_edges = sum(self.embeddings.values()), sum(self.edges.values())
        return {
            "run_id": self.run_id,
            "slot": self.slot,
            "skipped_already_complete": self.skipped,
            "resumed": self.resumed,
            **{f"embeddings:{k}": v for k, v in self.embeddings.items()},
            **{f"edges:{k}": v for k, v in self.edges.items()},
            "embeddings_per_s": round(n_emb / emb_s) if emb_s else 0,
            "edges_per_s": round(n_edges / edge_s) if edge_s else 0,
            "removed_runs": ",".join(self.removed_runs),
            **{f"{k}_seconds": round(v, 2) for k, v in self.seconds.items()},
        }


def current_run(store: GraphStore) -> dict[str, Any] | None:
    """The current ModelRun's properties, or ``None`` before the first write-back."""
    rows = store.read(
        "MATCH (r:ModelRun {current: true}) RETURN properties(r) AS r", op="writeback.current"
    )
    if len(rows) > 1:
        raise InputError(f"{len(rows)} ModelRun nodes are marked current; expected one")
    return rows[0]["r"] if rows else None


def _lists(values: np.ndarray, index: np.ndarray) -> Any:
    """Per row of ``index`` (``-1`` = none): ``values[index]`` for keys (1-D ``values``),
    or the row's own entries of a ``[rows, K]`` array (scores), ``-1`` entries dropped."""
    full = bool((index >= 0).all())
    if values.ndim == 2:
        return values if full else [v[i >= 0].tolist() for v, i in zip(values, index, strict=True)]
    if full:
        return values[index]  # [rows, K]; batches become lists of rows
    return [values[row[row >= 0]].tolist() for row in index]  # short lists: tiny graphs only


def _holders(store: GraphStore, lbl: Label, prop: str, page: int = 100_000) -> np.ndarray:
    """Keys of the ``lbl`` nodes holding ``prop``, read in pages in key order."""
    key = KEYS[lbl]
    query = (
        f"MATCH (n:{lbl.value}) WHERE n.{key} > $after AND n.{prop} IS NOT NULL "
        f"WITH n.{key} AS k ORDER BY k LIMIT $page RETURN collect(k) AS ks"
    )
    parts, after = [], ""
    while True:
        got = store.read_columns(query, {"after": after, "page": page},
                                 op="writeback.slot_holders")["ks"][0]  # fmt: skip
        if not got:
            break
        parts.append(as_keys(got))
        after = got[-1]
        if len(got) < page:
            break
    return np.concatenate(parts) if parts else as_keys([])


def write_top_items(
    store: GraphStore, maps: IdMaps, top: TopK, slot: int, *, batch_size: int = 5000
) -> int:
    """Set every user's ``top_items_<slot>`` to its list in ``top`` (item ids, best first).

    Written from the arrays in batches (no dict per user). Returns the users written.
    """
    return store.write_columns(
        f"UNWIND range(0, size($ids) - 1) AS i MATCH (n:User {{{KEYS[Label.USER]}: $ids[i]}}) "
        f"SET n.{top_items_property(slot)} = $items[i]",
        {"ids": maps.keys["user"], "items": _lists(maps.keys["item"], top.index)},
        op="writeback.top_items",
        batch_size=max(1, batch_size // 10),
        workers=WRITERS,
    ).rows


def _augment(emb: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
    """MIPS → cosine: items ``[h, sqrt(M²-|h|²)]``, others ``[h, 0]``; returns ``M``."""
    item = emb["item"].astype(np.float64)
    norms = np.linalg.norm(item, axis=1)
    m = float(norms.max()) if len(norms) else 1.0
    out = {
        "item": np.hstack([item, np.sqrt(np.maximum(m * m - norms**2, 0.0))[:, None]]),
    }
    for t, v in emb.items():
        if t != "item":
            out[t] = np.hstack([v.astype(np.float64), np.zeros((len(v), 1))])
    return {t: v.astype(np.float32) for t, v in out.items()}, m


def _delete_run_edges(store: GraphStore, run_id: str) -> int:
    deleted = 0
    for rel in (RelType.INTERESTED_IN, RelType.CO_INTEREST, RelType.SIMILAR_TO):
        c = store.write_autocommit(
            f"MATCH ()-[x:{rel.value}]->() WHERE x.run_id = $run "
            "CALL (x) { DELETE x } IN TRANSACTIONS OF 10000 ROWS",
            {"run": run_id},
            op="writeback.delete_edges",
        )
        deleted += c.get("relationships_deleted", 0)
    return deleted


def _run_properties(folder: Path) -> dict[str, Any]:
    config = json.loads((folder / "config.json").read_text())
    metrics = config.get("metrics", {})
    export = config.get("export", {})
    flat = {
        f"metric_{k.replace('@', '_at_')}": v
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    return {
        "params": json.dumps(config.get("hyperparameters", {}), sort_keys=True),
        "metrics": json.dumps(metrics, sort_keys=True, default=str),
        **flat,
        "text_model": config.get("text_model") or "",
        "trained_at": config.get("created_at", ""),
        "watermark": export.get("created_at", ""),
        "export_counts": json.dumps(export.get("counts", {}), sort_keys=True),
        "model": "hetero-gat",
        **_list_properties(folder),
    }


def _list_properties(folder: Path) -> dict[str, Any]:
    """How the run's lists were searched: ``top_items_exact`` and, when approximate, the
    recall measured against the exact lists (see :mod:`interestgraph.gnn.infer`)."""
    lists = json.loads((folder / "run.json").read_text()).get("lists", {})
    items = lists.get("user_items", {"method": "exact"})  # runs before the field: exact
    return {
        "lists": json.dumps(lists, sort_keys=True),
        "top_items_exact": items.get("method", "exact") == "exact",
        **({"top_items_recall": items["recall"]} if "recall" in items else {}),
    }


def writeback(
    store: GraphStore,
    folder: Path,
    *,
    keep_runs: int = 2,
    batch_size: int = 5000,
    progress: bool | None = None,
) -> WritebackReport:
    """Write the run in ``folder`` (a ``train`` output) into the graph; see the module doc.

    Raises:
        InputError: ``folder`` is not a complete training output, or ``keep_runs`` < 1.
    """
    folder = Path(folder)
    if keep_runs < 1:
        raise InputError("keep_runs must be at least 1 (the current run)")
    missing = [n for n in ("run.json", "config.json", "inference.pt") if not (folder / n).exists()]
    if missing:
        raise InputError(
            f"{folder}: missing {', '.join(missing)}; write back a folder made by "
            "`interestgraph train`"
        )
    run_id = json.loads((folder / "run.json").read_text())["run_id"]
    inference = Inference.load(folder / "inference.pt")
    node_types = [t for t in LABELS if t in inference.embeddings]
    maps = IdMaps.load(folder, node_types)
    for t in node_types:
        if maps.num_nodes(t) != len(inference.embeddings[t]):
            raise InputError(f"{folder}: ids_{t}.parquet and inference.pt disagree in size")
    began = time.perf_counter()
    disable = None if progress is None else not progress

    existing = store.read(
        "MATCH (r:ModelRun {run_id: $run}) RETURN r.status AS status, r.slot AS slot",
        {"run": run_id},
        op="writeback.lookup",
    )
    cur = current_run(store)
    if existing and existing[0]["status"] == "complete":
        return WritebackReport(run_id, int(existing[0]["slot"]), skipped=True)
    resumed = bool(existing)
    # never the current run's slot (even when resuming after another run became current)
    slot = 0 if cur is None else 1 - int(cur["slot"])
    report = WritebackReport(run_id, slot, resumed=resumed)
    prop = embedding_property(slot)

    # No relationship index on run_id: the planner would pick it for the serving
    # queries' per-row run filters (100× slower); deletion scans the type instead.
    store.write(
        "MERGE (r:ModelRun {run_id: $run}) "
        "ON CREATE SET r.created_at = datetime(), r.current = false "
        "SET r += $props, r.slot = $slot, r.status = 'writing'",
        {"run": run_id, "slot": slot, "props": _run_properties(folder)},
        op="writeback.run",
    )
    if resumed:
        _delete_run_edges(store, run_id)

    vectors, m = _augment(inference.embeddings)
    t0 = time.perf_counter()
    for t in node_types:
        lbl = LABELS[t]
        # The slot is not serving: drop its index (bulk-built again below, much faster than
        # per-vector inserts). Values left by the run two switches ago are overwritten in
        # place (~2.5x faster than writing a removed property anew); only nodes this export
        # does not know (e.g. users added since) lose theirs, so they fall back to cold start.
        store.write(f"DROP INDEX {vector_index_name(lbl, prop)} IF EXISTS", op="writeback.drop")
        key = KEYS[lbl]
        holders = _holders(store, lbl, prop)
        stale = holders[maps.index(t, holders) < 0]  # hashed lookup (setdiff1d on text: slow)
        also = f", n.{top_items_property(slot)}" if t == "user" else ""
        if len(stale):
            store.write_columns(
                f"UNWIND $ks AS k MATCH (n:{lbl.value} {{{key}: k}}) REMOVE n.{prop}{also}",
                {"ks": stale},
                op="writeback.clear_stale",
                batch_size=batch_size,
            )
        query = (
            f"UNWIND range(0, size($ids) - 1) AS i MATCH (n:{lbl.value} {{{key}: $ids[i]}}) "
            "CALL db.create.setNodeVectorProperty(n, $prop, $vs[i])"
        )
        with tqdm(total=len(vectors[t]), desc=f"embeddings {lbl.value}", disable=disable) as bar:
            stats = store.write_columns(
                query,
                {"ids": maps.keys[t], "vs": vectors[t]},
                op=f"writeback.embedding.{t}",
                params={"prop": prop},
                batch_size=batch_size,
                progress=bar.update,
                workers=WRITERS,
            )
        report.embeddings[lbl.value] = stats.rows
        ensure_vector_index(
            store,
            lbl,
            prop,
            vectors[t].shape[1],
            quantized=False,
            hnsw_m=HNSW_M,
            hnsw_ef_construction=HNSW_EF_CONSTRUCTION,
        )
    if "user" in node_types and "user_items" in inference.lists:
        # exact top-N per user: `recommend` serves from it (see the module doc)
        write_top_items(store, maps, inference.lists["user_items"], slot, batch_size=batch_size)
    report.seconds["embeddings"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for name, (rel, src, dst) in INFERRED.items():
        if name not in inference.lists or src not in maps.keys or dst not in maps.keys:
            continue
        tk = inference.lists[name]
        ls, ld = LABELS[src], LABELS[dst]
        # one row per source node with its K targets (ranks 1..K: -1 padding only trails)
        query = (
            f"UNWIND range(0, size($s) - 1) AS i MATCH (a:{ls.value} {{{KEYS[ls]}: $s[i]}}) "
            f"WITH a, i UNWIND range(0, size($d[i]) - 1) AS j "
            f"MATCH (b:{ld.value} {{{KEYS[ld]}: $d[i][j]}}) "
            f"CREATE (a)-[:{rel.value} {{run_id: $run, score: $w[i][j], rank: j + 1}}]->(b)"
        )
        per_row = max(1, tk.index.shape[1])
        with tqdm(total=int((tk.index >= 0).sum()), desc=rel.value, disable=disable) as bar:
            stats = store.write_columns(
                query,
                {
                    "s": maps.keys[src],
                    "d": _lists(maps.keys[dst], tk.index),
                    "w": _lists(tk.score, tk.index),
                },
                op=f"writeback.edges.{rel.value}",
                params={"run": run_id},
                batch_size=max(1, batch_size // per_row),
                progress=lambda n, tk=tk, bar=bar: bar.update(n * tk.index.shape[1]),
                workers=WRITERS,
            )
        report.edges[rel.value] = stats.counters.get("relationships_created", 0)
    report.seconds["edges"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    store.write_autocommit("CALL db.awaitIndexes($s)", {"s": 3600}, op="writeback.await_index")
    report.seconds["index_wait"] = time.perf_counter() - t0

    # the switch: one transaction, readers see the old run or the new one, never both
    store.write(
        "MATCH (r:ModelRun {run_id: $run}) "
        "OPTIONAL MATCH (o:ModelRun {current: true}) WHERE o <> r "
        "SET o.current = false "
        "WITH DISTINCT r "
        "SET r.current = true, r.status = 'complete', r.completed_at = datetime(), "
        "r.item_norm_max = $m, r.dim = $dim",
        {"run": run_id, "m": m, "dim": int(vectors["user"].shape[1] - 1)},
        op="writeback.switch",
    )
    report.removed_runs = _prune(store, keep_runs)
    report.seconds["total"] = time.perf_counter() - began
    log.info("write-back %s: slot %d, %s", run_id, slot, report.edges)
    return report


def _prune(store: GraphStore, keep_runs: int) -> list[str]:
    """Delete the edges and nodes of complete runs beyond the newest ``keep_runs``."""
    rows = store.read(
        "MATCH (r:ModelRun) WHERE r.status = 'complete' "
        "RETURN r.run_id AS run ORDER BY r.current DESC, r.completed_at DESC",
        op="writeback.runs",
    )
    old = [r["run"] for r in rows[keep_runs:]]
    for run in old:
        _delete_run_edges(store, run)
        store.write(
            "MATCH (r:ModelRun {run_id: $run}) WHERE NOT r.current DETACH DELETE r",
            {"run": run},
            op="writeback.prune",
        )
    return old
