"""``GraphStore``: the one object that owns the Neo4j driver.

All reads and writes go through managed transactions (``execute_read`` /
``execute_write``), which retry only the errors the driver classifies as retryable, and
every query is tagged with metadata (``app``, ``op``) and a timeout so it is visible in
``SHOW TRANSACTIONS`` and the query log. Results are consumed inside the transaction
function. Driver errors are wrapped into :mod:`interestgraph.errors` with a message that
names the fix.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

import neo4j
from neo4j import exceptions as nx

from interestgraph.config import Settings
from interestgraph.errors import (
    GraphAuthError,
    GraphStoreError,
    GraphUnavailableError,
    QueryError,
)
from interestgraph.graphstore.credentials import password_file, read_password

__all__ = ["GraphStore", "WriteStats", "prefetch"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_START_HINT = "start it with `interestgraph neo4j start` or set NEO4J_URI"


@dataclass
class WriteStats:
    """Counters summed over the transactions of one write or batched write."""

    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, counters: Mapping[str, int]) -> None:
        """Add one transaction's summary counters."""
        for k, v in counters.items():
            if isinstance(v, int) and not isinstance(v, bool) and v:
                self.counters[k] = self.counters.get(k, 0) + v

    @property
    def rows_per_second(self) -> float:
        """Throughput of the write in rows per second."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class GraphStore:
    """Owns a Neo4j driver; runs tagged queries in managed transactions.

    Use as a context manager. Built either from :class:`Settings` (then it owns and closes
    the driver) or around an existing driver (then closing it is the caller's job).
    Constructing a store does no network I/O; :meth:`verify` checks the connection.

    Args:
        driver: An open ``neo4j.Driver``.
        database: Database name, ``None`` for the server default.
        batch_size: Rows per transaction in :meth:`write_batches`.
        timeout: Transaction timeout in seconds.
        owns_driver: Close the driver on :meth:`close`.
        uri: Address, only for error messages.
        unavailable_hint: What to do when the server does not answer (ends the message).
        auth_hint: Which setting to check when the credentials are refused.

    Example:
        >>> with GraphStore.from_settings(Settings.from_env()) as store:  # doctest: +SKIP
        ...     store.read("MATCH (u:User) RETURN count(u) AS n")
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None = None,
        *,
        batch_size: int = 5000,
        timeout: float = 300.0,
        owns_driver: bool = False,
        uri: str = "",
        unavailable_hint: str = "check that the server is running and reachable",
        auth_hint: str = "the user name and password",
    ) -> None:
        self._driver = driver
        self.database = database
        self.batch_size = batch_size
        self.timeout = timeout
        self._owns_driver = owns_driver
        self._uri = uri
        self._unavailable_hint = unavailable_hint
        self._auth_hint = auth_hint

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphStore:
        """Open a driver for the configured server (external ``NEO4J_URI`` or the local one).

        Raises:
            GraphUnavailableError: The local server has never been started (no password file).
        """
        if settings.managed:
            uri, user = settings.local_uri, "neo4j"
            password = read_password(settings.home)
            if password is None:
                raise GraphUnavailableError(
                    f"no local Neo4j server has been set up in {settings.home}; {_START_HINT}."
                )
            unavailable = _START_HINT
            auth = (
                f"the password file {password_file(settings.home)} (written by "
                "`interestgraph neo4j start`; if the data folder was copied from elsewhere, "
                "restore its password file too)"
            )
        else:
            uri, user, password = settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password
            unavailable = f"check NEO4J_URI={uri}, or unset it to use the local server"
            auth = "NEO4J_USER and NEO4J_PASSWORD"
        driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_acquisition_timeout=30.0,
            max_transaction_retry_time=settings.retry_seconds,
            user_agent="interestgraph/0.1",
            # Server notifications (e.g. "relationship type does not exist yet" when counting
            # inferred edges before the first write-back) are noise for this library.
            notifications_min_severity="OFF",
        )
        return cls(
            driver,
            settings.neo4j_database,
            batch_size=settings.batch_size,
            timeout=settings.query_timeout,
            owns_driver=True,
            uri=str(uri),
            unavailable_hint=unavailable,
            auth_hint=auth,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._owns_driver:
            self._driver.close()

    @property
    def driver(self) -> neo4j.Driver:
        """The underlying driver (for code inside ``graphstore`` only)."""
        return self._driver

    def verify(self) -> dict[str, str]:
        """Check that the server answers and accepts the credentials.

        Returns:
            ``{"address", "agent", "protocol_version"}`` of the server.
        """
        info = self._call(lambda: self._driver.get_server_info(), op="verify")
        return {
            "address": str(info.address),
            "agent": str(info.agent),
            "protocol_version": ".".join(map(str, info.protocol_version)),
        }

    # -- queries ---------------------------------------------------------------------------
    def read(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        op: str = "read",
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """Run a read query in a managed read transaction and return all records as dicts."""

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [r.data() for r in tx.run(query, params or {})]

        return self.execute(work, op=op, access="read", timeout=timeout)

    def read_columns(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        op: str = "read_columns",
        timeout: float | None = None,
    ) -> dict[str, list[Any]]:
        """Run a read query and return its result column-wise: ``{column: [values…]}``.

        Cheaper than :meth:`read` for large results (no dict per record); pair it with
        queries that ``collect()`` server-side so each record carries a whole chunk.
        """

        def work(tx: neo4j.ManagedTransaction) -> dict[str, list[Any]]:
            result = tx.run(query, params or {})
            keys = list(result.keys())
            cols: list[list[Any]] = [[] for _ in keys]
            appenders = [c.append for c in cols]
            for values in result:
                for append, value in zip(appenders, values, strict=True):
                    append(value)
            return dict(zip(keys, cols, strict=True))

        return self.execute(work, op=op, access="read", timeout=timeout)

    def read_table(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        op: str = "read_table",
        timeout: float | None = None,
    ) -> tuple[list[str], list[list[Any]]]:
        """Run a query in a READ transaction; return ``(columns, rows)`` of plain values.

        The server rejects any write in a read transaction, so this is safe for query text
        that did not come from project code (the analyst library). Temporal values become
        ISO-8601 strings; nodes and relationships become their property maps.
        """

        def work(tx: neo4j.ManagedTransaction) -> tuple[list[str], list[list[Any]]]:
            result = tx.run(query, params or {})
            keys = list(result.keys())
            return keys, [[_plain(v) for v in record.values()] for record in result]

        return self.execute(work, op=op, access="read", timeout=timeout)

    def write(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        op: str = "write",
        timeout: float | None = None,
    ) -> dict[str, int]:
        """Run a write query in a managed write transaction; return its summary counters."""

        def work(tx: neo4j.ManagedTransaction) -> dict[str, int]:
            summary = tx.run(query, params or {}).consume()
            return _counters(summary)

        return self.execute(work, op=op, access="write", timeout=timeout)

    def write_autocommit(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        op: str = "write_autocommit",
        timeout: float | None = None,
    ) -> dict[str, int]:
        """Run a query in an auto-commit transaction and return its summary counters.

        Only for queries that must manage their own transactions
        (``CALL { … } IN TRANSACTIONS``); they are not retried, so they must be idempotent
        and safe to re-run after a failure.
        """
        q = neo4j.Query(
            query,  # type: ignore[arg-type]  # text comes from project code, never user input
            metadata={"app": "interestgraph", "op": op},
            timeout=timeout if timeout is not None else self.timeout,
        )

        def run() -> dict[str, int]:
            with self._driver.session(database=self.database) as session:
                return _counters(session.run(q, params or {}).consume())

        return self._call(run, op=op)

    def write_batches(
        self,
        query: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        op: str = "write_batches",
        batch_size: int | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> WriteStats:
        """Write ``rows`` in chunks: ``query`` receives each chunk as ``$rows``.

        The query must be idempotent (``UNWIND $rows AS row MERGE …``) so a retried or
        re-run chunk changes nothing. Each chunk is its own managed transaction.

        Args:
            query: Cypher using ``$rows`` (and optionally other ``params``).
            rows: Row mappings; consumed lazily.
            op: Name used in the query metadata and logs.
            batch_size: Rows per transaction (default: the store's).
            params: Extra parameters passed with every chunk.
            progress: Called with the number of rows written after each chunk.
        """
        stats = WriteStats()
        size = batch_size or self.batch_size
        start = time.perf_counter()
        for chunk in _chunks(rows, size):
            counters = self.write(query, {**(params or {}), "rows": chunk}, op=op)
            stats.add(counters)
            stats.rows += len(chunk)
            stats.batches += 1
            if progress is not None:
                progress(len(chunk))
        stats.seconds = time.perf_counter() - start
        log.debug("%s: %d rows in %d batches, %.2fs", op, stats.rows, stats.batches, stats.seconds)
        return stats

    def write_columns(
        self,
        query: str,
        columns: Mapping[str, Sequence[Any]],
        *,
        op: str = "write_columns",
        batch_size: int | None = None,
        params: Mapping[str, Any] | None = None,
        progress: Callable[[int], object] | None = None,
        workers: int = 1,
    ) -> WriteStats:
        """Write parallel columns in batches: each batch's slice of column ``c`` is ``$c``.

        For writes from arrays (no dict per row): the query walks the batch with
        ``UNWIND range(0, size($ids) - 1) AS i … $ids[i] …``. Columns are numpy arrays or
        lists of equal length (2-D arrays become lists of rows); a background thread turns
        the next batch into Bolt values while the current one is written. Each batch is its
        own managed transaction, so the query must be idempotent like
        :meth:`write_batches`' (or, for ``CREATE``, belong to a write the caller can
        resume). ``workers > 1`` writes that many batches at once in separate sessions
        (the server runs each transaction on one thread; a deadlock between them is a
        retryable error the driver retries).
        """
        size = batch_size or self.batch_size
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: {sorted(lengths)}")
        total = lengths.pop() if lengths else 0

        def batch(lo: int) -> dict[str, Any]:
            part = {k: v[lo : lo + size] for k, v in columns.items()}
            return {k: v.tolist() if hasattr(v, "tolist") else list(v) for k, v in part.items()}

        def write(lo: int) -> tuple[int, dict[str, int]]:
            chunk = batch(lo)
            n = len(next(iter(chunk.values()))) if chunk else 0
            return n, self.write(query, {**(params or {}), **chunk}, op=op)

        stats = WriteStats()
        start = time.perf_counter()
        calls = (functools.partial(write, lo) for lo in range(0, total, size))
        for n, counters in prefetch(calls, workers=workers, ahead=2 * workers):
            stats.add(counters)
            stats.rows += n
            stats.batches += 1
            if progress is not None:
                progress(n)
        stats.seconds = time.perf_counter() - start
        log.debug("%s: %d rows in %d batches, %.2fs", op, stats.rows, stats.batches, stats.seconds)
        return stats

    def execute(
        self,
        work: Callable[[neo4j.ManagedTransaction], T],
        *,
        op: str,
        access: str = "read",
        timeout: float | None = None,
    ) -> T:
        """Run a transaction function in a managed transaction tagged with ``op``.

        Args:
            work: Function of a managed transaction; must consume its results.
            op: Name recorded in the transaction metadata.
            access: ``"read"`` or ``"write"``.
            timeout: Seconds, default the store's timeout.
        """
        if access not in ("read", "write"):
            raise ValueError(f"access must be 'read' or 'write', not {access!r}")
        tagged = neo4j.unit_of_work(
            metadata={"app": "interestgraph", "op": op},
            timeout=timeout if timeout is not None else self.timeout,
        )(work)

        def run() -> T:
            with self._driver.session(database=self.database) as session:
                if access == "read":
                    return session.execute_read(tagged)
                return session.execute_write(tagged)

        return self._call(run, op=op)

    # -- error translation -----------------------------------------------------------------
    def _call(self, fn: Callable[[], T], *, op: str) -> T:
        try:
            return fn()
        except nx.AuthError as e:
            raise GraphAuthError(
                f"Neo4j at {self._uri} refused the credentials; check {self._auth_hint}."
            ) from e
        except (nx.ServiceUnavailable, nx.SessionExpired, OSError) as e:
            raise GraphUnavailableError(
                f"cannot reach Neo4j at {self._uri}: the server is not running or not "
                f"reachable; {self._unavailable_hint}."
            ) from e
        except nx.ClientError as e:
            raise QueryError(f"{op}: Neo4j rejected the query: {e.code}: {e.message}") from e
        except nx.Neo4jError as e:
            raise GraphStoreError(f"{op}: Neo4j error {e.code}: {e.message}") from e
        except nx.DriverError as e:
            raise GraphStoreError(f"{op}: driver error: {e}") from e


def prefetch(calls: Iterable[Callable[[], T]], *, workers: int = 1, ahead: int = 2) -> Iterator[T]:
    """Yield ``call()`` for each call, in order, computed by ``workers`` background threads
    at most ``ahead`` results in advance (the consumer overlaps with the next calls).

    Reads in separate sessions run on separate server threads, so ``workers > 1`` uses
    more of the server's cores; the driver is thread-safe (one session per call).
    """
    from concurrent.futures import ThreadPoolExecutor

    it = iter(calls)
    pending: list = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphstore-prefetch") as ex:
        try:
            for call in it:
                pending.append(ex.submit(call))
                if len(pending) > ahead:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for f in pending:
                f.cancel()


def _counters(summary: neo4j.ResultSummary) -> dict[str, int]:
    c = summary.counters
    names = (
        "nodes_created",
        "nodes_deleted",
        "relationships_created",
        "relationships_deleted",
        "properties_set",
        "labels_added",
        "labels_removed",
        "indexes_added",
        "indexes_removed",
        "constraints_added",
        "constraints_removed",
    )
    return {n: getattr(c, n) for n in names}


def _plain(value: Any) -> Any:
    """A query value as plain Python (for tables, CSV and JSON)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, neo4j.graph.Node | neo4j.graph.Relationship):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):  # neo4j.time Date / DateTime / Duration …
        return value.iso_format()
    return value
