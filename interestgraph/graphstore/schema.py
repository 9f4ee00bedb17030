"""The one allow-list of labels, relationship types and keys (see ARCHITECTURE.md).

Cypher text in the project takes labels and relationship types only from here; user input
never becomes part of a query's text. :func:`ensure_schema` creates the uniqueness
constraints idempotently (``IF NOT EXISTS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from interestgraph.errors import QueryError

if TYPE_CHECKING:
    from interestgraph.graphstore.store import GraphStore

__all__ = [
    "KEYS",
    "VECTOR_PROPERTIES",
    "Constraint",
    "Label",
    "RelType",
    "constraints",
    "ensure_schema",
    "ensure_vector_index",
    "label",
    "rel_type",
    "vector_index_name",
]


class Label(StrEnum):
    """Node labels."""

    USER = "User"
    ITEM = "Item"
    TOPIC = "Topic"
    MODEL_RUN = "ModelRun"


class RelType(StrEnum):
    """Relationship types: observed (ingested) first, then derived (written back)."""

    PURCHASED = "PURCHASED"  # (:User)-[:PURCHASED {weight, ts}]->(:Item)
    FOLLOWS = "FOLLOWS"  # (:User)-[:FOLLOWS {ts?}]->(:User|:Topic)
    HAS_TOPIC = "HAS_TOPIC"  # (:Item)-[:HAS_TOPIC {weight}]->(:Topic)
    INTERESTED_IN = "INTERESTED_IN"  # (:User)-[:INTERESTED_IN {score, rank, run_id}]->(:Topic)
    CO_INTEREST = "CO_INTEREST"  # (:User)-[:CO_INTEREST {score, rank, run_id}]->(:User)
    SIMILAR_TO = "SIMILAR_TO"  # (:Item)-[:SIMILAR_TO {score, rank, run_id}]->(:Item)


#: Business key of each keyed label: unique-constrained strings, never internal ids.
KEYS: dict[Label, str] = {
    Label.USER: "user_id",
    Label.ITEM: "item_id",
    Label.TOPIC: "topic_id",
    Label.MODEL_RUN: "run_id",
}


@dataclass(frozen=True)
class Constraint:
    """A uniqueness constraint on one label's business key."""

    label: Label
    key: str

    @property
    def name(self) -> str:
        """Stable constraint name, e.g. ``ig_user_user_id_unique``."""
        return f"ig_{self.label.value.lower()}_{self.key}_unique"

    def cypher(self) -> str:
        """``CREATE CONSTRAINT … IF NOT EXISTS`` statement (idempotent)."""
        return (
            f"CREATE CONSTRAINT {self.name} IF NOT EXISTS "
            f"FOR (n:{self.label.value}) REQUIRE n.{self.key} IS UNIQUE"
        )


def constraints() -> list[Constraint]:
    """All uniqueness constraints the graph model needs, one per keyed label."""
    return [Constraint(lbl, key) for lbl, key in KEYS.items()]


def label(name: str) -> str:
    """Return ``name`` if it is an allowed label, else raise :class:`QueryError`."""
    try:
        return Label(name).value
    except ValueError as e:
        allowed = ", ".join(x.value for x in Label)
        raise QueryError(f"label {name!r} is not in the schema; allowed: {allowed}") from e


def rel_type(name: str) -> str:
    """Return ``name`` if it is an allowed relationship type, else raise :class:`QueryError`."""
    try:
        return RelType(name).value
    except ValueError as e:
        allowed = ", ".join(x.value for x in RelType)
        raise QueryError(
            f"relationship type {name!r} is not in the schema; allowed: {allowed}"
        ) from e


def ensure_schema(store: GraphStore) -> list[str]:
    """Create the uniqueness constraints if they are missing; safe to run any number of times.

    Args:
        store: An open graph store.

    Returns:
        Names of the constraints that exist afterwards (the project's, sorted).
    """
    for c in constraints():
        # Schema commands cannot share a transaction with data writes; one each.
        store.write(c.cypher(), op="schema.constraint")
    rows = store.read(
        "SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH 'ig_' RETURN name ORDER BY name",
        op="schema.show",
    )
    return [r["name"] for r in rows]


#: Vector properties of the graph model: text embeddings and the two GAT embedding slots.
VECTOR_PROPERTIES = ("text_embedding", "embedding_0", "embedding_1")


def vector_index_name(lbl: Label, prop: str) -> str:
    """Stable name of the vector index on ``lbl.prop``, e.g. ``ig_item_text_embedding``."""
    return f"ig_{lbl.value.lower()}_{prop}"


def ensure_vector_index(
    store: GraphStore,
    lbl: Label,
    prop: str,
    dim: int,
    *,
    quantized: bool = True,
    hnsw_m: int | None = None,
    hnsw_ef_construction: int | None = None,
) -> str:
    """Create a cosine vector index on ``lbl.prop`` with ``dim`` dimensions if missing.

    ``prop`` must be one of the project's vector properties (never user input).
    ``quantized=False`` turns Neo4j's default vector quantization off, so index scores
    are exact (the GAT embedding indexes serve model scores). ``hnsw_m`` (links per node,
    Neo4j default 16) and ``hnsw_ef_construction`` (build beam, default 100) trade build
    time for recall; ``None`` keeps Neo4j's default.
    """
    if prop not in VECTOR_PROPERTIES:
        raise QueryError(f"{prop!r} is not a vector property of the schema")
    if not 1 <= dim <= 4096:
        raise QueryError(f"vector dimension {dim} is outside 1..4096")
    hnsw = ""
    if hnsw_m is not None:
        if not 1 <= hnsw_m <= 512:
            raise QueryError(f"hnsw_m={hnsw_m} is outside 1..512")
        hnsw += f", `vector.hnsw.m`: {int(hnsw_m)}"
    if hnsw_ef_construction is not None:
        if not 1 <= hnsw_ef_construction <= 3200:
            raise QueryError(f"hnsw_ef_construction={hnsw_ef_construction} is outside 1..3200")
        hnsw += f", `vector.hnsw.ef_construction`: {int(hnsw_ef_construction)}"
    name = vector_index_name(lbl, prop)
    store.write(
        f"CREATE VECTOR INDEX {name} IF NOT EXISTS FOR (n:{lbl.value}) ON n.{prop} "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dim)}, "
        "`vector.similarity_function`: 'cosine', "
        f"`vector.quantization.enabled`: {'true' if quantized else 'false'}{hnsw}}}}}",
        op="schema.vector_index",
    )
    return name
