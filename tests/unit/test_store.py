"""GraphStore query-building and error translation, with a small recording fake driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from neo4j import exceptions as nx

from interestgraph.errors import GraphAuthError, GraphUnavailableError, QueryError
from interestgraph.graphstore import GraphStore


@dataclass
class _Counters:
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0

    def __getattr__(self, name: str) -> int:  # every other counter is zero
        return 0


class _Summary:
    def __init__(self, rows: int) -> None:
        self.counters = _Counters(nodes_created=rows, properties_set=2 * rows)


class _Result:
    def __init__(self, records: list[dict[str, Any]], rows: int) -> None:
        self._records = records
        self._rows = rows

    def __iter__(self):
        return iter(_Record(r) for r in self._records)

    def consume(self) -> _Summary:
        return _Summary(self._rows)

    def keys(self) -> list[str]:
        return list(self._records[0]) if self._records else []

    def data(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._records]


class _Record:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def data(self) -> dict[str, Any]:
        return dict(self._data)


@dataclass
class Recorder:
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: Exception | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


class _Tx:
    def __init__(self, rec: Recorder, access: str, fn: Any) -> None:
        self.rec, self.access, self.fn = rec, access, fn

    def run(self, query: str, params: dict[str, Any] | None = None, **kw: Any) -> _Result:
        params = {**(params or {}), **kw}
        self.rec.calls.append(
            {
                "access": self.access,
                "query": query,
                "params": params,
                "metadata": getattr(self.fn, "metadata", None),
                "timeout": getattr(self.fn, "timeout", None),
            }
        )
        return _Result(self.rec.records, len(params.get("rows", [])))


class _Session:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *a: object) -> None:
        pass

    def _go(self, access: str, fn: Any) -> Any:
        if self.rec.fail_with is not None:
            raise self.rec.fail_with
        return fn(_Tx(self.rec, access, fn))

    def execute_read(self, fn: Any) -> Any:
        return self._go("read", fn)

    def execute_write(self, fn: Any) -> Any:
        return self._go("write", fn)


class FakeDriver:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.closed = False
        self.databases: list[str | None] = []

    def session(self, database: str | None = None) -> _Session:
        self.databases.append(database)
        return _Session(self.rec)

    def close(self) -> None:
        self.closed = True


def make(rec: Recorder, **kw: Any) -> tuple[GraphStore, FakeDriver]:
    driver = FakeDriver(rec)
    return GraphStore(driver, "shop", **kw), driver  # type: ignore[arg-type]


def test_write_batches_sends_chunks_as_rows_in_separate_tagged_write_transactions():
    rec = Recorder()
    store, driver = make(rec, batch_size=4, timeout=12.0)
    seen: list[int] = []
    stats = store.write_batches(
        "UNWIND $rows AS row MERGE (u:User {user_id: row.id})",
        ({"id": str(i)} for i in range(10)),
        op="ingest.users",
        params={"run": "r1"},
        progress=seen.append,
    )
    assert [len(c["params"]["rows"]) for c in rec.calls] == [4, 4, 2]
    assert [r["id"] for c in rec.calls for r in c["params"]["rows"]] == [str(i) for i in range(10)]
    assert all(c["access"] == "write" for c in rec.calls)
    assert all(c["params"]["run"] == "r1" for c in rec.calls)
    assert all(c["metadata"] == {"app": "interestgraph", "op": "ingest.users"} for c in rec.calls)
    assert all(c["timeout"] == 12.0 for c in rec.calls)
    assert set(driver.databases) == {"shop"}
    assert seen == [4, 4, 2]
    assert (stats.rows, stats.batches) == (10, 3)
    assert stats.counters == {"nodes_created": 10, "properties_set": 20}


def test_write_batches_with_no_rows_runs_nothing():
    rec = Recorder()
    store, _ = make(rec)
    stats = store.write_batches("UNWIND $rows AS row RETURN row", [])
    assert rec.calls == [] and stats.rows == 0 and stats.batches == 0


def test_read_returns_dicts_from_a_read_transaction():
    rec = Recorder(records=[{"n": 3}])
    store, _ = make(rec)
    assert store.read("MATCH (n) RETURN count(n) AS n", op="count", timeout=5) == [{"n": 3}]
    assert rec.calls[0]["access"] == "read"
    assert rec.calls[0]["metadata"]["op"] == "count"
    assert rec.calls[0]["timeout"] == 5


def test_store_closes_only_a_driver_it_owns():
    rec = Recorder()
    store, driver = make(rec)
    with store:
        pass
    assert not driver.closed
    store, driver = make(rec, owns_driver=True)
    with store:
        pass
    assert driver.closed


@pytest.mark.parametrize(
    ("error", "kind", "needle"),
    [
        (nx.ServiceUnavailable("refused"), GraphUnavailableError, "interestgraph neo4j start"),
        (nx.AuthError("unauthorized"), GraphAuthError, "NEO4J_PASSWORD"),
        (
            nx.Neo4jError._hydrate_neo4j(code="Neo.ClientError.Statement.SyntaxError", message="x"),
            QueryError,
            "SyntaxError",
        ),
    ],
)
def test_driver_errors_become_project_errors_naming_the_fix(error, kind, needle):
    rec = Recorder(fail_with=error)
    store, _ = make(
        rec,
        uri="bolt://127.0.0.1:7687",
        unavailable_hint="start it with `interestgraph neo4j start` or set NEO4J_URI",
        auth_hint="NEO4J_USER and NEO4J_PASSWORD",
    )
    with pytest.raises(kind, match=needle) as info:
        store.read("RETURN 1")
    assert info.value.__cause__ is error


def test_unknown_access_mode_is_refused():
    store, _ = make(Recorder())
    with pytest.raises(ValueError, match="access"):
        store.execute(lambda tx: None, op="x", access="admin")
