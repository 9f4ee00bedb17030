"""Text embedding at catalogue size, on the real server: shared texts, chunks, the index."""

from __future__ import annotations

import numpy as np

from interestgraph.embedding import TextEncoder, embed_graph_text
from interestgraph.graphstore import Label


def test_shared_texts_are_encoded_once_and_every_node_gets_its_vector(store):
    store.write(
        "UNWIND range(1, 30) AS i CREATE (:Item {item_id: 'i' + toString(i), "
        "title: CASE WHEN i <= 20 THEN 'Same title' ELSE 'Other ' + toString(i) END})"
    )
    store.write("CREATE (:Item {item_id: 'blank', title: ''})")
    encoder = TextEncoder()
    seen: list[str] = []
    real = encoder.encode

    def counting(texts: list[str], **kw: object) -> np.ndarray:
        seen.extend(texts)
        return real(texts, **kw)

    encoder.encode = counting  # type: ignore[method-assign]
    # tiny chunks and batches: several encode chunks, several write transactions
    report = embed_graph_text(store, encoder, [Label.ITEM], progress=False, chunk=4, write_batch=3)
    assert report.encoded == {"Item": 30} and report.distinct == {"Item": 11}
    assert report.without_text == {"Item": 1}
    assert len(seen) == len(set(seen)) == 11  # each distinct text went through the model once
    same = store.read("MATCH (i:Item {title: 'Same title'}) RETURN i.text_embedding AS v")
    assert len(same) == 20 and all(r["v"] == same[0]["v"] for r in same)
    for item, text in (("i25", "Other 25"), ("i1", "Same title")):
        v = store.read("MATCH (i:Item {item_id: $i}) RETURN i.text_embedding AS v", {"i": item})
        assert np.allclose(v[0]["v"], real([text])[0], atol=1e-5), item
    index = store.read("SHOW INDEXES YIELD name, state WHERE name = 'ig_item_text_embedding' "
                       "RETURN state")  # fmt: skip
    assert index and index[0]["state"] in ("ONLINE", "POPULATING")
    seen.clear()
    again = embed_graph_text(store, encoder, [Label.ITEM], progress=False)
    assert again.encoded == {"Item": 0} and again.skipped == {"Item": 30} and seen == []
