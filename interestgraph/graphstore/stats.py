"""Counts per label and relationship type (read from Neo4j's count store: instant)."""

from __future__ import annotations

from interestgraph.graphstore.schema import Label, RelType
from interestgraph.graphstore.store import GraphStore

__all__ = ["graph_stats"]

# Relationship types whose counts are worth splitting by the end node's label.
_SPLIT = {RelType.FOLLOWS: (Label.USER, Label.TOPIC)}


def graph_stats(store: GraphStore) -> list[dict[str, object]]:
    """Rows ``{"kind", "name", "count"}``: one per label, one per relationship type, and
    ``FOLLOWS`` split into ``FOLLOWS->User`` / ``FOLLOWS->Topic``."""
    rows: list[dict[str, object]] = []
    for label in Label:
        n = store.read(f"MATCH (n:{label.value}) RETURN count(n) AS n", op="stats.label")[0]["n"]
        rows.append({"kind": "label", "name": label.value, "count": n})
    for rel in RelType:
        q = f"MATCH ()-[r:{rel.value}]->() RETURN count(r) AS n"
        n = store.read(q, op="stats.rel")[0]["n"]
        rows.append({"kind": "relationship", "name": rel.value, "count": n})
        for end in _SPLIT.get(rel, ()):
            q = f"MATCH ()-[r:{rel.value}]->(:{end.value}) RETURN count(r) AS n"
            n = store.read(q, op="stats.rel")[0]["n"]
            rows.append({"kind": "relationship", "name": f"{rel.value}->{end.value}", "count": n})
    return rows
