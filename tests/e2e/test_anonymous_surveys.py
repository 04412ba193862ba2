"""An anonymous survey as someone who reads the database (an operator, a backup) or watches the
staff's views would attack it: finished answers cannot be put back beside their authors, and
what staff see changes only in steps of several responses."""

from __future__ import annotations

import csv
import io
import logging
import random
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.conversations import ConversationState
from bot.db import transaction
from bot.delivery.models import Delivery
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person as PersonRow
from bot.surveys import service as surveys
from bot.surveys.form import Form, Kind, Question
from bot.surveys.models import SurveyAnswer, SurveyParticipant, SurveyResponse
from tests.e2e.harness import BotProcess, Person, Reply, plain
from tests.e2e.timeline import eventually, job_delivered, survey_open_now

PICK = Form(
    {"fa": "پرسش‌نامهٔ عدد", "en": "A number"},
    (
        Question(
            "number",
            Kind.NUMBER,
            {"fa": "یک عدد بنویسید", "en": "Type a number"},
            required=True,
            integer=True,
            minimum=Decimal(1),
            maximum=Decimal(99),
        ),
        Question("meeting", Kind.YES_NO, {"fa": "می‌آیید؟", "en": "Coming?"}, required=True),
    ),
)


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mixing's random source made repeatable, so that the test cannot fail by the tiny
    chance that a shuffle happens to keep the true order."""
    monkeypatch.setattr(surveys, "RANDOM", random.Random(13))


async def invited(someone: Person) -> bool:
    return any("پرسش‌نامهٔ عدد" in plain(m) for m in await someone.inbox())


async def start(someone: Person) -> None:
    await eventually(lambda: invited(someone))
    await someone.press("▶️ شروع")


def correct(responses: Sequence[int], people: Sequence[int]) -> int:
    """How many authors a guess gets right that pairs the k-th response (known by its author,
    which the test alone knows) with the k-th person."""
    return sum(author == guess for author, guess in zip(responses, people, strict=False))


def place(value: Any) -> Any:
    """A position to sort by: a PostgreSQL ctid «(page,tuple)» as numbers, anything else as
    it is."""
    if isinstance(value, str):
        page, tuple_ = value.strip("()").split(",")
        return int(page), int(tuple_)
    return value


async def test_finished_anonymous_responses_cannot_be_relinked_by_any_order(
    resident, bot: BotProcess, sessions, database_url: str, seeded, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    people = [await resident(f"ساکن{n}") for n in range(10)]
    survey_id = await survey_open_now(sessions, PICK, anonymous=True)
    number = {someone.user_id: 11 + n for n, someone in enumerate(people)}  # distinguishable

    async def answer(someone: Person) -> None:
        await someone.send(str(number[someone.user_id]))

    async def finish(someone: Person) -> None:
        reply = await someone.press("بله")
        assert "ذخیره شد" in reply.text

    # A known order, some of it interleaved: 0 and 1 start together and finish crosswise,
    # 2 to 4 start before any of them answers, the rest one after another.
    a, b, c, d, e, *rest = people
    await start(a)
    await start(b)
    await answer(b)
    await answer(a)
    await finish(b)
    await finish(a)
    for someone in (c, d, e):
        await start(someone)
    for someone in (e, c, d):
        await answer(someone)
        await finish(someone)
    for someone in rest:
        await start(someone)
        await answer(someone)
        await finish(someone)

    sqlite = database_url.startswith("sqlite")
    position = "rowid" if sqlite else "ctid::text"
    async with sessions() as session:
        ids = dict((await session.execute(select(PersonRow.telegram_id, PersonRow.id))).all())
        person_of = {ids[someone.user_id]: someone.user_id for someone in people}
        author_of = {
            response_id: next(u for u, n in number.items() if f'"{n}"' == value)
            for response_id, value in await session.execute(
                select(SurveyAnswer.response_id, SurveyAnswer.value).where(
                    SurveyAnswer.question == "number"
                )
            )
        }
        assert len(author_of) == 10

        def responses(rows: Sequence[tuple[Any, int]]) -> list[int]:
            """Authors in the order of these (position, response id) rows, once each."""
            seen: list[int] = []
            for _, response_id in sorted(rows, key=lambda row: place(row[0])):
                if author_of[response_id] not in seen:
                    seen.append(author_of[response_id])
            return seen

        def persons(rows: Sequence[tuple[Any, int]]) -> list[int]:
            """The test's people in the order of these (position, person id) rows, once each."""
            seen: list[int] = []
            for _, person_id in sorted(rows, key=lambda row: place(row[0])):
                if person_id in person_of and person_of[person_id] not in seen:
                    seen.append(person_of[person_id])
            return seen

        async def rows(statement: str) -> list[tuple[Any, int]]:
            return [tuple(row) for row in (await session.execute(text(statement))).all()]

        response_orders = {
            "response id": [author_of[i] for i in sorted(author_of)],
            "survey_response position": responses(
                await rows(f"SELECT {position}, id FROM survey_response")
            ),
            "survey_answer position": responses(
                await rows(f"SELECT {position}, response_id FROM survey_answer")
            ),
            "survey_response as stored": responses(
                list(enumerate((await session.scalars(select(SurveyResponse.id))).all()))
            ),
            "survey_answer as stored": responses(
                list(enumerate((await session.scalars(select(SurveyAnswer.response_id))).all()))
            ),
        }
        person_orders = {
            "as they started": [someone.user_id for someone in (a, b, c, d, e, *rest)],
            "as they finished": [someone.user_id for someone in (b, a, e, c, d, *rest)],
            "person id": persons([(pid, pid) for pid in person_of]),
            "survey_participant position": persons(
                await rows(f"SELECT {position}, person_id FROM survey_participant")
            ),
            "survey_participant as stored": persons(
                list(enumerate((await session.scalars(select(SurveyParticipant.person_id))).all()))
            ),
            "outbox": persons(
                [
                    (row.id, row.person_id)
                    for row in (await session.execute(select(Delivery.id, Delivery.person_id)))
                ]
            ),
        }

        def keyed(key: str) -> int:
            """The person id in a conversation's key («fsm:bot:chat:user:destiny»), or 0."""
            return next(
                (
                    ids[int(part)]
                    for part in key.split(":")
                    if part.isdigit() and int(part) in number
                ),
                0,
            )

        states = await rows(f"SELECT {position}, key FROM conversation_state")
        person_orders["conversation_state position"] = persons(
            [(spot, keyed(key)) for spot, key in states]
        )
        updated = (await session.scalars(select(ConversationState))).all()
        person_orders["conversation_state updated"] = persons(
            [(state.updated_at, keyed(state.key)) for state in updated]
        )
        for state in updated:  # no conversation keeps the response it was about
            assert not any(re.search(rf"\b{r}\b", str(state.data)) for r in author_of)
        participants = (await session.scalars(select(SurveyParticipant))).all()
        assert {p.response_id for p in participants} == {None} and all(
            p.finished for p in participants
        )
    logged = [record.getMessage() for record in caplog.records]
    first_mention: dict[int, int] = {}
    for at, line in enumerate(logged):
        for user_id in number:
            if re.search(rf"\b{user_id}\b", line):
                first_mention.setdefault(user_id, at)
    if len(first_mention) == len(people):
        person_orders["logs"] = sorted(first_mention, key=first_mention.__getitem__)

    truth = [someone.user_id for someone in people]
    assert len(set(truth)) == 10
    for response_name, response_order in response_orders.items():
        assert sorted(response_order) == sorted(truth), response_name
        for person_name, person_order in person_orders.items():
            assert sorted(person_order) == sorted(truth), person_name
            found = correct(response_order, person_order)
            assert found < 5, (
                f"{response_name} × {person_name} re-links {found} of 10 responses"
                f" in survey {survey_id}"
            )
    for line in logged:  # and no log line names a response
        assert not any(re.search(rf"\b{r}\b", line) for r in author_of), line


