"""What a background job's work function is given besides its database session, in its child
process (bot.background.worker): one value, so that a new thing to give reaches every kind of
work without touching each signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Work:
    params: dict[str, Any]
    language: str  # of the staff member who asked
    folder: Path  # the job's own: its files are written here, and sent from here
    progress: Callable[[int, int | None], None]  # (done, total or None)
    early: Callable[[dict[str, Any]], None]  # a part of the result ready before the rest

    def file(self, name: str, data: bytes) -> str:
        """`data` written into the job's folder as `name`; its path, for the result."""
        path = self.folder / name
        path.write_bytes(data)
        return str(path)
