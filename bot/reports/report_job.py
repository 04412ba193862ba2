"""/report as a background job's work, in its child process (bot.background.worker): the
figures, composed in the staff member's language, the chat's messages sent on ahead while the
charts are drawn, then the pictures and the document written into the job's folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports import summary
from bot.reports.messages import compose_report


async def report_files(
    session: AsyncSession,
    params: dict[str, Any],
    language: str,
    folder: Path,
    progress: Callable[[int, int | None], None],
    early: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """{"messages", "photos", "document"}: the messages go `early`, as soon as they are made
    (three sends to one chat are a second apart, which the charts' drawing then overlaps)."""
    progress(0, 2)
    report = await summary.build(
        session, datetime.fromisoformat(params["since"]), datetime.fromisoformat(params["until"])
    )
    progress(1, 2)
    composed = compose_report(
        report,
        language,
        lambda messages: early({"messages": messages, "photos": [], "document": None}),
    )
    photos = []
    for number, (png, name) in enumerate(composed.photos):
        path = folder / f"{number}-{name}"
        path.write_bytes(png)
        photos.append([str(path), name])
    document = None
    if composed.document is not None:
        data, name = composed.document
        path = folder / name
        path.write_bytes(data)
        document = [str(path), name]
    progress(2, 2)
    return {"messages": [], "photos": photos, "document": document}
