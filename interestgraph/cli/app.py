"""The root ``interestgraph`` command group (global options and logging)."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import click

from interestgraph import __version__

__all__ = ["cli"]


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
    # PyG 2.x still calls torch.jit.script at import; the warning is not the user's concern.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logger = logging.getLogger("interestgraph")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # The driver logs each retry of an unreachable server as a warning; our error says it
    # once, with the fix. Show the driver's own log lines only with -v.
    logging.getLogger("neo4j").setLevel(logging.WARNING if verbose else logging.ERROR)
    ctx.ensure_object(dict)
    ctx.obj["home"] = home
