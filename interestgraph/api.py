"""The Python API: recommendations, similar items, interests, explanations, feedback.

``InterestGraph`` serves everything from Neo4j (vector indexes + Cypher) for the
**current** ModelRun; no model is loaded in-process. Every read is one Cypher statement
that starts from ``(:ModelRun {current: true})``, so a call sees one run's data only,
even while a new run is being written (see :mod:`interestgraph.sync.writeback`).

Scores: ``recommend`` returns the model's dot-product score ``<h_u, h_i>`` (recovered
exactly from the cosine index over MIPS-augmented item vectors), ``similar_items`` /
``co_interest_users`` / ``interests`` the score stored on the inferred edge.

Cold start (documented method, no retraining):

* a **new user** (no embedding in the current run) who follows users or topics is served
  with the mean of the current-run embeddings of what they follow as the query vector;
  with nothing to go on, the most purchased items are returned (reason ``popular``);
* a **new item** with text (``text_embedding``): :meth:`InterestGraph.embed_new_items`
  gives it the mean GAT embedding of its 10 nearest items by text, so it can be
  recommended at once; ``similar_items`` falls back to text similarity for items
  without ``SIMILAR_TO`` edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from interestgraph.config import Settings
from interestgraph.errors import InputError, NotFoundError
from interestgraph.graphstore import GraphStore

__all__ = ["FEEDBACK_WEIGHTS", "InterestGraph", "Recommendation", "check_id"]

#: feedback kind → weight added to the (:User)-[:PURCHASED]->(:Item) edge
FEEDBACK_WEIGHTS = {"purchase": 1.0, "like": 0.5, "click": 0.1}
_MAX_ID = 256


@dataclass
class Recommendation:
    """One recommended item with its score and short, human-readable reasons."""

    item_id: str
    title: str | None
    score: float
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (reasons joined for tables)."""
        return {
            "item_id": self.item_id,
            "title": self.title,
            "score": round(self.score, 4),
            "reasons": "; ".join(self.reasons),
        }


def check_id(kind: str, value: object) -> str:
    """``value`` as a business key: a non-empty string of at most 256 characters.

    Raises:
        InputError: Naming ``kind`` and the limit.
    """
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{kind} must be a non-empty string, got {value!r}")
    if len(value) > _MAX_ID:
        raise InputError(f"{kind} is {len(value)} characters long; the limit is {_MAX_ID}")
    return value


def _check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000:
        raise InputError(f"k must be an integer in 1..1000, got {k!r}")
    return k


# The query vector of a user: its own current-run embedding, else the mean of the
# embeddings of the users and topics it follows (cold start), else null.
_QUERY_VECTOR = """
MATCH (r:ModelRun {current: true})
WITH r ORDER BY r.completed_at DESC LIMIT 1
OPTIONAL MATCH (u:User {user_id: $user})
WITH r, u, 'embedding_' + toString(r.slot) AS prop
CALL (u, prop) {
  OPTIONAL MATCH (u)-[:FOLLOWS]->(n) WHERE n[prop] IS NOT NULL
  RETURN collect(n[prop]) AS followed
}
WITH r, u, prop, followed,
     CASE WHEN u IS NOT NULL AND u[prop] IS NOT NULL THEN u[prop]
          WHEN size(followed) > 0 THEN
            [d IN range(0, size(followed[0]) - 1) |
              reduce(s = 0.0, v IN followed | s + v[d]) / size(followed)]
          ELSE null END AS q,
     CASE WHEN u IS NOT NULL AND u[prop] IS NOT NULL THEN 'own'
          WHEN size(followed) > 0 THEN 'follows' ELSE 'none' END AS basis
"""

_REASONS = """
CALL (u, i) {
  OPTIONAL MATCH (u)-[:FOLLOWS]->(f:User)-[:PURCHASED]->(i)
  RETURN collect(f.user_id)[..3] AS friends, count(f) AS n_friends
}
CALL (u, i, r) {
  OPTIONAL MATCH (u)-[:INTERESTED_IN {run_id: r.run_id}]->(t:Topic)<-[:HAS_TOPIC]-(i)
  RETURN collect(coalesce(t.name, t.topic_id))[..3] AS topics
}
CALL (u, i, r) {
  OPTIONAL MATCH (u)-[:PURCHASED]->(p:Item)-[s:SIMILAR_TO {run_id: r.run_id}]-(i)
  WITH p, s ORDER BY s.score DESC LIMIT 1
  RETURN p.item_id AS like_id, coalesce(p.title, p.item_id) AS like_title
}
"""

