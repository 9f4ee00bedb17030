"""Security by construction, with the recording fake driver: user values reach Neo4j only as
parameters, labels and relationship types only from the schema allow-list, secrets never
in reprs."""

from __future__ import annotations

import json

import pytest

from interestgraph.api import InterestGraph
from interestgraph.config import Settings
from interestgraph.errors import InputError, NotFoundError
from interestgraph.ingest import ingest
from interestgraph.ingest.reader import read_folder
from interestgraph.queries import load_library, run_query
from interestgraph.service.graphview import neighborhood, search
from interestgraph.sync import export_graph
from tests.shop import write_valid
from tests.unit.test_store import Recorder, make

# every Cypher metacharacter a value could use to break out of a string or a name
HOSTILE = "h0stile`}) DETACH DELETE n //:Evil$x'\"\\{"


def _user_strings_only_as_parameters(rec: Recorder) -> None:
    assert rec.calls, "nothing reached the fake driver"
    for call in rec.calls:
        assert "h0stile" not in call["query"] and "Evil" not in call["query"], call["query"]
    sent = json.dumps([c["params"] for c in rec.calls], default=str)
    assert "h0stile" in sent  # the values did reach the server, as parameters


def test_api_explorer_and_library_send_user_values_only_as_parameters(monkeypatch):
    # the fake answers no `gds.version()`; the GDS check is tested against the real server
    monkeypatch.setattr("interestgraph.queries.runner.require_gds", lambda *a, **k: "fake")
    rec = Recorder()
    store, _ = make(rec)
    ig = InterestGraph(store)
    ig.recommend(HOSTILE, k=3)
    ig.recommend("u1", k=3, topic=HOSTILE)
    ig.similar_items(HOSTILE)
    ig.interests(HOSTILE)
    ig.co_interest_users(HOSTILE)
    ig.forget_user(HOSTILE)
    with pytest.raises(NotFoundError):
        ig.explain(HOSTILE, HOSTILE)
    with pytest.raises(NotFoundError):
        ig.record_feedback(HOSTILE, HOSTILE, "like", ts=1_700_000_000)
    search(store, HOSTILE)
    for kind in ("user", "item", "topic"):
        with pytest.raises(NotFoundError):
            neighborhood(store, kind, HOSTILE)
    for q in load_library().values():
        values = {p.name: HOSTILE for p in q.params if p.type == "string"}
        if q.name == "trending-topics":
            values = {"from": HOSTILE, "to": HOSTILE}
        run_query(store, q, values)
    _user_strings_only_as_parameters(rec)


def test_ingest_sends_ids_and_text_only_as_parameters(tmp_path):
    folder = write_valid(tmp_path)
    users = (folder / "users.csv").read_text()
    (folder / "users.csv").write_text(users + f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",gold\n')
    rec = Recorder()
    store, _ = make(rec)
    ingest(store, read_folder(folder), progress=False)
    _user_strings_only_as_parameters(rec)


def test_names_come_from_the_allow_list_or_are_refused_before_any_query():
    rec = Recorder()
    store, _ = make(rec)
    with pytest.raises(InputError, match="kind must be one of"):
        neighborhood(store, "User`) DETACH DELETE n //", "u1")
    with pytest.raises(ValueError, match="unknown node type"):
        export_graph(store, node_types=["user", "user`) DETACH DELETE n //"])
    assert rec.calls == []


def test_secrets_never_appear_in_settings_reprs():
    s = Settings.from_env(
        {"NEO4J_URI": "bolt://db:7687", "NEO4J_PASSWORD": "pw-s3cret",
         "INTERESTGRAPH_API_TOKEN": "tok-s3cret"}
    )  # fmt: skip
    assert s.neo4j_password == "pw-s3cret" and s.api_token == "tok-s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s)
