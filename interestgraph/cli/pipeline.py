"""``interestgraph pipeline``: the main job, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import format_option, get_settings, handle_errors, synthetic_options
from interestgraph.output import render


@cli.command()
@click.option(
    "--dataset",
    type=click.Choice(["synthetic", "lastfm", "ciao", "epinions"]),
    default="synthetic",
    show_default=True,
    help="Data to load (lastfm / ciao need INTERESTGRAPH_DATASETS).",
)
@synthetic_options
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Maximum epochs of the GAT and BPR-MF (default: GAT 150, BPR-MF 200; early stopping).",
)
@click.option(
    "--bulk/--no-bulk",
    default=None,
    help="First load through neo4j-admin's bulk importer (default: when the managed database "
    "is empty and the input has >= 500,000 rows).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a TTY).")
@format_option
@click.pass_context
@handle_errors
def pipeline(
    ctx: click.Context,
    dataset: str,
    size: int,
    seed: int,
    epochs: int | None,
    bulk: bool | None,
    progress: bool | None,
    fmt: str,
) -> None:
    """Run the main job end to end on the configured server.

    Starts the local server when no NEO4J_URI is set, then: schema → ingest (idempotent;
    a large first load is bulk-imported) → embed text (only what changed) → export
    (fidelity-checked) → train the GAT (early stopping, test metrics) → its top-K lists →
    evaluate MostPop, BPR-MF (and ItemKNN on smaller shops) on the same split → write-back
    (atomic switch to the new run) → recommendations with reasons for the busiest users,
    and the Neo4j Browser URL to explore the graph. Prints seconds, rows and peak memory
    per stage.

    \b
    Example:
        interestgraph pipeline
        interestgraph pipeline --dataset lastfm
        interestgraph pipeline --size 1000000 --epochs 5
    """
    import json

    from interestgraph.pipeline import run_pipeline

    res = run_pipeline(
        get_settings(ctx),
        dataset,
        size=size,
        seed=seed,
        epochs=epochs,
        progress=progress,
        bulk=bulk,
    )
    if fmt == "json":
        out: dict[str, Any] = {**res.summary, "metrics": res.metrics, "samples": res.samples}
        out["seconds"], out["memory"], out["browser"] = res.seconds, res.memory, res.browser
        out["rows"], out["units"], out["notes"] = res.rows, res.units, res.notes
        click.echo(json.dumps(out, indent=2, default=str))
        return
    click.echo(render(res.summary, fmt))
    cols = ("model", "recall@10", "ndcg@10", "recall@20", "mrr", "coverage@20", "train_seconds")
    click.echo("\ntest metrics (protocol random, same split):")
    click.echo(render([{c: m[c] for c in cols} for m in res.metrics], fmt))
    click.echo("\nper stage (peak memory: this process / the local Neo4j server):")
    stages = [
        {
            "stage": stage,
            "seconds": secs,
            "rows": res.rows.get(stage, ""),
            "unit": res.units.get(stage, ""),
            "python_peak_gib": res.memory.get(stage, {}).get("python_peak_gib"),
            "neo4j_peak_gib": res.memory.get(stage, {}).get("neo4j_peak_gib"),
        }
        for stage, secs in res.seconds.items()
    ]
    click.echo(render(stages, fmt))
    for note in res.notes:
        click.echo(f"note: {note}")
    for user, recs in res.samples.items():
        click.echo(f"\nrecommendations for user {user}:")
        click.echo(render(recs, fmt))
    if res.browser:
        from interestgraph.graphstore.credentials import password_file

        secret = password_file(Path(get_settings(ctx).home))
        click.echo(f"\nexplore the graph: {res.browser}  (user neo4j, password in {secret})")
        click.echo(
            "explorer page and HTTP API: `interestgraph serve`, then open "
            "http://127.0.0.1:8000/#token=<token in HOME/api-token>; analyst queries: "
            "`interestgraph query --list`"
        )
