"""The canonical input format: six tables, their columns, types and rules.

Files in an input folder are named after the table (``users.csv`` or ``users.parquet``, …).
CSV files are comma-separated UTF-8 with a header row (RFC 4180 quoting). Every table is
optional; references may point at rows of the same input or at nodes already in the graph.

=============  ==================================================================================
table          columns (``*`` required; others optional; unknown columns become properties)
=============  ==================================================================================
users          ``user_id*``
items          ``item_id*``, ``title*``, ``description``
topics         ``topic_id*``, ``name*``, ``parent_id`` (a topic id: the topic hierarchy)
purchases      ``user_id*``, ``item_id*``, ``weight`` (> 0, default 1), ``ts``
follows        ``user_id*``, ``followee_id*``, ``followee_type`` (``user`` | ``topic``, default
               ``user``), ``weight`` (> 0, default 1), ``ts``
item_topics    ``item_id*``, ``topic_id*``, ``weight`` (> 0, default 1)
=============  ==================================================================================

Types: ids are non-empty strings of at most 256 characters, stored verbatim (integers in
Parquet are turned into their decimal text); text values are at most 100,000 characters;
``ts`` is ISO 8601 (``2011-04-12T07:00:00Z``; no zone means UTC) or integer Unix seconds,
between 1990-01-01 and one day from now, stored as a Neo4j ``DATETIME`` (second resolution).

Duplicates: a repeated id in ``users`` / ``items`` / ``topics`` is an error (the first row
wins, later ones are rejected). Repeated relationship rows are merged: ``purchases`` per
(user_id, item_id) → weights summed, latest ``ts`` kept, other columns from the latest row;
``follows`` per (user_id, followee_type, followee_id) and ``item_topics`` per
(item_id, topic_id) → the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from interestgraph.graphstore.schema import Label

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "ORDER",
    "PROPERTY_NAME",
    "TABLES",
    "Column",
    "TableSpec",
]

MAX_ID_LENGTH = 256
MAX_TEXT_LENGTH = 100_000
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

Kind = Literal["id", "text", "weight", "ts", "followee_type"]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: Kind
    required: bool = False
    refers_to: Label | None = None  # id columns that reference another table's key


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns and, for entity tables, the label and key."""

    name: str
    columns: tuple[Column, ...]
    label: Label | None = None  # entity tables only
    key: str | None = None  # entity tables: the business key column
    merge_on: tuple[str, ...] = ()  # relationship tables: duplicate rows merge on these
    extra_columns: bool = True  # unknown columns become properties
    reserved: frozenset[str] = field(default_factory=frozenset)

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        """The spec of column ``name``, or None for an extra column."""
        return next((c for c in self.columns if c.name == name), None)


TABLES: dict[str, TableSpec] = {
    "topics": TableSpec(
        "topics",
        (
            Column("topic_id", "id", required=True),
            Column("name", "text", required=True),
            Column("parent_id", "id", refers_to=Label.TOPIC),
        ),
        label=Label.TOPIC,
        key="topic_id",
    ),
    "users": TableSpec("users", (Column("user_id", "id", required=True),), Label.USER, "user_id"),
    "items": TableSpec(
        "items",
        (
            Column("item_id", "id", required=True),
            Column("title", "text", required=True),
            Column("description", "text"),
        ),
        label=Label.ITEM,
        key="item_id",
    ),
    "item_topics": TableSpec(
        "item_topics",
        (
            Column("item_id", "id", required=True, refers_to=Label.ITEM),
            Column("topic_id", "id", required=True, refers_to=Label.TOPIC),
            Column("weight", "weight"),
        ),
        merge_on=("item_id", "topic_id"),
        extra_columns=False,
    ),
    "follows": TableSpec(
        "follows",
        (
            Column("user_id", "id", required=True, refers_to=Label.USER),
            Column("followee_id", "id", required=True),  # User or Topic, by followee_type
            Column("followee_type", "followee_type"),
            Column("weight", "weight"),
            Column("ts", "ts"),
        ),
        merge_on=("user_id", "followee_type", "followee_id"),
        extra_columns=False,
    ),
    "purchases": TableSpec(
        "purchases",
        (
            Column("user_id", "id", required=True, refers_to=Label.USER),
            Column("item_id", "id", required=True, refers_to=Label.ITEM),
            Column("weight", "weight"),
            Column("ts", "ts"),
        ),
        merge_on=("user_id", "item_id"),
    ),
}

#: Load order: nodes before the relationships that need them.
ORDER = ("topics", "users", "items", "item_topics", "follows", "purchases")
