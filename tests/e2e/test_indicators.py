"""Shared measurement: staff define an indicator, members of the owning group report values
(corrections keep history), everyone sees /progress with a chart; only staff see who
reported what."""

from __future__ import annotations

import io
from datetime import datetime, time

from persiantools.jdatetime import JalaliDate
from PIL import Image
from sqlalchemy import select

from bot.db import transaction
from bot.groups.models import Group, GroupKind, Membership
from bot.i18n.format import TEHRAN
from bot.indicators.models import Indicator, IndicatorValue
from bot.people.models import Person as PersonRow
from tests.e2e.harness import BotProcess, buttons
from tests.e2e.timeline import TimeMachine


async def test_define_report_correct_and_see_progress(
    staff, resident, bot: BotProcess, client, sessions
) -> None:
    machine = TimeMachine()  # in the middle of Azar 1405
    machine.travel_to(datetime.combine(JalaliDate(1405, 9, 15).to_gregorian(), time(12), TEHRAN))
    reza = await staff()
    maryam, neda = await resident("مریم"), await resident("ندا")
    async with transaction(sessions) as session:
        group = Group(kind=GroupKind.WORKING_GROUP, name_fa="کارگروه صندوق", name_en="Fund")
        session.add(group)
        await session.flush()
        maryam_id = await session.scalar(
            select(PersonRow.id).where(PersonRow.telegram_id == maryam.user_id)
        )
        session.add(Membership(person_id=maryam_id, group_id=group.id))

    await reza.send("/newindicator")
    reply = await reza.send("ن" * 200)
    assert "حداکثر در ۱۲۰ حرف" in reply.text
    await reza.send("خانواده‌های عضو صندوق / Families in the fund")
    await reza.send("خانوار / households")
    await reza.send("-")
    reply = await reza.send("چهل")
    assert "عدد" in reply.text
    await reza.send("۴۰")
    reply = await reza.send("۴۰")
    assert "باید با خط پایه فرق داشته باشد" in reply.text
    await reza.send("۱۲۰")
    await reza.press("هر ماه")
    reply = await reza.press("کارگروه صندوق")
    assert "از ۴۰ خانوار تا ۱۲۰ خانوار" in reply.text

    reply = await neda.send("/report_value")  # not in the owning group
    assert "گزارش هیچ شاخصی بر عهدهٔ شما نیست" in reply.text
    reply = await maryam.send("/report_value")
    await maryam.press("خانواده‌های عضو صندوق")
    reply = await maryam.press("آذر ۱۴۰۵")
    assert "خانوار" in reply.text
    data, _message = await maryam.button_data("آبان ۱۴۰۵")
    reply = await neda.tap(data, (await neda.last())["message_id"])  # forged: not hers
    assert reply.answer is not None and "اعضای گروه" in reply.answer["text"]
    reply = await maryam.send("۶۵")
    assert "ذخیره شد: ۶۵ خانوار برای آذر ۱۴۰۵" in reply.text
    await maryam.send("/report_value")
    await maryam.press("خانواده‌های عضو صندوق")
    await maryam.press("آبان ۱۴۰۵")
    await maryam.send("۵۰")
    await maryam.send("/report_value")
    await maryam.press("خانواده‌های عضو صندوق")
    await maryam.press("آذر ۱۴۰۵")
    reply = await maryam.send("۷۰")
    assert "مقدار قبلی (۶۵ خانوار)" in reply.text

    async with sessions() as session:
        values = (await session.scalars(select(IndicatorValue.value))).all()
        indicator = await session.scalar(select(Indicator))
    assert sorted(values) == ["50", "65", "70"]  # the correction did not erase the 65
    assert indicator is not None and indicator.direction == "up"

    reply = await neda.send("/progress")
    assert "۷۰ خانوار (آذر ۱۴۰۵)" in reply.text and "۳۸٪" in reply.text  # (70-40)/(120-40)
    assert not any(label.startswith("🕘") for m in reply.messages for label in buttons(m))
    photo = next(m for m in reply.messages if m.get("photo"))
    png = await client.file_content(photo["photo"][-1]["file_id"])
    assert Image.open(io.BytesIO(png)).size == (1200, 700)
    forged = await neda.tap("ind:history:1:", (await neda.last())["message_id"])
    assert forged.answer is not None and "سازمان پشتیبان" in forged.answer["text"]

    reply = await reza.send("/progress")
    reply = await reza.press("🕘 سابقه: خانواده‌های عضو صندوق")
    assert reply.text.count("مریم") == 3 and "۶۵ خانوار" in reply.text
    sara = await resident("Sara", "en", "English")
    reply = await sara.send("/progress")
    assert "70 households (Azar 1405)" in reply.text


async def test_a_check_in_question_reports_an_indicator(
    staff, resident, bot: BotProcess, sessions
) -> None:
    from datetime import timedelta

    from bot.indicators.models import Source
    from tests.e2e.timeline import eventually, group_with_checkin

    reza = await staff()
    maryam = await resident("مریم")
    due = await group_with_checkin(sessions, [maryam])
    reply = await reza.send("/newindicator")
    await reza.send("نهال‌های کاشته‌شده / Saplings planted")
    await reza.send("اصله / saplings")
    await reza.send("-")
    await reza.send("۰")
    await reza.send("۵۰۰")
    await reza.press("هر ماه")
    await reza.press("فقط کارکنان گزارش می‌کنند")
    await reza.send("/checkins")
    await reza.press("✏️ شمارهٔ ۱ کارگروه سبز")
    await reza.press("❓ پرسش‌ها")
    await reza.press("➕ افزودن پرسش")
    await reza.press("مقدار یک شاخص مشترک")
    reply = await reza.press("نهال‌های کاشته‌شده")
    assert "۴. نهال‌های کاشته‌شده (اصله)؟" in reply.text

    machine = TimeMachine()
    machine.travel_to(due + timedelta(minutes=1))

    async def asked() -> bool:
        return any("پرسش ۱ از ۴" in (m.get("plain_text") or "") for m in await maryam.inbox())

    await eventually(asked)
    for answer in ("کاشت", "آبیاری", "نه"):
        await maryam.send(answer)
    reply = await maryam.send("۱۲۰")
    assert "ذخیره شد" in reply.text
    async with sessions() as session:
        value = await session.scalar(select(IndicatorValue))
    assert value is not None and value.value == "120" and value.source == Source.CHECKIN
    reply = await reza.send("/progress")
    assert "۱۲۰ اصله" in reply.text
