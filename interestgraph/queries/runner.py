"""Run library queries read-only and return their result as a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interestgraph.config import Settings
from interestgraph.graphstore import GraphStore
from interestgraph.graphstore.gds import require_gds, uses_gds
from interestgraph.queries.library import LibraryQuery

__all__ = ["QueryResult", "run_query"]


@dataclass
class QueryResult:
    """Columns and rows of one library query run."""

    query: str
    params: dict[str, Any]
    columns: list[str]
    rows: list[list[Any]]

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts in column order (for ``render`` and JSON)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run_query(
    store: GraphStore,
    query: LibraryQuery,
    values: Mapping[str, Any] | None = None,
    *,
    timeout: float | None = None,
    settings: Settings | None = None,
) -> QueryResult:
    """Bind ``values`` to ``query``'s declared parameters and run it in a READ transaction.

    Values reach the server only as parameters; the READ access mode makes the server
    refuse any write the query text might attempt (``QueryError``). A query that calls
    ``gds.*`` first checks that the server has the Graph Data Science library (``settings``
    makes the message name the right fix).

    Raises:
        InputError: Unknown, missing or mistyped parameters.
        GdsMissingError: The query needs GDS and the server has none.
        QueryError: The server rejected the query (e.g. it tried to write).
    """
    params = query.bind(values or {})
    if uses_gds(query.cypher):
        require_gds(store, f"query {query.name!r}", settings)
    columns, rows = store.read_table(
        query.cypher, params, op=f"query.{query.name}", timeout=timeout
    )
    return QueryResult(query.name, params, columns, rows)
