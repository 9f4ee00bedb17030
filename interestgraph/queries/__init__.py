"""The analyst Cypher library: ``.cypher`` files, a registry and a read-only runner.

Example:
    >>> from interestgraph.queries import load_library, run_query   # doctest: +SKIP
    >>> lib = load_library()
    >>> run_query(store, lib["user-interests"], {"user_id": "2"}).records()
"""

from interestgraph.queries.library import BUILTIN_DIR, LibraryQuery, Param, load_library
from interestgraph.queries.runner import QueryResult, run_query

__all__ = ["BUILTIN_DIR", "LibraryQuery", "Param", "QueryResult", "load_library", "run_query"]
