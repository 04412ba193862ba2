from __future__ import annotations

from typing import Any

from sqlalchemy import update
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


async def forget(session: AsyncSession, person_id: int) -> None:
    """/forget: entries about the person keep what was done but not its details (their Telegram
    id, area, tags), and a refused attempt keeps the role it needed, not what they typed."""
    await session.execute(
        update(AuditEntry).where(AuditEntry.target == f"person:{person_id}").values(details={})
    )
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id == person_id, AuditEntry.action == "denied")
        .values(target=None)
    )
