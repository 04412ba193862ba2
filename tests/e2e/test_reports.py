"""/report for staff: every figure matches what the database holds, for a generated
initiative; nobody else gets it, and never in a group chat."""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal

from persiantools.jdatetime import JalaliDate
from PIL import Image
from sqlalchemy import func, select

from bot import clock
from bot.checkins.models import Checkin, CheckinParticipant, CheckinRound, Participation
from bot.db import transaction
from bot.delivery.models import Delivery, DeliveryStatus
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.indicators import service as indicators
from bot.indicators.models import Direction, Source
from bot.indicators.models import Frequency as IndicatorFrequency
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, MeetingInvitee, Rsvp
from bot.people.models import Person as PersonRow
from bot.surveys.models import Survey, SurveyParticipant
from tests.e2e.harness import BotProcess, plain
from tests.e2e.timeline import TimeMachine, eventually, job_delivered

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(number: int) -> str:
    return f"{number:,}".replace(",", "٬").translate(PERSIAN)


async def generate(sessions, seed: int = 5) -> None:
    """Three working groups of eight, each with a weekly check-in and eight closed rounds,
    announcement deliveries in every status, and two meetings with RSVPs and attendance."""
    rng = random.Random(seed)
    now = clock.now()
    async with transaction(sessions) as session:
        people = [
            PersonRow(
                telegram_id=900_000 + n,
                display_name=f"ساکن {n}",
                area="نارمک" if n % 3 else "تجریش",
                language="fa",
                consented_at=now,
                role_grants=[],
                tag_links=[],
            )
            for n in range(24)
        ]
        session.add_all(people)
        await session.flush()
        for g in range(3):
            group = Group(kind=GroupKind.WORKING_GROUP, name_fa=f"کارگروه {g}", name_en=f"G{g}")
            session.add(group)
            await session.flush()
            members = people[g * 8 : g * 8 + 8]
            session.add_all(Membership(person_id=p.id, group_id=group.id) for p in members)
            checkin = Checkin(
                group_id=group.id,
                schedule={"at": "18:00", "weekdays": [5]},
                window={"days_after": 1, "at": "20:00", "reminders_after_min": []},
                questions=[],
                summary_to="staff",
                paused=False,
                created_at=now,
                active_since=now,
            )
            session.add(checkin)
            await session.flush()
            for week in range(8):
                due = now - timedelta(days=7 * week + 2)
                round_ = CheckinRound(
                    checkin_id=checkin.id,
                    due_at=due,
                    closes_at=due + timedelta(days=1),
                    status="closed",
                    questions=[],
                    reminders=[],
                    started_at=due,
                )
                session.add(round_)
                await session.flush()
                session.add_all(
                    CheckinParticipant(
                        round_id=round_.id,
                        person_id=p.id,
                        reminders_sent=0,
                        status=rng.choice(list(Participation)[1:]).value,
                    )
                    for p in members
                )
            meeting = Meeting(
                title={"fa": f"جلسهٔ {g}"},
                agenda={},
                starts_at=now - timedelta(days=3 + g),
                slot_at=now - timedelta(days=3 + g),
                duration_min=60,
                place=None,
                link=None,
                timezone="Asia/Tehran",
                reminders_min=[],
                recurrence=None,
                series_ended=False,
                group_ids=[group.id],
                status="scheduled",
                sequence=0,
                created_at=now,
            )
            session.add(meeting)
            await session.flush()
            session.add_all(
                MeetingInvitee(
                    meeting_id=meeting.id,
                    person_id=p.id,
                    reminders_sent=0,
                    rsvp=rng.choice(list(Rsvp)).value,
                    attended=rng.random() < 0.6,
                )
                for p in members
            )
        statuses = (
            [DeliveryStatus.SENT] * 30
            + [DeliveryStatus.UNREACHABLE] * 4
            + [DeliveryStatus.SKIPPED] * 3
        )
        session.add_all(
            Delivery(
                key=f"announcement:1:{n}",
                batch="announcement:1",
                chat_id=900_000 + n,
                content={"text": {"fa": "خبر"}},
                due_at=now,
                status=status.value,
                attempts=1,
                created_at=now - timedelta(days=1),
            )
            for n, status in enumerate(statuses)
        )
        survey = Survey(
            form={"title": {"fa": "نظرسنجی محله"}, "questions": []},
            source="bot",
            anonymous=False,
            audience={"kind": "everyone"},
            status="closed",
            opens_at=now - timedelta(days=10),
            closes_at=now - timedelta(days=3),
            opened_at=now - timedelta(days=10),
            created_at=now,
        )
        session.add(survey)
        await session.flush()
        session.add_all(
            Delivery(
                key=f"survey:{survey.id}:{p.id}:invite",
                batch=f"survey:{survey.id}:invite",
                chat_id=p.telegram_id,
                person_id=p.id,
                content={"text": {"fa": "دعوت"}},
                due_at=now,
                status="sent",
                attempts=1,
                created_at=now,
            )
            for p in people
        )
        session.add_all(
            SurveyParticipant(survey_id=survey.id, person_id=p.id, finished=rng.random() < 0.5)
            for p in rng.sample(people, 16)
        )
        people[0].opted_out_at = now - timedelta(days=2)


