"""Search and neighbourhoods for the explorer page, read from Neo4j in one query each."""

from __future__ import annotations

from typing import Any

from interestgraph.api import check_id
from interestgraph.errors import InputError, NotFoundError
from interestgraph.graphstore import GraphStore

__all__ = ["KINDS", "neighborhood", "search"]

#: node kinds the explorer knows, by URL name
KINDS = ("user", "item", "topic")

_SEARCH = """
CALL () {
  MATCH (u:User {user_id: $q})
  RETURN 'user' AS kind, u.user_id AS id, 'user ' + u.user_id AS label, 0 AS ord
  UNION ALL
  MATCH (i:Item {item_id: $q})
  RETURN 'item' AS kind, i.item_id AS id, coalesce(i.title, i.item_id) AS label, 1 AS ord
  UNION ALL
  MATCH (t:Topic {topic_id: $q})
  RETURN 'topic' AS kind, t.topic_id AS id, coalesce(t.name, t.topic_id) AS label, 2 AS ord
  UNION ALL
  MATCH (i:Item) WHERE toLower(i.title) CONTAINS toLower($q)
  WITH i LIMIT $limit
  RETURN 'item' AS kind, i.item_id AS id, i.title AS label, 3 AS ord
  UNION ALL
  MATCH (t:Topic) WHERE toLower(t.name) CONTAINS toLower($q)
  WITH t LIMIT $limit
  RETURN 'topic' AS kind, t.topic_id AS id, t.name AS label, 4 AS ord
}
WITH kind, id, label, min(ord) AS ord
RETURN kind, id, label
ORDER BY ord, size(label), label
LIMIT $limit
"""

# Each neighbourhood: the node's own fields and lists of {id, label, score} per relation.
_USER = """
MATCH (u:User {user_id: $id})
OPTIONAL CALL () { MATCH (r:ModelRun {current: true}) RETURN r LIMIT 1 }
CALL (u) {
  OPTIONAL MATCH (u)-[p:PURCHASED]->(i:Item)
  WITH i, p ORDER BY p.weight DESC, i.item_id LIMIT $limit
  RETURN collect({kind: 'item', id: i.item_id, label: coalesce(i.title, i.item_id),
                  score: p.weight}) AS purchased
}
CALL (u) {
  OPTIONAL MATCH (u)-[f:FOLLOWS]->(v:User)
  WITH v, f ORDER BY f.weight DESC, v.user_id LIMIT $limit
  RETURN collect({kind: 'user', id: v.user_id, label: 'user ' + v.user_id, score: f.weight})
         AS follows
}
CALL (u, r) {
  OPTIONAL MATCH (u)-[x:INTERESTED_IN]->(t:Topic) WHERE x.run_id = r.run_id
  WITH t, x ORDER BY x.rank LIMIT $limit
  RETURN collect({kind: 'topic', id: t.topic_id, label: coalesce(t.name, t.topic_id),
                  score: x.score}) AS interested_in
}
CALL (u, r) {
  OPTIONAL MATCH (u)-[x:CO_INTEREST]->(v:User) WHERE x.run_id = r.run_id
  WITH v, x ORDER BY x.rank LIMIT 5
  RETURN collect({kind: 'user', id: v.user_id, label: 'user ' + v.user_id, score: x.score})
         AS co_interest
}
RETURN 'user ' + u.user_id AS label, r.run_id AS run_id,
       {purchases: COUNT { (u)-[:PURCHASED]->() }, follows: COUNT { (u)-[:FOLLOWS]->() },
        followers: COUNT { (u)<-[:FOLLOWS]-() }} AS facts,
       {PURCHASED: purchased, FOLLOWS: follows, INTERESTED_IN: interested_in,
        CO_INTEREST: co_interest} AS edges
"""

