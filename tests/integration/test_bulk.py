"""Bulk first loads (neo4j-admin import) against MERGE loads of the same tables, on real servers.

The bulk path stops and restarts its server, so it runs in a server home of its own
(``tmp_path``, free ports); the MERGE reference loads into the session's server.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interestgraph.config import Settings
from interestgraph.datasets import generate
from interestgraph.errors import InputError, ServerStartError
from interestgraph.graphstore import GraphStore, LocalServer
from interestgraph.ingest import bulk_ingest, ingest, read_folder
from tests.conftest import free_port
from tests.integration.test_ingest import snapshot
from tests.shop import write_valid


@pytest.fixture
def bulk_server(tmp_path: Path):
    """A stopped local server in its own home (the bulk path starts and stops it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    settings = Settings.from_env(
        env, home=tmp_path / "home", bolt_port=free_port(), http_port=free_port(),
        heap="512m", pagecache="256m",
    )  # fmt: skip
    server = LocalServer(settings)
    try:
        yield server
    finally:
        server.stop()


def _constraints(store: GraphStore) -> list[str]:
    rows = store.read("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name")
    return [r["name"] for r in rows]


@pytest.mark.slow
def test_bulk_import_equals_a_merge_load_node_for_node(store, bulk_server, tmp_path):
    shop = read_folder(write_valid(tmp_path / "shop"))  # extras, a repeated purchase, topics
    synthetic = generate(size=3000, seed=5).tables
    for name, tables in (("shop", shop), ("synthetic", synthetic)):
        store.write_autocommit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS")
        merged = ingest(store, tables, progress=False)
        want = snapshot(store)
        if name == "synthetic":  # the bulk server holds the shop: start afresh
            bulk_server.stop()
            import shutil

            shutil.rmtree(bulk_server.data_dir / "databases" / "neo4j", ignore_errors=True)
            shutil.rmtree(bulk_server.data_dir / "transactions" / "neo4j", ignore_errors=True)
        report = bulk_ingest(bulk_server.settings, tables)
        assert report.bulk["rows"] == merged.rows_written == report.rows_written
        assert report.problems == merged.problems == []
        assert not bulk_server.status().running  # left as it was found: stopped
        bulk_server.start()
        with GraphStore.from_settings(bulk_server.settings) as bulk_store:
            got = snapshot(bulk_store)
            assert _constraints(bulk_store) == _constraints(store)
        assert got == want, name
        assert len(got["nodes"]) > 0 and len(got["rels"]) > 0


@pytest.mark.slow
def test_bulk_import_refuses_a_graph_that_holds_data_or_an_external_server(bulk_server, tmp_path):
    tables = read_folder(write_valid(tmp_path / "shop"))
    bulk_server.start()
    with GraphStore.from_settings(bulk_server.settings) as s:
        s.write("CREATE (:User {user_id: 'already-here'})")
    with pytest.raises(InputError, match=r"empty database only.*holds 1 nodes"):
        bulk_ingest(bulk_server.settings, tables)
    with GraphStore.from_settings(bulk_server.settings) as s:  # untouched, still serving
        assert s.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == 1
    external = bulk_server.settings.with_overrides(
        neo4j_uri="bolt://db.example:7687", neo4j_password="x"
    )
    with pytest.raises(InputError, match="NEO4J_URI"):
        bulk_ingest(external, tables)


@pytest.mark.slow
def test_a_failed_import_leaves_an_empty_database_not_a_half_written_one(
    bulk_server, tmp_path, monkeypatch
):
    import interestgraph.ingest.bulk as bulk

    real = bulk.write_import_files

    def broken(clean, folder):
        nodes, rels, multiline, rows = real(clean, folder)
        data = rels[0][1][1]  # a relationship to a node that is not in the input
        data.write_text(data.read_text() + '"u1","no-such-node","1"\n')
        return nodes, rels, multiline, rows

    monkeypatch.setattr(bulk, "write_import_files", broken)
    with pytest.raises(ServerStartError, match=r"import failed.*partial database was removed"):
        bulk_ingest(bulk_server.settings, read_folder(write_valid(tmp_path / "shop")))
    bulk_server.start()
    with GraphStore.from_settings(bulk_server.settings) as s:
        assert s.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0


@pytest.mark.slow
def test_epinions_bulk_loads_the_documented_counts(bulk_server):
    from interestgraph.datasets import load_epinions
    from interestgraph.graphstore.stats import graph_stats
    from tests.integration.test_ingest import DATASETS

    if not (DATASETS / "epinions" / "rating.mat").exists():
        pytest.skip(f"Epinions not found in {DATASETS}")
    ds = load_epinions(DATASETS)
    report = bulk_ingest(bulk_server.settings, ds.tables, problems=ds.problems, notes=ds.notes)
    assert report.tables["purchases"].read == 680_730  # ratings of 4 and 5
    assert report.tables["purchases"].merged == 6_800
    assert report.tables["follows"].merged == 27
    self_loops = [p for p in report.problems if "follow themselves" in p.reason]
    assert len(self_loops) == len(report.problems) == 224
    bulk_server.start()
    with GraphStore.from_settings(bulk_server.settings) as s:
        c = {r["name"]: r["count"] for r in graph_stats(s)}
    assert (c["User"], c["Item"], c["Topic"]) == (22_165, 296_277, 27)
    assert c["PURCHASED"] == 673_930
    assert c["FOLLOWS->User"] == 355_503
    assert c["HAS_TOPIC"] == 296_877
