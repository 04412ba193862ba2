"""/report for an initiative of 10,000 residents and a year of its life: 20 working groups with
weekly check-ins (52 rounds each) and meetings (the first group's with invitations), 12
announcements to everyone, 4 surveys,
10 indicators reported monthly. Timed as the bot does it: the figures from the database, then
what is delivered (compose_report: the chat's messages, the charts, the HTML page), matplotlib
already imported as after the first /report; with the sizes of what the staff member gets."""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bench.delivery import fresh_sqlite, seed_people
from bot import clock
from bot.checkins.models import Checkin, CheckinParticipant, CheckinRound, Participation
from bot.db import create_engine, session_factory, transaction
from bot.delivery.models import Delivery, DeliveryStatus
from bot.groups.models import Group, GroupKind, Membership
from bot.indicators.models import Indicator, IndicatorValue
from bot.meetings.models import Meeting, MeetingInvitee, Rsvp
from bot.people.models import Person
from bot.surveys.form import Form, Kind, Question
from bot.surveys.models import Survey, SurveyParticipant

RESIDENTS, GROUPS, MEMBERS, WEEKS = 10_000, 20, 25, 52


async def measure(workdir: Path) -> dict[str, float]:
    database_url = await fresh_sqlite(workdir, "report.db")
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        await seed_people(sessions, RESIDENTS)
        await _seed_year(sessions)
        from bot.i18n.words import words
        from bot.reports import summary
        from bot.reports.messages import compose_report

        words("fa")  # the catalog is loaded once, as in the job's child, not in the timing
        timings, composing, composing_cpu = [], [], []
        for _run in range(4):
            began = time.perf_counter()
            async with sessions() as session:
                report = await summary.build(
                    session, clock.now() - timedelta(days=365), clock.now()
                )
            built, built_cpu = time.perf_counter(), time.process_time()
            composed = compose_report(report, "fa")
            timings.append(time.perf_counter() - began)
            composing.append(time.perf_counter() - built)
            composing_cpu.append(time.process_time() - built_cpu)
            chat = sum(len(text) for text in composed.messages)
            document = len(composed.document[0]) if composed.document else 0
            print(
                f"  /report for a year: {timings[-1]:.2f} s (composing {composing[-1]:.2f} s,"
                f" {composing_cpu[-1]:.2f} s of CPU):"
                f" {len(composed.messages)} message(s), {chat:,} characters in the chat,"
                f" a {document:,}-byte page, {len(composed.photos)} charts"
            )
    finally:
        await engine.dispose()
    return {
        "report_10k_residents_s": round(statistics.median(timings[1:]), 3),
        "report_10k_compose_s": round(statistics.median(composing[1:]), 3),
        # CPU time, which a busy machine's other work disturbs less than the wall clock's
        "report_10k_compose_cpu_s": round(statistics.median(composing_cpu[1:]), 3),
        "report_10k_chat_chars": chat,
        "report_10k_document_bytes": document,
    }


