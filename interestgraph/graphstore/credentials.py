"""The local server's generated password, kept in a file readable by its owner only (0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["ensure_password", "ensure_secret", "password_file", "read_password", "read_secret"]


def password_file(home: Path) -> Path:
    """Path of the password file inside a local server home."""
    return Path(home) / "neo4j" / "password"


def read_secret(path: Path) -> str | None:
    """The secret stored in ``path``, or ``None`` when there is no such file."""
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def ensure_secret(path: Path, nbytes: int = 24) -> str:
    """Return the secret in ``path``, generating and storing one (mode 0600) if there is none.

    The file is created with ``O_EXCL`` and mode 0600 in one step, so the secret is never
    readable by others, not even briefly. A new secret never starts with ``-`` (a command
    line would read it as an option: ``neo4j-admin`` did, for one start in 64).
    """
    path = Path(path)
    existing = read_secret(path)
    if existing is not None:
        os.chmod(path, 0o600)
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(nbytes)
    while secret.startswith("-"):
        secret = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret


def read_password(home: Path) -> str | None:
    """The stored password, or ``None`` when no local server was ever set up here."""
    return read_secret(password_file(home))


def ensure_password(home: Path) -> str:
    """Return the local server's password, generating it (mode 0600) the first time."""
    return ensure_secret(password_file(home))
