"""The CLI against the real server: status, schema, pipeline."""

from __future__ import annotations

import json

from click.testing import CliRunner

from interestgraph.cli import cli


def _env(settings) -> dict[str, str]:
    return {
        "INTERESTGRAPH_HOME": str(settings.home),
        "INTERESTGRAPH_BOLT_PORT": str(settings.bolt_port),
        "INTERESTGRAPH_HTTP_PORT": str(settings.http_port),
        "INTERESTGRAPH_CACHE": str(settings.cache_dir),
        "NEO4J_URI": "",
    }


def test_status_and_pipeline_on_the_running_server(neo4j_server, store):
    runner = CliRunner()
    env = _env(neo4j_server.settings)
    res = runner.invoke(cli, ["neo4j", "status", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["running"] is True
    assert json.loads(res.stdout)["gds"] == neo4j_server.settings.gds_version  # gds.version()

    args = ["-q", "pipeline", "--size", "2000", "--epochs", "3", "--format", "json"]
    res = runner.invoke(cli, args, env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["server"].startswith("Neo4j/5.26")
    assert out["User"] == 100 and out["Item"] == 200 and out["problems"] == 0
    assert out["browser"].endswith("/browser/")
    assert [m["model"] for m in out["metrics"]] == ["GAT", "MostPop", "BPR-MF", "ItemKNN"]
    stages = ["server", "ingest", "embed", "export", "train", "infer", "evaluate", "writeback"]
    assert list(out["seconds"])[: len(stages)] == stages
    assert all(out["memory"][s]["python_peak_gib"] > 0 for s in stages)
    assert all(out["memory"][s]["neo4j_peak_gib"] > 0 for s in stages)
    assert out["rows"]["ingest"] == out["rows_written"] and out["rows"]["embed"] == 248
    assert out["bulk_import"] is False  # 2,000 purchases: below the bulk threshold
    assert out["INTERESTED_IN"] == 100 * 10 and out["edges_written_back"] > 0
    assert out["samples"] and all(
        len(recs) == 3 and all(r["reasons"] for r in recs) for recs in out["samples"].values()
    )
    again = json.loads(runner.invoke(cli, args, env=env).stdout)
    assert out["texts_encoded"] == 248 and out["texts_unchanged"] == 0  # 200 items, 48 topics
    assert again["texts_encoded"] == 0 and again["texts_unchanged"] == 248
    assert out["text_backend"] == "onnx" and again["text_backend"] is None  # nothing to encode
    assert again["run_id"] != out["run_id"]  # a re-run trains and switches to a new run
    volatile = {"texts_encoded", "texts_unchanged", "text_backend", "run_id", "model_folder"}
    volatile |= {"seconds"}
    volatile |= {"memory", "rows", "units", "notes"}
    volatile |= {"metrics", "samples", "INTERESTED_IN", "CO_INTEREST", "SIMILAR_TO", "ModelRun"}
    assert {k: v for k, v in again.items() if k not in volatile} == {
        k: v for k, v in out.items() if k not in volatile
    }
    assert again["INTERESTED_IN"] == 2 * out["INTERESTED_IN"]  # keep_runs=2: both runs kept
    from interestgraph.sync import load_export

    data, _, meta = load_export(out["export"])
    assert data["user"].num_nodes == 100
    # the default GAT reads no text, so the main job exports the topology only
    assert meta["text_dim"] == 0 and "x" not in data["item"] and not meta["selection"]["features"]


def test_external_server_is_never_managed(neo4j_server):
    env = {**_env(neo4j_server.settings), "NEO4J_URI": "bolt://db:7687", "NEO4J_PASSWORD": "x"}
    res = CliRunner().invoke(cli, ["neo4j", "stop"], env=env)
    assert res.exit_code != 0
    assert "managed elsewhere" in res.output
    assert neo4j_server.status().running


def test_errors_are_clean_messages_not_tracebacks(tmp_path):
    env = {"INTERESTGRAPH_HOME": str(tmp_path), "NEO4J_URI": ""}
    res = CliRunner().invoke(cli, ["schema"], env=env)
    assert res.exit_code == 1
    assert "Error: no local Neo4j server has been set up" in res.output
    assert "interestgraph neo4j start" in res.output
    assert "Traceback" not in res.output


def test_every_command_help_has_an_example():
    runner = CliRunner()
    for args in (
        ["neo4j", "start"],
        ["neo4j", "stop"],
        ["neo4j", "status"],
        ["schema"],
        ["pipeline"],
        ["ingest"],
        ["stats"],
        ["embed"],
        ["export"],
    ):
        res = runner.invoke(cli, [*args, "--help"])
        assert res.exit_code == 0 and "Example" in res.output, args


def test_ingest_command_reports_and_strict_writes_nothing(neo4j_server, store, tmp_path):
    from tests.shop import write_corrupted, write_valid

    env = _env(neo4j_server.settings)
    runner = CliRunner()
    res = runner.invoke(cli, ["-q", "ingest", str(write_valid(tmp_path / "ok"))], env=env)
    assert res.exit_code == 0, res.output
    assert "rows written" in res.output and "0 problem(s)" in res.output

    bad = write_corrupted(tmp_path / "bad")
    rejects = tmp_path / "rejects.csv"
    res = runner.invoke(
        cli, ["-q", "ingest", str(bad), "--strict", "--rejects", str(rejects)], env=env
    )
    assert res.exit_code == 1
    assert "strict mode" in res.output and "nothing was written" in res.output
    assert "Traceback" not in res.output and rejects.exists()

    res = runner.invoke(cli, ["-q", "ingest", str(bad), "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["problems"] == 11 and out["written"] is True

    res = runner.invoke(cli, ["stats", "--format", "json"], env=env)
    stats = {r["name"]: r["count"] for r in json.loads(res.stdout)}
    assert stats["User"] == 3 and stats["PURCHASED"] == 3  # u1→i1 from both inputs: one edge


def test_ingest_needs_exactly_one_source():
    res = CliRunner().invoke(cli, ["ingest"])
    assert res.exit_code == 2 and "either FOLDER or --dataset" in res.output