async def _seed_year(sessions, people: list[int] | None = None) -> None:  # type: ignore[no-untyped-def]
    """The initiative's year, for `people` (person ids; everyone stored when None)."""
    rng = random.Random(7)
    now = clock.now()
    statuses = [p.value for p in Participation if p is not Participation.ASKED]
    async with transaction(sessions) as session:
        if people is None:
            people = list((await session.scalars(select(Person.id).order_by(Person.id))).all())
        for g in range(GROUPS):
            group = Group(kind=GroupKind.WORKING_GROUP, name_fa=f"کارگروه {g}", name_en=f"G{g}")
            session.add(group)
            await session.flush()
            members = people[g * MEMBERS : (g + 1) * MEMBERS]
            await session.execute(
                insert(Membership), [{"person_id": p, "group_id": group.id} for p in members]
            )
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
            for week in range(WEEKS):
                due = now - timedelta(days=7 * week + 1)
                round_id = await session.scalar(
                    insert(CheckinRound)
                    .values(
                        checkin_id=checkin.id,
                        due_at=due,
                        closes_at=due + timedelta(days=1),
                        status="closed",
                        questions=[],
                        reminders=[],
                        started_at=due,
                    )
                    .returning(CheckinRound.id)
                )
                await session.execute(
                    insert(CheckinParticipant),
                    [
                        {
                            "round_id": round_id,
                            "person_id": p,
                            "status": rng.choice(statuses),
                            "reminders_sent": 0,
                        }
                        for p in members
                    ],
                )
                meeting_id = await session.scalar(
                    insert(Meeting)
                    .values(
                        title={"fa": f"جلسهٔ {g}"},
                        agenda={},
                        starts_at=due,
                        slot_at=due,
                        duration_min=60,
                        timezone="Asia/Tehran",
                        reminders_min=[],
                        series_ended=False,
                        group_ids=[group.id],
                        status="scheduled",
                        sequence=0,
                        created_at=now,
                    )
                    .returning(Meeting.id)
                )
                if g == 0:  # a meeting a week, of the first group
                    await session.execute(
                        insert(MeetingInvitee),
                        [
                            {
                                "meeting_id": meeting_id,
                                "person_id": p,
                                "rsvp": rng.choice(list(Rsvp)).value,
                                "attended": rng.random() < 0.6,
                                "reminders_sent": 0,
                            }
                            for p in members
                        ],
                    )
        for number in range(12):
            await session.execute(
                insert(Delivery),
                [
                    {
                        "key": f"announcement:{number}:{p}",
                        "batch": f"announcement:{number}",
                        "chat_id": p,
                        "person_id": p,
                        "content": {"text": {"fa": "خبر"}},
                        "due_at": now,
                        "status": DeliveryStatus.SENT.value,
                        "attempts": 1,
                        "created_at": now - timedelta(days=30 * number),
                    }
                    for p in people
                ],
            )
        for number in range(4):
            survey = Survey(
                form=Form(  # a question, so that exports of the same database can run
                    {"fa": f"نظرسنجی {number}", "en": f"Survey {number}"},
                    (Question("ok", Kind.YES_NO, {"fa": "راضی هستید؟", "en": "Satisfied?"}),),
                ).to_json(),
                source="bot",
                anonymous=number % 2 == 1,
                audience={"kind": "residents"},
                status="closed",
                opens_at=now - timedelta(days=90 * number + 7),
                closes_at=now - timedelta(days=90 * number),
                opened_at=now - timedelta(days=90 * number + 7),
                created_at=now,
            )
            session.add(survey)
            await session.flush()
            await session.execute(
                insert(Delivery),
                [
                    {
                        "key": f"survey:{survey.id}:{p}:invite",
                        "batch": f"survey:{survey.id}:invite",
                        "chat_id": p,
                        "person_id": p,
                        "content": {"text": {"fa": "دعوت"}},
                        "due_at": now,
                        "status": DeliveryStatus.SENT.value,
                        "attempts": 1,
                        "created_at": now,
                    }
                    for p in people
                ],
            )
            await session.execute(
                insert(SurveyParticipant),
                [
                    {"survey_id": survey.id, "person_id": p, "finished": rng.random() < 0.8}
                    for p in rng.sample(people, 2000)
                ],
            )
        for number in range(10):
            indicator = Indicator(
                name={"fa": f"شاخص {number}"},
                description={},
                unit={"fa": "نفر"},
                baseline="0",
                target="100",
                direction="up",
                frequency="monthly",
                created_at=now,
            )
            session.add(indicator)
            await session.flush()
            await session.execute(
                insert(IndicatorValue),
                [
                    {
                        "indicator_id": indicator.id,
                        "period_start": (now - timedelta(days=30 * month)).date(),
                        "value": str(rng.randint(0, 100)),
                        "source": "report",
                        "reported_at": now,
                    }
                    for month in range(12)
                ],
            )
