"""No resident waits behind another: different people's updates are handled at once, each
person's in the order they sent them, by polling as by a webhook; and a bot stopped with
updates in flight loses none and handles none twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.people import service as people
from bot.people.models import Person as PersonRow
from bot.surveys.form import Form, Kind, Question
from bot.surveys.models import SurveyAnswer, SurveyResponse
from tests.e2e.harness import BotProcess, Person, plain
from tests.e2e.timeline import eventually, survey_open_now

pytestmark = pytest.mark.parametrize("transport", ["polling", "webhook"], indirect=True)

QUESTIONS = 8
FORM = Form(
    {"fa": "نظرسنجی محله", "en": "Neighbourhood survey"},
    tuple(
        Question(f"n{n}", Kind.NUMBER, {"fa": f"عدد {n}؟", "en": f"Number {n}?"}, required=True)
        for n in range(QUESTIONS)
    ),
)


class Gate:
    """Holds one person's updates at their first step (finding who sent them, a service every
    update calls) until the test opens it: handling them is slow, deterministically."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, telegram_id: int) -> None:
        self.reached = asyncio.Event()
        self.open = asyncio.Event()
        arrive = people.arrive

        async def held(session: Any, someone: int, *args: Any, **kwargs: Any) -> Any:
            if someone == telegram_id and not self.open.is_set():
                self.reached.set()
                await self.open.wait()
            return await arrive(session, someone, *args, **kwargs)

        monkeypatch.setattr(people, "arrive", held)


def grows(someone: Person, than: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await someone.inbox()) > than

    return check


async def test_a_resident_is_answered_while_another_ones_update_is_still_being_handled(
    resident, bot: BotProcess, client, monkeypatch
) -> None:
    maryam = await resident("مریم")
    neda = await resident("ندا")
    help_text = (await neda.send("/help")).text
    assert help_text
    gate = Gate(monkeypatch, maryam.user_id)
    maryam_had, neda_had = len(await maryam.inbox()), len(await neda.inbox())

    # Not waiting for "handled": polling confirms nothing past Maryam's unfinished update.
    await client.send_message(maryam.user_id, "/help", wait=False)
    await asyncio.wait_for(gate.reached.wait(), 10)
    await client.send_message(neda.user_id, "/help", wait=False)
    await eventually(grows(neda, neda_had))

    assert plain((await neda.inbox())[-1]) == help_text
    assert len(await maryam.inbox()) == maryam_had  # still being handled
    gate.open.set()
    await eventually(grows(maryam, maryam_had))
    assert plain((await maryam.inbox())[-1]) == help_text


async def answers_of(sessions, someone: Person) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(SurveyAnswer.question, SurveyAnswer.value)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(PersonRow, PersonRow.id == SurveyResponse.person_id)
            .where(PersonRow.telegram_id == someone.user_id)
            .order_by(SurveyAnswer.position)
        )
        return [(row.question, row.value) for row in rows]


async def test_each_persons_quick_burst_is_handled_in_the_order_they_sent_it(
    resident, bot: BotProcess, client, sessions
) -> None:
    maryam = await resident("مریم")
    neda = await resident("ندا")
    await survey_open_now(sessions, FORM, days=1)
    for someone in (maryam, neda):
        await eventually(lambda someone=someone: _invited(someone))
        await someone.press("▶️ شروع")
    # Both type every answer at once, one after another, without waiting for a reply.
    for n in range(QUESTIONS):
        await client.send_message(maryam.user_id, str(10 + n), wait=False)
        await client.send_message(neda.user_id, str(50 + n), wait=False)

    async def both_answered() -> bool:
        stored = [await answers_of(sessions, someone) for someone in (maryam, neda)]
        return all(len(answers) == QUESTIONS for answers in stored)

    await eventually(both_answered)
    typed = range(QUESTIONS)
    assert await answers_of(sessions, maryam) == [(f"n{n}", f'"{10 + n}"') for n in typed]
    assert await answers_of(sessions, neda) == [(f"n{n}", f'"{50 + n}"') for n in typed]


async def _invited(someone: Person) -> bool:
    return any("نظرسنجی محله" in plain(m) for m in await someone.inbox())
