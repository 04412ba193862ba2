"""The bot's update queue, shared by getUpdates and webhook delivery.

Besides queueing, it knows when an update was *handled*: a later getUpdates
confirmed it (offset > update_id) or its webhook POST returned. Control calls
wait on that to make tests deterministic, and use the action-log sequence
numbers stamped at delivery and handling to report what the bot did in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Telegram's default when allowed_updates is unset or empty.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
KEEP_SENT = 10_000  # updates remembered for redelivery


@dataclass(eq=False)
class PendingUpdate:
    """An update waiting for the bot, plus the bookkeeping of its handling."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    handled: asyncio.Event = field(default_factory=asyncio.Event)
    delivered_seq: int | None = None
    handled_seq: int | None = None
    # A second delivery of an update the bot already had (see UpdateQueue.redeliver).
    repeated: bool = False


class UpdateQueue:
    """Pending updates in order; wakes long polls and the webhook deliverer on change."""

    def __init__(self, action_seq: Callable[[], int]):
        self._action_seq = action_seq
        self._last_update_id = 0
        self.pending: list[PendingUpdate] = []
        self.sent: dict[int, PendingUpdate] = {}
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0  # bumps on every getUpdates, to end an older long poll
        self._wake = asyncio.Event()

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_BY_DEFAULT

    def push(self, kind: str, obj: dict[str, Any]) -> PendingUpdate | None:
        """Queue an update; None when allowed_updates filters it out (Telegram drops it)."""
        if not self.accepts(kind):
            return None
        self._last_update_id += 1
        update = PendingUpdate(
            self._last_update_id, kind, {"update_id": self._last_update_id, kind: obj}
        )
        self.pending.append(update)
        self.sent[update.update_id] = update
        if len(self.sent) > KEEP_SENT:
            del self.sent[next(iter(self.sent))]
        self.notify()
        return update

    def redeliver(self, update_id: int) -> PendingUpdate | None:
        """Queue an update the bot already had once more, with its own update_id, as Telegram
        does when a webhook's answer was slow or failed, or when a polling bot stopped before
        confirming it; None when no such update was sent."""
        first = self.sent.get(update_id)
        if first is None:
            return None
        again = PendingUpdate(update_id, first.kind, first.payload, repeated=True)
        self.pending.append(again)
        self.notify()
        return again

    def batch(self, limit: int) -> list[PendingUpdate]:
        return self.pending[:limit]

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates offset: earlier updates count as handled and leave the queue."""
        if offset < 0:
            keep = self.pending[offset:]
            self._finish([u for u in self.pending if u not in keep])
        else:
            # A repeated update lies below offsets the bot has already sent: only an offset
            # sent after the bot fetched it confirms it.
            self._finish(
                [
                    u
                    for u in self.pending
                    if u.update_id < offset and (not u.repeated or u.delivered_seq is not None)
                ]
            )

    def mark_delivered(self, updates: list[PendingUpdate]) -> None:
        seq = self._action_seq()
        for update in updates:
            if update.delivered_seq is None:
                update.delivered_seq = seq

    def mark_handled(self, update: PendingUpdate) -> None:
        self._finish([update])

    def drop_pending(self) -> None:
        """drop_pending_updates / reset: forget the queue and release anyone waiting."""
        self._finish(list(self.pending))

    def clear(self) -> None:
        """Back to a fresh bot (update ids keep growing, as a restarted bot expects)."""
        self.drop_pending()
        self.sent.clear()
        self.allowed_updates = None

    def notify(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    async def wait_change(self, within: float | None) -> None:
        """Sleep until the queue or its delivery settings change, or ``within`` s pass."""
        wake = self._wake
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), within)

    def _finish(self, updates: list[PendingUpdate]) -> None:
        seq = self._action_seq()
        for update in updates:
            with contextlib.suppress(ValueError):
                self.pending.remove(update)
            if update.handled.is_set():
                continue
            if update.delivered_seq is None:
                update.delivered_seq = seq
            update.handled_seq = seq
            update.handled.set()
