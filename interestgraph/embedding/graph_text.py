"""Embed the text of Item and Topic nodes and store it on them, re-encoding only changes.

Text per label: Item → ``title`` (+ ``". " + description`` when present); Topic → ``name``.
Each node gets ``text_embedding`` (a float32 vector, L2-normalised), ``text_model`` (the
model name) and ``text_hash`` (hash of model + text). A re-run reads the stored hashes and
encodes only nodes whose text or model changed; a cosine vector index per label
(``ig_item_text_embedding``, ``ig_topic_text_embedding``) serves similarity queries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from interestgraph.embedding.encoder import TextEncoder, text_hash
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.schema import KEYS, Label, ensure_vector_index

__all__ = ["TEXT_QUERIES", "EmbedReport", "embed_graph_text"]

log = logging.getLogger(__name__)

#: Label → query returning ``id``, ``text`` and the stored ``hash`` of every node.
TEXT_QUERIES: dict[Label, str] = {
    Label.ITEM: (
        "MATCH (n:Item) WHERE n.item_id IS NOT NULL RETURN n.item_id AS id, "
        "CASE WHEN n.description IS NULL OR n.description = '' THEN n.title "
        "ELSE n.title + '. ' + n.description END AS text, n.text_hash AS hash"
    ),
    Label.TOPIC: (
        "MATCH (n:Topic) WHERE n.topic_id IS NOT NULL "
        "RETURN n.topic_id AS id, n.name AS text, n.text_hash AS hash"
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
    seconds: float = 0.0
    encode_seconds: float = 0.0

    @property
    def sentences_per_second(self) -> float:
        """Encoding throughput (sentences encoded / seconds spent encoding)."""
        n = sum(self.encoded.values())
        return n / self.encode_seconds if self.encode_seconds > 0 else 0.0

    def rows(self) -> list[dict[str, object]]:
        """One row per label for ``--format``."""
        return [
            {
                "label": lbl,
                "encoded": self.encoded.get(lbl, 0),
                "skipped_unchanged": self.skipped.get(lbl, 0),
                "without_text": self.without_text.get(lbl, 0),
                "model": self.model,
                "dim": self.dim,
            }
            for lbl in self.encoded
        ]


def embed_graph_text(
    store: GraphStore,
    encoder: TextEncoder,
    labels: Sequence[Label] = (Label.ITEM, Label.TOPIC),
    *,
    progress: bool | None = None,
    write_batch: int = 2000,
) -> EmbedReport:
    """Encode the text of nodes whose text (or the model) changed and store the vectors.

    Args:
        store: Open graph store.
        encoder: The text encoder (its ``model_name`` is part of the content hash).
        labels: Which labels to embed (Item and/or Topic).
        progress: Progress bar (``None``: only on a terminal).
        write_batch: Nodes per write transaction.
    """
    began = time.perf_counter()
    report = EmbedReport(encoder.model_name, encoder.dim)
    disable = None if progress is None else not progress
    for label in labels:
        if label not in TEXT_QUERIES:
            raise ValueError(f"no text is defined for {label.value} nodes")
        rows = store.read(TEXT_QUERIES[label], op=f"embed.read.{label.value}")
        todo, skipped, missing = [], 0, 0
        for r in rows:
            if not r["text"]:
                missing += 1
                continue
            h = text_hash(encoder.model_name, r["text"])
            if r["hash"] == h:
                skipped += 1
            else:
                todo.append((r["id"], r["text"], h))
        report.skipped[label.value] = skipped
        report.without_text[label.value] = missing
        report.encoded[label.value] = len(todo)
        ensure_vector_index(store, label, "text_embedding", report.dim)
        if not todo:
            continue
        key = KEYS[label]
        query = (
            f"UNWIND $rows AS row MATCH (n:{label.value} {{{key}: row.id}}) "
            "CALL db.create.setNodeVectorProperty(n, 'text_embedding', row.v) "
            "SET n.text_hash = row.h, n.text_model = $model"
        )
        with tqdm(
            total=len(todo), unit="texts", desc=f"embed {label.value}", disable=disable
        ) as bar:
            for start in range(0, len(todo), write_batch):
                chunk = todo[start : start + write_batch]
                t0 = time.perf_counter()
                vectors = encoder.encode([t for _, t, _ in chunk])
                report.encode_seconds += time.perf_counter() - t0
                store.write_batches(
                    query,
                    (
                        {"id": i, "h": h, "v": v.tolist()}
                        for (i, _, h), v in zip(chunk, vectors, strict=True)
                    ),
                    op=f"embed.write.{label.value}",
                    params={"model": encoder.model_name},
                    batch_size=write_batch,
                )
                bar.update(len(chunk))
        log.info("%s: encoded %d, unchanged %d", label.value, len(todo), skipped)
    report.seconds = time.perf_counter() - began
    return report