_RECOMMEND = (
    _QUERY_VECTOR
    + """
WITH r, u, q, basis, prop,
     sqrt(reduce(s = 0.0, x IN coalesce(q, []) | s + x * x)) AS qn,
     CASE WHEN u IS NULL THEN [] ELSE [(u)-[:PURCHASED]->(p:Item) | p.item_id] END AS bought,
     CASE WHEN basis = 'own' THEN coalesce(u['top_items_' + toString(r.slot)], [])
          ELSE [] END AS stored
// exact when the stored exact top-N still holds k items the user may get; else add the
// vector index's (approximate) candidates
WITH r, u, q, basis, prop, qn, bought, stored,
     CASE WHEN $exclude THEN size([x IN stored WHERE NOT x IN bought]) ELSE size(stored) END
       >= $k AS exact,
     4 * ($k + CASE WHEN $exclude THEN size(bought) ELSE 0 END) AS want
WITH r, u, q, basis, prop, qn, bought, stored, exact,
     CASE WHEN want < $candidates THEN $candidates WHEN want > 10000 THEN 10000 ELSE want END
       AS fetch
CALL (r, u, q, stored, exact, fetch) {
  WITH q, stored WHERE q IS NOT NULL AND $topic IS NULL
  UNWIND stored AS id
  MATCH (i:Item {item_id: id})
  RETURN i
  UNION
  WITH u, q WHERE q IS NOT NULL AND $topic IS NULL AND u IS NOT NULL AND NOT $exclude
  MATCH (u)-[:PURCHASED]->(i:Item)
  RETURN i
  UNION
  WITH r, q, exact, fetch WHERE q IS NOT NULL AND $topic IS NULL AND NOT exact
  CALL db.index.vector.queryNodes('ig_item_embedding_' + toString(r.slot), fetch, q)
  YIELD node AS i
  RETURN i
  UNION
  WITH q WHERE q IS NOT NULL AND $topic IS NOT NULL
  MATCH (:Topic {topic_id: $topic})<-[:HAS_TOPIC]-(i:Item)
  RETURN i
}
// cosine similarity in [0, 1] (as the index scores) → the model's dot product
WITH r, u, i, basis, bought,
     (2 * vector.similarity.cosine(q, i[prop]) - 1) * qn * r.item_norm_max AS score
WHERE score IS NOT NULL AND NOT ($exclude AND i.item_id IN bought)
WITH r, u, i, basis, score ORDER BY score DESC LIMIT $k
"""
    + _REASONS
    + """
RETURN i.item_id AS item_id, i.title AS title, score, basis, friends, n_friends, topics,
       like_title
ORDER BY score DESC
"""
)

_POPULAR = """
OPTIONAL MATCH (u:User {user_id: $user})
MATCH (i:Item)<-[p:PURCHASED]-()
WITH u, i, count(p) AS buyers
WHERE NOT ($exclude AND u IS NOT NULL AND EXISTS { (u)-[:PURCHASED]->(i) })
  AND ($topic IS NULL OR EXISTS { (i)-[:HAS_TOPIC]->(:Topic {topic_id: $topic}) })
RETURN i.item_id AS item_id, i.title AS title, toFloat(buyers) AS score
ORDER BY buyers DESC, item_id LIMIT $k
"""


