"""Composing, scheduling, starting, following and cancelling announcements."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, clock
from bot.announcements.models import Announcement, AnnouncementStatus
from bot.delivery import outbox
from bot.delivery.content import Content, Media
from bot.delivery.models import DeliveryStatus
from bot.delivery.outbox import Outgoing
from bot.groups.models import Group
from bot.i18n.normalize import normalize_text
from bot.people import audience as audiences
from bot.people.audience import Audience

TEXT_MAX = 4096
CAPTION_MAX = 1024  # Telegram's limit for the text under a photo or document


class TextProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


class TextError(ValueError):
    def __init__(self, problem: TextProblem, limit: int) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.limit = limit


def clean_text(raw: str, with_media: bool) -> str:
    """An announcement's text as it will be stored, or TextError saying what is wrong."""
    text = normalize_text(raw)
    limit = CAPTION_MAX if with_media else TEXT_MAX
    if not text:
        raise TextError(TextProblem.EMPTY, limit)
    if len(text) > limit:
        raise TextError(TextProblem.TOO_LONG, limit)
    return text


def compose(
    text_fa: str | None, text_en: str | None, media: dict[str, Any] | None, pin: bool = False
) -> Content:
    """What readers receive: the staff's plain text made safe for Telegram's HTML."""
    texts = {
        language: escape(text) for language, text in (("fa", text_fa), ("en", text_en)) if text
    }
    return Content(text=texts, media=Media(**media) if media else None, pin=pin)


def content_of(announcement: Announcement, pin: bool = False) -> Content:
    return compose(announcement.text_fa, announcement.text_en, announcement.media, pin)


async def create(
    session: AsyncSession,
    author_id: int | None,
    text_fa: str | None,
    text_en: str | None,
    audience: Audience,
    media: Media | None = None,
    scheduled_at: datetime | None = None,
    post_in_group_chats: bool = False,
) -> Announcement:
    announcement = Announcement(
        author_id=author_id,
        text_fa=text_fa,
        text_en=text_en,
        media=asdict(media) if media else None,
        audience=audience.to_json(),
        post_in_group_chats=post_in_group_chats,
        scheduled_at=scheduled_at or clock.now(),
        status=AnnouncementStatus.SCHEDULED,
    )
    session.add(announcement)
    await session.flush()
    audit.record(
        session,
        author_id,
        "announcement.create",
        f"announcement:{announcement.id}",
        audience=audience.to_json(),
        scheduled_at=announcement.scheduled_at.isoformat(),
    )
    return announcement


async def start_due(session: AsyncSession, now: datetime) -> list[Announcement]:
    """Announcements whose time has come become outbox rows, once: the status changes in the
    same transaction as the rows are added, and the rows' keys are unique."""
    due = (
        await session.scalars(
            select(Announcement)
            .where(
                Announcement.status == AnnouncementStatus.SCHEDULED,
                Announcement.scheduled_at <= now,
            )
            .order_by(Announcement.scheduled_at, Announcement.id)
        )
    ).all()
    for announcement in due:
        content = content_of(announcement)
        people = (
            await session.execute(audiences.recipients(Audience.from_json(announcement.audience)))
        ).all()
        rows = [
            Outgoing(
                f"{announcement.batch}:p{person_id}",
                telegram_id,
                content,
                person_id=person_id,
                batch=announcement.batch,
            )
            for person_id, telegram_id, _language in people
        ]
        if announcement.post_in_group_chats:
            pinned = content_of(announcement, pin=True)
            chats = await session.scalars(select(Group.chat_id).where(Group.chat_id.is_not(None)))
            rows += [
                Outgoing(
                    f"{announcement.batch}:c{chat_id}",
                    chat_id,
                    pinned,
                    language="both",
                    batch=announcement.batch,
                )
                for chat_id in chats
            ]
        await outbox.enqueue(session, rows)
        announcement.recipients = len(rows)
        announcement.status = AnnouncementStatus.SENDING
        announcement.started_at = now
    return list(due)


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    unreachable: int
    skipped: int

    @property
    def finished(self) -> int:
        return self.sent + self.failed + self.unreachable + self.skipped

    @property
    def done(self) -> bool:
        return self.finished >= self.total


async def progress(session: AsyncSession, announcement: Announcement) -> Progress:
    statuses = await outbox.counts(session, announcement.batch)
    total = announcement.recipients if announcement.recipients is not None else 0
    return Progress(
        total=max(total, sum(statuses.values())),
        sent=statuses[DeliveryStatus.SENT],
        failed=statuses[DeliveryStatus.FAILED],
        unreachable=statuses[DeliveryStatus.UNREACHABLE],
        skipped=statuses[DeliveryStatus.SKIPPED],
    )


async def sending(session: AsyncSession) -> list[Announcement]:
    return list(
        await session.scalars(
            select(Announcement).where(Announcement.status == AnnouncementStatus.SENDING)
        )
    )


def finish(announcement: Announcement) -> None:
    announcement.status = AnnouncementStatus.DONE
    announcement.finished_at = clock.now()


async def cancel(session: AsyncSession, announcement_id: int, actor_id: int | None) -> bool:
    """A scheduled announcement is never sent; one being sent stops where it is."""
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None or announcement.status not in (
        AnnouncementStatus.SCHEDULED,
        AnnouncementStatus.SENDING,
    ):
        return False
    await outbox.cancel(session, announcement.batch)
    announcement.status = AnnouncementStatus.CANCELLED
    announcement.finished_at = clock.now()
    audit.record(session, actor_id, "announcement.cancel", f"announcement:{announcement.id}")
    return True


async def recent(session: AsyncSession, limit: int = 10) -> list[tuple[Announcement, Progress]]:
    announcements = (
        await session.scalars(
            select(Announcement)
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(limit)
        )
    ).all()
    return [(announcement, await progress(session, announcement)) for announcement in announcements]
