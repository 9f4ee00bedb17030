"""A plain reference exporter: one flat Cypher read per type, dict lookups, no chunks.

The streaming export (:func:`interestgraph.sync.export_graph`) must produce exactly what
this straightforward version produces from the same graph: the same sorted keys, the
same edges with the same weights and times (compared after sorting edges by their end
points, as the two read orders differ), and bit-identical text features.
"""

from __future__ import annotations

import numpy as np
import torch

from interestgraph.sync.export import EDGE_TYPES, NODE_TYPES

_NO_TS = -(2**62)


def reference_export(store) -> dict:
    """Keys, edges and features of the whole graph, the simple way."""
    from interestgraph.graphstore.schema import KEYS

    keys, index = {}, {}
    for t, label in NODE_TYPES.items():
        rows = store.read(f"MATCH (n:{label.value}) RETURN n.{KEYS[label]} AS k")
        keys[t] = sorted(r["k"] for r in rows)
        index[t] = {k: i for i, k in enumerate(keys[t])}
    edges = {}
    for et, (rel, a, b) in EDGE_TYPES.items():
        rows = store.read(
            f"MATCH (x:{a.value})-[r:{rel.value}]->(y:{b.value}) RETURN x.{KEYS[a]} AS s, "
            f"y.{KEYS[b]} AS d, coalesce(r.weight, 1.0) AS w, r.ts AS t"
        )
        src = np.array([index[et[0]][r["s"]] for r in rows], dtype=np.int64)
        dst = np.array([index[et[2]][r["d"]] for r in rows], dtype=np.int64)
        w = np.array([r["w"] for r in rows], dtype=np.float32)
        ts = np.array([_NO_TS if r["t"] is None else int(r["t"].to_native().timestamp())
                       for r in rows], dtype=np.int64)  # fmt: skip
        edges[et] = (src, dst, w, ts)
    x = {}
    for t in ("item", "topic"):
        label = NODE_TYPES[t]
        rows = store.read(f"MATCH (n:{label.value}) RETURN n.{KEYS[label]} AS k, "
                          "n.text_embedding AS v")  # fmt: skip
        vecs = {r["k"]: r["v"] for r in rows if r["v"] is not None}
        if vecs:
            dim = len(next(iter(vecs.values())))
            x[t] = np.array([vecs.get(k, [0.0] * dim) for k in keys[t]], dtype=np.float32)
    return {"keys": keys, "edges": edges, "x": x}


def _sorted(src, dst, *cols):
    order = np.lexsort((dst, src))
    return [c[order] for c in (src, dst, *cols)]


def assert_same_export(data, maps, ref: dict) -> None:
    """Assert the export ``(data, maps)`` equals the reference, bit for bit."""
    for t in NODE_TYPES:
        assert maps.keys[t].tolist() == ref["keys"][t], t
        assert data[t].num_nodes == len(ref["keys"][t])
    for et, (src, dst, w, ts) in ref["edges"].items():
        store = data[et]
        got = _sorted(
            store.edge_index[0].numpy(),
            store.edge_index[1].numpy(),
            store.edge_weight.numpy(),
            store.edge_time.numpy(),
            store.has_time.numpy(),
        )
        want = _sorted(src, dst, w, np.where(ts == _NO_TS, 0, ts), ts != _NO_TS)
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b), et
        rev = data[(et[2], f"rev_{et[1]}", et[0])].edge_index
        assert torch.equal(rev, store.edge_index.flip(0))
    for t, x in ref["x"].items():
        assert np.array_equal(data[t].x.numpy(), x), t
