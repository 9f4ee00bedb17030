"""Embed the text of Item and Topic nodes and store it on them, re-encoding only changes.

Text per label: Item → ``title`` (+ ``". " + description`` when present); Topic → ``name``.
Each node gets ``text_embedding`` (a float32 vector, L2-normalised), ``text_model`` (the
model name) and ``text_hash`` (hash of model + text). A re-run reads the stored hashes and
encodes only nodes whose text or model changed; a cosine vector index per label
(``ig_item_text_embedding``, ``ig_topic_text_embedding``) serves similarity queries.

At catalogue size (``bench/export.py`` and ``bench/scale.py`` measure it):

* texts and hashes are read in pages of ``page`` nodes in key order (one record per page,
  held as Arrow arrays, not one Python object per node);
* nodes that share a text are encoded once (catalogues repeat titles: variants, bundles;
  the synthetic shop at 10M purchases has ~45k distinct texts for 1M items) and the
  encoder sees every distinct text of a chunk at once, so its length-sorted batches are
  full;
* the vectors of one chunk are written by a background thread while the next chunk is
  encoded (the server and the encoder share the cores, neither waits for the other);
* a label's vector index is created after its first vectors are written, so the first
  embedding builds it once instead of inserting every vector into HNSW as it arrives.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from interestgraph.embedding.encoder import TextEncoder, text_hash
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.schema import KEYS, Label, ensure_vector_index

__all__ = ["TEXT_QUERIES", "EmbedReport", "embed_graph_text", "read_texts"]

log = logging.getLogger(__name__)

#: Label → query returning one page of ``ids``, ``texts`` and stored ``hashes`` in key
#: order, after key ``$after`` (the unique constraint's index serves the order); missing
#: values are ``''`` so the three lists stay aligned (``collect`` drops nulls).
TEXT_QUERIES: dict[Label, str] = {
    Label.ITEM: (
        "MATCH (n:Item) WHERE n.item_id > $after WITH n ORDER BY n.item_id LIMIT $page "
        "RETURN collect(n.item_id) AS ids, "
        "collect(coalesce(CASE WHEN n.description IS NULL OR n.description = '' THEN n.title "
        "ELSE n.title + '. ' + n.description END, '')) AS texts, "
        "collect(coalesce(n.text_hash, '')) AS hashes"
    ),
    Label.TOPIC: (
        "MATCH (n:Topic) WHERE n.topic_id > $after WITH n ORDER BY n.topic_id LIMIT $page "
        "RETURN collect(n.topic_id) AS ids, collect(coalesce(n.name, '')) AS texts, "
        "collect(coalesce(n.text_hash, '')) AS hashes"
    ),
}


@dataclass
class EmbedReport:
    """What an embed run did, per label."""

    model: str
    dim: int
    encoded: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    without_text: dict[str, int] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    encode_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def sentences_per_second(self) -> float:
        """Node texts embedded per second of encoding (shared texts count per node)."""
        n = sum(self.encoded.values())
        return n / self.encode_seconds if self.encode_seconds > 0 else 0.0

    @property
    def distinct_per_second(self) -> float:
        """Distinct texts through the encoder per second of encoding."""
        n = sum(self.distinct.values())
        return n / self.encode_seconds if self.encode_seconds > 0 else 0.0

    def rows(self) -> list[dict[str, object]]:
        """One row per label for ``--format``."""
        return [
            {
                "label": lbl,
                "encoded": self.encoded.get(lbl, 0),
                "distinct_texts": self.distinct.get(lbl, 0),
                "skipped_unchanged": self.skipped.get(lbl, 0),
                "without_text": self.without_text.get(lbl, 0),
                "model": self.model,
                "dim": self.dim,
            }
            for lbl in self.encoded
        ]


def read_texts(
    store: GraphStore, label: Label, *, page: int = 50_000
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``(ids, texts, stored hashes)`` of every ``label`` node with a key, in key order."""
    ids, texts, hashes, after = [], [], [], ""
    while True:
        cols = store.read_columns(
            TEXT_QUERIES[label], {"after": after, "page": page}, op=f"embed.read.{label.value}"
        )
        got = cols["ids"][0] if cols.get("ids") else []
        if not got:
            break
        ids.append(pa.array(got, type=pa.string()))
        texts.append(pa.array(cols["texts"][0], type=pa.string()))
        hashes.append(pa.array(cols["hashes"][0], type=pa.string()))
        after = got[-1]
        if len(got) < page:
            break

    def cat(parts: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())

    return cat(ids), cat(texts), cat(hashes)


