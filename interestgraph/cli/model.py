"""Model commands: ``evaluate`` (harness with baselines) and ``train`` (the GAT)."""

from __future__ import annotations

from pathlib import Path

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import F, format_option, get_settings, handle_errors
from interestgraph.output import render


def export_option(fn: F) -> F:
    """Shared ``--export DIR`` option (an existing export folder)."""
    return click.option(
        "--export",
        "export_dir",
        required=True,
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="An export folder (`interestgraph export --out DIR`).",
    )(fn)


def protocol_option(fn: F) -> F:
    """Shared ``--protocol random|temporal`` option (the split)."""
    return click.option(
        "--protocol",
        type=click.Choice(["random", "temporal"]),
        default="random",
        show_default=True,
        help="random: per-user 80/10/10; temporal: each user's last 10% by time is test.",
    )(fn)


# -- evaluate ----------------------------------------------------------------------------
@cli.command()
@export_option
@protocol_option
@click.option(
    "--models",
    default="MostPop,ItemKNN,BPR-MF,LightGCN",
    show_default=True,
    help="Comma-separated models: MostPop, ItemKNN, BPR-MF, LightGCN, GAT (first version), "
    "GDS-FastRP, GDS-FastRP-KNN (Neo4j GDS in the configured server; tuned on validation).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Split seed.")
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result rows as JSON.",
)
@format_option
@click.pass_context
@handle_errors
def evaluate(
    ctx: click.Context,
    export_dir: Path,
    protocol: str,
    models: str,
    seed: int,
    json_out: Path | None,
    fmt: str,
) -> None:
    """Evaluate recommenders on one split of an export, by full ranking.

    Every model sees the same split (made before training); ranking excludes the
    user's training (and validation) items; early stopping uses validation Recall@20.
    Metrics: Recall/NDCG/HitRate@10/20, MRR, catalogue coverage.

    The GDS models run FastRP (and KNN) in the configured Neo4j server on a projection of
    the split's training pairs and the follows only, and pick one of 24 settings on
    validation Recall@20 (docs/gds.md).

    \b
    Example:
        interestgraph evaluate --export exports/lastfm --models MostPop,ItemKNN
        interestgraph evaluate --export exports/ciao --protocol temporal --format json
        interestgraph evaluate --export exports/lastfm --models MostPop,GDS-FastRP-KNN
    """
    import contextlib
    import json

    from interestgraph.gnn.evaluate import MODELS, evaluate_models
    from interestgraph.gnn.gds_baselines import GDS_MODELS, gds_models
    from interestgraph.sync import load_export

    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODELS and m not in GDS_MODELS]
    if unknown:
        raise click.BadParameter(
            f"unknown model(s) {unknown}; choose from {[*MODELS, *GDS_MODELS]}"
        )
    data, _, _ = load_export(export_dir)
    with contextlib.ExitStack() as stack:
        factories = dict(MODELS)
        if any(m in GDS_MODELS for m in names):
            from interestgraph.graphstore import GraphStore
            from interestgraph.graphstore.gds import require_gds

            settings = get_settings(ctx)
            store = stack.enter_context(GraphStore.from_settings(settings))
            require_gds(store, "the GDS baselines", settings)
            factories.update(gds_models(store))
        try:
            rows = evaluate_models(
                data, protocol, {m: factories[m] for m in names}, seed=seed,
                dataset=export_dir.name,
            )  # fmt: skip
        except ValueError as e:
            raise click.ClickException(str(e)) from e
    if json_out:
        json_out.write_text(json.dumps(rows, indent=2))
    click.echo(render(rows, fmt))


def _fanout(value: str | None) -> list[int]:
    if not value:
        return []
    try:
        out = [int(v) for v in value.split(",")]
    except ValueError as e:
        raise click.BadParameter(f"{value!r}: use comma-separated integers, e.g. 10,5") from e
    if any(v < 1 for v in out):
        raise click.BadParameter(f"{value!r}: every fan-out must be >= 1")
    return out


@cli.command()
@export_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoint folder (default HOME/models/RUN_ID).",
)
@protocol_option
@click.option("--epochs", type=click.IntRange(min=1), help="Maximum epochs (default 150).")
@click.option("--hidden", type=click.IntRange(min=1), help="Embedding width (default 64).")
@click.option("--heads", type=click.IntRange(min=1), help="Attention heads (default 1).")
@click.option("--layers", type=click.IntRange(min=0), help="GAT layers (default 3).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Adam learning rate.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Positives per step.")
@click.option(
    "--dropout",
    type=click.FloatRange(0, 1),
    help="Dropout on layer outputs (attention dropout: --set attention_dropout=P).",
)
@click.option("--aux-weight", type=click.FloatRange(min=0), help="Weight of the follows loss.")
@click.option(
    "--fanout",
    help="Mini-batch training with this neighbour fan-out per hop, e.g. 10,5 "
    "(default: full graph).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other GATConfig field, e.g. --set use_text=false --set cl_weight=0.1 "
    "(repeatable; see README 'Training the GAT').",
)
@click.option("--device", help="cpu, cuda, … (default: CUDA when available).")
@click.option("--seed", type=int, help="Model seed (default 0).")
@click.option("--split-seed", type=int, default=0, show_default=True, help="Split seed.")
@click.option(
    "-k",
    "--top-k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Length of the written-back lists (INTERESTED_IN, CO_INTEREST, SIMILAR_TO).",
)
@click.option(
    "--serve-top",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Exact top-N items stored per user: `recommend` answers k ≤ N exactly from it "
    "(beyond it, or for new users, from the approximate vector index).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a TTY).")
@format_option
@click.pass_context
@handle_errors
def train(
    ctx: click.Context,
    export_dir: Path,
    out: Path | None,
    protocol: str,
    fanout: str | None,
    overrides: tuple[str, ...],
    device: str | None,
    split_seed: int,
    top_k: int,
    serve_top: int,
    progress: bool | None,
    fmt: str,
    **hyper: object,
) -> None:
    """Train the heterogeneous GAT on an export; checkpoint, test metrics, top-K lists.

    Trains on the training split with early stopping on validation Recall@20, reports the
    test metrics (same harness as `evaluate`), writes model.pt + config.json + curve.svg,
    then encodes the full graph and writes inference.pt (top-K items, topics and
    co-interest users per user, similar items per item) for `writeback`.

    \b
    Example:
        interestgraph train --export .interestgraph/exports/synthetic
        interestgraph train --export exports/lastfm --fanout 10,5 --device cuda
    """
    import sys

    from interestgraph.gnn.job import new_run_id, train_job
    from interestgraph.gnn.train import GATConfig
    from interestgraph.sync import load_export

    values = {k: v for k, v in hyper.items() if v is not None}
    values.update(GATConfig.parse_overrides(list(overrides)))
    if fanout is not None:
        values["fanout"] = _fanout(fanout)
    config = GATConfig.from_dict(values)
    data, maps, meta = load_export(export_dir)
    run_id = new_run_id()
    out = out or get_settings(ctx).home / "models" / run_id
    try:
        result = train_job(
            data,
            out,
            config=config,
            protocol=protocol,
            split_seed=split_seed,
            device=device,
            k=top_k,
            serve_top=serve_top,
            run_id=run_id,
            export_meta={"folder": str(export_dir), "dataset": export_dir.name, **meta},
            maps=maps,
            progress=sys.stderr.isatty() if progress is None else progress,
        )
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    click.echo(render(result.as_dict(), fmt))
    if fmt == "table":
        click.echo(f"\ncheckpoint, curve.svg and inference.pt → {result.folder}")
