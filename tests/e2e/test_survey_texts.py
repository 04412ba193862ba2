"""What a survey says, read as a resident and as staff: an answer given with a button stays
visible, a hint fits its question, «optional» is said once, and the staff's preview shows each
language once with every limit a reader will meet."""

from __future__ import annotations

import pytest

from bot.surveys.templates import READINESS
from tests.e2e.harness import BotProcess, buttons, plain
from tests.e2e.test_surveys import NEIGHBOURHOOD, invited
from tests.e2e.timeline import eventually, survey_open_now


@pytest.mark.parametrize("transport", ["polling", "webhook"], indirect=True)
async def test_a_button_answer_stays_on_its_question_as_a_tick(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await resident("مریم")
    await survey_open_now(sessions, NEIGHBOURHOOD)
    await eventually(lambda: invited(maryam))
    await maryam.press("▶️ شروع")
    reply = await maryam.press("شمال")
    answered, following = reply.messages[0], reply.messages[-1]
    assert "محلهٔ شما کجاست؟" in plain(answered) and plain(answered).endswith("✓ شمال")
    assert buttons(answered) == [] and "۲ از ۶" in plain(following)
    await maryam.press("☐ پارک")
    await maryam.press("☐ امنیت")
    reply = await maryam.press("✔️ تمام")
    assert plain(reply.messages[0]).endswith("✓ پارک، امنیت")
    reply = await maryam.press("۴")
    assert plain(reply.messages[0]).endswith("✓ ۴")
    await maryam.send("۳۴")
    reply = await maryam.press("رد شدن ⏭")
    assert "پیشنهادی دارید؟" in plain(reply.messages[0])
    assert plain(reply.messages[0]).endswith("⏭ رد شد")
    answered = [plain(message) for message in await maryam.inbox() if " از ۶" in plain(message)]
    assert [text.rsplit("\n", 1)[-1] for text in answered[:5]] == [
        "✓ شمال",
        "✓ پارک، امنیت",
        "✓ ۴",
        "عددی از ۰ تا ۱۲۰ بنویسید.",  # typed: the answer is in the chat already
        "⏭ رد شد",
    ]


async def test_the_readiness_survey_says_optional_once_and_hints_within_its_scale(
    resident, bot: BotProcess, sessions
) -> None:
    maryam = await resident("مریم")
    await survey_open_now(sessions, READINESS)
    await eventually(lambda: invited(maryam))
    reply = await maryam.press("▶️ شروع")
    while "چه چیز دیگری" not in reply.text:
        question = reply.messages[-1]
        if "۱ یعنی اصلاً" in plain(question):  # a scale of 1 to 5
            refused = await maryam.send("زیاد")
            assert "۱ تا ۵" in refused.text and "۱۲" not in refused.text
        reply = await maryam.press(buttons(question)[0])
    assert reply.text.count("اختیاری") == 1


async def test_the_survey_preview_has_one_heading_per_language_and_the_number_limits(
    staff, bot: BotProcess
) -> None:
    reza = await staff()
    await reza.send("/newsurvey")
    await reza.press("✍️ نوشتن همین‌جا، پرسش به پرسش")
    await reza.send("پارک محله")
    await reza.send("Neighbourhood park")
    await reza.press("عدد")
    await reza.send("چند بار در هفته؟")
    await reza.send("How many times a week?")
    await reza.send("۰-۱۴")
    await reza.press("اجباری")
    await reza.press("✔️ پایان پرسش‌ها و انتخاب مخاطبان")
    await reza.press("همه")
    await reza.press("همین حالا")
    await reza.press("پس از ۳ روز")
    reply = await reza.press("👤 با نام (کارکنان می‌بینند چه کسی چه پاسخی داده)")
    persian = next(text for text in reply.texts if "Neighbourhood park" not in text)
    english = next(text for text in reply.texts if "Neighbourhood park" in text)
    assert reply.text.count("پیش‌نمایش برای خوانندگان فارسی") == 1
    assert reply.text.count("پیش‌نمایش برای خوانندگان انگلیسی") == 1
    assert "Preview for" not in reply.text  # the heading is in the staff's language
    assert "۰ تا ۱۴" in persian and "0 to 14" in english
