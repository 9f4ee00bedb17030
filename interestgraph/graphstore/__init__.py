"""The only code that talks to Neo4j: driver lifecycle, schema, batched writes, local server."""

from interestgraph.graphstore.schema import Label, RelType, ensure_schema
from interestgraph.graphstore.server import LocalServer, ServerStatus
from interestgraph.graphstore.store import GraphStore, WriteStats

__all__ = [
    "GraphStore",
    "Label",
    "LocalServer",
    "RelType",
    "ServerStatus",
    "WriteStats",
    "ensure_schema",
]
