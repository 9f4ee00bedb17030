"""The evaluation harness end to end: synthetic shop → export → baselines."""

from __future__ import annotations

import json

from click.testing import CliRunner

from interestgraph.cli import cli
from interestgraph.datasets import generate
from interestgraph.gnn.evaluate import MODELS, evaluate_models, make_split
from interestgraph.ingest import ingest
from interestgraph.sync import export_graph, save_export


def test_itemknn_beats_mostpop_on_planted_interests_and_no_test_edge_is_trained(store, tmp_path):
    ingest(store, generate(size=6000, seed=5).tables, progress=False)
    data, maps, info = export_graph(store)
    split = make_split(data, "random")
    ei = data["user", "purchased", "item"].edge_index.numpy()
    train_pairs = set(zip(ei[0, split.train], ei[1, split.train], strict=True))
    test_pairs = set(zip(ei[0, split.test], ei[1, split.test], strict=True))
    assert not train_pairs & test_pairs  # export merges repeats: one edge per pair
    rows = evaluate_models(
        data, "random", {"MostPop": MODELS["MostPop"], "ItemKNN": MODELS["ItemKNN"]}
    )
    by = {r["model"]: r for r in rows}
    assert by["ItemKNN"]["recall@20"] > 1.5 * by["MostPop"]["recall@20"]
    assert 0 < by["MostPop"]["coverage@20"] < by["ItemKNN"]["coverage@20"] <= 1

    out = tmp_path / "exp"
    save_export(out, data, maps, info)
    res = CliRunner().invoke(
        cli, ["evaluate", "--export", str(out), "--models", "MostPop", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.stdout)
    assert row["recall@20"] == by["MostPop"]["recall@20"]
    res = CliRunner().invoke(cli, ["evaluate", "--export", str(out), "--models", "GAT?"])
    assert res.exit_code == 2 and "unknown model" in res.output


def test_gds_baselines_see_only_training_pairs_and_beat_mostpop(store, neo4j_server, tmp_path):
    import numpy as np

    from interestgraph.gnn.evaluate import Harness
    from interestgraph.gnn.gds_baselines import (
        FASTRP_GRID,
        TrainingProjection,
        follows_of,
        gds_models,
    )

    ingest(store, generate(size=6000, seed=5).tables, progress=False)
    data, maps, info = export_graph(store)
    h = Harness(data, "random", 0)
    nu = h.num_users
    follows = follows_of(data)
    assert follows is not None and len(follows[0]) > 0
    with TrainingProjection(store, h.train, follows) as graph:
        s, t = graph.pairs()
    projected = set(zip(s.tolist(), t.tolist(), strict=True))
    bought = {(u, i - nu) for u, i in projected if u < nu <= i}
    train = set(zip(h.train.users.tolist(), h.train.items.tolist(), strict=True))
    held = set()
    for part in (h.val_items, h.test_items):
        pu, pi = part.pairs(np.arange(nu))
        held |= set(zip(pu.tolist(), pi.tolist(), strict=True))
    assert held and bought == train and not bought & held  # no validation / test pair
    social = {(u, v) for u, v in projected if u < nu and v < nu}
    fol = set(zip(follows[0].tolist(), follows[1].tolist(), strict=True))
    assert social == fol | {(v, u) for u, v in fol}  # undirected follows, nothing else
    assert len(projected) == 2 * len(train) + len(social)
    assert store.read("CALL gds.graph.list() YIELD graphName RETURN count(*) AS n")[0]["n"] == 0

    grid = FASTRP_GRID[:2]  # a smaller search than the benchmarks' 12 settings, for CI time
    rows = evaluate_models(
        data, "random", {"MostPop": MODELS["MostPop"], **gds_models(store, grid)}
    )
    by = {r["model"]: r for r in rows}
    for name in ("GDS-FastRP", "GDS-FastRP-KNN"):
        assert by[name]["recall@20"] > 1.2 * by["MostPop"]["recall@20"], by
        assert by[name]["chosen"]["val_recall@20"] > 0
    assert np.isfinite(by["GDS-FastRP-KNN"]["train_seconds"])

    out = tmp_path / "exp"
    save_export(out, data, maps, info)
    from tests.integration.test_cli import _env

    env = _env(neo4j_server.settings)
    res = CliRunner().invoke(
        cli, ["evaluate", "--export", str(out), "--models", "GDS-FastRP", "--format", "json"],
        env=env,
    )  # fmt: skip
    assert res.exit_code == 0, res.output


def test_gat_recovers_planted_interests_far_above_mostpop_and_trains_from_the_cli(store, tmp_path):
    import numpy as np

    from interestgraph.embedding import TextEncoder, embed_graph_text
    from interestgraph.gnn.checkpoint import load_checkpoint
    from interestgraph.gnn.infer import Inference
    from interestgraph.gnn.train import GATRec

    ingest(store, generate(size=6000, seed=5).tables, progress=False)
    embed_graph_text(store, TextEncoder(device="cpu"), progress=False)
    data, maps, info = export_graph(store)
    rows = evaluate_models(
        data,
        "random",
        {
            "MostPop": MODELS["MostPop"],
            "GAT": lambda d: GATRec(d, epochs=30, batch_size=1024, device="cpu"),
        },
    )
    by = {r["model"]: r for r in rows}
    assert by["GAT"]["recall@20"] > 2 * by["MostPop"]["recall@20"], by

    exp, ck = tmp_path / "exp", tmp_path / "ck"
    save_export(exp, data, maps, info)
    args = ["train", "--export", str(exp), "--out", str(ck), "--epochs", "6", "-k", "5"]
    args += ["--serve-top", "20"]
    res = CliRunner().invoke(cli, [*args, "--device", "cpu", "--format", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["run_id"].startswith("gat-") and 0 < summary["recall@20"] <= 1
    assert {p.name for p in ck.iterdir()} >= {"model.pt", "config.json", "curve.svg"}
    config = json.loads((ck / "config.json").read_text())
    assert config["text_model"] == info.text_model and len(config["history"]) == 6
    assert config["graph"]["num_nodes"]["item"] == data["item"].num_nodes

    inf = Inference.load(ck / "inference.pt")
    ui = inf.lists["user_items"].index
    assert ui.shape == (data["user"].num_nodes, 20)  # the stored exact top-N for serving
    assert inf.lists["user_topics"].index.shape == (data["user"].num_nodes, 5)
    assert json.loads((ck / "run.json").read_text())["serve_top"] == 20
    bought = data["user", "purchased", "item"].edge_index.numpy()
    bought_pairs = set(zip(bought[0], bought[1], strict=True))
    assert not any((u, i) in bought_pairs for u in range(ui.shape[0]) for i in ui[u])
    # the saved lists are what the checkpoint computes on the full graph
    rec = load_checkpoint(ck, data, device="cpu")
    h = rec.embeddings()
    assert np.allclose(h["user"].numpy(), inf.embeddings["user"], atol=1e-5)
