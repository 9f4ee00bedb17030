"""Write-back and serving commands: ``writeback``, ``recommend``, ``explain``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import format_option, get_settings, handle_errors
from interestgraph.output import render


def latest_run(home: Path) -> Path | None:
    """The newest training folder under ``HOME/models`` (by run id), if any."""
    runs = sorted(p for p in (home / "models").glob("gat-*") if (p / "run.json").exists())
    return runs[-1] if runs else None


@cli.command()
@click.argument("run_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--keep-runs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Runs whose inferred edges are kept (the current one included).",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per transaction.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@format_option
@click.pass_context
@handle_errors
def writeback(
    ctx: click.Context,
    run_dir: Path | None,
    keep_runs: int,
    batch_size: int | None,
    progress: bool | None,
    fmt: str,
) -> None:
    """Write a trained run into Neo4j and make it the current run (atomic switch).

    RUN_DIR is a `train` output folder (default: the newest under HOME/models). Writes
    GAT embeddings (vector-indexed), each user's exact top-N items (top_items_<slot>, what
    `recommend` serves from), INTERESTED_IN / CO_INTEREST / SIMILAR_TO edges with score,
    rank and run_id, and a ModelRun node. Writing the same run again writes nothing.

    \b
    Example:
        interestgraph writeback
        interestgraph writeback .interestgraph/models/gat-20261129T081900Z --keep-runs 3
    """
    from interestgraph.graphstore import GraphStore
    from interestgraph.sync.writeback import writeback as run_writeback

    settings = get_settings(ctx)
    run_dir = run_dir or latest_run(Path(settings.home))
    if run_dir is None:
        raise click.ClickException("no trained run found; run `interestgraph train` first")
    with GraphStore.from_settings(settings) as store:
        report = run_writeback(
            store,
            run_dir,
            keep_runs=keep_runs,
            batch_size=batch_size or settings.batch_size,
            progress=progress,
        )
    click.echo(render(report.as_dict(), fmt))


@cli.command()
@click.argument("user_id")
@click.option("-k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--topic", help="Only items with this topic id.")
@click.option(
    "--include-purchased", is_flag=True, help="Do not exclude items the user already bought."
)
@format_option
@click.pass_context
@handle_errors
def recommend(
    ctx: click.Context, user_id: str, k: int, topic: str | None, include_purchased: bool, fmt: str
) -> None:
    """Top-K items for USER_ID from the current run, with reasons.

    \b
    Example:
        interestgraph recommend 2 -k 5
        interestgraph recommend u000001 --topic t-books --format json
    """
    from interestgraph.api import InterestGraph

    with InterestGraph(settings=get_settings(ctx)) as ig:
        recs = ig.recommend(user_id, k=k, exclude_purchased=not include_purchased, topic=topic)
    click.echo(render([r.as_dict() for r in recs], fmt))


@cli.command()
@click.argument("user_id")
@click.argument("item_id")
@format_option
@click.pass_context
@handle_errors
def explain(ctx: click.Context, user_id: str, item_id: str, fmt: str) -> None:
    """Why ITEM_ID is (or is not) recommended to USER_ID: the evidence with scores.

    Shows the model score, followed users who bought the item, topics shared with the
    user's inferred interests, and the user's purchases most similar to the item.

    \b
    Example:
        interestgraph explain 2 51
    """
    from interestgraph.api import InterestGraph

    with InterestGraph(settings=get_settings(ctx)) as ig:
        evidence = ig.explain(user_id, item_id)
    if fmt == "json":
        click.echo(json.dumps(evidence, indent=2, default=str))
        return
    head = {k: v for k, v in evidence.items() if not isinstance(v, list)}
    click.echo(render(head, fmt))
    for key in ("friends_who_bought", "shared_interests", "similar_purchases"):
        click.echo(f"\n{key.replace('_', ' ')}:", file=sys.stdout)
        click.echo(render(evidence[key], fmt) if evidence[key] else "  (none)")
