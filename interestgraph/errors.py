"""The project's exception tree.

Every error a user can see derives from :class:`InterestGraphError`. Messages say what
happened *and* what to do about it; driver and subprocess errors are wrapped at the
boundary with ``raise X(...) from e`` so the cause stays available for debugging.

```
InterestGraphError
├── ConfigError                 a setting is missing or invalid
├── InputError                  an input file, table or argument cannot be used
│   ├── ValidationError         strict mode found bad rows (nothing was written)
│   └── NotFoundError           a user, item or topic id that the graph does not hold
├── LocalServerError            the project-managed Neo4j server
│   ├── PrerequisiteError       Java or Maven missing / too old
│   ├── ServerFetchError        Maven could not supply the server
│   └── ServerStartError        the server did not come up
└── GraphStoreError             talking to a Neo4j server
    ├── GraphUnavailableError   nothing answers at the configured address
    ├── GraphAuthError          the server refused the credentials
    ├── GdsMissingError         the server has no Graph Data Science library
    └── QueryError              the server rejected a query
```
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GdsMissingError",
    "GraphAuthError",
    "GraphStoreError",
    "GraphUnavailableError",
    "InputError",
    "InterestGraphError",
    "LocalServerError",
    "NotFoundError",
    "PrerequisiteError",
    "QueryError",
    "ServerFetchError",
    "ServerStartError",
    "ValidationError",
]


class InterestGraphError(Exception):
    """Base class of every error raised by interestgraph."""


class ConfigError(InterestGraphError):
    """A setting is missing or has an invalid value."""


class InputError(InterestGraphError):
    """An input folder, file or table cannot be used as given."""


class ValidationError(InputError):
    """Strict mode found invalid rows; nothing was written.

    Attributes:
        problems: Every problem found (also written to the rejects file).
        rejects_file: Path of the rejects file, if one was written.
    """

    def __init__(self, message: str, problems: list | None = None, rejects_file: str | None = None):
        super().__init__(message)
        self.problems = problems or []
        self.rejects_file = rejects_file


class NotFoundError(InputError):
    """A user, item or topic id that the graph does not hold."""


class LocalServerError(InterestGraphError):
    """The project-managed local Neo4j server could not be fetched, started or stopped."""


class PrerequisiteError(LocalServerError):
    """A tool the local server needs (Java 17+, Maven) is missing or too old."""


class ServerFetchError(LocalServerError):
    """Maven could not download the Neo4j server artifacts."""


class ServerStartError(LocalServerError):
    """The local server process exited or did not answer in time."""


class GraphStoreError(InterestGraphError):
    """An error while talking to a Neo4j server."""


class GraphUnavailableError(GraphStoreError):
    """No Neo4j server answers at the configured address."""


class GraphAuthError(GraphStoreError):
    """The server refused the configured credentials."""


class GdsMissingError(GraphStoreError):
    """The server has no Graph Data Science library (``gds.version()`` is unknown)."""


class QueryError(GraphStoreError):
    """The server rejected a query (syntax, constraint, type or timeout)."""
