"""The HTTP API's bearer token: from settings, else generated once into ``HOME/api-token``."""

from __future__ import annotations

from pathlib import Path

from interestgraph.config import Settings
from interestgraph.graphstore.credentials import ensure_secret

__all__ = ["api_token", "token_file"]


def token_file(home: Path) -> Path:
    """Path of the generated token file (mode 0600) inside the project home."""
    return Path(home) / "api-token"


def api_token(settings: Settings) -> str:
    """The token clients must send as ``Authorization: Bearer <token>``.

    ``INTERESTGRAPH_API_TOKEN`` wins; otherwise the token in ``HOME/api-token``,
    generated (32 random bytes, mode 0600) the first time.
    """
    if settings.api_token:
        return settings.api_token
    return ensure_secret(token_file(Path(settings.home)), nbytes=32)
