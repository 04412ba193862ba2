"""Whatever a person types, in any conversation state, gets a reply and breaks nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checkins.questions import Kind as CheckinKind
from bot.checkins.questions import Question as CheckinQuestion
from bot.db import create_engine, session_factory, transaction
from bot.groups.models import Group, GroupKind
from bot.surveys.form import Form, Kind, Question
from tests.e2e.harness import BotProcess, Person, buttons
from tests.e2e.timeline import TimeMachine, eventually, group_with_checkin, survey_open_now

PIECES = st.sampled_from(
    list("سلامکگچپژیيكةۀأإؤئءًٌٍَُِّ")
    + list("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩0123456789٫٬،.,-+/<>&\"'")
    + [
        "\u200c",
        "\u200d",
        "\u200e",
        "\u200f",
        "\u202a",
        "\u202b",
        "\u202e",
        "\u2066",
        "\u2069",
        "\ufeff",
        "\u0640",
        " ",
        "\n",
        "\t",
    ]
    + ["😀", "👨‍👩‍👧", "🇮🇷", "❤️", "🏳️‍🌈"]
    + list("abcXYZ_@#")
)
TYPED = st.one_of(
    st.lists(PIECES, min_size=1, max_size=80).map("".join),
    st.text(min_size=1, max_size=40),
    st.sampled_from(
        [
            "/",
            "/start",
            "/start zzz",
            "/cancel",
            "/unknown",
            "/help@hamgam_sandbox_bot",
            "/groups",
            "/staff",
            "۱۲۳۴۵۶۷۸۹",
            "٠",
            "-1",
            "99999999999999999999",
        ]
    ),
    st.builds(lambda char: char * 5000, st.sampled_from(["ب", "۹", "😀", "\u200f", "a"])),
).filter(lambda text: text.strip() != "")

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


Setup = Callable[[Person], Awaitable[None]]


async def at_language_step(someone: Person) -> None:
    await someone.send("/start")


async def at_consent_step(someone: Person) -> None:
    reply = await someone.send("/start")
    if "فارسی" in buttons(reply.messages[-1]):
        await someone.press("فارسی")


async def idle(someone: Person) -> None:
    await someone.send("/cancel")


async def naming_a_group_in_persian(someone: Person) -> None:
    await someone.send("/cancel")
    await someone.send("/newgroup")


async def naming_a_group_in_english(someone: Person) -> None:
    await naming_a_group_in_persian(someone)
    await someone.send("نام")


async def adding_staff(someone: Person) -> None:
    await someone.send("/cancel")
    await someone.send("/staff")
    await someone.press("➕ افزودن کارمند")


async def writing_an_announcement(someone: Person) -> None:
    await someone.send("/cancel")
    await someone.send("/announce")


async def writing_it_in_english(someone: Person) -> None:
    await writing_an_announcement(someone)
    await someone.send("خبر")


async def attaching_to_it(someone: Person) -> None:
    await writing_it_in_english(someone)
    await someone.press("رد شدن: همان متن فارسی")


async def scheduling_it(someone: Person) -> None:
    await attaching_to_it(someone)
    await someone.press("بدون پیوست")
    await someone.press("همه")
    await someone.press("🕒 زمان‌بندی…")


async def check_every_text_is_answered(someone: Person, setup: Setup, text: str) -> None:
    await setup(someone)
    reply = await someone.send(text)
    assert reply.messages, f"no reply to {text[:50]!r}"


@pytest.fixture
def cast() -> dict[str, Person]:
    """The person a fuzz test acts as, made once and kept across Hypothesis examples."""
    return {}


@FUZZ
@given(text=TYPED)
@pytest.mark.parametrize("setup", [at_language_step, at_consent_step], ids=lambda f: f.__name__)
async def test_newcomers(person, bot: BotProcess, cast, setup: Setup, text: str) -> None:
    if "newcomer" not in cast:
        cast["newcomer"] = await person()
    await check_every_text_is_answered(cast["newcomer"], setup, text)
    assert bot.app is not None and bot.app.failures == []


@FUZZ
@given(text=TYPED)
@pytest.mark.parametrize(
    "setup",
    [
        idle,
        naming_a_group_in_persian,
        naming_a_group_in_english,
        adding_staff,
        writing_an_announcement,
        writing_it_in_english,
        attaching_to_it,
        scheduling_it,
    ],
    ids=lambda f: f.__name__,
)
async def test_staff_in_every_state(staff, bot: BotProcess, cast, setup: Setup, text: str) -> None:
    if "staff" not in cast:
        cast["staff"] = await staff()
    await check_every_text_is_answered(cast["staff"], setup, text)
    assert bot.app is not None and bot.app.failures == []


@FUZZ
@given(text=TYPED)
async def test_members_answering_a_check_in(
    staff, resident, bot: BotProcess, cast, database_url: str, text: str
) -> None:
    if "member" not in cast:
        await staff()
        cast["member"] = await resident("مریم")
        await _number_question_for(cast["member"], database_url)
    reply = await cast["member"].send(text)
    assert reply.messages, f"no reply to {text[:50]!r}"
    assert bot.app is not None and bot.app.failures == []


async def _number_question_for(member: Person, database_url: str) -> None:
    """A working group whose check-in asks numbers, due now; waits for the first question."""
    engine = create_engine(database_url)
    many = tuple(
        CheckinQuestion({"fa": f"عدد {n}؟", "en": f"Number {n}?"}, CheckinKind.NUMBER)
        for n in range(30)
    )
    due = await group_with_checkin(session_factory(engine), [member], questions=many)
    await engine.dispose()
    TimeMachine().travel_to(due + timedelta(minutes=1))
    await eventually(lambda: _asked(member))


async def _asked(member: Person) -> bool:
    return any("عدد 0؟" in (m.get("plain_text") or "") for m in await member.inbox())


def editing(*presses: str) -> Setup:
    """Staff at a step of changing check-in #1 from its card."""

    async def setup(someone: Person) -> None:
        await someone.send("/cancel")
        await someone.send("/checkins")
        await someone.press("✏️ شمارهٔ ۱ کارگروه سبز")
        for label in presses:
            await someone.press(label)

    setup.__name__ = "editing_" + "_".join(presses)
    return setup