async def test_every_figure_of_the_report_matches_the_database(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff()
    await generate(sessions)
    await reza.send("/report")
    report = await job_delivered(reza, "۳۰ روز گذشته", sessions)
    page = next(plain(m) for m in report if "گزارش" in plain(m))

    async with sessions() as session:
        since = clock.now() - timedelta(days=30)
        for g in range(3):
            statuses = Counter(
                dict(
                    (
                        await session.execute(
                            select(CheckinParticipant.status, func.count())
                            .join(CheckinRound, CheckinRound.id == CheckinParticipant.round_id)
                            .join(Checkin, Checkin.id == CheckinRound.checkin_id)
                            .join(Group, Group.id == Checkin.group_id)
                            .where(Group.name_fa == f"کارگروه {g}", CheckinRound.due_at >= since)
                            .group_by(CheckinParticipant.status)
                        )
                    ).all()
                )
            )
            done = statuses["answered"] + statuses["no_update"]
            owed = sum(statuses.values()) - statuses["away"]
            rounds = await session.scalar(
                select(func.count(CheckinRound.id))
                .join(Checkin, Checkin.id == CheckinRound.checkin_id)
                .join(Group, Group.id == Checkin.group_id)
                .where(Group.name_fa == f"کارگروه {g}", CheckinRound.due_at >= since)
            )
            assert f"کارگروه {g}: {fa(done)} از {fa(owed)}" in page, g
            assert f"{fa(rounds)} نوبت" in page
            invitees = (
                await session.execute(
                    select(MeetingInvitee.rsvp, MeetingInvitee.attended)
                    .join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
                    .where(Meeting.title["fa"].as_string() == f"جلسهٔ {g}")
                )
            ).all()
            yes = sum(rsvp == "yes" for rsvp, _a in invitees)
            came = sum(bool(a) for _r, a in invitees)
            assert f"{fa(yes)} نفر می‌آیند" in page
            assert f"{fa(came)} نفر از {fa(len(invitees))} نفر آمدند" in page
    async with sessions() as session:
        finished = {
            person_id
            for person_id, done in await session.execute(
                select(SurveyParticipant.person_id, SurveyParticipant.finished)
            )
            if done
        }
        areas = dict((await session.execute(select(PersonRow.id, PersonRow.area))).all())
        groups = dict(
            (await session.execute(select(Membership.person_id, Membership.group_id))).all()
        )
    assert f"نظرسنجی محله: {fa(len(finished))} از ۲۴" in page
    for area in ("تجریش", "نارمک"):
        people = [p for p, a in areas.items() if a == area]
        done = sum(p in finished for p in people)
        assert f"{area} {fa(done)} از {fa(len(people))}" in page
    for g, group_id in enumerate(sorted(set(groups.values()))):
        members = [p for p, group in groups.items() if group == group_id]
        done = sum(p in finished for p in members)
        assert f"کارگروه {g} {fa(done)} از {fa(len(members))}" in page
    assert "از ۳۷ پیام، ۳۰ پیام رسید؛ ۴ نفر در دسترس نبودند، ۳ پیام فرستاده نشد" in page
    assert "۱ نفر در این دوره دریافت پیام را متوقف کردند" in page
    photos = [m for m in report if m.get("photo")]
    # participation, the survey's response rate, announcement reach, RSVPs, attendance
    assert len(photos) == 5
    for photo in photos:
        png = await client.file_content(photo["photo"][-1]["file_id"])
        assert Image.open(io.BytesIO(png)).size == (1200, 700)


async def test_the_first_report_shows_the_rsvps_of_a_meeting_to_come_and_its_charts(
    staff, resident, bot: BotProcess, client, sessions, tmp_path
) -> None:
    """A new initiative: no round has closed yet, one meeting is coming and people answered
    its invitation, one indicator has a value."""
    reza = await staff()
    maryam, neda, sara = await resident("مریم"), await resident("ندا"), await resident("سارا")
    starts = clock.now() + timedelta(days=4)
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green")
        session.add(group)
        await session.flush()
        ids = []
        for someone in (maryam, neda, sara):
            person_id = await session.scalar(
                select(PersonRow.id).where(PersonRow.telegram_id == someone.user_id)
            )
            assert person_id is not None
            ids.append(person_id)
            session.add(Membership(person_id=person_id, group_id=group.id))
        await session.flush()
        meeting, _invitees = await meetings.create(
            session,
            title={"fa": "جلسهٔ کارگروه سبز", "en": "Green group"},
            agenda={},
            starts_at=starts,
            duration_min=60,
            place=None,
            link=None,
            timezone="Asia/Tehran",
            group_ids=[group.id],
            author_id=None,
        )
        indicator = await indicators.create(
            session,
            name={"fa": "درختان کاشته‌شده", "en": "Trees planted"},
            description={},
            unit={"fa": "درخت", "en": "trees"},
            baseline=Decimal(0),
            target=Decimal(100),
            direction=Direction.UP,
            frequency=IndicatorFrequency.MONTHLY,
            group_id=group.id,
            author_id=None,
        )
        await indicators.report(
            session,
            indicator,
            Decimal(40),
            period=indicators.period_start(IndicatorFrequency.MONTHLY, indicators.today()),
            source=Source.CLI,
            person_id=None,
        )
        await meetings.answer(session, meeting.id, ids[0], Rsvp.YES)
        await meetings.answer(session, meeting.id, ids[1], Rsvp.NO)

    await reza.send("/report")
    report = await job_delivered(reza, "۳۰ روز گذشته", sessions)
    page = next(plain(m) for m in report if "گزارش" in plain(m))
    meetings_part = page.split("جلسه‌ها")[1].split("شاخص‌ها")[0]
    assert "جلسهٔ کارگروه سبز" in meetings_part
    assert "۱ نفر می‌آیند" in meetings_part and "۱ نفر نمی‌آیند" in meetings_part
    assert "۱ نفر هنوز پاسخ نداده‌اند" in meetings_part
    photos = [m for m in report if m.get("photo")]
    assert len(photos) == 2  # the invitation's answers, the indicator's progress
    for n, photo in enumerate(photos):
        png = await client.file_content(photo["photo"][-1]["file_id"])
        (tmp_path / f"report-{n}.png").write_bytes(png)
        assert Image.open(io.BytesIO(png)).size == (1200, 700)


async def test_nobody_else_gets_the_report(staff, resident, bot: BotProcess, client) -> None:
    reza = await staff()
    maryam = await resident("مریم")
    reply = await maryam.send("/report")
    assert "سازمان پشتیبان" in reply.text and "گزارش" not in reply.text
    forged = await maryam.tap("rep:30d", (await maryam.last())["message_id"])
    assert forged.answer is not None and "سازمان پشتیبان" in forged.answer["text"]
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    reply = await reza.send("/report", chat_id=chat["id"])
    assert not any("گزارش" in plain(m) for m in reply.messages)


async def test_the_weekly_digest_reaches_the_committee_once(
    staff, resident, bot: BotProcess, sessions
) -> None:
    machine = TimeMachine()  # a Thursday in Azar 1405
    machine.travel_to(datetime.combine(JalaliDate(1405, 9, 12).to_gregorian(), time(12), TEHRAN))
    reza = await staff()
    maryam, neda = await resident("مریم"), await resident("ندا")
    async with transaction(sessions) as session:
        committee = Group(kind=GroupKind.STEERING_COMMITTEE, name_fa="کمیته راهبری", name_en="SC")
        session.add(committee)
        await session.flush()
        maryam_id = await session.scalar(
            select(PersonRow.id).where(PersonRow.telegram_id == maryam.user_id)
        )
        session.add(Membership(person_id=maryam_id, group_id=committee.id))
    reply = await reza.send("/digest")
    assert "غیرفعال" in reply.text
    reply = await reza.press("هفتگی، برای کمیتهٔ راهبری")
    assert reply.answer is not None and "شنبه ۱۴ آذر ۱۴۰۵، ساعت ۰۹:۰۰" in reply.answer["text"]

    saturday = datetime.combine(JalaliDate(1405, 9, 14).to_gregorian(), time(9, 1), TEHRAN)
    machine.travel_to(saturday)

    async def digested(someone) -> int:
        return sum("خلاصهٔ پیشرفت" in plain(m) for m in await someone.inbox())

    await eventually(lambda: _at_least(digested, maryam, 1))
    await bot.restart()
    await asyncio.sleep(1.5)
    assert await digested(maryam) == 1 and await digested(neda) == 0
    reply = await reza.send("/digest")
    assert "۲۱ آذر ۱۴۰۵" in reply.text  # the next Saturday


async def _at_least(count, someone, times: int) -> bool:
    return await count(someone) >= times


async def test_exports_go_to_staff_in_private_only(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    reza = await staff()
    maryam = await resident("مریم")
    await generate(sessions)
    await reza.send("/export")
    await reza.press("جلسه‌ها و حضور")
    sent = await job_delivered(reza, "Excel (XLSX)", sessions)
    document = next(m for m in sent if m.get("document"))
    assert "۲۴ ردیف" in plain(document)
    book = load_workbook(io.BytesIO(await client.file_content(document["document"]["file_id"])))
    assert book.active.sheet_view.rightToLeft
    await reza.send("/export")
    await reza.press("پیام‌های فرستاده‌شده")
    async with sessions() as session:  # what the file will hold: sent before it was made
        stored = await session.scalar(select(func.count()).select_from(Delivery))
    sent = await job_delivered(reza, "CSV", sessions)
    document = next(m for m in sent if m.get("document"))
    data = await client.file_content(document["document"]["file_id"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1 + stored

    reply = await maryam.send("/export")
    assert "سازمان پشتیبان" in reply.text and not any(m.get("document") for m in reply.messages)
    chat = await client.create_chat("کارگروه سبز", "supergroup")
    await client.set_bot_status(chat["id"], by_user_id=reza.user_id, status="administrator")
    reply = await reza.send("/export", chat_id=chat["id"])
    assert not any(m.get("document") or "کدام داده" in plain(m) for m in reply.messages)


async def seed_meetings(sessions, count: int) -> None:
    """`count` meetings of one working group in the last days, each a line in the report, their
    titles with characters that would be markup."""
    now = clock.now()
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green")
        session.add(group)
        await session.flush()
        session.add_all(
            Meeting(
                title={"fa": f"جلسهٔ شمارهٔ {n} <&>", "en": f"Meeting number {n} <&>"},
                agenda={},
                starts_at=now - timedelta(hours=3 * n + 1),
                slot_at=now - timedelta(hours=3 * n + 1),
                duration_min=60,
                timezone="Asia/Tehran",
                reminders_min=[],
                series_ended=False,
                group_ids=[group.id],
                status="scheduled",
                sequence=0,
                created_at=now,
            )
            for n in range(count)
        )


async def test_a_report_longer_than_a_message_arrives_whole_in_messages(
    staff, bot: BotProcess, client, sessions
) -> None:
    """Two messages' worth: all of it in the chat, cut between sections only."""
    reza = await staff()
    await generate(sessions)
    await seed_meetings(sessions, 24)  # over one message; the meetings' section within one
    await reza.send("/report")
    inbox = await job_delivered(reza, "۳۰ روز گذشته", sessions)
    parts = [plain(m) for m in inbox if m.get("text")]
    assert "📊" in parts[0] and len([m for m in inbox if m.get("photo")]) >= 4
    assert 2 <= len(parts) <= 3 and not any(m.get("document") for m in inbox)
    assert all(len(part) <= 4096 for part in parts)
    # Each section whole in one message: the meetings' from its heading to its last line.
    meetings = next(part for part in parts if "جلسه‌ها\n" in part)
    for n in range(24):
        assert f"جلسهٔ شمارهٔ {n} <&> (" in meetings
    for heading in ("پیگیری‌های دوره‌ای", "پرسش‌نامه‌ها", "اطلاعیه‌ها", "جلسه‌ها", "شاخص‌ها"):
        assert (
            sum(f"{heading}" in part.split("\n\n")[0] or f"\n\n{heading}" in part for part in parts)
            == 1
        ), heading


async def test_a_city_sized_report_arrives_as_a_summary_and_a_page(
    staff, bot: BotProcess, client, sessions
) -> None:
    """Too long for a few messages: the totals in the chat, every meeting in the page."""
    reza = await staff()
    await generate(sessions)
    await seed_meetings(sessions, 200)
    await reza.send("/report")
    summary_message, document, *photos = await job_delivered(reza, "۳۰ روز گذشته", sessions)
    text = plain(summary_message)
    assert len(text) < 4096 and "مورد دیگر در فایل" in text and "فایل زیر" in text
    assert document["document"]["file_name"].startswith("hamgam-report-14")
    assert len(photos) >= 4 and all(m.get("photo") for m in photos)
    page = (await client.file_content(document["document"]["file_id"])).decode("utf-8")
    assert '<html lang="fa" dir="rtl">' in page
    for n in range(200):
        assert f"جلسهٔ شمارهٔ {n} &lt;&amp;&gt;<" in page
    assert page.count("data:image/png;base64,") == len(photos)