IDEAS = Form(
    {"fa": "پرسش‌نامهٔ ایده‌ها", "en": "Ideas"},
    (
        Question("idea", Kind.TEXT, {"fa": "ایدهٔ شما؟", "en": "Your idea?"}, required=True),
        Question("meeting", Kind.YES_NO, {"fa": "می‌آیید؟", "en": "Coming?"}, required=True),
    ),
)
# Written in this order; alphabetically «ا» < «ب» < «ت» < «ج» < «د».
WRITTEN = ("جوی آب", "الف: نیمکت", "تابلو", "باغچه", "درخت", "دوچرخه")


async def staff_views(reza: Person, client, sessions) -> tuple[str, str, list[list[str]]]:
    """What staff see of the survey: /results (text, and whether any chart came), /report's
    survey lines, and the survey_responses export."""
    await reza.send("/results")
    pressed = await reza.press("#1 Ideas · open")
    # Reza's own chat: the outbox may be sending an invitation to someone else meanwhile.
    results = Reply([a for a in pressed.actions if a.get("chat_id") == reza.chat_id])
    charts = any(m.get("photo") for m in results.messages)
    await reza.send("/report")
    report = await job_delivered(reza, "The last 30 days", sessions)
    page = next(plain(m) for m in report if "Report" in plain(m))
    surveys_part = page.split("Surveys")[1].split("Announcements")[0]
    await reza.send("/export")
    await reza.press("Survey responses")
    exported = await job_delivered(reza, "CSV", sessions)
    document = next(m for m in exported if m.get("document"))
    data = await client.file_content(document["document"]["file_id"])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return results.text + ("\n[charts]" if charts else ""), surveys_part, rows


