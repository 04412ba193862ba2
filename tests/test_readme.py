"""The README is where an operator learns the settings: every one of them is in its table."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_every_setting_is_in_the_readme_settings_table() -> None:
    named = set(re.findall(r"`([A-Z][A-Z_]+)`", settings_table()))
    missing = sorted(name.upper() for name in Settings.model_fields if name.upper() not in named)
    assert not missing, f"missing from the README's settings table: {missing}"
