"""The HTTP API on Last.fm: auth, validation, errors, CORS, OpenAPI, the Browser guide."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from interestgraph.api import InterestGraph
from interestgraph.config import Settings
from interestgraph.graphstore import GraphStore
from interestgraph.queries import load_library
from interestgraph.service.app import create_app
from tests.conftest import free_port
from tests.integration.test_ingest import needs_data

pytestmark = [needs_data, pytest.mark.slow]

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(served):
    app = create_app(InterestGraph(served), TOKEN, library=load_library())
    with TestClient(app) as c:
        yield c


def test_every_api_route_but_health_needs_the_token(client):
    routes = [
        "/api/recommend/3",
        "/api/similar/289",
        "/api/interests/3",
        "/api/co-interest/3",
        "/api/explain/3/289",
        "/api/search?q=rock",
        "/api/graph/user/3",
    ]
    for path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            res = client.get(path, headers=headers)
            assert res.status_code == 401, (path, headers)
            assert res.headers["www-authenticate"] == "Bearer"
        assert client.get(path, headers=AUTH).status_code == 200, path
    assert client.post("/api/feedback", json={"user_id": "3", "item_id": "289"}).status_code == 401
    assert client.get("/api/health").json() == {"status": "ok", "neo4j": "up"}


def test_answers_equal_the_python_api(client, served):
    ig = InterestGraph(served)
    got = client.get("/api/recommend/3?k=5", headers=AUTH).json()
    want = ig.recommend("3", k=5)
    assert [g["item_id"] for g in got] == [w.item_id for w in want]
    assert [g["reasons"] for g in got] == [w.reasons for w in want]
    assert client.get("/api/interests/3?k=4", headers=AUTH).json() == ig.interests("3", 4)
    assert client.get("/api/co-interest/3?k=4", headers=AUTH).json() == ig.co_interest_users("3", 4)
    assert client.get("/api/similar/289?k=4", headers=AUTH).json() == ig.similar_items("289", 4)
    explained = client.get(f"/api/explain/3/{want[0].item_id}", headers=AUTH).json()
    assert explained["score"] == pytest.approx(want[0].score, abs=1e-3)
    topic = client.get("/api/interests/3?k=1", headers=AUTH).json()[0]["topic_id"]
    in_topic = client.get(f"/api/recommend/3?k=3&topic={topic}", headers=AUTH).json()
    assert [r["item_id"] for r in in_topic] == [
        r.item_id for r in ig.recommend("3", 3, topic=topic)
    ]


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(client, served):
    before = served.read("MATCH ()-[p:PURCHASED]->() RETURN count(p) AS n, sum(p.weight) AS w")
    cases = [
        ("get", "/api/recommend/3?k=0", None, 422, "k"),
        ("get", "/api/recommend/3?k=101", None, 422, "k"),
        ("get", "/api/recommend/3?k=ten", None, 422, "k"),
        ("get", "/api/recommend/3?topic=", None, 422, "topic"),
        ("get", "/api/recommend/" + "x" * 300, None, 422, "user_id"),
        ("get", "/api/explain/3/no-such-item", None, 404, "unknown"),
        ("get", "/api/graph/shoe/3", None, 422, "kind"),
        ("get", "/api/graph/item/no-such-item", None, 404, "no item"),
        ("get", "/api/search?q=", None, 422, "q"),
        ("post", "/api/feedback", {"user_id": "3", "item_id": "289", "kind": "stare"}, 422, "kind"),
        ("post", "/api/feedback", {"user_id": "3", "item_id": "289", "ts": -1}, 422, "ts"),
        ("post", "/api/feedback", {"user_id": "", "item_id": "289"}, 422, "user_id"),
        ("post", "/api/feedback", {"item_id": "289"}, 422, "user_id"),
        ("post", "/api/feedback", {"user_id": "3", "item_id": "no-such-item"}, 404, "unknown item"),
    ]
    for method, path, body, status, word in cases:
        res = getattr(client, method)(path, headers=AUTH, **({"json": body} if body else {}))
        assert res.status_code == status, (path, body, res.text)
        assert word in res.text, (path, res.text)
    bad = client.post(
        "/api/feedback", headers={**AUTH, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert bad.status_code == 422
    after = served.read("MATCH ()-[p:PURCHASED]->() RETURN count(p) AS n, sum(p.weight) AS w")
    assert after == before
    # an injection-like id is an id: unknown user → popular items, graph unchanged
    weird = "3'}) DETACH DELETE n //"
    res = client.get("/api/recommend/" + weird.replace("/", "%2F"), headers=AUTH)
    assert res.status_code in (200, 404)
    assert served.read("MATCH (u:User) RETURN count(u) > 1000 AS ok")[0]["ok"]


def test_feedback_is_recorded_once_per_event(client, served):
    event = {"user_id": "http-user", "item_id": "289", "kind": "like", "ts": 1_400_000_000}
    first = client.post("/api/feedback", headers=AUTH, json=event)
    again = client.post("/api/feedback", headers=AUTH, json=event)
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert again.json()["weight"] == first.json()["weight"] == 0.5
    assert again.json()["ts"] == 1_400_000_000
    InterestGraph(served).forget_user("http-user")


def test_openapi_schema_documents_routes_and_bearer_auth(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/recommend/{user_id}", "/api/similar/{item_id}", "/api/interests/{user_id}",
            "/api/explain/{user_id}/{item_id}", "/api/feedback"} <= paths  # fmt: skip
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    params = {
        p["name"]: p for p in schema["paths"]["/api/recommend/{user_id}"]["get"]["parameters"]
    }
    assert params["k"]["schema"]["maximum"] == 100


def test_cors_is_off_unless_origins_are_given(client, served):
    pre = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    res = client.options("/api/recommend/3", headers=pre)
    assert "access-control-allow-origin" not in res.headers
    res = client.get("/api/recommend/3", headers={**AUTH, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in res.headers
    app = create_app(InterestGraph(served), TOKEN, cors_origins=["http://shop.example"])
    with TestClient(app) as c:
        ok = c.options("/api/recommend/3", headers={**pre, "Origin": "http://shop.example"})
        assert ok.headers["access-control-allow-origin"] == "http://shop.example"
        no = c.options("/api/recommend/3", headers=pre)
        assert "access-control-allow-origin" not in no.headers


def test_browser_guide_has_a_slide_per_library_query(client):
    res = client.get("/guide")
    assert res.status_code == 200 and res.headers["access-control-allow-origin"] == "*"
    for name in load_library():
        assert f"<h3>{name}</h3>" in res.text
    assert res.text.count('class="pre-scrollable code runnable"') >= 2 * len(load_library())


def test_unreachable_neo4j_is_a_503_without_secrets(tmp_path):
    settings = Settings.from_env(
        {},
        neo4j_uri=f"bolt://127.0.0.1:{free_port()}",
        neo4j_password="s3cret-password",
        retry_seconds=0,
        home=tmp_path,
    )
    with GraphStore.from_settings(settings) as store:
        app = create_app(InterestGraph(store), TOKEN)
        with TestClient(app) as c:
            res = c.get("/api/recommend/3", headers=AUTH)
            assert res.status_code == 503 and res.headers["retry-after"] == "5"
            assert "s3cret" not in res.text and "bolt://" not in res.text
            assert c.get("/api/health").json()["neo4j"] == "down"
