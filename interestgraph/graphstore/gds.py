"""Is the Graph Data Science library there? Detect it and say how to get it when it is not.

The managed server installs the open GDS edition by default (``INTERESTGRAPH_GDS``); a
server behind ``NEO4J_URI`` may or may not have it. Code that calls ``gds.*`` asks
:func:`require_gds` first, so a missing library is one clear sentence, not a Cypher
"Unknown function" error.
"""

from __future__ import annotations

import re

from interestgraph.config import Settings
from interestgraph.errors import GdsMissingError, QueryError
from interestgraph.graphstore.store import GraphStore

__all__ = ["gds_version", "require_gds", "uses_gds"]

_GDS_CALL = re.compile(r"\bgds\.[a-zA-Z]")


def uses_gds(cypher: str) -> bool:
    """True when the Cypher text calls a ``gds.*`` procedure or function."""
    return bool(_GDS_CALL.search(cypher))


def gds_version(store: GraphStore) -> str | None:
    """``gds.version()`` of the server, or None when the library is not installed."""
    try:
        rows = store.read("RETURN gds.version() AS v", op="gds.version")
    except QueryError as e:
        if "gds.version" in str(e) or "Unknown function" in str(e):
            return None
        raise
    return str(rows[0]["v"]) if rows else None


def require_gds(store: GraphStore, what: str, settings: Settings | None = None) -> str:
    """Return the server's GDS version, or raise a clear error saying how to install it.

    Args:
        store: An open store.
        what: What needs GDS, for the message (e.g. ``"query 'communities'"``).
        settings: Tells the managed server (``INTERESTGRAPH_GDS``) from ``NEO4J_URI``;
            without it the message covers both.

    Raises:
        GdsMissingError: The server answers ``gds.version()`` with "Unknown function".
    """
    version = gds_version(store)
    if version is not None:
        return version
    managed = (
        "if it is the local server, INTERESTGRAPH_GDS is off or its fetch failed "
        "(`interestgraph neo4j status` shows gds_error): set INTERESTGRAPH_GDS=on and restart it"
    )
    external = (
        "install the Graph Data Science plugin there (Docker: "
        "NEO4J_PLUGINS='[\"graph-data-science\"]'; otherwise the GDS jar in plugins/ and "
        "dbms.security.procedures.unrestricted=gds.*), then restart that server"
    )
    if settings is None:
        how = f"this server does not have it; {managed}; if it is yours, {external}."
    elif settings.managed:
        how = (
            "the local server runs without it: INTERESTGRAPH_GDS is off, or its fetch failed "
            "(`interestgraph neo4j status` shows gds_error). Set INTERESTGRAPH_GDS=on and "
            "restart it: `interestgraph neo4j stop && interestgraph neo4j start`."
        )
    else:
        how = f"the server at NEO4J_URI={settings.neo4j_uri} does not have it: {external}."
    raise GdsMissingError(f"{what} needs the Graph Data Science library (gds.*), but {how}")
