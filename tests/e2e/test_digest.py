"""/digest: the message staff change the digest on always says how it now stands."""

from __future__ import annotations

from datetime import datetime, time

from persiantools.jdatetime import JalaliDate

from bot.i18n.format import TEHRAN
from tests.e2e.harness import buttons
from tests.e2e.timeline import TimeMachine


async def test_the_digest_message_shows_its_new_state_after_every_change(staff) -> None:
    machine = TimeMachine()  # a Thursday in Azar 1405
    machine.travel_to(datetime.combine(JalaliDate(1405, 9, 12).to_gregorian(), time(12), TEHRAN))
    reza = await staff()
    reply = await reza.send("/digest")
    assert "خلاصهٔ پیشرفت غیرفعال است" in reply.text
    message_id = reply.messages[-1]["message_id"]

    reply = await reza.press("هفتگی، برای کمیتهٔ راهبری")
    [shown] = reply.messages
    assert shown["message_id"] == message_id
    text = reply.text
    assert "غیرفعال" not in text
    assert "هفتگی، برای کمیتهٔ راهبری" in text and "شنبه ۱۴ آذر ۱۴۰۵، ساعت ۰۹:۰۰" in text
    assert "✓ هفتگی، برای کمیتهٔ راهبری" in buttons(shown)  # and it can be changed again

    reply = await reza.press("✓ هفتگی، برای کمیتهٔ راهبری")  # again: nothing to change
    assert reply.answer and "همین است" in reply.answer["text"]

    reply = await reza.press("ماهانه، برای همه")
    assert "ماهانه، برای همه" in reply.text and "۱ دی ۱۴۰۵" in reply.text
    assert "✓ ماهانه، برای همه" in buttons(reply.messages[-1])

    reply = await reza.press("توقف خلاصهٔ پیشرفت")
    assert "خلاصهٔ پیشرفت غیرفعال است" in reply.text
    assert not any(label.startswith("✓") for label in buttons(reply.messages[-1]))

    reply = await reza.press("توقف خلاصهٔ پیشرفت")
    assert reply.answer and "همین است" in reply.answer["text"]
    reply = await reza.send("/digest")
    assert "خلاصهٔ پیشرفت غیرفعال است" in reply.text
