"""/groups shows each group's id, which the command line asks for (`hamgam checkin add
--group ID`, `hamgam announce --audience groups --group ID`)."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main
from tests.e2e.test_groups import create_group


async def test_groups_lists_the_ids_the_command_line_takes(staff) -> None:
    reza = await staff()
    await create_group(reza, "کارگروه فضای سبز", "Green spaces")
    await create_group(reza, "کارگروه آب", "Water")
    reply = await reza.send("/groups")
    assert "• #۱ کارگروه فضای سبز (کارگروه): ۰ عضو" in reply.text
    assert "• #۲ کارگروه آب (کارگروه): ۰ عضو" in reply.text

    sara = await staff("Sara", "English")
    reply = await sara.send("/groups")
    assert "• #2 Water (working group): 0 members" in reply.text


def test_the_command_line_takes_an_id_as_shown_in_persian() -> None:
    result = CliRunner().invoke(main, ["checkin", "add", "--group", "۲", "--at", "25:00"])
    assert result.exit_code == 2 and "That check-in does not work" in result.output
