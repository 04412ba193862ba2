"""Survey forms: checked definitions, typed answers in Persian or English, and expressions."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from bot.i18n import LANGUAGES
from bot.surveys.conditions import ConditionError, parse
from bot.surveys.form import (
    AnswerError,
    AnswerProblem,
    Choice,
    Form,
    FormError,
    FormProblem,
    Kind,
    Question,
    Value,
    check_answer,
    read_answer,
    value_from_json,
    value_to_json,
)
from bot.surveys.templates import READINESS

COLOURS = (
    Choice("red", {"fa": "قرمز", "en": "Red"}),
    Choice("green", {"fa": "سبز", "en": "Green"}),
    Choice("blue", {"fa": "آبی", "en": "Blue"}),
)
AGE = Question(
    "age", Kind.NUMBER, {"fa": "چند سال دارید؟", "en": "How old are you?"}, integer=True,
    minimum=Decimal(0), maximum=Decimal(120), required=True,
)  # fmt: skip
PRICE = Question("price", Kind.NUMBER, {"en": "Price?"}, minimum=Decimal("0.5"))
SCALE = Question("mood", Kind.SCALE, {"fa": "حالتان؟"}, minimum=Decimal(1), maximum=Decimal(5))
TEXT = Question("story", Kind.TEXT, {"fa": "بنویسید", "en": "Tell us"})
YES_NO = Question("member", Kind.YES_NO, {"fa": "عضو هستید؟", "en": "A member?"})
SINGLE = Question("colour", Kind.SINGLE, {"fa": "رنگ؟", "en": "Colour?"}, choices=COLOURS)
MULTIPLE = Question("colours", Kind.MULTIPLE, {"fa": "رنگ‌ها؟", "en": "Colours?"}, choices=COLOURS)
CHILDREN = Question(
    "children", Kind.NUMBER, {"en": "How many of them are children?"}, integer=True,
    constraint=". <= ${household}", constraint_message={"en": "At most your household"},
)  # fmt: skip
SAMPLE = Form(
    {"fa": "نظرسنجی محله", "en": "Neighbourhood survey"},
    (
        Question("welcome", Kind.NOTE, {"fa": "خوش آمدید", "en": "Welcome"}),
        AGE,
        YES_NO,
        Question(
            "since",
            Kind.NUMBER,
            {"fa": "از چه سالی؟", "en": "Since which year?"},
            relevant="${member} = 'yes'",
        ),
        MULTIPLE,
        Question(
            "why_red",
            Kind.TEXT,
            {"en": "Why red?"},
            relevant="selected(${colours}, 'red') and ${age} >= ۱۸",
        ),
        SCALE,
    ),
)


def _error(question: Question, typed: str, answers: dict[str, Value] | None = None) -> AnswerError:
    with pytest.raises(AnswerError) as caught:
        read_answer(question, typed, answers)
    return caught.value


# ---- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "typed", "expected"),
    [
        (AGE, "۴۲", Decimal(42)),
        (AGE, "٤٢", Decimal(42)),
        (AGE, " 42 ", Decimal(42)),
        (AGE, "\u200f۴۲\u200e", Decimal(42)),
        (AGE, "۴۲٫۰", Decimal(42)),
        (PRICE, "۱۲٫۵", Decimal("12.5")),
        (PRICE, "١٢٫٥", Decimal("12.5")),
        (PRICE, "۱٬۲۳۴٫۵", Decimal("1234.5")),
        (PRICE, "0.5", Decimal("0.5")),
        (SCALE, "۳", Decimal(3)),
        (SCALE, "5", Decimal(5)),
    ],
)
def test_numbers_typed_with_any_digits_are_decimals(
    question: Question, typed: str, expected: Decimal
) -> None:
    value = read_answer(question, typed)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize(
    ("question", "typed", "problem", "params"),
    [
        (AGE, "چهل", AnswerProblem.NOT_A_NUMBER, {}),
        (AGE, "۱۲ سال", AnswerProblem.NOT_A_NUMBER, {}),
        (AGE, "۴۲٫۵", AnswerProblem.NOT_AN_INTEGER, {}),
        (AGE, "-۱", AnswerProblem.TOO_SMALL, {"minimum": Decimal(0)}),
        (AGE, "۱۲۱", AnswerProblem.TOO_BIG, {"maximum": Decimal(120)}),
        (AGE, "۹" * 5000, AnswerProblem.NOT_A_NUMBER, {}),
        (PRICE, "۰٫۴", AnswerProblem.TOO_SMALL, {"minimum": Decimal("0.5")}),
        (SCALE, "۶", AnswerProblem.TOO_BIG, {"maximum": Decimal(5)}),
        (SCALE, "0", AnswerProblem.TOO_SMALL, {"minimum": Decimal(1)}),
        (SCALE, "2.5", AnswerProblem.NOT_AN_INTEGER, {}),
        (AGE, " \u200f ", AnswerProblem.EMPTY, {}),
    ],
)
def test_numbers_out_of_bounds_or_unreadable_are_refused(
    question: Question, typed: str, problem: AnswerProblem, params: dict[str, Decimal]
) -> None:
    error = _error(question, typed)
    assert error.problem is problem
    assert error.params == params


# ---- text, yes/no, choices --------------------------------------------------------------------


def test_text_is_normalised_and_keeps_emoji() -> None:
    assert read_answer(TEXT, "\u200fعلي از كوچه ۳ 👩🏽‍🌾 \u202b") == "علی از کوچه ۳ 👩🏽‍🌾"
    assert read_answer(TEXT, "خانه\u200cی ما") == "خانه\u200cی ما"  # ZWNJ is spelling


def test_a_5000_character_text_is_too_long() -> None:
    error = _error(TEXT, "ا" * 5000)
    assert error.problem is AnswerProblem.TOO_LONG
    assert error.params == {"max_length": 1000}
    assert read_answer(TEXT, "ا" * 1000) == "ا" * 1000


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("بله", "yes"),
        ("آره", "yes"),
        ("اره!", "yes"),
        ("Yes", "yes"),
        ("نه", "no"),
        ("خیر", "no"),
        ("NO", "no"),
        ("۱", "yes"),
        ("2", "no"),
    ],
)
def test_yes_no_reads_the_words_people_type(typed: str, expected: str) -> None:
    assert read_answer(YES_NO, typed) == expected


def test_yes_no_refuses_anything_else() -> None:
    assert _error(YES_NO, "شاید").problem is AnswerProblem.NOT_A_CHOICE


@pytest.mark.parametrize(
    ("typed", "expected"), [("سبز", "green"), ("GREEN", "green"), ("۳", "blue"), ("red", "red")]
)
def test_a_single_choice_is_a_label_in_either_language_or_its_number(
    typed: str, expected: str
) -> None:
    assert read_answer(SINGLE, typed) == expected


@pytest.mark.parametrize("typed", ["زرد", "4", "0", "قرمز، سبز"])
def test_a_single_choice_refuses_what_is_not_one(typed: str) -> None:
    assert _error(SINGLE, typed).problem is AnswerProblem.NOT_A_CHOICE


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("آبی، قرمز", ("red", "blue")),
        ("Blue, red, blue", ("red", "blue")),
        ("۱ ۳", ("red", "blue")),
        ("سبز", ("green",)),
        ("1;2\n3", ("red", "green", "blue")),
    ],
)
def test_multiple_choices_come_back_in_the_lists_order(
    typed: str, expected: tuple[str, ...]
) -> None:
    assert read_answer(MULTIPLE, typed) == expected


def test_multiple_choices_refuse_an_unknown_one() -> None:
    assert _error(MULTIPLE, "قرمز، بنفش").problem is AnswerProblem.NOT_A_CHOICE
    assert _error(MULTIPLE, "، ,").problem is AnswerProblem.EMPTY


def test_a_constraint_sees_earlier_answers() -> None:
    assert read_answer(CHILDREN, "۲", {"household": Decimal(4)}) == Decimal(2)
    error = _error(CHILDREN, "۵", {"household": Decimal(4)})
    assert error.problem is AnswerProblem.CONSTRAINT
    assert CHILDREN.constraint_message == {"en": "At most your household"}


def test_pressed_buttons_are_checked_too() -> None:
    check_answer(MULTIPLE, ("red",))
    check_answer(YES_NO, "no")
    for question, value in [(MULTIPLE, ("red", "pink")), (SINGLE, "pink"), (YES_NO, "maybe")]:
        with pytest.raises(AnswerError) as caught:
            check_answer(question, value)
        assert caught.value.problem is AnswerProblem.NOT_A_CHOICE


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (AGE, Decimal(42)),
        (PRICE, Decimal("12.50")),
        (TEXT, 'علی "۳" 👋'),
        (YES_NO, "yes"),
        (SINGLE, "blue"),
        (MULTIPLE, ("red", "blue")),
    ],
)
def test_values_survive_json(question: Question, value: Value) -> None:
    stored = value_to_json(value)
    json.loads(stored)  # plain JSON text
    back = value_from_json(question, stored)
    assert back == value
    assert type(back) is type(value)
    assert str(back) == str(value)  # 12.50 stays 12.50


# ---- forms ------------------------------------------------------------------------------------


def test_forms_survive_json() -> None:
    for form in (SAMPLE, READINESS):
        stored = json.dumps(form.to_json(), ensure_ascii=False)
        assert Form.from_json(json.loads(stored)) == form


def test_form_helpers() -> None:
    assert SAMPLE.question("age") is AGE
    with pytest.raises(KeyError):
        SAMPLE.question("nope")
    assert [q.name for q in SAMPLE.answerable][:2] == ["age", "member"]
    assert TEXT.max_length == 1000
    assert [c.name for c in YES_NO.options] == ["yes", "no"]


def test_a_resident_answers_with_persian_digits_and_resumes_from_stored_answers() -> None:
    """Maryam reads the welcome, gives her age, says she is no member (so «since» is skipped),
    picks red and blue, leaves, and comes back to the question about red."""
    answers: dict[str, Value] = {}
    done = {"welcome"}
    assert SAMPLE.next_question(answers) is not None
    assert SAMPLE.next_question(answers).name == "welcome"  # type: ignore[union-attr]
    for typed in ("۳۴", "نه", "قرمز، آبی"):
        question = SAMPLE.next_question(answers, done)
        assert question is not None
        answers[question.name] = read_answer(question, typed, answers)
    assert answers == {"age": Decimal(34), "member": "no", "colours": ("red", "blue")}
    stored = {name: value_to_json(value) for name, value in answers.items()}
    resumed = {name: value_from_json(SAMPLE.question(name), text) for name, text in stored.items()}
    assert SAMPLE.next_question(resumed, done) == SAMPLE.question("why_red")
    assert SAMPLE.next_question({**resumed, "age": Decimal(17)}, done) == SCALE


def _form(*questions: Question) -> Form:
    return Form({"en": "Test"}, questions)


INVALID: list[tuple[str, Callable[[], object], FormProblem, str | None]] = [
    ("no questions", lambda: _form(), FormProblem.NO_QUESTIONS, None),
    (
        "only a note",
        lambda: _form(Question("n", Kind.NOTE, {"en": "Hi"})),
        FormProblem.NO_QUESTIONS,
        None,
    ),
    ("duplicate name", lambda: _form(AGE, AGE), FormProblem.DUPLICATE_NAME, "age"),
    ("Persian name", lambda: Question("سن", Kind.TEXT, {"en": "Age"}), FormProblem.BAD_NAME, "سن"),
    ("no label", lambda: Question("a", Kind.TEXT, {"fa": " "}), FormProblem.MISSING_LABEL, "a"),
    (
        "other language",
        lambda: Question("a", Kind.TEXT, {"de": "Alter"}),
        FormProblem.MISSING_LABEL,
        "a",
    ),
    ("no title", lambda: Form({}, (AGE,)), FormProblem.MISSING_LABEL, None),
    (
        "one choice",
        lambda: Question("a", Kind.SINGLE, {"en": "A"}, choices=COLOURS[:1]),
        FormProblem.TOO_FEW_CHOICES,
        "a",
    ),
    (
        "duplicate choice",
        lambda: Question("a", Kind.MULTIPLE, {"en": "A"}, choices=(*COLOURS, COLOURS[0])),
        FormProblem.DUPLICATE_CHOICE,
        "a",
    ),
    (
        "choice name with a space",
        lambda: Question("a", Kind.SINGLE, {"en": "A"}, choices=(Choice("x y", {"en": "X"}),) * 2),
        FormProblem.BAD_NAME,
        "a",
    ),
    (
        "choice without label",
        lambda: Question("a", Kind.SINGLE, {"en": "A"}, choices=(*COLOURS, Choice("x", {}))),
        FormProblem.MISSING_LABEL,
        "a",
    ),
    (
        "scale of 20 points",
        lambda: Question("a", Kind.SCALE, {"en": "A"}, minimum=Decimal(1), maximum=Decimal(20)),
        FormProblem.BAD_BOUNDS,
        "a",
    ),
    (
        "scale upside down",
        lambda: Question("a", Kind.SCALE, {"en": "A"}, minimum=Decimal(5), maximum=Decimal(1)),
        FormProblem.BAD_BOUNDS,
        "a",
    ),
    (
        "scale without bounds",
        lambda: Question("a", Kind.SCALE, {"en": "A"}),
        FormProblem.BAD_BOUNDS,
        "a",
    ),
    (
        "number bounds upside down",
        lambda: Question("a", Kind.NUMBER, {"en": "A"}, minimum=Decimal(5), maximum=Decimal(1)),
        FormProblem.BAD_BOUNDS,
        "a",
    ),
    (
        "unsupported function",
        lambda: Question("a", Kind.TEXT, {"en": "A"}, constraint="regex(., '^[0-9]+$')"),
        FormProblem.BAD_EXPRESSION,
        "a",
    ),
    (
        "relevant on itself",
        lambda: Question("a", Kind.TEXT, {"en": "A"}, relevant=". = 'x'"),
        FormProblem.BAD_EXPRESSION,
        "a",
    ),
    (
        "relevant names a later question",
        lambda: _form(Question("a", Kind.TEXT, {"en": "A"}, relevant="${age} > 1"), AGE),
        FormProblem.LATER_NAME,
        "a",
    ),
    (
        "relevant names nothing",
        lambda: _form(AGE, Question("a", Kind.TEXT, {"en": "A"}, relevant="${agee} > 1")),
        FormProblem.UNKNOWN_NAME,
        "a",
    ),
    (
        "selected() with a misspelt choice",
        lambda: _form(
            MULTIPLE, Question("a", Kind.TEXT, {"en": "A"}, relevant="selected(${colours}, 'rd')")
        ),
        FormProblem.UNKNOWN_CHOICE,
        "a",
    ),
]


@pytest.mark.parametrize(
    ("build", "problem", "question"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_forms_are_refused(
    build: Callable[[], object], problem: FormProblem, question: str | None
) -> None:
    with pytest.raises(FormError) as caught:
        build()
    assert caught.value.problem is problem
    assert caught.value.question == question


def test_readiness_is_a_valid_bilingual_form() -> None:
    assert Form.from_json(READINESS.to_json()) == READINESS
    for text in (READINESS.title, *(q.label for q in READINESS.questions)):
        assert set(text) == set(LANGUAGES)
        assert all(value.strip() for value in text.values())
    answerable = READINESS.answerable
    assert 8 <= len(answerable) <= 12
    kinds = [question.kind for question in answerable]
    assert set(kinds[:-1]) == {Kind.SCALE, Kind.YES_NO}
    assert kinds[-1] is Kind.TEXT and not answerable[-1].required
    assert all(q.minimum == 1 and q.maximum == 5 for q in answerable if q.kind is Kind.SCALE)


# ---- conditions -------------------------------------------------------------------------------

ANSWERS: dict[str, Value] = {
    "age": Decimal(34),
    "name": "مریم",
    "member": "yes",
    "colours": ("red", "blue"),
    "price": Decimal("12.50"),
}


@pytest.mark.parametrize(
    ("expression", "current", "expected"),
    [
        (". >= 18 and . < 120", Decimal(20), True),
        (". >= ۱۸", Decimal(17), False),
        (". >= ۱۸", None, False),  # unanswered is not a number
        ("${age} > ١٨", None, True),
        ("${age} = 34", None, True),
        ("${age} = '34'", None, True),
        ("${price} = 12.5", None, True),
        ("${price} = '12.5'", None, True),  # a number's text has no trailing zeros
        ("${price} >= ۱۲٫۵", None, True),
        ("${missing} = ''", None, True),
        ("${missing} != ''", None, False),
        ("${missing} = 0", None, False),
        ("${missing} != 0", None, True),  # empty is not equal to any number
        ("${missing} < 5 or ${missing} >= 5", None, False),
        ("selected(${missing}, 'red')", None, False),
        ("count-selected(${missing}) = 0", None, True),
        ("selected(${colours}, 'red')", None, True),
        ("selected(${colours}, 'green')", None, False),
        ("selected(., 'x')", ("x", "y"), True),
        ("count-selected(${colours}) >= 2", None, True),
        ("${member} = 'yes' and not(${age} < 18)", None, True),
        ("${member} = 'no' or (${age} > 30 and ${name} = 'مريم')", None, True),  # Arabic ي
        ("not(selected(${colours}, 'red'))", None, False),
        ("string-length(.) <= 3", "abcd", False),
        ("string-length(.) <= 3", "علی", True),
        ("string-length(.) = 0", None, True),
        (". != ${age}", Decimal(5), True),
        (". <= ${missing}", Decimal(5), False),
        (". = -3", Decimal(-3), True),
        ("${name}", None, True),
        ("${missing}", None, False),
    ],
)
def test_conditions_evaluate_like_odk(
    expression: str, current: Value | None, expected: bool
) -> None:
    assert parse(expression).evaluate(ANSWERS, current) is expected


@pytest.mark.parametrize(
    ("expression", "detail"),
    [
        ("regex(., '^[0-9]+$')", "the function regex() is not supported"),
        ("today() > ${date}", "the function today() is not supported"),
        ("if(${a} = 1, 2, 3)", "the function if() is not supported"),
        ("${a} + 1 > 2", "arithmetic (+) is not supported"),
        ("${a} - 1 > 2", "arithmetic (-) is not supported"),
        ("${a} * 2 > 2", "arithmetic (*) is not supported"),
        ("${a} div 2 > 2", "arithmetic (div) is not supported"),
        ("../a = 1", "paths and node sets (..) are not supported"),
        ("a = 1", 'unexpected word "a" (write questions as ${name})'),
        ("${a} = ", "the expression ends too early"),
        ("", "the expression is empty"),
        ("(${a} = 1", "the expression ends too early"),
        ("${a} = 1)", 'unexpected ")"'),
        ("selected(${a})", 'expected "," but found ")"'),
        ("selected('x', 'y')", "selected() takes ${name} or ."),
        ("selected(${a}, ${b})", "selected() takes a quoted choice name second"),
        ("${1a} = 1", '"${1a}" does not name a question'),
    ],
)
def test_unsupported_expressions_are_named(expression: str, detail: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse(expression)
    assert caught.value.detail == detail
    assert expression in str(caught.value)


def test_condition_names_and_current() -> None:
    condition = parse("selected(${b}, 'x') and ${a} > 1 or ${b} = . ")
    assert condition.names == ("b", "a")
    assert condition.uses_current
    assert condition.selections == (("b", "x"),)
    assert not parse("${a} = 1").uses_current