@FUZZ
@given(text=TYPED)
@pytest.mark.parametrize(
    "setup",
    [
        editing("🕐 ساعت"),
        editing("📅 ماهانه"),
        editing("🌐 منطقهٔ زمانی"),
        editing("⏳ مهلت پاسخ", "همان روز"),
        editing("🔔 یادآوری‌ها"),
        editing("🚫 روزهای بدون نوبت"),
        editing("❓ پرسش‌ها", "➕ افزودن پرسش", "عدد"),
        editing("❓ پرسش‌ها", "➕ افزودن پرسش", "یکی از چند گزینه"),
    ],
    ids=lambda f: f.__name__,
)
async def test_staff_changing_a_check_in(
    staff, bot: BotProcess, cast, database_url: str, setup: Setup, text: str
) -> None:
    if "checkin staff" not in cast:
        cast["checkin staff"] = await staff()
        engine = create_engine(database_url)
        await group_with_checkin(session_factory(engine), [])
        await engine.dispose()
    await check_every_text_is_answered(cast["checkin staff"], setup, text)
    assert bot.app is not None and bot.app.failures == []


async def writing_a_survey(someone: Person) -> None:
    await someone.send("/cancel")
    await someone.send("/newsurvey")
    await someone.press("✍️ نوشتن همین‌جا، پرسش به پرسش")


async def naming_a_survey_in_english(someone: Person) -> None:
    await writing_a_survey(someone)
    await someone.send("نظرسنجی")


def writing_a_question(kind: str) -> Setup:
    async def setup(someone: Person) -> None:
        await naming_a_survey_in_english(someone)
        await someone.send("-")
        await someone.press(kind)
        await someone.send("پرسش")
        await someone.send("-")

    setup.__name__ = f"writing_a_question_{kind}"
    return setup


async def typing_when_a_survey_opens(someone: Person) -> None:
    await writing_a_question("بله یا خیر")(someone)
    await someone.press("اجباری")
    await someone.press("✔️ پایان پرسش‌ها و انتخاب مخاطبان")
    await someone.press("همه")
    await someone.press("🕒 در زمانی که تعیین می‌کنم…")


@FUZZ
@given(text=TYPED)
@pytest.mark.parametrize(
    "setup",
    [
        writing_a_survey,
        naming_a_survey_in_english,
        writing_a_question("یک گزینه"),
        writing_a_question("عدد"),
        typing_when_a_survey_opens,
    ],
    ids=lambda f: f.__name__,
)
async def test_staff_writing_a_survey(
    staff, bot: BotProcess, cast, setup: Setup, text: str
) -> None:
    if "survey staff" not in cast:
        cast["survey staff"] = await staff()
    await check_every_text_is_answered(cast["survey staff"], setup, text)
    assert bot.app is not None and bot.app.failures == []


@FUZZ
@given(text=TYPED)
async def test_residents_answering_a_survey(
    resident, bot: BotProcess, cast, database_url: str, text: str
) -> None:
    if "respondent" not in cast:
        cast["respondent"] = respondent = await resident("مریم")
        engine = create_engine(database_url)
        many = tuple(
            Question(f"n{n}", Kind.NUMBER, {"fa": f"عدد {n}؟"}, required=True) for n in range(60)
        )
        await survey_open_now(session_factory(engine), Form({"fa": "اعداد"}, many), days=1)
        await engine.dispose()
        await eventually(lambda: _invited(respondent))
        await respondent.press("▶️ شروع")
    reply = await cast["respondent"].send(text)
    assert reply.messages, f"no reply to {text[:50]!r}"
    assert bot.app is not None and bot.app.failures == []


async def _invited(someone: Person) -> bool:
    return any("اعداد" in (m.get("plain_text") or "") for m in await someone.inbox())


def planning_a_meeting(*typed: str) -> Setup:
    async def setup(someone: Person) -> None:
        await someone.send("/cancel")
        await someone.send("/newmeeting")
        await someone.press("☐ کارگروه سبز")
        await someone.press("تمام")
        for text in typed:
            await someone.send(text)

    setup.__name__ = f"planning_a_meeting_{len(typed)}"
    return setup


async def typing_where_a_meeting_is(someone: Person) -> None:
    await planning_a_meeting("جلسه", "-", "-", "-", "۱۴۲۰/۰۱/۱۰ ۱۸:۰۰")(someone)
    await someone.press("۶۰ دقیقه")


@FUZZ
@given(text=TYPED)
@pytest.mark.parametrize(
    "setup",
    [
        planning_a_meeting(),
        planning_a_meeting("جلسه", "-"),
        planning_a_meeting("جلسه", "-", "-", "-"),
        typing_where_a_meeting_is,
    ],
    ids=lambda f: f.__name__,
)
async def test_staff_planning_a_meeting(
    staff, bot: BotProcess, cast, database_url: str, setup: Setup, text: str
) -> None:
    if "meeting staff" not in cast:
        cast["meeting staff"] = await staff()
        engine = create_engine(database_url)
        async with transaction(session_factory(engine)) as session:
            session.add(Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه سبز", name_en="Green"))
        await engine.dispose()
    await check_every_text_is_answered(cast["meeting staff"], setup, text)
    assert bot.app is not None and bot.app.failures == []