class _Writer:
    """Writes chunks of vectors in a background thread (a bounded queue of two chunks)."""

    def __init__(self, store: GraphStore, label: Label, model: str, batch: int) -> None:
        key = KEYS[label]
        self.query = (
            f"UNWIND range(0, size($ids) - 1) AS i MATCH (n:{label.value} {{{key}: $ids[i]}}) "
            "CALL db.create.setNodeVectorProperty(n, 'text_embedding', $vs[i]) "
            "SET n.text_hash = $hs[i], n.text_model = $model"
        )
        self.store, self.label, self.model, self.batch = store, label, model, batch
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, name="embed-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue
            ids, vectors, hashes, done = item
            t0 = time.perf_counter()
            try:
                for lo in range(0, len(ids), self.batch):
                    self.store.write(
                        self.query,
                        {
                            "ids": ids[lo : lo + self.batch],
                            "vs": vectors[lo : lo + self.batch].tolist(),
                            "hs": hashes[lo : lo + self.batch],
                            "model": self.model,
                        },
                        op=f"embed.write.{self.label.value}",
                    )
            except BaseException as e:  # re-raised in the caller's thread by close()
                self.error = e
            self.seconds += time.perf_counter() - t0
            done(len(ids))

    def put(self, ids: list[str], vectors: np.ndarray, hashes: list[str], done) -> None:
        """Queue one chunk (blocks while two chunks wait)."""
        if self.error is not None:
            raise self.error
        self.queue.put((ids, vectors, hashes, done))

    def close(self) -> None:
        """Wait for every queued chunk; raise the first write error."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def embed_graph_text(
    store: GraphStore,
    encoder: TextEncoder,
    labels: Sequence[Label] = (Label.ITEM, Label.TOPIC),
    *,
    progress: bool | None = None,
    write_batch: int = 2000,
    chunk: int = 8192,
) -> EmbedReport:
    """Encode the text of nodes whose text (or the model) changed and store the vectors.

    Args:
        store: Open graph store.
        encoder: The text encoder (its ``model_name`` is part of the content hash).
        labels: Which labels to embed (Item and/or Topic).
        progress: Progress bar (``None``: only on a terminal).
        write_batch: Nodes per write transaction.
        chunk: Distinct texts encoded per chunk (the writer writes the previous one).
    """
    began = time.perf_counter()
    report = EmbedReport(encoder.model_name, encoder.dim)
    disable = None if progress is None else not progress
    for label in labels:
        if label not in TEXT_QUERIES:
            raise ValueError(f"no text is defined for {label.value} nodes")
        ids, texts, stored = read_texts(store, label)
        has_text = pc.fill_null(pc.greater(pc.utf8_length(texts), 0), False)
        report.without_text[label.value] = len(texts) - int(pc.sum(has_text).as_py() or 0)
        ids, texts, stored = (pc.filter(a, has_text) for a in (ids, texts, stored))
        # one hash per distinct text, spread to its nodes by the dictionary codes
        coded = pc.dictionary_encode(texts)
        distinct = coded.dictionary.to_pylist()
        hashes = np.array([text_hash(encoder.model_name, t) for t in distinct], dtype=object)
        codes = coded.indices.to_numpy()
        node_hash = hashes[codes]
        todo = np.flatnonzero(node_hash != stored.to_numpy(zero_copy_only=False))
        report.skipped[label.value] = len(ids) - len(todo)
        report.encoded[label.value] = len(todo)
        exists = _index_exists(store, label)
        if len(todo):
            key_of = ids.to_numpy(zero_copy_only=False)
            need = np.unique(codes[todo])  # distinct texts to encode
            report.distinct[label.value] = len(need)
            # nodes of each distinct text, grouped: position of every todo node by its code
            todo_codes = codes[todo]
            order = np.argsort(todo_codes, kind="stable")
            bounds = np.searchsorted(todo_codes[order], need, side="left")
            ends = np.searchsorted(todo_codes[order], need, side="right")
            writer = _Writer(store, label, encoder.model_name, write_batch)
            bar = tqdm(total=len(todo), unit="texts", desc=f"embed {label.value}", disable=disable)
            try:
                for lo in range(0, len(need), chunk):
                    part = need[lo : lo + chunk]
                    t0 = time.perf_counter()
                    vectors = encoder.encode([distinct[c] for c in part])
                    report.encode_seconds += time.perf_counter() - t0
                    # codes are sorted, so this chunk's nodes are one run of `order`
                    first, last = bounds[lo], ends[lo + len(part) - 1]
                    nodes = todo[order[first:last]]
                    rep = np.repeat(
                        np.arange(len(part)), ends[lo : lo + chunk] - bounds[lo : lo + chunk]
                    )
                    writer.put(
                        key_of[nodes].tolist(), vectors[rep], node_hash[nodes].tolist(), bar.update
                    )
            finally:
                writer.close()
                bar.close()
            report.write_seconds += writer.seconds
        else:
            report.distinct[label.value] = 0
        if not exists:  # built once over the vectors written above (or empty)
            ensure_vector_index(store, label, "text_embedding", report.dim)
        log.info("%s: encoded %d (%d distinct texts), unchanged %d", label.value,
                 len(todo), report.distinct[label.value], report.skipped[label.value])  # fmt: skip
    report.seconds = time.perf_counter() - began
    return report


def _index_exists(store: GraphStore, label: Label) -> bool:
    from interestgraph.graphstore.schema import vector_index_name

    rows = store.read(
        "SHOW INDEXES YIELD name WHERE name = $name RETURN count(*) AS n",
        {"name": vector_index_name(label, "text_embedding")},
        op="embed.index_exists",
    )
    return bool(rows[0]["n"])
