from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit.models import AuditEntry


def record(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    **details: Any,
) -> None:
    """Add an audit entry to the caller's transaction, so it lands only if the action does."""
    session.add(AuditEntry(actor_id=actor_id, action=action, target=target, details=details))
