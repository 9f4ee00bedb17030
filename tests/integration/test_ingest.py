"""Ingest against the real server: datasets load exactly, twice changes nothing, bad input."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from interestgraph.datasets import generate, load_ciao, load_lastfm
from interestgraph.errors import ValidationError
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.stats import graph_stats
from interestgraph.ingest import ingest, read_folder
from tests.shop import EXPECTED_PROBLEMS, write_corrupted, write_valid

DATASETS = Path(
    os.environ.get("INTERESTGRAPH_DATASETS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)
needs_data = pytest.mark.skipif(
    not (DATASETS / "lastfm-2k").exists(), reason=f"public datasets not found in {DATASETS}"
)


def counts(store: GraphStore) -> dict[str, int]:
    return {r["name"]: r["count"] for r in graph_stats(store)}


def snapshot(store: GraphStore) -> dict[str, list]:
    """Every node's key and properties and every relationship with its properties."""
    nodes = store.read(
        "MATCH (n) RETURN labels(n)[0] AS label, properties(n) AS props ORDER BY label"
    )
    rels = store.read(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, coalesce(a.user_id, a.item_id) AS a, "
        "coalesce(b.user_id, b.item_id, b.topic_id) AS b, properties(r) AS props"
    )
    key = lambda d: repr(sorted(d.items()))  # noqa: E731
    return {
        "nodes": sorted((n["label"], key(n["props"])) for n in nodes),
        "rels": sorted((r["type"], r["a"], r["b"], key(r["props"])) for r in rels),
    }


@needs_data
@pytest.mark.slow
def test_lastfm_loads_exactly_and_a_second_load_changes_nothing(store, tmp_path):
    ds = load_lastfm(DATASETS)
    report = ingest(store, ds.tables, notes=ds.notes, rejects_path=tmp_path / "rejects.csv")
    assert report.problems == [] and report.rejects_file is None
    c = counts(store)
    assert (c["User"], c["Item"], c["Topic"]) == (1_892, 17_632, 11_946)
    assert c["PURCHASED"] == 92_834
    assert c["FOLLOWS->User"] == 25_434
    assert c["FOLLOWS->Topic"] == 35_816
    assert c["HAS_TOPIC"] == 108_437
    both_ways = store.read(
        "MATCH (a:User)-[:FOLLOWS]->(b:User) WHERE (b)-[:FOLLOWS]->(a) AND a.user_id < b.user_id "
        "RETURN count(*) AS n"
    )[0]["n"]
    assert both_ways == 12_717
    # spot checks against the files
    row = store.read(
        "MATCH (:User {user_id: '2'})-[r:PURCHASED]->(i:Item {item_id: '51'}) "
        "RETURN r.weight AS w, i.title AS title"
    )
    assert row == [{"w": 13883.0, "title": "Duran Duran"}]
    before = snapshot(store)
    again = ingest(store, ds.tables, notes=ds.notes)
    assert again.counters.get("nodes_created", 0) == 0
    assert again.counters.get("relationships_created", 0) == 0
    assert snapshot(store) == before


@needs_data
@pytest.mark.slow
def test_ciao_loads_the_documented_counts_and_is_idempotent(store, tmp_path):
    ds = load_ciao(DATASETS)
    report = ingest(store, ds.tables, problems=ds.problems, rejects_path=tmp_path / "r.csv")
    c = counts(store)
    assert (c["User"], c["Item"], c["Topic"]) == (7_375, 105_114, 28)
    assert c["PURCHASED"] == 282_619
    assert c["FOLLOWS->User"] == 111_781
    assert c["HAS_TOPIC"] == 105_219
    assert report.tables["purchases"].merged == 1_433
    zero = [p for p in report.problems if "rating 0" in p.reason]
    assert len(zero) == len(report.problems) == 34
    with open(report.rejects_file, encoding="utf-8") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 34
    assert store.read("MATCH (t:Topic {topic_id: '10'}) RETURN t.name AS n") == [{"n": "Ciao Café"}]
    again = ingest(store, ds.tables, problems=ds.problems)
    assert again.counters.get("nodes_created", 0) == 0
    assert again.counters.get("relationships_created", 0) == 0
    assert counts(store) == c


def test_corrupted_folder_in_strict_mode_leaves_the_database_unchanged(store, tmp_path):
    ingest(store, read_folder(write_valid(tmp_path / "good")))
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        ingest(
            store,
            read_folder(write_corrupted(tmp_path / "bad")),
            strict=True,
            rejects_path=tmp_path / "rejects.csv",
        )
    assert "nothing was written" in str(info.value)
    assert "purchases.csv line 4, column weight" in str(info.value)
    assert snapshot(store) == before
    with open(tmp_path / "rejects.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # Item i3 is already in the graph here, so its HAS_TOPIC row is no longer a dangling ref.
    expected = [e for e in EXPECTED_PROBLEMS if e[0] != "item_topics.csv"]
    assert len(rows) == len(expected)
    assert {(r["file"], r["line"], r["column"]) for r in rows} == {
        (file, str(line), column or "") for file, line, column, _ in expected
    }


def test_default_mode_writes_the_valid_rows_and_reports_the_rest(store, tmp_path):
    report = ingest(store, read_folder(write_corrupted(tmp_path)), rejects_path=tmp_path / "r.csv")
    assert len(report.problems) == len(EXPECTED_PROBLEMS)
    ids = store.read("MATCH (u:User) RETURN u.user_id AS id ORDER BY id")
    assert [r["id"] for r in ids] == ["u1", "u2"]
    assert counts(store)["PURCHASED"] == 1
    # Re-running the same input changes nothing and reports the same problems.
    before = snapshot(store)
    again = ingest(store, read_folder(tmp_path))
    assert len(again.problems) == len(report.problems)
    assert snapshot(store) == before


def test_valid_shop_properties_and_types(store, tmp_path):
    ingest(store, read_folder(write_valid(tmp_path)))
    rows = store.read(
        "MATCH (u:User {user_id: 'u1'})-[r:PURCHASED]->(i:Item {item_id: 'i1'}) "
        "RETURN r.weight AS w, r.channel AS ch, toString(r.ts) AS ts, i.price AS price, "
        "i.description AS d, u.segment AS seg"
    )
    assert rows == [
        {
            "w": 3.0,
            "ch": "app",
            "ts": "2024-03-05T10:00:00Z",
            "price": 99.5,
            "d": "Closed-back, 40mm drivers",
            "seg": "gold",
        }
    ]
    topic = store.read("MATCH (t:Topic {topic_id: 't2'}) RETURN t.parent_id AS p")
    assert topic == [{"p": "t1"}]


def test_incremental_input_may_reference_nodes_already_in_the_graph(store, tmp_path):
    ingest(store, read_folder(write_valid(tmp_path / "base")))
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "purchases.csv").write_text("user_id,item_id,ts\nu2,i3,2024-05-01\nu9,i3,2024-05-01\n")
    report = ingest(store, read_folder(inc))
    assert [(p.line, p.column) for p in report.problems] == [(3, "user_id")]
    assert counts(store)["PURCHASED"] == 4


def test_synthetic_data_loads_and_reloads_identically(store):
    ds = generate(size=3000, seed=3)
    first = ingest(store, ds.tables)
    assert first.problems == []
    c = counts(store)
    assert c["User"] == 150 and c["Item"] == 300 and c["Topic"] == 48
    assert c["PURCHASED"] == first.tables["purchases"].valid
    before = snapshot(store)
    ingest(store, generate(size=3000, seed=3).tables)
    assert snapshot(store) == before
