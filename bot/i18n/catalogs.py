"""Checking and filling the gettext catalogs (used by `make i18n-update` and the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po


def load(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def problems(path: Path) -> list[str]:
    """Every entry a person could see untranslated: empty, partly empty or fuzzy."""
    found = []
    for message in load(path):
        if not message.id:
            continue
        if not _translated(message):
            found.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
    return found


def fill_english(path: Path) -> int:
    """English is the source language: its translations are the message ids themselves."""
    catalog = load(path)
    filled = 0
    for message in catalog:
        if not message.id or _translated(message):
            continue
        message.string = message.id
        message.flags.discard("fuzzy")
        filled += 1
    with path.open("wb") as target:
        write_po(target, catalog, width=100)
    return filled


def main(argv: list[str]) -> int:
    command, *paths = argv
    if command == "fill-english":
        for path in paths:
            print(f"{path}: {fill_english(Path(path))} entries filled")
        return 0
    if command == "check":
        failed = False
        for path in paths:
            for problem in problems(Path(path)):
                print(f"{path}: {problem}")
                failed = True
        return 1 if failed else 0
    print("usage: python -m bot.i18n.catalogs fill-english|check PO...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
