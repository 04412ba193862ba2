"""What the bot did: a numbered action log and call statistics.

Tests assert on behaviour ("after Maryam pressed Yes the bot edited the
question and answered the press"), so every Bot API call that changes
something is journaled with a sequence number, the parameters, the outcome and
a snapshot of the message it touched.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendPoll"})
ACTION_METHODS = SEND_METHODS | {
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "stopPoll",
    "pinChatMessage",
    "unpinChatMessage",
    "unpinAllChatMessages",
    "leaveChat",
    "setMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
}


class ActionLog:
    """Bot actions in call order; sequence numbers keep growing across resets."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.last_seq = 0

    def record(
        self,
        *,
        method: str,
        chat_id: int | None,
        params: dict[str, Any],
        result: Any,
        error: dict[str, Any] | None,
        message: dict[str, Any] | None,
        album: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        self.last_seq += 1
        entry = {
            "seq": self.last_seq,
            "time": time.time(),
            "method": method,
            "chat_id": chat_id,
            "ok": error is None,
            "params": params,
            "result": result,
            "error": error,
            "message": message,  # an album's first message
            "album": album,  # all of an album's messages (sendMediaGroup), else None
        }
        self.entries.append(entry)
        return entry

    def since(self, seq: int) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry["seq"] > seq]

    def between(self, after: int, upto: int) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if after < entry["seq"] <= upto]

    def sent(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["ok"] and e["method"] in SEND_METHODS]

    def clear(self) -> None:
        self.entries.clear()


class Stats:
    """Counters for /sandbox/stats."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.sent = 0

    def count_call(self, method: str) -> None:
        """Counted on arrival, so a long poll in progress already shows."""
        self.calls[method] += 1

    def count_outcome(self, method: str, error_code: int | None) -> None:
        if error_code is not None:
            self.errors[error_code] += 1
        elif method in SEND_METHODS:
            self.sent += 1

    def to_json(self, violations: dict[str, int]) -> dict[str, Any]:
        return {
            "violations": dict(violations),
            "calls": dict(self.calls),
            "sent": self.sent,
            "errors": {str(code): n for code, n in self.errors.items()},
        }
