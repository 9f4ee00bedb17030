"""Last.fm, loaded, embedded, exported and trained once for this package's modules.

The package scope keeps the graph alive across ``test_lastfm*.py`` (export, write-back
and serving first, then the query library, the HTTP API and the explorer page), while
modules outside the package wipe the graph freely.
"""

from __future__ import annotations

import pytest

from interestgraph.embedding import TextEncoder, embed_graph_text
from interestgraph.graphstore import GraphStore
from interestgraph.ingest import ingest
from interestgraph.sync import export_graph
from tests.integration.test_ingest import DATASETS

K = 10


@pytest.fixture(scope="package")
def lastfm(neo4j_server):
    """The Last.fm graph with text embeddings (built once for the package)."""
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


@pytest.fixture(scope="package")
def runs(lastfm, tmp_path_factory):
    """Two short training runs on the Last.fm export (mechanics, not quality)."""
    from interestgraph.gnn.job import train_job
    from interestgraph.gnn.train import GATConfig

    _, _, (data, maps, info) = lastfm
    out = {}
    for name, seed in (("a", 0), ("b", 1)):
        folder = tmp_path_factory.mktemp(f"run_{name}")
        out[name] = train_job(
            data,
            folder,
            config=GATConfig(epochs=2, seed=seed),
            device="cpu",
            k=K,
            run_id=f"gat-test-{name}",
            export_meta=info.as_dict(),
            maps=maps,
        ).folder
    return out


@pytest.fixture(scope="package")
def served(lastfm, runs):
    """Both runs written back, run b current (as ``test_lastfm.py`` leaves it)."""
    from interestgraph.sync.writeback import writeback

    store = lastfm[0]
    for name in ("a", "b"):
        writeback(store, runs[name], progress=False)  # skipped when already complete
    return store
