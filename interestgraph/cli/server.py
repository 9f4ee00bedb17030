"""``interestgraph neo4j start|stop|status``: the project-managed local server."""

from __future__ import annotations

import time

import click

from interestgraph.cli.app import cli
from interestgraph.cli.common import format_option, get_settings, handle_errors
from interestgraph.config import Settings
from interestgraph.output import render


# -- neo4j -------------------------------------------------------------------------------
@cli.group()
def neo4j() -> None:
    """Manage the project's local Neo4j 5 server (start | stop | status).

    The server is fetched once from Maven Central with `mvn` (Java 17+ needed), cached in
    ~/.cache/interestgraph, and keeps its config, data, logs and 0600 password file in
    the home folder. Bolt and HTTP listen on 127.0.0.1 only. The open Graph Data Science
    library comes with it (about 15 MB and 6 s more per start; INTERESTGRAPH_GDS=off leaves
    it out).
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

    settings = get_settings(ctx)
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

    settings = get_settings(ctx)
    _refuse_if_external(settings)
    was_running = LocalServer(settings).stop()
    click.echo(render({"stopped": was_running, "home": str(settings.home)}, fmt))


@neo4j.command("status")
@format_option
@click.pass_context
@handle_errors
def neo4j_status(ctx: click.Context, fmt: str) -> None:
    """Show whether the local server runs, its PID, addresses, folders and GDS version.

    `gds` is what the running server answers to `RETURN gds.version()` (empty when the
    Graph Data Science library is not installed: INTERESTGRAPH_GDS=off, or its fetch
    failed, then `gds_error` says why).

    Exit status 0 when running, 3 when stopped (like `systemctl status`).

    \b
    Example:
        interestgraph neo4j status --format json
    """
    from interestgraph.graphstore import LocalServer

    settings = get_settings(ctx)
    _refuse_if_external(settings)
    status = LocalServer(settings).status(probe=True)
    click.echo(render(status.as_dict(), fmt))
    if not status.running:
        ctx.exit(3)
