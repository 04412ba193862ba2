"""A workbook that costs far more to read than it weighs is refused with a clear reason, and
nobody else waits meanwhile: it is measured before parsing and parsed in a child process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bot.surveys.models import Survey
from tests.e2e.harness import Person, plain
from tests.workbooks import many_rows, zip_bomb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _upload_while_a_resident_asks_for_help(
    staff_member: Person, resident: Person, workbook: bytes
) -> tuple[list[str], float, list[float]]:
    """The staff member's replies to the upload, how long it took, and how long each /help
    the resident sent meanwhile waited for its reply."""
    started = time.monotonic()
    upload = asyncio.create_task(
        staff_member.client.send_message(
            staff_member.user_id,
            chat_id=staff_member.chat_id,
            document=("form.xlsx", workbook, XLSX),
            wait_timeout=40,
        )
    )
    waits = []
    while not waits or not upload.done():
        sent = time.monotonic()
        reply = await resident.send("/help")
        waits.append(time.monotonic() - sent)
        assert "/privacy" in reply.text or "/leave" in reply.text, reply.text
    result = await upload
    texts = [plain(action["message"]) for action in result["actions"] if action.get("message")]
    return texts, time.monotonic() - started, waits


@pytest.mark.parametrize(
    ("workbook", "reason"),
    [
        # 200,000 rows in 66 KB: refused from the zip's directory, for unpacking to 293 times that
        (lambda: many_rows(200_000, alike=True), "پس از خارج شدن از حالت فشرده ۲۹۳ برابر می‌شود"),
        # 15,000 rows in 220 KB, 2.6 MB unpacked: refused for its rows, counted in the child
        (lambda: many_rows(15_000), "برگهٔ «survey»: بیش از ۱۰٬۰۰۰ ردیف دارد"),
    ],
    ids=["200000 rows alike", "15000 rows"],
)
async def test_a_workbook_of_many_small_rows_is_refused_quickly_while_residents_are_answered(
    staff, resident, bot, sessions, workbook: Callable[[], bytes], reason: str
) -> None:
    reza, maryam = await staff(), await resident()
    content = workbook()
    assert len(content) < 250_000
    texts, took, waits = await _upload_while_a_resident_asks_for_help(reza, maryam, content)
    assert any("فایل وارد نشد" in text and reason in text for text in texts), texts
    assert took < 10, took  # reading it used to hold everything up for 15 s and more
    assert max(waits) < 2, waits
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Survey)) == 0


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(staff, resident, bot, sessions) -> None:
    reza, maryam = await staff("Reza", "English"), await resident()
    bomb = zip_bomb(200 * 1024 * 1024)  # 200 MB of sheet XML in about 200 KB
    texts, took, waits = await _upload_while_a_resident_asks_for_help(reza, maryam, bomb)
    assert any(
        "The file was not imported" in text
        and "unpacked, the workbook is larger than 20 MB" in text
        for text in texts
    ), texts
    assert took < 5 and max(waits) < 2, (took, waits)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Survey)) == 0
