"""Long staff work as background jobs: /export and /report answer at once, show progress in
the staff member's message and deliver through the outbox, while residents are answered;
a file too large for Telegram goes zipped, or is refused before the work starts; a restart
mid-job runs it again and delivers once; a job that fails says so."""

from __future__ import annotations

import asyncio
import io
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.background import child
from bot.background.models import BackgroundJob, JobStatus
from bot.delivery.models import Delivery
from bot.people.audience import Audience, AudienceKind
from bot.reports import export_job
from tests.e2e.harness import BotProcess, buttons, inbox_has, plain
from tests.e2e.test_reports import generate
from tests.e2e.test_surveys import NEIGHBOURHOOD
from tests.e2e.timeline import eventually, job_delivered, jobs_over, survey_open_now

WORKER = (sys.executable, "-m", "bot.background.worker")


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Children wait at this gate, before any work, until the file exists: the test decides
    when a job may go on, instead of racing it."""
    path = tmp_path / "gate"
    script = f'while [ ! -e "{path}" ]; do sleep 0.05; done; exec "$0" -m bot.background.worker'
    monkeypatch.setattr(child, "COMMAND", ("sh", "-c", script, sys.executable))
    return path


async def job_status(sessions) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(BackgroundJob.status)))


async def running(sessions) -> bool:
    return await job_status(sessions) == [JobStatus.RUNNING]


async def test_an_export_is_a_job_with_progress_while_residents_are_answered(
    staff, resident, bot: BotProcess, client, sessions, gate: Path
) -> None:
    reza, maryam = await staff(), await resident("مریم")
    await generate(sessions)
    await reza.send("/export")
    await reza.press("پیام‌های فرستاده‌شده")
    reply = await reza.press("CSV")
    assert "در حال آماده کردن «پیام‌های فرستاده‌شده»" in reply.text and "CSV" in reply.text
    progress = reply.messages[-1]["message_id"]
    await eventually(lambda: running(sessions))  # the child waits at the gate

    answer = await maryam.send("/help")
    assert answer.text  # answered while the export's child holds
    assert await running(sessions)
    assert not any(m.get("document") for m in await reza.inbox())

    await asyncio.to_thread(gate.touch)
    await eventually(lambda: jobs_over(sessions), within_s=120)
    document = next(m for m in await reza.inbox() if m.get("document"))
    assert document["document"]["file_name"].endswith(".csv") and "ردیف" in plain(document)
    shown = next(m for m in await reza.inbox() if m["message_id"] == progress)
    assert "۱۰۰٪" in plain(shown)


async def test_a_restart_mid_job_runs_it_again_and_delivers_once(
    staff, bot: BotProcess, sessions, gate: Path
) -> None:
    reza = await staff()
    await generate(sessions)
    await reza.send("/export")
    await reza.press("جلسه‌ها و حضور")
    await reza.press("CSV")
    await eventually(lambda: running(sessions))
    await bot.restart()  # the child is stopped, the job queued for the new start
    await eventually(lambda: running(sessions))
    await asyncio.to_thread(gate.touch)
    await eventually(lambda: jobs_over(sessions), within_s=120)
    documents = [m for m in await reza.inbox() if m.get("document")]
    assert len(documents) == 1 and "۲۴ ردیف" in plain(documents[0])
    async with sessions() as session:
        job = await session.scalar(select(BackgroundJob))
        assert job is not None and job.status == JobStatus.DONE and job.attempts == 1
        sent = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.batch == f"job:{job.id}")
        )
    assert sent == 1


async def test_a_csv_too_large_for_telegram_arrives_zipped(
    staff, bot: BotProcess, client, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    reza = await staff("Reza", "English")
    await generate(sessions)
    # 61 messages sent: about 10 KB of CSV, a ZIP of under 2 KB.
    monkeypatch.setattr(export_job, "FILE_LIMIT", 5000)
    await reza.send("/export")
    await reza.press("Messages sent")
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Delivery))
    reply = await reza.press("CSV")
    assert "it will arrive here as a ZIP of the CSV file" in reply.text  # said before
    sent = await job_delivered_after(reza, sessions)
    document = next(m for m in sent if m.get("document"))
    assert document["document"]["file_name"].endswith(".csv.zip")
    assert "The CSV file is inside the ZIP" in plain(document)
    archive = zipfile.ZipFile(
        io.BytesIO(await client.file_content(document["document"]["file_id"]))
    )
    (name,) = archive.namelist()
    assert name.endswith(".csv")
    assert len(archive.read(name).decode("utf-8-sig").splitlines()) == 1 + stored


async def job_delivered_after(someone, sessions) -> list[dict]:
    await eventually(lambda: jobs_over(sessions), within_s=120)
    return await someone.inbox()


async def test_an_export_too_large_even_zipped_is_refused_before_it_starts(
    staff, bot: BotProcess, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    reza = await staff("Reza", "English")
    await generate(sessions)
    monkeypatch.setattr(export_job, "FILE_LIMIT", 1000)
    await reza.send("/export")
    await reza.press("Messages sent")
    reply = await reza.press("CSV")
    assert "too large for Telegram even compressed" in reply.text
    assert "hamgam export deliveries --format csv" in reply.text
    assert await job_status(sessions) == []  # no work was started


async def test_a_staff_member_who_forgets_leaves_no_job_that_leads_back(
    staff, bot: BotProcess, sessions
) -> None:
    reza = await staff("Reza", "English")
    await generate(sessions)
    await reza.send("/export")
    await reza.press("Messages sent")
    await reza.press("CSV")
    await job_delivered_after(reza, sessions)
    assert await job_status(sessions) == [JobStatus.DONE]
    await reza.send("/forget")
    reply = await reza.press("🗑 Yes, delete my data")
    assert "Your personal data has been deleted" in reply.text
    async with sessions() as session:
        chats = list(await session.scalars(select(BackgroundJob.chat_id)))
    assert reza.chat_id not in chats and chats == []


async def test_a_failed_job_is_reported(
    staff, bot: BotProcess, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        child, "COMMAND", (sys.executable, "-c", "import sys; sys.exit('the disk is full')")
    )
    reza = await staff()
    await reza.send("/report")
    sent = await job_delivered(reza, "۳۰ روز گذشته", sessions)
    assert [plain(m) for m in sent] == ["ساختن گزارش ممکن نشد. لطفاً کمی بعد دوباره امتحان کنید."]
    async with sessions() as session:
        job = await session.scalar(select(BackgroundJob))
    assert job is not None and job.status == JobStatus.FAILED
    assert job.error is not None and "the disk is full" in job.error


async def test_a_reports_messages_go_ahead_of_its_charts_and_once_after_a_restart(
    staff, bot: BotProcess, sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat's messages leave while the charts are being drawn (held here at a gate); a
    restart then runs the job again, and they are not sent twice."""
    gate = tmp_path / "charts"
    script = (
        "import pathlib, time\n"
        "from bot.background import worker\n"
        "from bot.reports import messages\n"
        "draw = messages.report_charts\n"
        "def held(*args):\n"
        f"    while not pathlib.Path({str(gate)!r}).exists():\n"
        "        time.sleep(0.05)\n"
        "    return draw(*args)\n"
        "messages.report_charts = held\n"
        "worker.main()\n"
    )
    monkeypatch.setattr(child, "COMMAND", (sys.executable, "-c", script))
    reza = await staff()
    await generate(sessions)
    await reza.send("/report")
    await reza.press("۳۰ روز گذشته")
    await eventually(lambda: inbox_has(reza, "📊 گزارش"))  # the charts wait at the gate
    assert await running(sessions)
    assert not any(m.get("photo") for m in await reza.inbox())

    await bot.restart()  # the child is stopped; the job runs again and says it all again
    await eventually(lambda: running(sessions))
    await asyncio.to_thread(gate.touch)
    await eventually(lambda: jobs_over(sessions), within_s=120)
    inbox = await reza.inbox()
    assert sum("📊 گزارش" in plain(m) for m in inbox) == 1
    first = next(n for n, m in enumerate(inbox) if "📊 گزارش" in plain(m))
    photos = [n for n, m in enumerate(inbox) if m.get("photo")]
    assert photos and min(photos) > first
    assert await job_status(sessions) == [JobStatus.DONE]


