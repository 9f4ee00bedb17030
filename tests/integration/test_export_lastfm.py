"""Embedding and export on Last.fm against the real server (loaded and embedded once)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interestgraph.embedding import TextEncoder, embed_graph_text
from interestgraph.graphstore import GraphStore, Label
from interestgraph.ingest import ingest
from interestgraph.sync import ExportFidelityError, export_graph, load_export, save_export
from tests.integration.test_ingest import DATASETS, needs_data

pytestmark = [needs_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def lastfm(neo4j_server):
    """The Last.fm graph with text embeddings (module-scoped: built once)."""
    from interestgraph.datasets import load_lastfm

    with GraphStore.from_settings(neo4j_server.settings) as store:
        store.write_autocommit(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS"
        )
        store.write_autocommit("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS")
        ingest(store, load_lastfm(DATASETS).tables, progress=False)
        encoder = TextEncoder()
        report = embed_graph_text(store, encoder, progress=False)
        assert report.encoded == {"Item": 17_632, "Topic": 11_946}
        data, maps, info = export_graph(store)
        yield store, encoder, (data, maps, info)


def test_exported_counts_equal_cypher_counts(lastfm):
    store, _, (data, _maps, info) = lastfm
    cypher = {
        "user": "MATCH (n:User) RETURN count(n) AS n",
        "item": "MATCH (n:Item) RETURN count(n) AS n",
        "topic": "MATCH (n:Topic) RETURN count(n) AS n",
        ("user", "purchased", "item"): "MATCH (:User)-[r:PURCHASED]->(:Item) RETURN count(r) AS n",
        ("user", "follows", "user"): "MATCH (:User)-[r:FOLLOWS]->(:User) RETURN count(r) AS n",
        ("user", "follows", "topic"): "MATCH (:User)-[r:FOLLOWS]->(:Topic) RETURN count(r) AS n",
        (
            "item",
            "has_topic",
            "topic",
        ): "MATCH (:Item)-[r:HAS_TOPIC]->(:Topic) RETURN count(r) AS n",
    }
    for part, q in cypher.items():
        n = store.read(q)[0]["n"]
        got = data[part].num_nodes if isinstance(part, str) else data[part].num_edges
        assert got == n, part
    assert (data["user"].num_nodes, data["user", "purchased", "item"].num_edges) == (1_892, 92_834)
    for s, r, d in list(cypher)[3:]:
        rev = data[d, f"rev_{r}", s]
        assert torch.equal(rev.edge_index, data[s, r, d].edge_index.flip(0))
    assert data.validate()
    assert info.text_model == "sentence-transformers/all-MiniLM-L6-v2" and info.text_dim == 384


def test_id_maps_round_trip_and_edges_match_the_graph(lastfm):
    _, _, (data, maps, _) = lastfm
    for t in ("user", "item", "topic"):
        keys = maps.keys[t]
        assert list(keys) == sorted(keys)
        assert (maps.key(t, maps.index(t, keys)) == keys).all()
    ei = data["user", "purchased", "item"].edge_index
    u, i = maps.index("user", ["2"])[0], maps.index("item", ["51"])[0]
    hit = ((ei[0] == u) & (ei[1] == i)).nonzero().flatten()
    assert len(hit) == 1
    assert data["user", "purchased", "item"].edge_weight[hit].item() == 13_883
    assert maps.index("user", ["no-such-user"]).tolist() == [-1]


def test_features_are_the_stored_text_embeddings(lastfm):
    store, encoder, (data, maps, _) = lastfm
    row = store.read("MATCH (i:Item {item_id: '51'}) RETURN i.text_embedding AS v, i.title AS t")[0]
    x = data["item"].x[maps.index("item", ["51"])[0]]
    assert torch.allclose(x, torch.tensor(row["v"], dtype=torch.float32))
    assert np.allclose(encoder.encode([row["t"]])[0], x.numpy(), atol=1e-5)
    # a user's features = mean of their purchased items' embeddings
    u = maps.index("user", ["2"])[0]
    ei = data["user", "purchased", "item"].edge_index
    mean = data["item"].x[ei[1][ei[0] == u]].mean(0)
    assert torch.allclose(data["user"].x[u], mean, atol=1e-6)
    assert bool(data["user"].has_text.all()) and bool(data["item"].has_text.all())


def test_save_then_load_gives_identical_tensors(lastfm, tmp_path):
    _, _, (data, maps, info) = lastfm
    save_export(tmp_path / "exp", data, maps, info)
    loaded, maps2, meta = load_export(tmp_path / "exp")
    assert set(loaded.node_types) == set(data.node_types)
    assert set(loaded.edge_types) == set(data.edge_types)
    for store_ in data.node_stores + data.edge_stores:
        other = loaded[store_._key]
        for k, v in store_.items():
            if isinstance(v, torch.Tensor):
                assert torch.equal(v, other[k]), (store_._key, k)
    for t in maps.keys:
        assert list(maps2.keys[t]) == list(maps.keys[t])
    assert meta["text_model"] == info.text_model and meta["counts"] == info.counts
    assert "torch" in meta["versions"]


def test_k_hop_subgraph_is_exactly_the_cypher_neighbourhood(lastfm):
    store, _, _ = lastfm
    seeds = ["2", "3"]
    etypes = [("user", "purchased", "item"), ("user", "follows", "user")]
    data, maps, _ = export_graph(
        store, seed_users=seeds, hops=2, node_types=["user", "item"], edge_types=etypes
    )
    rows = store.read(
        "MATCH (s:User) WHERE s.user_id IN $seeds "
        "MATCH p = (s)-[:PURCHASED|FOLLOWS*0..2]-(n) "
        "WHERE all(x IN nodes(p) WHERE x:User OR x:Item) "  # no hops through topics
        "RETURN DISTINCT labels(n)[0] AS label, coalesce(n.user_id, n.item_id) AS id",
        {"seeds": seeds},
    )
    expected = {"User": set(), "Item": set()}
    for r in rows:
        expected[r["label"]].add(r["id"])
    assert set(maps.keys["user"]) == expected["User"]
    assert set(maps.keys["item"]) == expected["Item"]
    induced = store.read(
        "MATCH (a:User)-[r:PURCHASED]->(b:Item) WHERE a.user_id IN $u AND b.item_id IN $i "
        "RETURN count(r) AS n",
        {"u": list(expected["User"]), "i": list(expected["Item"])},
    )[0]["n"]
    assert data["user", "purchased", "item"].num_edges == induced
    assert "topic" not in data.node_types


def test_changing_one_title_re_encodes_exactly_one_text(lastfm):
    store, encoder, _ = lastfm
    before = store.read("MATCH (i:Item {item_id: '51'}) RETURN i.text_embedding AS v")[0]["v"]
    store.write("MATCH (i:Item {item_id: '51'}) SET i.title = 'Duran Duran (remastered)'")
    try:
        report = embed_graph_text(store, encoder, progress=False)
        assert report.encoded == {"Item": 1, "Topic": 0}
        assert report.skipped == {"Item": 17_631, "Topic": 11_946}
        after = store.read("MATCH (i:Item {item_id: '51'}) RETURN i.text_embedding AS v")[0]["v"]
        assert not np.allclose(before, after)
    finally:
        store.write("MATCH (i:Item {item_id: '51'}) SET i.title = 'Duran Duran'")
        embed_graph_text(store, encoder, [Label.ITEM], progress=False)


def test_a_dangling_reference_is_reported_with_its_ids(lastfm):
    store, _, _ = lastfm
    store.write(
        "MATCH (u:User {user_id: '2'}) "
        "CREATE (u)-[:PURCHASED {weight: 1.0}]->(:Item {title: 'keyless'})"
    )
    try:
        with pytest.raises(ExportFidelityError) as info:
            export_graph(store, node_types=["user", "item"])
        msg = str(info.value)
        assert "92,835 relationships" in msg and "92,834 were exported" in msg
        assert "2 → no item_id, elementId" in msg
    finally:
        store.write("MATCH (i:Item {title: 'keyless'}) WHERE i.item_id IS NULL DETACH DELETE i")
