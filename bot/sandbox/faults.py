"""Injected failures: the bad days Telegram has, on demand.

A test registers a fault ("the next 2 sendMessage calls to chat 42 get 429"),
the dispatcher asks :meth:`FaultBook.take` before each Bot API call and acts it
out. Faults without a method never hit getUpdates, so the bot under test keeps
receiving updates while its sends are failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bot.sandbox.errors import ApiError, forbidden, too_many_requests

FAULT_KINDS = ("429", "5xx", "slow", "403", "timeout", "redirect")
REDIRECT = 302


@dataclass
class Fault:
    """One registered fault; ``times`` None means "until cleared"."""

    id: int
    kind: str
    method: str | None = None
    chat_id: int | None = None
    times: int | None = None
    retry_after: int = 1
    status: int = 502
    delay: float | None = None

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is None:
            if method.lower() == "getupdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    @property
    def hold_seconds(self) -> float:
        """How long to hold the request before answering (slow and timeout only)."""
        if self.kind not in ("slow", "timeout"):
            return 0.0
        if self.delay is not None:
            return self.delay
        return 30.0 if self.kind == "timeout" else 1.0

    def error(self) -> ApiError | None:
        """The error answer this fault produces, or None if the call then proceeds.

        A timeout is never performed (the request was lost); a client still waiting
        after the hold gets 504.
        """
        if self.kind == "429":
            return too_many_requests(self.retry_after)
        if self.kind == "5xx":
            return ApiError(self.status, _status_phrase(self.status))
        if self.kind == "403":
            return forbidden("bot was blocked by the user")
        if self.kind == "timeout":
            return ApiError(504, "Gateway Timeout")
        if self.kind == "redirect":  # answered over HTTP as a redirect to the same call
            return ApiError(REDIRECT, "Found")
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "chat_id": self.chat_id,
            "times": self.times,
            "retry_after": self.retry_after,
            "status": self.status,
            "delay": self.delay,
        }


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Internal Server Error"


class FaultBook:
    """Registered faults, consumed in registration order."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        kind = str(spec.get("kind"))
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {kind!r}")
        status = int(spec.get("status") or 502)
        if kind == "5xx" and not 500 <= status <= 599:
            raise ValueError(f"5xx fault status must be 500–599, got {status}")
        times = spec.get("times")
        if times is not None and int(times) < 1:
            raise ValueError("fault times must be at least 1 (omit it for 'until cleared')")
        fault = Fault(
            id=self._next_id,
            kind=kind,
            method=spec.get("method"),
            chat_id=None if spec.get("chat_id") is None else int(spec["chat_id"]),
            times=None if times is None else int(times),
            retry_after=int(spec.get("retry_after") or 1),
            status=status,
            delay=None if spec.get("delay") is None else float(spec["delay"]),
        )
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """The first fault matching this call, using up one of its ``times``."""
        for fault in self._faults:
            if fault.matches(method, chat_id):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self._faults]
