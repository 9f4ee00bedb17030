"""The ``interestgraph`` command: a thin layer over the library.

Each command turns options into :class:`~interestgraph.config.Settings`, calls the
library, and renders the result with ``--format``. Library errors become clean
one-line CLI errors (exit status 1) at this edge; ``-v`` shows the cause chain.
Commands live in one module per concern and register on the root group in ``app``.
"""

from __future__ import annotations

from interestgraph.cli import graph, http, model, pipeline, query, serve, server  # noqa: F401  (register)
from interestgraph.cli.app import cli
from interestgraph.malloc import reexec

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point (restarts once on tcmalloc or glibc's huge pages, see
    :mod:`interestgraph.malloc`)."""
    reexec()
    cli(prog_name="interestgraph")
