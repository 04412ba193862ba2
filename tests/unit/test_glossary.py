"""Both catalogs, and the Persian written in the code (templates, defaults, export headers), use
the glossary's word for each concept (`../shared/glossary.md`): each rule below is a variant the
glossary rules out, and the test names every entry that still uses one."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import pytest

from bot.config import PROJECT_ROOT
from bot.i18n.catalogs import load

# A Persian word begins where no Persian letter (or zero-width non-joiner) comes before it.
_START = r"(?<![\u0621-\u06ff\u200c])"
_END = r"(?![\u0621-\u06ff])"  # a ZWNJ may follow: «بات‌ها» is still the word
_ZWNJ = "\u200c"
_PLURAL = f"(?:{_ZWNJ}?(?:ها|های|هایی))?"

PERSIAN_RULES: dict[str, tuple[str, str]] = {
    # concept: (pattern of the variant ruled out, the glossary's word)
    "bot": (f"{_START}بات{_END}", "ربات"),
    "survey": (
        # «نظرسنجی» alone reads as either; only the quick poll keeps it, always with «سریع»
        # (the suffix is taken whole, so «نظرسنجی‌های سریع» passes and «نظرسنجی‌ای» does not).
        f"{_START}نظرسنجی(?>(?:{_ZWNJ}?(?:های|ها|ای|ی))?)(?!\\s+سریع)",
        "پرسش‌نامه (survey) / نظرسنجی سریع (quick poll)",
    ),
    "survey, spelt": (f"{_START}(?:پرسشنامه|نظر\\s+سنجی)", "پرسش‌نامه, نظرسنجی سریع"),
    "check-in": (
        f"{_START}پیگیری(?!{_PLURAL}\\s+دوره{_ZWNJ}ای)",
        "پیگیری دوره‌ای (a meeting's follow-up is «پیام پس از جلسه»)",
    ),
    "round": (f"{_START}دور(?:های|\\s+(?:قبل|بعد|بعدی|تازه|اخیر)){_END}", "نوبت"),
    "summary": (f"{_START}گزارش(?:{_ZWNJ}های)?\\s+(?:هر\\s+|این\\s+)?نوبت", "جمع‌بندی"),
    "area": (f"{_START}تفکیک\\s+محله{_END}", "محدوده"),
    "question": (f"{_START}(?:سؤال|سوال|سئوال)", "پرسش"),
    "unreachable": (f"{_START}دست(?:{_ZWNJ}|\\s)?نیافتنی", "در دسترس نبود"),
    "welcome back": (f"{_START}خوش\\s+برگشتید", "دوباره خوش آمدید"),
    "anonymous": (f"{_START}پیوند\\s+ندار", "بدون نام شما ذخیره می‌شوند"),
    "steering committee": (f"{_START}کمیته(?:{_ZWNJ}ی|ی)?\\s+راهبری", "کمیتهٔ راهبری"),
    "stakeholders": (f"{_START}ذینفع", "ذی‌نفع"),
    "invite link": (f"{_START}پیوند\\s+دعوت", "لینک دعوت"),
    "chat": (f"{_START}گفت{_ZWNJ}?وگو", "گفتگو"),
    "character": (f"{_START}نویسه", "حرف"),
    "online": (f"{_START}برخط{_END}", "آنلاین"),
    "file": (f"{_START}(?:به{_ZWNJ}صورت\\s+سند|\\(سند\\))", "فایل (Telegram's «document»)"),
}

ENGLISH_RULES: dict[str, tuple[str, str]] = {
    "survey": (r"\bquestionnaires?\b", "survey"),
    "check-in": (r"(?<![/\w])check ?ins?\b(?!-)", "check-in"),
    "round": (r"\bcycles?\b", "round"),
    "organisation": (r"\borganizations?\b", "organisation, as in «backbone organisation»"),
    "neighbourhood": (r"\bneighborhoods?\b", "neighbourhood"),
    "invite link": (r"\binvitation links?\b", "invite link"),
    "steering committee": (r"\bsteering[ -]group\b", "steering committee"),
}


def _catalog_texts(language: str) -> Iterator[tuple[str, str]]:
    for message in load(PROJECT_ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            yield str(message.id if isinstance(message.id, str) else message.id[0]), string


def _persian_in_code() -> Iterator[tuple[str, str]]:
    """Every string literal with Persian letters in the code: what the bot shows or exports
    without the catalogs (built-in forms, default titles, headers). Docstrings are for readers
    of the code and may name a ruled-out word."""
    for folder in ("bot", "handlers"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and re.search("[\u0621-\u06ff]", node.value)
                ):
                    yield f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}", node.value


def _offences(rules: dict[str, tuple[str, str]], texts: Iterator[tuple[str, str]]) -> list[str]:
    compiled = {concept: re.compile(pattern) for concept, (pattern, _) in rules.items()}
    found = []
    for where, text in texts:
        for concept, pattern in compiled.items():
            if match := pattern.search(text):
                found.append(f"{concept}: «{match.group()}» in {where!r} (use {rules[concept][1]})")
    return found


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("با بات حرف بزنید", "bot"),
        ("بات‌ها", "bot"),
        ("نظرسنجی تازه", "survey"),
        ("هنوز نظرسنجی‌ای نیست", "survey"),
        ("نظرسنجی‌های باز", "survey"),
        ("این پیگیری دیگر وجود ندارد", "check-in"),
        ("« همهٔ پیگیری‌ها", "check-in"),
        ("مشارکت در دورهای اخیر", "round"),
        ("گزارش هر نوبت کجا فرستاده شود؟", "summary"),
        ("به تفکیک محله: {rates}", "area"),
        ("متن سؤال", "question"),
        ("دست‌نیافتنی", "unreachable"),
        ("خوش برگشتید!", "welcome back"),
        ("پاسخ‌هایتان به شما پیوند ندارد.", "anonymous"),
        ("کمیته راهبری", "steering committee"),
        ("اشخاص ذینفع", "stakeholders"),
        ("پیوند دعوت: {link}", "invite link"),
        ("به {count} گفت‌وگو", "chat"),
        ("حداکثر ۴۰ نویسه", "character"),
        ("جلسهٔ برخط", "online"),
        ("به‌صورت سند بفرستید", "file"),
        ("پرسشنامهٔ تازه", "survey, spelt"),
    ],
)
def test_each_persian_rule_catches_its_variant(text: str, concept: str) -> None:
    assert re.search(PERSIAN_RULES[concept][0], text)


@pytest.mark.parametrize(
    "text",
    [
        "نظرسنجی سریع تازه",
        "هنوز نظرسنجی سریعی نیست",
        "نظرسنجی‌های سریع",
        "پرسش‌نامه‌های باز",
        "پیگیری دوره‌ای تازه",
        "« همهٔ پیگیری‌های دوره‌ای",
        "ثبات و اثبات",
        "از راه دور",
        "کمیتهٔ راهبری",
        "اشخاص ذی‌نفع",
        "جمع‌بندی هر نوبت",
        "بدون نام شما ذخیره می‌شوند",
    ],
)
def test_the_glossary_words_pass(text: str) -> None:
    assert [c for c, (pattern, _) in PERSIAN_RULES.items() if re.search(pattern, text)] == []


def test_english_rules_pass_the_glossary_words() -> None:
    fine = "Check-ins of the backbone organisation's working groups, by /mycheckins; a survey"
    assert [c for c, (pattern, _) in ENGLISH_RULES.items() if re.search(pattern, fine)] == []
    assert re.search(ENGLISH_RULES["check-in"][0], "Your checkins")
    assert re.search(ENGLISH_RULES["organisation"][0], "the backbone organization")


def test_persian_catalog_uses_the_glossary_words() -> None:
    found = _offences(PERSIAN_RULES, _catalog_texts("fa"))
    assert not found, "\n".join(found)


def test_english_catalog_uses_the_glossary_words() -> None:
    found = _offences(ENGLISH_RULES, _catalog_texts("en"))
    assert not found, "\n".join(found)


def test_persian_in_the_code_uses_the_glossary_words() -> None:
    found = _offences(PERSIAN_RULES, _persian_in_code())
    assert not found, "\n".join(found)
