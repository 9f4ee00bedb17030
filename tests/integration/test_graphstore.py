"""GraphStore and schema against the real Neo4j server started by the session fixture."""

from __future__ import annotations

import pytest

from interestgraph.config import Settings
from interestgraph.errors import GraphAuthError, QueryError
from interestgraph.graphstore import GraphStore, ensure_schema
from interestgraph.graphstore.schema import constraints

UPSERT = (
    "UNWIND $rows AS row MERGE (u:User {user_id: row.id}) "
    "SET u.name = row.name, u.score = row.score"
)


def test_schema_creation_twice_is_a_no_op(store: GraphStore):
    first = ensure_schema(store)
    second = ensure_schema(store)
    assert first == second == sorted(c.name for c in constraints())
    again = store.write(constraints()[0].cypher(), op="test.schema")
    assert again["constraints_added"] == 0
    rows = store.read(
        "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties "
        "WHERE name STARTS WITH 'ig_' RETURN name, type, labelsOrTypes[0] AS label, "
        "properties[0] AS key ORDER BY name"
    )
    assert {(r["label"], r["key"]) for r in rows} >= {
        ("User", "user_id"),
        ("Item", "item_id"),
        ("Topic", "topic_id"),
    }
    assert {r["type"] for r in rows} == {"UNIQUENESS"}


def test_batched_write_read_round_trip_is_idempotent(store: GraphStore):
    ensure_schema(store)
    rows = [{"id": f"u{i}", "name": f"User «{i}»", "score": i / 10} for i in range(2500)]
    first = store.write_batches(UPSERT, rows, batch_size=1000, op="test.upsert")
    assert (first.rows, first.batches) == (2500, 3)
    assert first.counters["nodes_created"] == 2500
    second = store.write_batches(UPSERT, rows, batch_size=700, op="test.upsert")
    assert second.counters.get("nodes_created", 0) == 0
    back = store.read(
        "MATCH (u:User) RETURN u.user_id AS id, u.name AS name, u.score AS score ORDER BY id"
    )
    assert sorted(back, key=lambda r: r["id"]) == sorted(rows, key=lambda r: r["id"])


def test_ids_are_stored_verbatim_as_parameters(store: GraphStore):
    ensure_schema(store)
    evil = '"}) DETACH DELETE n //'
    store.write_batches(
        UPSERT, [{"id": evil, "name": "x", "score": 0.0}, {"id": "ok", "name": "y", "score": 1.0}]
    )
    ids = [r["id"] for r in store.read("MATCH (u:User) RETURN u.user_id AS id ORDER BY id")]
    assert ids == sorted([evil, "ok"])


def test_unique_constraint_is_enforced(store: GraphStore):
    ensure_schema(store)
    store.write("CREATE (:Item {item_id: 'i1'})")
    with pytest.raises(QueryError, match="ConstraintValidationFailed"):
        store.write("CREATE (:Item {item_id: 'i1'})")


def test_queries_carry_metadata_tags(store: GraphStore):
    rows = store.read(
        "SHOW TRANSACTIONS YIELD metaData, currentQuery "
        "WHERE currentQuery STARTS WITH 'SHOW TRANSACTIONS' RETURN metaData",
        op="test.tagged",
    )
    assert rows and rows[0]["metaData"] == {"app": "interestgraph", "op": "test.tagged"}


def test_wrong_password_names_the_settings_to_check(neo4j_server):
    s = neo4j_server.settings
    bad = Settings.from_env({}, neo4j_uri=s.local_uri, neo4j_password="not-the-password")
    with GraphStore.from_settings(bad) as store, pytest.raises(GraphAuthError) as info:
        store.read("RETURN 1")
    assert "NEO4J_USER and NEO4J_PASSWORD" in str(info.value)
    assert "not-the-password" not in str(info.value)


def test_wrong_local_password_names_the_password_file(neo4j_server, tmp_path):
    s = neo4j_server.settings
    (tmp_path / "neo4j").mkdir()
    (tmp_path / "neo4j" / "password").write_text("stale\n")
    local = Settings.from_env({}, home=tmp_path, bolt_port=s.bolt_port, http_port=s.http_port)
    with GraphStore.from_settings(local) as store, pytest.raises(GraphAuthError) as info:
        store.read("RETURN 1")
    assert str(tmp_path / "neo4j" / "password") in str(info.value)
