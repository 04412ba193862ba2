"""Telegram's sending limits, measured (and optionally enforced) over sliding windows.

Telegram does not publish exact rules; the bot's delivery worker is written
against "about 30 messages/s overall, 1/s per chat, 20/min per group". The
emulator counts every successful send that breaks one of these windows, so a
test can assert that a broadcast stayed within them, and with ``enforce`` it
answers 429 like Telegram would.

An album (sendMediaGroup) counts as one send in every window. Telegram does not say how
it counts one; bots send albums of ten to a private chat without a 429, which counting
each file against one message a second would forbid. Reports of a 429 inside an album
("failed to send message #1 … Too Many Requests") suggest that a busy group's quota
may count the files; that is not modelled.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Limits:
    """Allowed sending rates; ``enforce`` turns violations into 429 answers."""

    global_per_s: float = 30  # messages per second overall (sliding 1 s window)
    chat_per_s: float = 1  # per private chat (sliding 1 s window), plus chat_burst
    chat_burst: int = 1
    group_per_min: float = 20  # per group/supergroup chat (sliding 60 s window)
    enforce: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Limits:
        """A copy with the known fields of ``changes`` applied (unknown keys are an error)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown limit fields: {sorted(unknown)}")
        values = self.to_json()
        for key, value in changes.items():
            values[key] = _COERCE.get(key, float)(value)
        return Limits(**values)


_COERCE: dict[str, Callable[[Any], Any]] = {"chat_burst": int, "enforce": bool}


@dataclass(frozen=True)
class Verdict:
    """Outcome of checking one send against the limits."""

    violated: tuple[str, ...]  # subset of ("global", "chat", "group")
    retry_after: int  # seconds until every violated window frees a slot

    @property
    def ok(self) -> bool:
        return not self.violated


class RateMeter:
    """Sliding-window counters for sends: overall, per private chat, per group."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self.violations = {"global": 0, "chat": 0, "group": 0}
        self._global: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    def check(self, chat_id: int, is_group: bool) -> Verdict:
        """Count violations a send to ``chat_id`` now would cause (records nothing else)."""
        now = self.clock()
        windows = [("global", self._global, 1.0, self.limits.global_per_s)]
        chat_window = self._per_chat.setdefault(chat_id, deque())
        if is_group:
            windows.append(("group", chat_window, 60.0, self.limits.group_per_min))
        else:
            capacity = self.limits.chat_per_s + self.limits.chat_burst
            windows.append(("chat", chat_window, 1.0, capacity))
        violated: list[str] = []
        wait = 0.0
        for name, stamps, span, capacity in windows:
            while stamps and stamps[0] <= now - span:
                stamps.popleft()
            if len(stamps) + 1 > capacity:
                violated.append(name)
                self.violations[name] += 1
                wait = max(wait, _time_to_free(stamps, span, capacity, now))
        return Verdict(tuple(violated), max(1, math.ceil(wait)))

    def record(self, chat_id: int) -> None:
        """Remember a successful send."""
        now = self.clock()
        self._global.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)


def _time_to_free(stamps: deque[float], span: float, capacity: float, now: float) -> float:
    """Seconds until enough stamps leave the window for one more send to fit."""
    if capacity < 1:
        return span
    may_keep = math.floor(capacity - 1)
    must_expire = len(stamps) - may_keep
    return stamps[must_expire - 1] + span - now
