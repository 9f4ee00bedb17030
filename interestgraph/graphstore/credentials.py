"""The local server's generated password, kept in a file readable by its owner only (0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["ensure_password", "password_file", "read_password"]


def password_file(home: Path) -> Path:
    """Path of the password file inside a local server home."""
    return Path(home) / "neo4j" / "password"


def read_password(home: Path) -> str | None:
    """The stored password, or ``None`` when no local server was ever set up here."""
    path = password_file(home)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def ensure_password(home: Path) -> str:
    """Return the stored password, generating and storing one (mode 0600) if there is none.

    The file is created with ``O_EXCL`` and mode 0600 in one step, so the secret is never
    readable by others, not even briefly.
    """
    existing = read_password(home)
    if existing is not None:
        os.chmod(password_file(home), 0o600)
        return existing
    path = password_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    return password
