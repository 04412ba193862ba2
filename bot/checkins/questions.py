"""A check-in's questions and how a typed or chosen answer is read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.i18n.normalize import normalize_text, parse_decimal, parse_int

ANSWER_MAX = 2000
SCALE_TOP = 5  # a scale runs from 1 to 5


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    SCALE = "scale"  # 1 to 5
    INDICATOR = "indicator"  # a number that is also reported as a shared indicator's value


@dataclass(frozen=True)
class Question:
    text: dict[str, str]
    kind: Kind = Kind.TEXT
    choices: tuple[dict[str, str], ...] = field(default=())
    indicator_id: int | None = None  # for Kind.INDICATOR

    def to_json(self) -> dict[str, Any]:
        data = {"text": self.text, "kind": self.kind.value, "choices": list(self.choices)}
        if self.indicator_id is not None:
            data["indicator_id"] = self.indicator_id
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        return cls(
            dict(data["text"]),
            Kind(data.get("kind", "text")),
            tuple(data.get("choices") or ()),
            data.get("indicator_id"),
        )


class AnswerProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    NOT_A_CHOICE = "not_a_choice"


class AnswerError(ValueError):
    def __init__(self, problem: AnswerProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def read_answer(question: Question, typed: str) -> str:
    """The answer as stored: normalised text, or a number in ASCII digits."""
    text = normalize_text(typed)
    if not text:
        raise AnswerError(AnswerProblem.EMPTY)
    if question.kind in (Kind.NUMBER, Kind.INDICATOR):
        number = parse_decimal(text)
        if number is None:
            raise AnswerError(AnswerProblem.NOT_A_NUMBER)
        return format(number.normalize(), "f")
    if question.kind is Kind.SCALE:
        number = parse_int(text)
        if number is None or not 1 <= number <= SCALE_TOP:
            raise AnswerError(AnswerProblem.NOT_A_CHOICE)
        return str(number)
    if question.kind is Kind.CHOICE:
        raise AnswerError(AnswerProblem.NOT_A_CHOICE)
    if len(text) > ANSWER_MAX:
        raise AnswerError(AnswerProblem.TOO_LONG)
    return text


DEFAULT_QUESTIONS = (
    Question({"fa": "این هفته چه کردید؟", "en": "What did your group do this week?"}),
    Question({"fa": "قدم بعدی چیست؟", "en": "What's next?"}),
    Question({"fa": "مانعی هست؟", "en": "Anything blocking you?"}),
)


def read_questions(path: str) -> tuple[Question, ...]:
    """Questions from a JSON file, checked: each needs a Persian or English text, a known kind,
    and two or more choices when it is a choice."""
    with open(path, encoding="utf-8") as source:
        items = json.load(source)
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: expected a list of questions")
    questions = []
    for number, item in enumerate(items, 1):
        texts = {lang: normalize_text(str(item.get(lang) or "")) for lang in ("fa", "en")}
        if not any(texts.values()):
            raise ValueError(f"question {number} has no text")
        try:
            kind = Kind(item.get("kind", "text"))
        except ValueError:
            raise ValueError(f"question {number}: unknown kind {item.get('kind')!r}") from None
        choices = tuple(
            {lang: normalize_text(str(choice.get(lang) or "")) for lang in ("fa", "en")}
            for choice in item.get("choices") or ()
        )
        if kind is Kind.CHOICE and len(choices) < 2:
            raise ValueError(f"question {number}: a choice needs two or more choices")
        questions.append(Question({k: v for k, v in texts.items() if v}, kind, choices))
    return tuple(questions)