_ITEM = """
MATCH (i:Item {item_id: $id})
OPTIONAL CALL () { MATCH (r:ModelRun {current: true}) RETURN r LIMIT 1 }
CALL (i) {
  OPTIONAL MATCH (i)-[h:HAS_TOPIC]->(t:Topic)
  WITH t, h ORDER BY h.weight DESC, t.topic_id LIMIT $limit
  RETURN collect({kind: 'topic', id: t.topic_id, label: coalesce(t.name, t.topic_id),
                  score: h.weight}) AS topics
}
CALL (i) {
  OPTIONAL MATCH (i)<-[p:PURCHASED]-(u:User)
  WITH u, p ORDER BY p.weight DESC, u.user_id LIMIT $limit
  RETURN collect({kind: 'user', id: u.user_id, label: 'user ' + u.user_id, score: p.weight})
         AS buyers
}
CALL (i, r) {
  OPTIONAL MATCH (i)-[s:SIMILAR_TO]->(j:Item) WHERE s.run_id = r.run_id
  WITH j, s ORDER BY s.rank LIMIT $limit
  RETURN collect({kind: 'item', id: j.item_id, label: coalesce(j.title, j.item_id),
                  score: s.score}) AS similar
}
RETURN coalesce(i.title, i.item_id) AS label, r.run_id AS run_id,
       {buyers: COUNT { (i)<-[:PURCHASED]-() }, topics: COUNT { (i)-[:HAS_TOPIC]->() }} AS facts,
       {HAS_TOPIC: topics, BOUGHT_BY: buyers, SIMILAR_TO: similar} AS edges
"""

_TOPIC = """
MATCH (t:Topic {topic_id: $id})
OPTIONAL CALL () { MATCH (r:ModelRun {current: true}) RETURN r LIMIT 1 }
CALL (t) {
  OPTIONAL MATCH (t)<-[:HAS_TOPIC]-(i:Item)
  WITH i, COUNT { (i)<-[:PURCHASED]-() } AS buyers ORDER BY buyers DESC, i.item_id
  LIMIT $limit
  RETURN collect({kind: 'item', id: i.item_id, label: coalesce(i.title, i.item_id),
                  score: buyers}) AS items
}
CALL (t, r) {
  OPTIONAL MATCH (t)<-[x:INTERESTED_IN]-(u:User) WHERE x.run_id = r.run_id
  WITH u, x ORDER BY x.score DESC, u.user_id LIMIT $limit
  RETURN collect({kind: 'user', id: u.user_id, label: 'user ' + u.user_id, score: x.score})
         AS audience
}
RETURN coalesce(t.name, t.topic_id) AS label, r.run_id AS run_id,
       {items: COUNT { (t)<-[:HAS_TOPIC]-() }, followers: COUNT { (t)<-[:FOLLOWS]-() }} AS facts,
       {TAGS: items, INTERESTED_IN: audience} AS edges
"""

# Direction of each relation as drawn: True = from the centre node outwards.
_OUTWARD = {"BOUGHT_BY": False, "TAGS": False, "INTERESTED_IN": None}


def search(store: GraphStore, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Users, items and topics matching ``q``: exact ids first, then titles and names."""
    check_id("q", q)
    return store.read(_SEARCH, {"q": q, "limit": limit}, op="explore.search")


def neighborhood(store: GraphStore, kind: str, node_id: str, limit: int = 12) -> dict[str, Any]:
    """A node and its neighbours as ``{"nodes": [...], "edges": [...]}`` for drawing.

    Nodes carry ``key`` (``kind:id``), ``kind``, ``id`` and ``label``; edges ``source``,
    ``target``, ``type`` and ``score``. Inferred relations come from the current run.

    Raises:
        InputError: Unknown kind. NotFoundError: no such node.
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check_id("id", node_id)
    query = {"user": _USER, "item": _ITEM, "topic": _TOPIC}[kind]
    rows = store.read(query, {"id": node_id, "limit": limit}, op=f"explore.{kind}")
    if not rows:
        raise NotFoundError(f"no {kind} with id {node_id!r} in the graph")
    row = rows[0]
    centre = f"{kind}:{node_id}"
    nodes = {centre: {"key": centre, "kind": kind, "id": node_id, "label": row["label"]}}
    edges = []
    for rel, items in row["edges"].items():
        for n in items:
            if n["id"] is None:  # collect() over an OPTIONAL MATCH with no match
                continue
            key = f"{n['kind']}:{n['id']}"
            nodes.setdefault(key, {"key": key, "kind": n["kind"], "id": n["id"],
                                   "label": n["label"]})  # fmt: skip
            outward = _OUTWARD.get(rel, True)
            if outward is None:  # INTERESTED_IN always points user → topic
                outward = kind == "user"
            src, dst = (centre, key) if outward else (key, centre)
            rtype = {"BOUGHT_BY": "PURCHASED", "TAGS": "HAS_TOPIC"}.get(rel, rel)
            edges.append({"source": src, "target": dst, "type": rtype, "score": n["score"]})
    return {
        "centre": centre,
        "run_id": row["run_id"],
        "facts": row["facts"],
        "nodes": list(nodes.values()),
        "edges": edges,
    }
