"""What staff read in English carries English punctuation and digits only, even where figures
are listed for several areas and working groups (Persian sets them apart with «؛»)."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.db import transaction
from bot.groups.models import Group, GroupKind, Membership
from bot.people.audience import Audience, AudienceKind
from bot.people.models import Person as PersonRow
from bot.surveys.form import Form, Kind, Question
from tests.e2e.harness import BotProcess, Person, plain
from tests.e2e.timeline import eventually, job_delivered, survey_open_now

PERSIAN_SIGNS = re.compile("[؛،٫٬٪؟۰-۹٠-٩]")
FORM = Form(
    {"fa": "پرسش‌نامهٔ محله", "en": "Neighbourhood"},
    (Question("coming", Kind.YES_NO, {"fa": "می‌آیید؟", "en": "Coming?"}, required=True),),
)


async def invited(someone: Person) -> bool:
    return any("Neighbourhood" in plain(message) for message in await someone.inbox())


async def test_english_results_and_report_carry_no_persian_punctuation(
    staff, resident, bot: BotProcess, sessions
) -> None:
    reza = await staff("Reza", "English")
    people = [await resident(f"Resident {n}", "en", "English") for n in range(4)]
    async with transaction(sessions) as session:
        groups = [
            Group(kind=GroupKind.WORKING_GROUP, name_fa=f"کارگروه {g}", name_en=f"Group {g}")
            for g in range(2)
        ]
        session.add_all(groups)
        await session.flush()
        for n, someone in enumerate(people):
            row = await session.scalar(
                select(PersonRow).where(PersonRow.telegram_id == someone.user_id)
            )
            assert row is not None
            row.area = ("North", "South")[n % 2]
            session.add(Membership(person_id=row.id, group_id=groups[n % 2].id))
    await survey_open_now(
        sessions, FORM, audience=Audience(AudienceKind.AREAS, areas=("North", "South"))
    )
    for someone in people[:3]:
        await eventually(lambda someone=someone: invited(someone))
        await someone.press("▶️ Start")
        await someone.press("Yes")

    await reza.send("/results")
    shown = await job_delivered(reza, "#1 Neighbourhood · open", sessions)
    results = "\n".join(plain(message) for message in shown)
    await reza.send("/report")
    delivered = await job_delivered(reza, "The last 30 days", sessions)
    report = "\n".join(plain(message) for message in delivered)
    for text in (results, report):
        assert "By area: " in text and "By working group: " in text
        assert "(100%); " in text or "(50%); " in text  # between two places' figures
        assert not PERSIAN_SIGNS.search(text), text
