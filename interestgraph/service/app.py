"""The HTTP API (FastAPI) and the explorer page.

Every ``/api`` route except ``/api/health`` needs ``Authorization: Bearer <token>`` (401
without it). Inputs are validated by FastAPI (422 with the field that failed) and by the
Python API (400); unknown ids are 404; an unreachable Neo4j is 503. CORS is off unless
origins are given. Serving goes through :class:`~interestgraph.api.InterestGraph`, i.e.
through Neo4j, never through an in-process model.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from interestgraph import __version__
from interestgraph.api import InterestGraph
from interestgraph.errors import (
    GraphUnavailableError,
    InputError,
    InterestGraphError,
    NotFoundError,
)
from interestgraph.queries import LibraryQuery
from interestgraph.service.graphview import neighborhood, search
from interestgraph.service.guide import browser_guide

__all__ = ["create_app"]

Id = Annotated[str, Path(min_length=1, max_length=256, description="A business key.")]
K = Annotated[int, Query(ge=1, le=100, description="How many results.")]


class RecommendationOut(BaseModel):
    """One recommended item."""

    item_id: str
    title: str | None
    score: float = Field(description="The current run's dot-product score.")
    reasons: list[str]


class FeedbackIn(BaseModel):
    """A feedback event."""

    user_id: str = Field(min_length=1, max_length=256)
    item_id: str = Field(min_length=1, max_length=256)
    kind: Literal["purchase", "like", "click"] = "purchase"
    ts: int | None = Field(default=None, ge=0, description="Unix seconds (default: now).")


class FeedbackOut(BaseModel):
    """The edge after the event was recorded."""

    user_id: str
    item_id: str
    kind: str
    weight: float
    ts: int
    duplicate: bool = Field(description="The same event had been recorded before.")


_bearer = HTTPBearer(auto_error=False)


def _authorized(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Dependency: the request carries the app's bearer token (constant-time compare)."""
    token: str = request.app.state.token
    if creds is None or not secrets.compare_digest(creds.credentials.encode(), token.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _static(name: str) -> str:
    return resources.files("interestgraph.service").joinpath("static", name).read_text("utf-8")


def create_app(
    ig: InterestGraph,
    token: str,
    *,
    library: dict[str, LibraryQuery] | None = None,
    cors_origins: Sequence[str] = (),
) -> FastAPI:
    """Build the app around an open :class:`InterestGraph` (not closed by the app).

    Args:
        ig: Serves every route.
        token: The bearer token every ``/api`` route (but health) requires.
        library: Query library for the Neo4j Browser guide at ``/guide``.
        cors_origins: Origins allowed by CORS; empty (default) = CORS off.
    """
    if not token:
        raise ValueError("the HTTP API needs a non-empty token")
    app = FastAPI(
        title="InterestGraph",
        version=__version__,
        description="Recommendations, interests and explanations served from Neo4j. "
        "Send `Authorization: Bearer <token>` (see `interestgraph serve`).",
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.state.token = token

    @app.exception_handler(InterestGraphError)
    def _library_error(request: Request, exc: InterestGraphError) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if isinstance(exc, InputError):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        if isinstance(exc, GraphUnavailableError):
            return JSONResponse(
                {"detail": "the graph database is unavailable; try again shortly"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        return JSONResponse({"detail": "internal error in the graph store"}, status_code=500)

    api = [Depends(_authorized)]

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, and whether Neo4j answers (no token needed)."""
        try:
            ig.store.verify()
            return {"status": "ok", "neo4j": "up"}
        except InterestGraphError:
            return {"status": "degraded", "neo4j": "down"}

    @app.get("/api/recommend/{user_id}", dependencies=api, tags=["recommendations"])
    def recommend(
        user_id: Id,
        k: K = 10,
        exclude_purchased: bool = True,
        topic: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    ) -> list[RecommendationOut]:
        """Top-k items for a user with short reasons (cold start for new users)."""
        recs = ig.recommend(user_id, k=k, exclude_purchased=exclude_purchased, topic=topic)
        return [RecommendationOut(**r.__dict__) for r in recs]

    @app.get("/api/similar/{item_id}", dependencies=api, tags=["recommendations"])
    def similar(item_id: Id, k: K = 10) -> list[dict[str, Any]]:
        """Items most similar to an item (model, else text)."""
        return ig.similar_items(item_id, k)

    @app.get("/api/interests/{user_id}", dependencies=api, tags=["recommendations"])
    def interests(user_id: Id, k: K = 10) -> list[dict[str, Any]]:
        """The user's top inferred topics."""
        return ig.interests(user_id, k)

    @app.get("/api/co-interest/{user_id}", dependencies=api, tags=["recommendations"])
    def co_interest(user_id: Id, k: K = 10) -> list[dict[str, Any]]:
        """Users with the most similar interests."""
        return ig.co_interest_users(user_id, k)

    @app.get("/api/explain/{user_id}/{item_id}", dependencies=api, tags=["recommendations"])
    def explain(user_id: Id, item_id: Id) -> dict[str, Any]:
        """Evidence for recommending an item to a user."""
        return ig.explain(user_id, item_id)

    @app.post("/api/feedback", dependencies=api, tags=["feedback"])
    def feedback(event: FeedbackIn) -> FeedbackOut:
        """Record a feedback event (idempotent per user, item, kind and ts)."""
        return FeedbackOut(**ig.record_feedback(event.user_id, event.item_id, event.kind, event.ts))

    @app.get("/api/search", dependencies=api, tags=["explorer"])
    def find(
        q: Annotated[str, Query(min_length=1, max_length=256)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[dict[str, Any]]:
        """Users, items and topics by id, title or name."""
        return search(ig.store, q, limit)

    @app.get("/api/graph/{kind}/{node_id}", dependencies=api, tags=["explorer"])
    def graph(
        kind: Literal["user", "item", "topic"],
        node_id: Id,
        limit: Annotated[int, Query(ge=1, le=50)] = 12,
    ) -> dict[str, Any]:
        """A node's neighbourhood for drawing; users also get recommendations with reasons."""
        view = neighborhood(ig.store, kind, node_id, limit)
        if kind == "user":
            view["recommendations"] = [r.__dict__ for r in ig.recommend(node_id, k=5)]
        return view

    page = _static("explorer.html")  # read once, not per request
    guide_html = browser_guide(library) if library is not None else None

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def explorer() -> str:
        return page

    @app.get("/guide", response_class=HTMLResponse, tags=["explorer"])
    def guide() -> HTMLResponse:
        """Neo4j Browser guide of the query library: `:play http://HOST:PORT/guide`.

        Public (query text only) and readable cross-origin, since Neo4j Browser fetches it
        from its own origin.
        """
        if guide_html is None:
            raise HTTPException(404, "no query library loaded")
        return HTMLResponse(guide_html, headers={"Access-Control-Allow-Origin": "*"})

    return app