async def test_survey_results_are_a_job_while_residents_are_answered(
    staff, resident, bot: BotProcess, sessions, gate: Path
) -> None:
    """/results: the survey's button answers at once with a progress message, and the list
    stays to pick another; the figures come once the job's child has counted them."""
    reza, maryam = await staff(), await resident("مریم")
    await survey_open_now(sessions, NEIGHBOURHOOD, audience=Audience(AudienceKind.RESIDENTS))
    picker = await reza.send("/results")
    [survey] = buttons(picker.messages[-1])
    reply = await reza.press(survey)
    assert "در حال شمردن پاسخ‌های" in reply.text
    progress = reply.messages[-1]["message_id"]
    await eventually(lambda: running(sessions))  # the child waits at the gate

    assert (await maryam.send("/help")).text  # answered while the job's child holds
    assert [m["message_id"] for m in await reza.inbox()][-1] == progress

    await asyncio.to_thread(gate.touch)
    await eventually(lambda: jobs_over(sessions), within_s=120)
    inbox = await reza.inbox()
    figures = [m for m in inbox if m["message_id"] > progress]
    assert "نفر دعوت‌شده" in plain(figures[0])
    shown = next(m for m in inbox if m["message_id"] == progress)
    assert "در پیام‌های بعدی است" in plain(shown)
    assert buttons(next(m for m in inbox if m["message_id"] == picker.messages[-1]["message_id"]))


async def test_checkins_answer_with_the_list_and_participation_follows(
    staff, resident, bot: BotProcess, client, sessions, gate: Path
) -> None:
    """/checkins: the list with its buttons at once; each check-in's participation, a read
    over all its rounds' participants, and the chart come from a background job."""
    reza, maryam = await staff(), await resident("مریم")
    await generate(sessions)
    reply = await reza.send("/checkins")
    assert "تا لحظه‌ای دیگر می‌رسد" in reply.text and "✏️ شمارهٔ ۱" in " ".join(
        buttons(reply.messages[-1])
    )
    assert not any(m.get("photo") for m in reply.messages)
    await eventually(lambda: running(sessions))

    assert (await maryam.send("/help")).text

    await asyncio.to_thread(gate.touch)
    await eventually(lambda: jobs_over(sessions), within_s=120)
    [chart] = [m for m in await reza.inbox() if m["message_id"] > reply.messages[-1]["message_id"]]
    assert "مشارکت در پیگیری‌های دوره‌ای" in plain(chart) and "٪" in plain(chart)
    png = await client.file_content(chart["photo"][-1]["file_id"])
    assert png.startswith(b"\x89PNG")


async def test_checkins_without_a_closed_round_start_no_job(
    staff, bot: BotProcess, sessions
) -> None:
    reza = await staff()
    reply = await reza.send("/checkins")
    assert "هنوز پیگیری دوره‌ای" in reply.text and "لحظه‌ای دیگر" not in reply.text
    assert await job_status(sessions) == []
