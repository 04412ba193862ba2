"""A survey's definition, checked once when it is made, and how a typed answer is read against it.

A Form is stored as JSON (to_json/from_json) and comes from an XLSForm file (xlsform.py) or from
code (templates.py); either way the same checks run in __post_init__, so a Form that exists is
one the bot can ask without surprises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from bot.i18n import LANGUAGES
from bot.i18n.normalize import normalize_text, parse_decimal, parse_int
from bot.surveys.conditions import Condition, ConditionError, Value, parse

__all__ = [
    "AnswerError",
    "AnswerProblem",
    "Choice",
    "Form",
    "FormError",
    "FormProblem",
    "Kind",
    "Question",
    "Value",
    "check_answer",
    "read_answer",
    "value_from_json",
    "value_to_json",
]

TEXT_MAX = 1000  # characters in a free-text answer unless a question says otherwise
SCALE_MOST_POINTS = 11  # 0-10 is the widest scale that still fits as buttons
# Names travel in callback_data (64 bytes) and become report columns: short ASCII only.
_QUESTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,31}")
_CHOICE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,32}")

Texts = dict[str, str]  # language code ("fa", "en") -> text


class Kind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"  # whole numbers minimum..maximum, step 1
    NUMBER = "number"  # integer or decimal, optional bounds
    TEXT = "text"
    YES_NO = "yes_no"
    NOTE = "note"  # shown, not answered


@dataclass(frozen=True)
class Choice:
    name: str
    label: Texts


YES_NO_CHOICES = (
    Choice("yes", {"fa": "بله", "en": "Yes"}),
    Choice("no", {"fa": "خیر", "en": "No"}),
)
_YES_WORDS = {"بله", "بلی", "آره", "اره", "آری", "yes", "y"}
_NO_WORDS = {"نه", "خیر", "نخیر", "no", "n"}


class FormProblem(StrEnum):
    """Why a form is refused; the bot words each one in Persian and English."""

    NO_QUESTIONS = "no_questions"
    BAD_NAME = "bad_name"
    DUPLICATE_NAME = "duplicate_name"
    MISSING_LABEL = "missing_label"
    TOO_FEW_CHOICES = "too_few_choices"
    DUPLICATE_CHOICE = "duplicate_choice"
    BAD_BOUNDS = "bad_bounds"
    BAD_EXPRESSION = "bad_expression"
    UNKNOWN_NAME = "unknown_name"
    LATER_NAME = "later_name"
    UNKNOWN_CHOICE = "unknown_choice"


class FormError(ValueError):
    """A form that cannot be used: `question` and `field` say where, `params` fill the message."""

    def __init__(
        self,
        problem: FormProblem,
        message: str,
        *,
        question: str | None = None,
        field: str | None = None,
        **params: str,
    ) -> None:
        where = f'question "{question}": ' if question else ""
        super().__init__(where + message)
        self.message = message
        self.problem = problem
        self.question = question
        self.field = field
        self.params = params


def _check_texts(texts: Mapping[str, str], *, what: str, question: str | None, field: str) -> None:
    unknown = set(texts) - set(LANGUAGES)
    if unknown:
        raise FormError(
            FormProblem.MISSING_LABEL,
            f"{what} has texts in unknown languages {sorted(unknown)}",
            question=question,
            field=field,
        )
    if not any(isinstance(text, str) and text.strip() for text in texts.values()):
        raise FormError(
            FormProblem.MISSING_LABEL,
            f"{what} needs a text in Persian or English",
            question=question,
            field=field,
        )


@dataclass(frozen=True)
class Question:
    name: str
    kind: Kind
    label: Texts
    hint: Texts = field(default_factory=dict)
    required: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    integer: bool = False
    max_length: int | None = None
    constraint: str | None = None
    constraint_message: Texts = field(default_factory=dict)
    relevant: str | None = None

    def __post_init__(self) -> None:
        for bound in ("minimum", "maximum"):
            if isinstance(getattr(self, bound), int):
                object.__setattr__(self, bound, Decimal(getattr(self, bound)))
        if self.kind is Kind.TEXT and self.max_length is None:
            object.__setattr__(self, "max_length", TEXT_MAX)
        if self.kind is Kind.NOTE:
            object.__setattr__(self, "required", False)
        self._check()

    def _fail(self, problem: FormProblem, message: str, field: str, **params: str) -> FormError:
        return FormError(problem, message, question=self.name, field=field, **params)

    def _check(self) -> None:
        if not _QUESTION_NAME.fullmatch(self.name):
            raise self._fail(
                FormProblem.BAD_NAME,
                "a name is a letter or _ then up to 31 ASCII letters, digits, _ . or -",
                "name",
                name=self.name,
            )
        _check_texts(self.label, what="the question", question=self.name, field="label")
        if self.kind in (Kind.SINGLE, Kind.MULTIPLE):
            self._check_choices()
        elif self.choices:
            raise self._fail(
                FormProblem.TOO_FEW_CHOICES, f"a {self.kind} question has no choices", "choices"
            )
        if self.kind is Kind.SCALE:
            self._check_scale()
        if self.kind is Kind.NUMBER and None not in (self.minimum, self.maximum):
            assert self.minimum is not None and self.maximum is not None
            if self.minimum > self.maximum:
                raise self._fail(
                    FormProblem.BAD_BOUNDS, "the minimum is above the maximum", "minimum"
                )
        if self.max_length is not None and self.max_length < 1:
            raise self._fail(FormProblem.BAD_BOUNDS, "max_length must be 1 or more", "max_length")
        for field_name in ("relevant", "constraint"):
            source = getattr(self, field_name)
            if source is not None:
                try:
                    parse(source)
                except ConditionError as error:
                    raise self._fail(
                        FormProblem.BAD_EXPRESSION,
                        str(error),
                        field_name,
                        expression=source,
                        detail=error.detail,
                    ) from None
        if self.relevant is not None and parse(self.relevant).uses_current:
            raise self._fail(
                FormProblem.BAD_EXPRESSION,
                '"." (this answer) has no value before the question is asked',
                "relevant",
                expression=self.relevant,
                detail='"." cannot be used in relevant',
            )

    def _check_choices(self) -> None:
        if len(self.choices) < 2:
            raise self._fail(
                FormProblem.TOO_FEW_CHOICES, "a choice question needs two or more", "choices"
            )
        seen: set[str] = set()
        for choice in self.choices:
            if not _CHOICE_NAME.fullmatch(choice.name):
                raise self._fail(
                    FormProblem.BAD_NAME,
                    f'choice "{choice.name}": up to 32 ASCII letters, digits, _ . or -',
                    "choices",
                    choice=choice.name,
                )
            if choice.name in seen:
                raise self._fail(
                    FormProblem.DUPLICATE_CHOICE,
                    f'choice "{choice.name}" appears twice',
                    "choices",
                    choice=choice.name,
                )
            seen.add(choice.name)
            _check_texts(
                choice.label, what=f'choice "{choice.name}"', question=self.name, field="choices"
            )

    def _check_scale(self) -> None:
        low, high = self.minimum, self.maximum
        if (
            low is None
            or high is None
            or low != low.to_integral_value()
            or high != high.to_integral_value()
            or not low < high
            or high - low + 1 > SCALE_MOST_POINTS
        ):
            raise self._fail(
                FormProblem.BAD_BOUNDS,
                f"a scale runs between two whole numbers, at most {SCALE_MOST_POINTS} points",
                "minimum",
            )

    @property
    def options(self) -> tuple[Choice, ...]:
        """What the bot offers as buttons: the choices, or yes and no."""
        return YES_NO_CHOICES if self.kind is Kind.YES_NO else self.choices

    @property
    def answerable(self) -> bool:
        return self.kind is not Kind.NOTE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind.value, "label": self.label}
        optional = {
            "hint": self.hint,
            "required": self.required,
            "choices": [{"name": c.name, "label": c.label} for c in self.choices],
            "minimum": None if self.minimum is None else str(self.minimum),
            "maximum": None if self.maximum is None else str(self.maximum),
            "integer": self.integer,
            "max_length": self.max_length,
            "constraint": self.constraint,
            "constraint_message": self.constraint_message,
            "relevant": self.relevant,
        }
        data.update((key, value) for key, value in optional.items() if value)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Question:
        def number(key: str) -> Decimal | None:
            return None if data.get(key) is None else Decimal(str(data[key]))

        return cls(
            name=data["name"],
            kind=Kind(data["kind"]),
            label=dict(data["label"]),
            hint=dict(data.get("hint") or {}),
            required=bool(data.get("required")),
            choices=tuple(Choice(c["name"], dict(c["label"])) for c in data.get("choices") or ()),
            minimum=number("minimum"),
            maximum=number("maximum"),
            integer=bool(data.get("integer")),
            max_length=data.get("max_length"),
            constraint=data.get("constraint"),
            constraint_message=dict(data.get("constraint_message") or {}),
            relevant=data.get("relevant"),
        )


@dataclass(frozen=True)
class Form:
    title: Texts
    questions: tuple[Question, ...]

    def __post_init__(self) -> None:
        _check_texts(self.title, what="the title", question=None, field="title")
        if not any(question.answerable for question in self.questions):
            raise FormError(FormProblem.NO_QUESTIONS, "the form has no question to answer")
        names = {question.name for question in self.questions}
        earlier: dict[str, Question] = {}
        for question in self.questions:
            if question.name in earlier:
                raise FormError(
                    FormProblem.DUPLICATE_NAME,
                    "the name is used twice",
                    question=question.name,
                    field="name",
                    name=question.name,
                )
            for field_name in ("relevant", "constraint"):
                source = getattr(question, field_name)
                if source is not None:
                    _check_references(question, field_name, parse(source), earlier, names)
            earlier[question.name] = question

    # A published form is kept and read at every answer (surveys.service), so what is looked
    # up in it is worked out once.
    @cached_property
    def _by_name(self) -> dict[str, Question]:
        return {question.name: question for question in self.questions}

    def question(self, name: str) -> Question:
        """The question with this name (KeyError when there is none)."""
        return self._by_name[name]

    @cached_property
    def answerable(self) -> tuple[Question, ...]:
        return tuple(question for question in self.questions if question.answerable)

    def is_relevant(self, question: Question, answers: Mapping[str, Value]) -> bool:
        return question.relevant is None or parse(question.relevant).evaluate(answers)

    def next_question(
        self, answers: Mapping[str, Value], done: Collection[str] = ()
    ) -> Question | None:
        """The first relevant question (or note) neither answered nor in `done` (skipped, or a
        note already shown): a survey resumes from its stored answers alone."""
        for question in self.questions:
            if (
                question.name not in answers
                and question.name not in done
                and self.is_relevant(question, answers)
            ):
                return question
        return None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "questions": [q.to_json() for q in self.questions]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Form:
        return cls(dict(data["title"]), tuple(Question.from_json(q) for q in data["questions"]))


def _check_references(
    question: Question,
    field_name: str,
    condition: Condition,
    earlier: Mapping[str, Question],
    names: Collection[str],
) -> None:
    """Expressions may name only questions asked before (a constraint may also name its own)."""
    for name in condition.names:
        if name in earlier or (field_name == "constraint" and name == question.name):
            continue
        later = name in names
        raise FormError(
            FormProblem.LATER_NAME if later else FormProblem.UNKNOWN_NAME,
            f'{field_name} names "{name}", which '
            + ("is not asked before it" if later else "is not an earlier question"),
            question=question.name,
            field=field_name,
            name=name,
        )
    for name, choice in condition.selections:
        target = question if name is None or name == question.name else earlier[name]
        if target.options and choice not in {option.name for option in target.options}:
            raise FormError(
                FormProblem.UNKNOWN_CHOICE,
                f'{field_name} asks whether "{target.name}" has "{choice}", not one of its choices',
                question=question.name,
                field=field_name,
                name=target.name,
                choice=choice,
            )


# ---- answers ----------------------------------------------------------------------------------


class AnswerProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    NOT_AN_INTEGER = "not_an_integer"
    TOO_SMALL = "too_small"
    TOO_BIG = "too_big"
    NOT_A_CHOICE = "not_a_choice"
    CONSTRAINT = "constraint"


class AnswerError(ValueError):
    """An answer refused; `params` carry the limit to quote (minimum, maximum, max_length) and,
    for CONSTRAINT, the form's own message is the question's constraint_message."""

    def __init__(self, problem: AnswerProblem, **params: Any) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.params = params


def read_answer(
    question: Question, typed: str, answers: Mapping[str, Value] | None = None
) -> Value:
    """A typed answer as stored (see Value), checked against the question and its constraint.
    `answers` are the earlier answers a constraint may refer to. An empty reply is always EMPTY:
    skipping an optional question is its own action, not an empty answer."""
    text = normalize_text(typed)
    if not text:
        raise AnswerError(AnswerProblem.EMPTY)
    value = _parse(question, text)
    check_answer(question, value, answers)
    return value


def _parse(question: Question, text: str) -> Value:
    match question.kind:
        case Kind.TEXT:
            return text
        case Kind.NUMBER | Kind.SCALE:
            number = parse_decimal(text)
            if number is None:
                raise AnswerError(AnswerProblem.NOT_A_NUMBER)
            if question.integer or question.kind is Kind.SCALE:
                if number != number.to_integral_value():
                    raise AnswerError(AnswerProblem.NOT_AN_INTEGER)
                return Decimal(int(number))
            return number
        case Kind.YES_NO:
            word = text.rstrip(".!?؟ ").casefold()
            if word in _YES_WORDS:
                return "yes"
            if word in _NO_WORDS:
                return "no"
            return _choice_named(question, text)
        case Kind.SINGLE:
            return _choice_named(question, text)
        case Kind.MULTIPLE:
            return _choices_named(question, text)
    raise ValueError(f"{question.name} is a note: it takes no answer")


def _choice_named(question: Question, text: str) -> str:
    """A choice typed as its label (either language), its name, or its 1-based position."""
    wanted = text.casefold()
    for choice in question.options:
        labels = {normalize_text(label).casefold() for label in choice.label.values()}
        if wanted in labels or wanted == choice.name.casefold():
            return choice.name
    position = parse_int(text)
    if position is not None and 1 <= position <= len(question.options):
        return question.options[position - 1].name
    raise AnswerError(AnswerProblem.NOT_A_CHOICE)


def _choices_named(question: Question, text: str) -> tuple[str, ...]:
    """Several choices separated by commas, semicolons or lines («۱، ۳» or «Red, Blue»); a part
    that is no choice as a whole may be several separated by spaces («1 3»)."""
    names: set[str] = set()
    for part in filter(None, (p.strip() for p in re.split(r"[,،;؛\n]", text))):
        try:
            names.add(_choice_named(question, part))
        except AnswerError:
            names.update(_choice_named(question, word) for word in part.split())
    if not names:
        raise AnswerError(AnswerProblem.EMPTY)
    return tuple(choice.name for choice in question.choices if choice.name in names)


def check_answer(
    question: Question, value: Value, answers: Mapping[str, Value] | None = None
) -> None:
    """Raise AnswerError unless `value` is a possible answer: also for pressed buttons, whose
    value never went through read_answer."""
    if isinstance(value, Decimal):
        if question.kind not in (Kind.NUMBER, Kind.SCALE):
            raise AnswerError(AnswerProblem.NOT_A_CHOICE)
        if (question.integer or question.kind is Kind.SCALE) and value != value.to_integral_value():
            raise AnswerError(AnswerProblem.NOT_AN_INTEGER)
        if question.minimum is not None and value < question.minimum:
            raise AnswerError(AnswerProblem.TOO_SMALL, minimum=question.minimum)
        if question.maximum is not None and value > question.maximum:
            raise AnswerError(AnswerProblem.TOO_BIG, maximum=question.maximum)
    elif isinstance(value, tuple):
        known = {choice.name for choice in question.choices}
        if question.kind is not Kind.MULTIPLE or not set(value) <= known:
            raise AnswerError(AnswerProblem.NOT_A_CHOICE)
        if not value:
            raise AnswerError(AnswerProblem.EMPTY)
    elif question.kind is Kind.TEXT:
        if not value:
            raise AnswerError(AnswerProblem.EMPTY)
        assert question.max_length is not None
        if len(value) > question.max_length:
            raise AnswerError(AnswerProblem.TOO_LONG, max_length=question.max_length)
    elif question.kind not in (Kind.SINGLE, Kind.YES_NO) or value not in {
        option.name for option in question.options
    }:
        raise AnswerError(AnswerProblem.NOT_A_CHOICE)
    if question.constraint is not None and not parse(question.constraint).evaluate(
        answers or {}, value
    ):
        raise AnswerError(AnswerProblem.CONSTRAINT)


def value_to_json(value: Value) -> str:
    """JSON text for storage: numbers as strings so no digit is lost to floats."""
    if isinstance(value, Decimal):
        return json.dumps(str(value))
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def value_from_json(question: Question, text: str) -> Value:
    """The stored value back in its type, which the question's kind decides."""
    data = json.loads(text)
    if question.kind in (Kind.NUMBER, Kind.SCALE):
        return Decimal(data)
    if question.kind is Kind.MULTIPLE:
        return tuple(data)
    return str(data)