class InterestGraph:
    """Recommendations and explanations served from Neo4j.

    Args:
        store: An open :class:`GraphStore` (not closed by this object); default: one
            from ``settings`` (closed by :meth:`close`).
        settings: Settings for the default store and for serving (``ann_candidates``);
            default: from the environment.

    Example:
        >>> with InterestGraph() as ig:                       # doctest: +SKIP
        ...     for rec in ig.recommend("2", k=5):
        ...         print(rec.item_id, rec.score, rec.reasons)
    """

    def __init__(self, store: GraphStore | None = None, settings: Settings | None = None) -> None:
        self._own = store is None
        settings = settings or Settings.from_env()
        self.store = store or GraphStore.from_settings(settings)
        self.candidates = settings.ann_candidates

    def __enter__(self) -> InterestGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store if this object opened it."""
        if self._own:
            self.store.close()

    # -- reads ---------------------------------------------------------------------------
    def current_run(self) -> dict[str, Any] | None:
        """Properties of the current ModelRun (``None`` before the first write-back)."""
        from interestgraph.sync.writeback import current_run

        return current_run(self.store)

    def recommend(
        self,
        user_id: str,
        k: int = 10,
        exclude_purchased: bool = True,
        topic: str | None = None,
    ) -> list[Recommendation]:
        """Top-``k`` items for a user, by the current run's score, with reasons.

        Exact (the brute-force top-``k`` over the run's embeddings) when the user's stored
        top-N (``top_items_<slot>``) still holds ``k`` items they may get and the run's
        lists were computed exactly (``ModelRun.top_items_exact``; beyond the inference's
        exact limit they come from an IVF search whose recall the run records);
        otherwise, and for cold-start users, candidates also come from the approximate
        vector index.
        ``topic``: only items with that topic (exact: every item of it is scored). Unknown
        users with follows get the cold-start vector; users with nothing to go on get
        popular items.
        """
        check_id("user_id", user_id)
        _check_k(k)
        if topic is not None:
            check_id("topic", topic)
        params = {
            "user": user_id,
            "k": k,
            "exclude": exclude_purchased,
            "topic": topic,
            "candidates": self.candidates,
        }
        rows = self.store.read(_RECOMMEND, params, op="api.recommend")
        if not rows:
            # Read committed: a statement racing the run switch can miss both runs' flag
            # (LIMIT 1 above covers seeing both); ask once more before falling back.
            rows = self.store.read(_RECOMMEND, params, op="api.recommend")
        if rows:
            return [self._recommendation(r) for r in rows]
        rows = self.store.read(_POPULAR, params, op="api.recommend.popular")
        return [Recommendation(r["item_id"], r["title"], r["score"], ["popular"]) for r in rows]

    @staticmethod
    def _recommendation(r: dict[str, Any]) -> Recommendation:
        reasons = []
        if r["n_friends"]:
            reasons.append(
                f"{r['n_friends']} user(s) you follow bought it ({', '.join(r['friends'])})"
            )
        if r["topics"]:
            reasons.append(f"matches your interests: {', '.join(r['topics'])}")
        if r["like_title"]:
            reasons.append(f"similar to {r['like_title']}, which you bought")
        if r["basis"] == "follows":
            reasons.append("based on who and what you follow (new user)")
        if not reasons:
            reasons.append("users with your purchase pattern buy it")
        return Recommendation(r["item_id"], r["title"], float(r["score"]), reasons)

    def similar_items(self, item_id: str, k: int = 10) -> list[dict[str, Any]]:
        """Items most similar to ``item_id`` (current run's SIMILAR_TO, else by text)."""
        check_id("item_id", item_id)
        _check_k(k)
        rows = self.store.read(
            "MATCH (r:ModelRun {current: true}) "
            "MATCH (:Item {item_id: $item})-[s:SIMILAR_TO {run_id: r.run_id}]->(j:Item) "
            "RETURN j.item_id AS item_id, j.title AS title, s.score AS score, s.rank AS rank, "
            "'model' AS basis ORDER BY s.rank LIMIT $k",
            {"item": item_id, "k": k},
            op="api.similar",
        )
        if rows:
            return rows
        return self.store.read(
            "MATCH (i:Item {item_id: $item}) WHERE i.text_embedding IS NOT NULL "
            "CALL db.index.vector.queryNodes('ig_item_text_embedding', $k + 1, i.text_embedding) "
            "YIELD node AS j, score WHERE j <> i "
            "RETURN j.item_id AS item_id, j.title AS title, score, 'text' AS basis "
            "ORDER BY score DESC LIMIT $k",
            {"item": item_id, "k": k},
            op="api.similar.text",
        )

    def interests(self, user_id: str, k: int = 10) -> list[dict[str, Any]]:
        """The user's top topics (current run's INTERESTED_IN, ranked)."""
        check_id("user_id", user_id)
        _check_k(k)
        return self.store.read(
            "MATCH (r:ModelRun {current: true}) "
            "MATCH (:User {user_id: $user})-[x:INTERESTED_IN {run_id: r.run_id}]->(t:Topic) "
            "RETURN t.topic_id AS topic_id, t.name AS name, x.score AS score, x.rank AS rank "
            "ORDER BY x.rank LIMIT $k",
            {"user": user_id, "k": k},
            op="api.interests",
        )

    def co_interest_users(self, user_id: str, k: int = 10) -> list[dict[str, Any]]:
        """Users with the most similar interests (current run's CO_INTEREST, ranked)."""
        check_id("user_id", user_id)
        _check_k(k)
        return self.store.read(
            "MATCH (r:ModelRun {current: true}) "
            "MATCH (:User {user_id: $user})-[x:CO_INTEREST {run_id: r.run_id}]->(v:User) "
            "RETURN v.user_id AS user_id, x.score AS score, x.rank AS rank "
            "ORDER BY x.rank LIMIT $k",
            {"user": user_id, "k": k},
            op="api.co_interest",
        )

    def explain(self, user_id: str, item_id: str) -> dict[str, Any]:
        """Evidence for recommending ``item_id`` to ``user_id``.

        Returns the model score, the followed users who bought the item, the topics the
        item shares with the user's interests (with interest scores), and the user's
        purchased items most similar to it (with similarity scores).
        """
        check_id("user_id", user_id)
        check_id("item_id", item_id)
        rows = self.store.read(
            """
            MATCH (u:User {user_id: $user}), (i:Item {item_id: $item})
            OPTIONAL MATCH (r:ModelRun {current: true})
            WITH u, i, r, CASE WHEN r IS NULL THEN null
                          ELSE 'embedding_' + toString(r.slot) END AS prop
            CALL (u, i) {
              OPTIONAL MATCH (u)-[:FOLLOWS]->(f:User)-[p:PURCHASED]->(i)
              WITH f, p ORDER BY p.weight DESC
              RETURN collect(CASE WHEN f IS NULL THEN null
                     ELSE {user_id: f.user_id, weight: p.weight} END)[..10] AS friends
            }
            CALL (u, i, r) {
              OPTIONAL MATCH (u)-[x:INTERESTED_IN]->(t:Topic)<-[:HAS_TOPIC]-(i)
              WHERE x.run_id = r.run_id
              WITH t, x ORDER BY x.score DESC
              RETURN collect(CASE WHEN t IS NULL THEN null
                     ELSE {topic_id: t.topic_id, name: t.name, score: x.score} END)[..10]
                     AS topics
            }
            CALL (u, i, r) {
              OPTIONAL MATCH (u)-[:PURCHASED]->(p:Item)-[s:SIMILAR_TO]-(i)
              WHERE s.run_id = r.run_id
              WITH p, max(s.score) AS score ORDER BY score DESC
              RETURN collect(CASE WHEN p IS NULL THEN null
                     ELSE {item_id: p.item_id, title: p.title, score: score} END)[..10]
                     AS similar
            }
            RETURN u[prop] AS uv, i[prop] AS iv, r.run_id AS run_id,
                   EXISTS { (u)-[:PURCHASED]->(i) } AS purchased, friends, topics, similar
            """,
            {"user": user_id, "item": item_id},
            op="api.explain",
        )
        if not rows:
            raise NotFoundError(f"unknown user {user_id!r} or item {item_id!r}")
        r = rows[0]
        score = None
        if r["uv"] is not None and r["iv"] is not None:
            # both stored augmented: users [h, 0], items [h, extra]; the dot is over h
            score = math.fsum(a * b for a, b in zip(r["uv"][:-1], r["iv"][:-1], strict=True))
        return {
            "user_id": user_id,
            "item_id": item_id,
            "run_id": r["run_id"],
            "score": score,
            "already_purchased": r["purchased"],
            "friends_who_bought": r["friends"],
            "shared_interests": r["topics"],
            "similar_purchases": r["similar"],
        }

    # -- writes --------------------------------------------------------------------------
    def record_feedback(
        self,
        user_id: str,
        item_id: str,
        kind: str = "purchase",
        ts: datetime | int | None = None,
    ) -> dict[str, Any]:
        """Upsert a feedback event as a weighted ``PURCHASED`` edge (idempotent per event).

        ``kind``: ``purchase`` (+1.0), ``like`` (+0.5) or ``click`` (+0.1) added to the
        edge's weight; ``ts`` (UTC datetime or Unix seconds, default now) keeps the
        latest. A new user is created (cold start); the item must exist. The same event
        (user, item, kind, ts) recorded twice counts once.
        """
        check_id("user_id", user_id)
        check_id("item_id", item_id)
        if kind not in FEEDBACK_WEIGHTS:
            raise InputError(f"kind must be one of {sorted(FEEDBACK_WEIGHTS)}, got {kind!r}")
        if ts is None:
            ts = datetime.now(UTC)
        if isinstance(ts, datetime):
            if ts.tzinfo is None:
                raise InputError("ts must be timezone-aware (UTC), e.g. datetime.now(UTC)")
            ts = int(ts.timestamp())
        if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
            raise InputError(f"ts must be a datetime or Unix seconds, got {ts!r}")
        event = f"{kind}:{ts}"
        rows = self.store.execute(
            lambda tx: tx.run(
                """
                MATCH (i:Item {item_id: $item})
                MERGE (u:User {user_id: $user})
                MERGE (u)-[p:PURCHASED]->(i)
                ON CREATE SET p.weight = 0.0, p.events = []
                WITH p, $event IN coalesce(p.events, []) AS seen,
                     datetime({epochSeconds: $ts}) AS at
                SET p.weight = CASE WHEN seen THEN p.weight ELSE coalesce(p.weight, 0) + $w END,
                    p.ts = CASE WHEN p.ts IS NULL OR p.ts < at THEN at ELSE p.ts END,
                    p.events = CASE WHEN seen THEN p.events
                               ELSE (coalesce(p.events, []) + $event)[-50..] END
                RETURN p.weight AS weight, p.ts.epochSeconds AS ts, seen
                """,
                user=user_id,
                item=item_id,
                event=event,
                w=FEEDBACK_WEIGHTS[kind],
                ts=ts,
            ).data(),
            op="api.feedback",
            access="write",
        )
        if not rows:
            raise NotFoundError(
                f"unknown item {item_id!r}: ingest it first (`interestgraph ingest`)"
            )
        r = rows[0]
        return {"user_id": user_id, "item_id": item_id, "kind": kind, "weight": r["weight"],
                "ts": r["ts"], "duplicate": r["seen"]}  # fmt: skip

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Remove the user, their edges and every inferred edge about them (privacy).

        Deletes the User node with all its relationships (purchases, follows, interests,
        co-interest edges in both directions). Model artifacts on disk (checkpoints,
        exports) still hold the user's row until the next export and training run.
        """
        check_id("user_id", user_id)
        counters = self.store.write(
            "MATCH (u:User {user_id: $user}) DETACH DELETE u",
            {"user": user_id},
            op="api.forget_user",
        )
        return {
            "users_deleted": counters.get("nodes_deleted", 0),
            "relationships_deleted": counters.get("relationships_deleted", 0),
        }

    def embed_new_items(self, neighbours: int = 10) -> int:
        """Give items without a current-run embedding one from text (cold start).

        Each such item with a ``text_embedding`` gets the mean GAT embedding of its
        ``neighbours`` nearest embedded items by text, re-augmented for the index.
        Returns the number of items embedded.
        """
        run = self.current_run()
        if run is None:
            return 0
        prop = f"embedding_{int(run['slot'])}"
        query = """
            MATCH (r:ModelRun {current: true})
            MATCH (i:Item) WHERE i[$prop] IS NULL AND i.text_embedding IS NOT NULL
            CALL (i) {
              CALL db.index.vector.queryNodes('ig_item_text_embedding', $n * 3,
                                              i.text_embedding)
              YIELD node AS j, score
              WITH j WHERE j <> i AND j[$prop] IS NOT NULL LIMIT $n
              RETURN collect(j[$prop]) AS vs
            }
            WITH r, i, vs WHERE size(vs) > 0
            WITH r, i, [d IN range(0, size(vs[0]) - 2) |
                        reduce(s = 0.0, v IN vs | s + v[d]) / size(vs)] AS h
            WITH r, i, h, reduce(s = 0.0, x IN h | s + x * x) AS n2
            WITH r, i, CASE WHEN n2 > r.item_norm_max ^ 2
                       THEN [x IN h | x * r.item_norm_max / sqrt(n2)] ELSE h END AS h
            WITH i, h + [sqrt(abs(r.item_norm_max ^ 2 - reduce(s = 0.0, x IN h | s + x * x)))]
                 AS v
            CALL db.create.setNodeVectorProperty(i, $prop, v)
            RETURN count(i) AS n
            """
        rows = self.store.execute(
            lambda tx: tx.run(query, prop=prop, n=neighbours).data(),
            op="api.embed_new_items",
            access="write",
        )
        return int(rows[0]["n"]) if rows else 0
