"""The analyst query library on Last.fm: every query's shape and a check of its content."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from interestgraph.errors import InputError, QueryError
from interestgraph.queries import load_library, run_query
from tests.integration.test_ingest import needs_data

pytestmark = [needs_data, pytest.mark.slow]

LIB = load_library()
USER, ITEM = "3", "289"


def one(store, q, **params):
    rows = store.read(q, params)
    assert len(rows) == 1, rows
    return next(iter(rows[0].values()))


def run(store, name, **params):
    res = run_query(store, LIB[name], params)
    assert res.rows, name
    for row in res.rows:
        assert len(row) == len(res.columns)
    return res.records()


def top_topic(store):
    return store.read(
        "MATCH (r:ModelRun {current: true}) "
        "MATCH (:User {user_id: $u})-[x:INTERESTED_IN {run_id: r.run_id, rank: 1}]->(t) "
        "RETURN t.topic_id AS t",
        {"u": USER},
    )[0]["t"]


def users_with_a_top_interest(store):
    return one(
        store,
        "MATCH (r:ModelRun {current: true}) "
        "MATCH (u:User)-[:INTERESTED_IN {run_id: r.run_id, rank: 1}]->() RETURN count(u) AS n",
    )


def check_user_interests(store, ig):
    rows = run(store, "user-interests", user_id=USER, k=5)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert [r["topic_id"] for r in rows] == [t["topic_id"] for t in ig.interests(USER, 5)]
    assert all(r["purchases_with_topic"] >= 0 for r in rows)


def check_topic_audience(store, ig):
    topic = top_topic(store)
    rows = run(store, "topic-audience", topic_id=topic, limit=5000)
    assert USER in {r["user_id"] for r in rows}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    n = one(
        store,
        "MATCH (r:ModelRun {current: true}) MATCH (:Topic {topic_id: $t})"
        "<-[x:INTERESTED_IN {run_id: r.run_id}]-() RETURN count(x) AS n",
        t=topic,
    )
    assert len(rows) == n


def check_co_interest_communities(store, ig):
    rows = run(store, "co-interest-communities", min_size=1, limit=100_000)
    with_top = users_with_a_top_interest(store)
    assert sum(r["members"] for r in rows) == with_top
    assert all(0 <= r["internal_links"] <= r["all_links"] for r in rows)
    assert all(0.0 <= r["cohesion"] <= 1.0 for r in rows)
    assert rows[0]["members"] == max(r["members"] for r in rows)


def check_trending_topics(store, ig):
    rows = run(store, "trending-topics", **{"from": "2010-01-01", "to": "2011-01-01"})
    assert all(r["events"] >= 5 and r["growth"] == r["events"] - r["previous_events"] for r in rows)
    assert [r["growth"] for r in rows] == sorted((r["growth"] for r in rows), reverse=True)
    first = rows[0]
    inside = one(
        store,
        "MATCH (:User)-[f:FOLLOWS]->(:Topic {topic_id: $t}) "
        "WHERE datetime('2010-01-01') <= f.ts < datetime('2011-01-01') RETURN count(f) AS n",
        t=first["topic_id"],
    )
    assert first["events"] == inside  # Last.fm purchases carry no timestamps: follows only


def check_why_recommended(store, ig):
    rec = ig.recommend(USER, k=1)[0]
    rows = run(store, "why-recommended", user_id=USER, item_id=rec.item_id)
    assert rows[0]["evidence"] == "model score"
    assert rows[0]["score"] == pytest.approx(rec.score, abs=1e-3)
    explained = ig.explain(USER, rec.item_id)
    friends = {r["via"] for r in rows if r["evidence"] == "followed user bought it"}
    assert friends == {f["user_id"] for f in explained["friends_who_bought"]}


def check_recommendation_coverage(store, ig):
    (row,) = run(store, "recommendation-coverage", users=100, k=10)
    assert row["users"] == 100 and row["recommendations"] == 1000
    assert 10 <= row["distinct_items"] <= 1000
    # the same lists `recommend` serves, for the first 100 users by user_id with an embedding
    users = [
        r["u"]
        for r in store.read(
            "MATCH (r:ModelRun {current: true}) MATCH (u:User) "
            "WHERE u['embedding_' + toString(r.slot)] IS NOT NULL "
            "RETURN u.user_id AS u ORDER BY u LIMIT 100"
        )
    ]
    served = {rec.item_id for u in users for rec in ig.recommend(u, k=10)}
    assert row["distinct_items"] == len(served)
    assert row["catalogue"] == one(store, "MATCH (i:Item) RETURN count(i) AS n")
    assert row["coverage"] == pytest.approx(row["distinct_items"] / row["catalogue"], abs=1e-4)
    assert row["popularity_ratio"] > 0


def check_compare_runs(store, ig):
    rows = {r["measure"]: r for r in run(store, "compare-runs")}
    assert rows["run_id"]["run_a"] == "gat-test-b" and rows["run_id"]["run_b"] == "gat-test-a"
    assert "recall_at_10" in rows
    assert rows["same parameters"]["comparison"] is False  # the two runs' seeds differ
    overlap = rows["overlap: top-K interests (mean Jaccard)"]["comparison"]
    assert 0.0 < overlap < 1.0
    same = {
        r["measure"]: r for r in run(store, "compare-runs", run_a="gat-test-a", run_b="gat-test-a")
    }
    assert same["overlap: top-K interests (mean Jaccard)"]["comparison"] == 1.0
    assert same["overlap: similar items (mean Jaccard)"]["comparison"] == 1.0


def check_cold_users(store, ig):
    rows = run(store, "cold-users", max_purchases=5, limit=100_000)
    assert all(r["purchases"] < 5 or not r["embedded"] for r in rows)
    few = one(
        store,
        "MATCH (u:User) WHERE COUNT { (u)-[:PURCHASED]->() } < 5 RETURN count(u) AS n",
    )
    assert sum(r["purchases"] < 5 for r in rows) == few
    assert {r["served_by"] for r in rows} <= {
        "own embedding", "follows (cold-start vector)", "popular items"
    }  # fmt: skip


def check_items_without_topics(store, ig):
    rows = run(store, "items-without-topics", limit=20)
    ids = [r["item_id"] for r in rows]
    tagged = one(
        store,
        "MATCH (i:Item)-[:HAS_TOPIC]->() WHERE i.item_id IN $ids RETURN count(i) AS n",
        ids=ids,
    )
    assert tagged == 0
    assert [r["buyers"] for r in rows] == sorted((r["buyers"] for r in rows), reverse=True)


def check_topic_cooccurrence(store, ig):
    topic = top_topic(store)
    rows = run(store, "topic-cooccurrence", topic_id=topic, min_items=2)
    assert all(r["items_together"] >= 2 and 0 < r["jaccard"] <= 1 for r in rows)
    first = rows[0]
    together = one(
        store,
        "MATCH (:Topic {topic_id: $a})<-[:HAS_TOPIC]-(i:Item)-[:HAS_TOPIC]->(:Topic {topic_id: $b})"
        " RETURN count(DISTINCT i) AS n",
        a=topic,
        b=first["topic_id"],
    )
    assert first["items_together"] == together


def check_customer_segments(store, ig):
    rows = run(store, "customer-segments", min_users=1, limit=100_000)
    with_top = users_with_a_top_interest(store)
    assert sum(r["users"] for r in rows) == with_top
    assert {r["tier"] for r in rows} <= {"light", "regular", "heavy"}
    light = [r for r in rows if r["tier"] == "light"]
    assert all(r["mean_purchases"] < 10 for r in light)


def check_cross_sell(store, ig):
    rows = run(store, "cross-sell", item_id=ITEM)
    assert [r["co_buyers"] for r in rows] == sorted((r["co_buyers"] for r in rows), reverse=True)
    co = one(
        store,
        "MATCH (:Item {item_id: $x})<-[:PURCHASED]-(u:User)-[:PURCHASED]->(:Item {item_id: $y}) "
        "RETURN count(DISTINCT u) AS n",
        x=ITEM,
        y=rows[0]["item_id"],
    )
    assert rows[0]["co_buyers"] == co and all(r["lift"] > 0 for r in rows)


def check_model_runs(store, ig):
    rows = run(store, "model-runs")
    assert {r["run_id"] for r in rows} == {"gat-test-a", "gat-test-b"}
    assert [r["run_id"] for r in rows if r["current"]] == ["gat-test-b"]
    assert all(r["status"] == "complete" and r["interest_edges"] > 0 for r in rows)


def check_popular_items(store, ig):
    topic = top_topic(store)
    rows = run(store, "popular-items", topic_id=topic, limit=5)
    best = store.read(
        "MATCH (:Topic {topic_id: $t})<-[:HAS_TOPIC]-(i:Item)<-[p:PURCHASED]-() "
        "RETURN i.item_id AS i, count(p) AS n ORDER BY n DESC LIMIT 1",
        {"t": topic},
    )[0]
    assert rows[0]["buyers"] == best["n"]
    everything = run(store, "popular-items", limit=3)
    assert everything[0]["buyers"] >= rows[0]["buyers"]


def check_similar_users(store, ig):
    rows = run(store, "similar-users", user_id=USER, k=5)
    assert [r["user_id"] for r in rows] == [u["user_id"] for u in ig.co_interest_users(USER, 5)]
    assert all(isinstance(r["shared_interests"], list) for r in rows)


def no_projection_left(store):
    assert one(store, "CALL gds.graph.list() YIELD graphName RETURN count(*) AS n") == 0


def check_communities(store, ig):
    rows = run(store, "communities", min_size=1, limit=100_000, top_items=3)
    social = one(
        store,
        "MATCH (u:User) WHERE EXISTS { (u)-[:FOLLOWS]-(:User) } RETURN count(u) AS n",
    )
    # Louvain partitions the projected users: the communities' sizes add up to all of them
    assert sum(r["members"] for r in rows) == rows[0]["projected_users"] == social
    assert [r["members"] for r in rows] == sorted((r["members"] for r in rows), reverse=True)
    assert len(rows) > 1 and rows[0]["members"] < social / 2  # structure, not one blob
    assert len({r["community"] for r in rows}) == len(rows)
    top = rows[0]
    assert len(top["sample_members"]) == 5 and len(top["top_items"]) == 3
    no_projection_left(store)
    co = run(store, "communities", source="co-interest", min_size=1, limit=100_000)
    users = one(
        store,
        "MATCH (r:ModelRun {current: true}) MATCH (u:User) "
        "WHERE EXISTS { (u)-[:CO_INTEREST {run_id: r.run_id}]-(:User) } RETURN count(u) AS n",
    )
    assert sum(r["members"] for r in co) == users
    no_projection_left(store)


def check_influential_users(store, ig):
    import numpy as np

    rows = run(store, "influential-users", limit=5)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    # PageRank by power iteration on the same follow edges, GDS's unnormalised form
    edges = store.read_columns(
        "MATCH (u:User)-[:FOLLOWS]->(v:User) RETURN u.user_id AS s, v.user_id AS t"
    )
    ids = sorted(set(edges["s"]) | set(edges["t"]))
    index = {x: i for i, x in enumerate(ids)}
    src = np.array([index[x] for x in edges["s"]])
    dst = np.array([index[x] for x in edges["t"]])
    out = np.bincount(src, minlength=len(ids))
    rank = np.full(len(ids), 0.15)
    for _ in range(20):
        rank = 0.15 + 0.85 * np.bincount(dst, weights=rank[src] / out[src], minlength=len(ids))
    best = np.argsort(-rank)[:5]
    assert [r["user_id"] for r in rows] == [ids[i] for i in best]
    assert np.allclose([r["score"] for r in rows], rank[best], rtol=0.02)
    assert all(r["followers"] > 0 for r in rows)
    article = run(store, "influential-users", limit=5, article_rank=True)
    assert [r["score"] for r in article] != [r["score"] for r in rows]
    no_projection_left(store)


def check_co_purchased_items(store, ig):
    rows = run(store, "co-purchased-items", item_id=ITEM, k=5)
    assert len(rows) == 5 and ITEM not in {r["item_id"] for r in rows}
    assert [r["similarity"] for r in rows] == sorted((r["similarity"] for r in rows), reverse=True)
    for r in rows:  # Jaccard of the two sets of buyers
        both, either = store.read(
            "MATCH (a:Item {item_id: $a}), (b:Item {item_id: $b}) "
            "RETURN COUNT { (a)<-[:PURCHASED]-(u)-[:PURCHASED]->(b) } AS both, "
            "COUNT { (a)<-[:PURCHASED]-() } + COUNT { (b)<-[:PURCHASED]-() } AS sum",
            {"a": ITEM, "b": r["item_id"]},
        )[0].values()
        assert r["common_buyers"] == both
        assert r["similarity"] == pytest.approx(both / (either - both), abs=1e-4)
    no_projection_left(store)


CHECKS = {name.removeprefix("check_").replace("_", "-"): fn for name, fn in globals().items()
          if name.startswith("check_")}  # fmt: skip


def test_the_library_has_a_dozen_queries_each_checked_here():
    assert len(LIB) >= 12
    assert set(CHECKS) == set(LIB)


@pytest.mark.parametrize("name", sorted(LIB))
def test_library_query(served, name):
    from interestgraph.api import InterestGraph

    CHECKS[name](served, InterestGraph(served))


def test_a_library_query_that_writes_is_refused_by_the_server(served, tmp_path):
    (tmp_path / "sneaky.cypher").write_text(
        "// name: sneaky\n// purpose: tries to write.\n"
        "// param: id string required  any id\n// example: interestgraph query sneaky -p id x\n"
        "MERGE (u:User {user_id: $id}) SET u.owned = true RETURN u.user_id AS id\n"
    )
    lib = load_library([tmp_path])
    with pytest.raises(QueryError, match=r"(?i)write"):
        run_query(served, lib["sneaky"], {"id": "intruder"})
    assert one(served, "MATCH (u:User {user_id: 'intruder'}) RETURN count(u) AS n") == 0
    # values only reach the server as parameters: an injection-like id is just an id
    rows = run_query(served, LIB["user-interests"], {"user_id": "3'}) DETACH DELETE u //"})
    assert rows.rows == [] and one(served, "MATCH (u:User) RETURN count(u) > 1000 AS n")
    with pytest.raises(InputError, match="integer"):
        run_query(served, LIB["user-interests"], {"user_id": USER, "k": "ten"})


def test_query_cli_lists_and_runs(served, neo4j_server):
    from interestgraph.cli import cli
    from tests.integration.test_cli import _env

    env = _env(neo4j_server.settings)
    runner = CliRunner()
    res = runner.invoke(cli, ["query", "--list", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    assert {q["name"] for q in json.loads(res.stdout)} == set(LIB)
    args = ["query", "user-interests", "-p", "user_id", USER, "-p", "k", "3", "--format", "csv"]
    res = runner.invoke(cli, args, env=env)
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("topic_id,topic,rank,score") and len(lines) == 4
    res = runner.invoke(cli, ["query", "user-interests"], env=env)
    assert res.exit_code == 1 and "needs parameter user_id" in res.output
    res = runner.invoke(cli, ["query", "user-interests", "--show"], env=env)
    assert res.exit_code == 0 and "MATCH (r:ModelRun {current: true})" in res.stdout
