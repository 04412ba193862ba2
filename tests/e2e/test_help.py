"""What each person is shown they can do (/help and Telegram's command menu) matches their
roles, and coming back after /stop is one welcome."""

from __future__ import annotations

from typing import Any

from bot.sandbox import SandboxClient
from tests.e2e.harness import BotProcess, Person
from tests.e2e.test_groups import create_group
from tests.e2e.timeline import eventually

MEMBER_ONLY = ("/mycheckins", "/report_value")


async def menu_of(client: SandboxClient, someone: Person) -> list[str] | None:
    """The commands Telegram shows in this person's private chat, or None for the default."""
    scopes: list[dict[str, Any]] = await client.commands()
    for scope in scopes:
        if scope["scope"] == {"type": "chat", "chat_id": someone.chat_id}:
            return [command["command"] for command in scope["commands"]]
    return None


async def default_menu(client: SandboxClient) -> list[str]:
    """Set after start-up, while the bot already answers."""
    menu: list[str] = []

    async def found() -> bool:
        for scope in await client.commands():
            if scope["scope"]["type"] == "default" and not scope["language_code"]:
                menu.extend(command["command"] for command in scope["commands"])
                return True
        return False

    await eventually(found)
    return menu


async def test_a_resident_is_shown_only_what_residents_can_do(resident, client) -> None:
    maryam = await resident()
    reply = await maryam.send("/help")
    assert "/surveys" in reply.text and "/meetings" in reply.text
    assert not any(command in reply.text for command in MEMBER_ONLY)
    assert "/groups" not in reply.text
    assert await menu_of(client, maryam) is None
    default = await default_menu(client)
    assert "surveys" in default and "mycheckins" not in default and "report_value" not in default


async def test_a_member_who_joins_by_invite_gets_the_member_commands(
    staff, person, client, bot: BotProcess
) -> None:
    reza = await staff()
    code = await create_group(reza, "کارگروه فضای سبز", "Green spaces")
    sara = await person("Sara", "en")
    await sara.send(f"/start {code}")
    await sara.press("English")
    await sara.press("✅ I agree")
    reply = await sara.send("/help")
    assert all(command in reply.text for command in MEMBER_ONLY)
    assert "/groups" not in reply.text
    menu = await menu_of(client, sara)
    assert menu is not None and "mycheckins" in menu and "groups" not in menu

    reply = await reza.send("/help")
    assert "/groups" in reply.text and "/report_value" in reply.text
    await bot.restart()  # Reza was made staff from the shell: his menu comes after the start

    async def staff_menu_set() -> bool:
        staff_menu = await menu_of(client, reza)
        return staff_menu is not None and "groups" in staff_menu and "report_value" in staff_menu

    await eventually(staff_menu_set)
    assert await menu_of(client, sara) == menu

    await reza.press("👤 اعضا")
    await reza.press("✖ Sara")  # no longer a member: back to what everyone has
    assert await menu_of(client, sara) is None
    reply = await sara.send("/help")
    assert not any(command in reply.text for command in MEMBER_ONLY)


async def test_start_after_stop_welcomes_once(resident) -> None:
    maryam = await resident()
    await maryam.send("/stop")
    reply = await maryam.send("/start")
    [welcome] = reply.messages
    assert "دوباره پیام‌های همگام را دریافت می‌کنید" in welcome["text"]
    assert "❓ راهنما" in str(welcome.get("reply_markup"))
