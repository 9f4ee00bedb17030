"""The HTTP API and explorer page: ``interestgraph serve``."""

from __future__ import annotations

from pathlib import Path

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import get_settings, handle_errors


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port."
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="URL",
    help="Allow this browser origin (repeatable). Default: CORS off.",
)
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, cors_origins: tuple[str, ...]) -> None:
    """Serve the HTTP API, the explorer page and the Neo4j Browser guide.

    Every /api route but /api/health needs `Authorization: Bearer TOKEN`. The token is
    INTERESTGRAPH_API_TOKEN, else the one generated into HOME/api-token (mode 0600); it
    is never printed. OpenAPI schema at /openapi.json, interactive docs at /docs.

    \b
    Example:
        interestgraph serve --port 8000
        curl -H "Authorization: Bearer $(cat .interestgraph/api-token)" \\
             http://127.0.0.1:8000/api/recommend/2?k=5
        open http://127.0.0.1:8000/#token=...   (explorer; the token stays in the tab)
    """
    try:
        import uvicorn

        from interestgraph.service.app import create_app
    except ImportError as e:
        raise click.ClickException(
            f"the HTTP service needs its extra: pip install 'interestgraph[service]' ({e})"
        ) from e
    from interestgraph.api import InterestGraph
    from interestgraph.graphstore import GraphStore
    from interestgraph.queries import load_library
    from interestgraph.service.auth import api_token, token_file

    settings = get_settings(ctx)
    token = api_token(settings)
    library = load_library([settings.queries_dir] if settings.queries_dir else [])
    with GraphStore.from_settings(settings) as store:
        store.verify()
        app = create_app(
            InterestGraph(store, settings), token, library=library, cors_origins=cors_origins
        )
        where = (
            "INTERESTGRAPH_API_TOKEN"
            if settings.api_token
            else str(token_file(Path(settings.home)))
        )
        base = f"http://{host}:{port}"
        click.echo(f"explorer     {base}/#token=<token>   (token: {where})")
        click.echo(f"API docs     {base}/docs   (schema {base}/openapi.json)")
        click.echo(f"Browser      :play {base}/guide   (in Neo4j Browser)")
        uvicorn.run(app, host=host, port=port, log_level="info")
