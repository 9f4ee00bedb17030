"""The analyst query library on the command line: ``interestgraph query``."""

from __future__ import annotations

import json

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import format_option, get_settings, handle_errors
from interestgraph.output import render


@cli.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the library's queries.")
@click.option(
    "-p",
    "--param",
    "params",
    nargs=2,
    multiple=True,
    metavar="KEY VALUE",
    help="A query parameter (repeat for several); typed by the query's header.",
)
@click.option("--show", is_flag=True, help="Print the query's header and Cypher; run nothing.")
@format_option
@click.pass_context
@handle_errors
def query(
    ctx: click.Context,
    name: str | None,
    list_: bool,
    params: tuple[tuple[str, str], ...],
    show: bool,
    fmt: str,
) -> None:
    """Run a named query of the analyst library (read-only) and print its result.

    Values are passed to Neo4j only as parameters, and the query runs in a READ
    transaction: the server refuses any write. Add your own queries with
    INTERESTGRAPH_QUERIES=/path/to/folder (same header format as the shipped ones).

    \b
    Example:
        interestgraph query --list
        interestgraph query user-interests -p user_id 2 -p k 5
        interestgraph query trending-topics -p from 2010-01-01 -p to 2011-01-01 --format csv
        interestgraph query why-recommended -p user_id 2 -p item_id 289 --show
    """
    from interestgraph.queries import load_library

    settings = get_settings(ctx)
    library = load_library([settings.queries_dir] if settings.queries_dir else [])
    if name is None and not list_:
        click.echo(ctx.get_help())
        return
    if list_:
        rows = [
            {
                "name": q.name,
                "parameters": " ".join(
                    p.name if p.required else f"[{p.name}={json.dumps(p.default)}]"
                    for p in q.params
                ),
                "purpose": q.purpose if fmt != "table" else q.purpose.split(". ")[0][:90],
            }
            for q in library.values()
        ]
        click.echo(render(rows, fmt))
        return
    if name not in library:
        raise click.ClickException(
            f"no query named {name!r}; `interestgraph query --list` shows the {len(library)} "
            "queries"
        )
    q = library[name]
    if show:
        click.echo(q.path.read_text(encoding="utf-8").rstrip())
        return
    values: dict[str, str] = {}
    for key, value in params:
        if key in values:
            raise click.BadParameter(f"{key} given twice", param_hint="-p/--param")
        values[key] = value
    from interestgraph.graphstore import GraphStore
    from interestgraph.queries import run_query

    with GraphStore.from_settings(settings) as store:
        result = run_query(store, q, values, settings=settings)
    click.echo(render(result.records(), fmt))