async def test_staff_see_an_anonymous_survey_only_in_steps_of_five(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    reza = await staff("Reza", "English")
    people = [await resident(f"ساکن{n}") for n in range(6)]
    async with transaction(sessions) as session:
        for n, someone in enumerate(people):
            row = await session.scalar(
                select(PersonRow).where(PersonRow.telegram_id == someone.user_id)
            )
            assert row is not None
            row.area = "تجریش" if n == 5 else "نارمک"  # the one in Tajrish would stand out
    await survey_open_now(
        sessions,
        IDEAS,
        anonymous=True,
        audience=Audience(AudienceKind.AREAS, areas=("نارمک", "تجریش")),
    )

    async def answers(n: int) -> None:
        someone = people[n]
        await eventually(lambda: invited_to(someone, "پرسش‌نامهٔ ایده‌ها"))
        await someone.press("▶️ شروع")
        await someone.send(WRITTEN[n])
        await someone.press("بله")

    for n in range(3):
        await answers(n)
    three = await staff_views(reza, client, sessions)
    results, report, rows = three
    assert "fewer than 5 so far" in results.lower() and "Response rate" not in results
    assert "[charts]" not in results and not any(text in results for text in WRITTEN)
    assert "Ideas" in report and "fewer than 5 answers so far" in report and "%" not in report
    assert rows[1:] == []  # the header alone

    await answers(3)
    assert await staff_views(reza, client, sessions) == three  # one more answer changes nothing

    await answers(4)
    results, report, rows = await staff_views(reza, client, sessions)
    assert "Answers counted: 5" in results and "[charts]" in results
    assert "Response rate: 5 of 6 (83%)" in results
    assert "By area: نارمک 5 of 5 (100%)" in results and "تجریش" not in results
    places = [results.index(text) for text in sorted(WRITTEN[:5])]
    assert places == sorted(places)  # alphabetical, not in the order they were written
    assert "5 of 6 (83%)" in report and "تجریش" not in report
    header, *data = rows
    assert len(data) == 10  # five responses, two answers each
    response = header.index("Response")
    ids = [int(row[response]) for row in data]
    assert ids == sorted(ids) and len(set(ids)) == 5  # by the random id, nothing else
    times = [i for i, name in enumerate(header) if "Answered at" in name]
    assert all(row[i] == "" for row in data for i in times)
    assert sorted(row[header.index("Answer")] for row in data if row[1] != "") == sorted(
        [*WRITTEN[:5], *["Yes"] * 5]
    )


async def invited_to(someone: Person, title: str) -> bool:
    return any(title in plain(m) for m in await someone.inbox())
