"""A Neo4j Browser guide generated from the query library (``:play <url>/guide``)."""

from __future__ import annotations

import html
import json
import shlex

from interestgraph.queries import LibraryQuery

__all__ = ["browser_guide"]


def _example_params(q: LibraryQuery) -> dict[str, object]:
    """Parameter values of the query's ``example`` line, typed, defaults filled in."""
    args = shlex.split(q.example)
    given = {args[i + 1]: args[i + 2] for i, a in enumerate(args[:-2]) if a in ("-p", "--param")}
    return q.bind(given)


def _slide(q: LibraryQuery) -> str:
    params = json.dumps(_example_params(q))
    return (
        '<slide class="row-fluid"><div class="col-sm-12">'
        f"<h3>{html.escape(q.name)}</h3><p>{html.escape(q.purpose)}</p>"
        "<p>Set the parameters (edit them for your data), then run the query:</p>"
        f'<pre mode="cypher" class="pre-scrollable code runnable">:params {html.escape(params)}'
        "</pre>"
        f'<pre mode="cypher" class="pre-scrollable code runnable">{html.escape(q.cypher)}</pre>'
        f"<p>From a shell: <code>{html.escape(q.example)}</code></p>"
        "</div></slide>"
    )


def browser_guide(library: dict[str, LibraryQuery]) -> str:
    """The guide as HTML: an intro slide, then one slide per library query."""
    intro = (
        '<slide class="row-fluid"><div class="col-sm-12"><h3>InterestGraph for analysts</h3>'
        "<p>Users, items and topics with observed PURCHASED / FOLLOWS / HAS_TOPIC edges, and "
        "the current model run's inferred INTERESTED_IN, CO_INTEREST and SIMILAR_TO edges "
        "(each with score, rank and run_id). Every inferred-edge query starts from "
        "<code>(:ModelRun {current: true})</code>.</p>"
        f"<p>{len(library)} library queries follow, one per slide.</p>"
        '<pre mode="cypher" class="pre-scrollable code runnable">'
        "MATCH (r:ModelRun) RETURN r.run_id, r.status, r.current ORDER BY r.created_at DESC"
        "</pre></div></slide>"
    )
    slides = "".join(_slide(q) for q in library.values())
    return (
        '<article class="guide"><carousel class="deck container-fluid">'
        f"{intro}{slides}</carousel></article>"
    )
