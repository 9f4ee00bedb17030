"""Export selections on the small hand-written shop (time window, types, CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import torch
from click.testing import CliRunner

from interestgraph.cli import cli
from interestgraph.ingest import ingest, read_folder
from interestgraph.sync import export_graph, load_export
from tests.integration.test_cli import _env
from tests.shop import write_valid


@pytest.fixture
def shop(store, tmp_path):
    ingest(store, read_folder(write_valid(tmp_path / "shop")))
    return store


def test_time_window_keeps_only_dated_purchases_inside_it(shop):
    data, maps, info = export_graph(
        shop, since=datetime(2024, 3, 2, tzinfo=UTC), until=datetime(2024, 3, 5, tzinfo=UTC)
    )
    ei = data["user", "purchased", "item"].edge_index
    pairs = {(maps.key("user", [u])[0], maps.key("item", [i])[0]) for u, i in ei.t().tolist()}
    # u1→i1 is dated 03-05 (merged, latest ts), u2→i2 03-01 10:00 UTC, u3→i3 03-02
    assert pairs == {("u3", "i3")}
    assert info.counts["edges:user__purchased__item"] == 1
    assert bool(data["user", "purchased", "item"].has_time.all())
    assert data["user", "purchased", "item"].edge_time.tolist() == [1709337600]
    # other relationship types are not time-filtered
    assert data["user", "follows", "user"].num_edges == 2


def test_no_text_embeddings_means_no_x_and_the_export_says_so(shop):
    data, _, info = export_graph(shop)
    assert info.text_model is None and "x" not in data["item"]
    assert data["item"].num_nodes == 3 and data["topic"].num_nodes == 2


def test_unknown_types_are_refused_with_the_allowed_ones(shop):
    with pytest.raises(ValueError, match="unknown node type"):
        export_graph(shop, node_types=["customer"])
    with pytest.raises(ValueError, match="needs node types"):
        export_graph(shop, node_types=["user"], edge_types=[("user", "purchased", "item")])


def test_export_command_writes_a_loadable_folder(shop, neo4j_server, tmp_path):
    out = tmp_path / "exp"
    res = CliRunner().invoke(
        cli,
        [
            "-q",
            "export",
            "--out",
            str(out),
            "--seed-users",
            "u1",
            "--hops",
            "1",
            "--format",
            "json",
        ],
        env=_env(neo4j_server.settings),
    )
    assert res.exit_code == 0, res.output
    meta = json.loads(res.stdout)
    assert meta["selection"]["seed_users"] == ["u1"]
    data, maps, _ = load_export(out)
    assert sorted(maps.keys["user"]) == ["u1", "u2"]  # u1 and whom u1 follows / is followed by
    assert sorted(maps.keys["item"]) == ["i1"]
    assert data["user", "purchased", "item"].num_edges == 1


def test_streaming_export_equals_the_plain_reference_export(shop):
    from interestgraph.embedding import TextEncoder, embed_graph_text
    from tests.reference_export import assert_same_export, reference_export

    embed_graph_text(shop, TextEncoder(), progress=False)
    data, maps, info = export_graph(shop)
    assert_same_export(data, maps, reference_export(shop))
    assert info.text_dim == 384 and bool(data["item"].has_text.all())
    again, _, _ = export_graph(shop)  # the streaming order is deterministic
    for et in data.edge_types:
        assert torch.equal(again[et].edge_index, data[et].edge_index)
