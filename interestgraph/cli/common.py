"""Shared CLI pieces: settings from the context, common options, error handling."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click

from interestgraph.config import Settings
from interestgraph.errors import InterestGraphError
from interestgraph.output import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["F", "format_option", "get_settings", "handle_errors", "synthetic_options"]


def get_settings(ctx: click.Context) -> Settings:
    """The command's settings (environment + ``--home``), built once per invocation."""
    settings = ctx.obj.get("settings")
    if settings is None:
        settings = Settings.from_env(home=ctx.obj.get("home"))
        ctx.obj["settings"] = settings
    return settings


def format_option(fn: F) -> F:
    """Shared ``--format table|json|csv`` option."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)


def synthetic_options(fn: F) -> F:
    """Shared ``--size`` / ``--seed`` options of the synthetic generator."""
    fn = click.option(
        "--seed", type=int, default=7, show_default=True, help="Synthetic data: seed."
    )(fn)
    return click.option(
        "--size",
        type=click.IntRange(min=100),
        default=20_000,
        show_default=True,
        help="Synthetic data: number of purchases.",
    )(fn)


def handle_errors(fn: F) -> F:
    """Turn library errors into clean CLI errors (full cause chain with -v)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InterestGraphError as e:
            if logging.getLogger("interestgraph").isEnabledFor(logging.DEBUG):
                logging.getLogger("interestgraph").exception("failed")
            raise click.ClickException(str(e)) from e

    return wrapper  # type: ignore[return-value]
