"""The one source of the current time, so tests can move it without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current moment as an aware UTC datetime."""
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (tests); None restores the wall clock."""
    global _now
    _now = source or (lambda: datetime.now(UTC))
