"""Telegram's sending limits as a schedule of moments: about 30 messages a second overall,
one a second in a private chat, twenty a minute in a group chat, and a full stop when Telegram
says to wait (429). Real time (monotonic seconds), because the limits are Telegram's."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    per_second: float = 30.0
    chat_interval_s: float = 1.05  # a little over Telegram's second, so jitter stays inside it
    group_interval_s: float = 3.05  # twenty a minute
    # Even spacing keeps every one-second window under the limit, whatever the latency jitter;
    # the 5% left over absorbs a send held back by a busy event loop (on SQLite the database
    # runs on the loop: bot/sqlite.py) and then leaving right before the next one.
    headroom: float = 0.95


@dataclass
class Pace:
    limits: Limits = field(default_factory=Limits)
    _next_global: float = 0.0
    _next_chat: dict[int, float] = field(default_factory=dict)
    # Chats receiving the later parts of a long message: nothing else may come between them.
    _held: set[int] = field(default_factory=set)
    paused_until: float = 0.0

    def interval(self, chat_id: int) -> float:
        return self.limits.group_interval_s if chat_id < 0 else self.limits.chat_interval_s

    def chat_free_at(self, chat_id: int) -> float:
        return self._next_chat.get(chat_id, 0.0)

    def busy_chats(self, now: float) -> dict[int, float]:
        """Chats that may not receive yet, with the moment they may; forgets the others."""
        self._next_chat = {chat: t for chat, t in self._next_chat.items() if t > now}
        busy = dict(self._next_chat)
        for chat in self._held:
            busy[chat] = max(busy.get(chat, now), now) + self.interval(chat)
        return busy

    def reserve(self, chat_id: int, now: float) -> float | None:
        """The moment the next message, to this chat, may leave (the caller waits until then),
        or None when this chat must wait longer than everyone else."""
        moment = max(now, self.paused_until, self._next_global)
        if chat_id in self._held or self.chat_free_at(chat_id) > moment:
            return None
        return self._take(chat_id, moment)

    def _take(self, chat_id: int, moment: float) -> float:
        self._next_global = moment + 1.0 / (self.limits.per_second * self.limits.headroom)
        self._next_chat[chat_id] = moment + self.interval(chat_id)
        return moment

    def hold(self, chat_id: int) -> None:
        """A message in several parts is under way to this chat: no other message is given a
        moment there until `release`."""
        self._held.add(chat_id)

    def release(self, chat_id: int) -> None:
        self._held.discard(chat_id)

    def next_part(self, chat_id: int, now: float) -> float | None:
        """The moment the next part of a held chat's message may leave, or None while the
        chat's own interval (or Telegram's wait) still runs: call again when it is over, so
        that the overall schedule is not taken up in advance."""
        if max(self.chat_free_at(chat_id), self.paused_until) > now:
            return None
        return self._take(chat_id, max(now, self._next_global))

    def pause(self, seconds: float, now: float) -> None:
        """Telegram's 429: nothing leaves until the wait is over."""
        self.paused_until = max(self.paused_until, now + seconds)


MAX_ATTEMPTS = 5
# 429s are Telegram pacing us, not failures; still, not forever: a row answered with 429 this
# many times in a row fails (after at least this many of Telegram's waits, a second or more).
MAX_RATE_LIMITED = 20


def backoff_s(attempts: int) -> float:
    """Waiting after a 5xx or a timeout: 1, 2, 4, 8 … seconds, at most a minute."""
    return float(min(60, 2 ** max(0, attempts - 1)))
