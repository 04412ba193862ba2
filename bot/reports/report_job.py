"""/report as a background job's work, in its child process (bot.background.worker): the
figures, composed in the staff member's language, the chat's messages sent on ahead while the
charts are drawn, then the pictures and the document written into the job's folder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.background.work import Work
from bot.reports import summary
from bot.reports.messages import compose_report


async def report_files(session: AsyncSession, work: Work) -> dict[str, Any]:
    """{"messages", "photos", "document"}: the messages go `early`, as soon as they are made
    (three sends to one chat are a second apart, which the charts' drawing then overlaps)."""
    work.progress(0, 2)
    report = await summary.build(
        session,
        datetime.fromisoformat(work.params["since"]),
        datetime.fromisoformat(work.params["until"]),
    )
    work.progress(1, 2)
    composed = compose_report(
        report,
        work.language,
        lambda messages: work.early({"messages": messages, "photos": [], "document": None}),
    )
    photos = [
        [work.file(f"{number}-{name}", png), name]
        for number, (png, name) in enumerate(composed.photos)
    ]
    document = None
    if composed.document is not None:
        data, name = composed.document
        document = [work.file(name, data), name]
    work.progress(2, 2)
    return {"messages": [], "photos": photos, "document": document}
