"""XLSForm workbooks in and out: what staff upload becomes a Form, or an error at a cell."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.surveys.form import Choice, Form, FormProblem, Kind, Question
from bot.surveys.templates import READINESS
from bot.surveys.xlsform import Problem, XLSFormError, read_xlsform, write_xlsform

FA, EN = "label::Persian (fa)", "label::English (en)"
SURVEY_HEADER = [
    "type", "name", FA, EN, "hint::Persian (fa)", "hint::English (en)", "required",
    "constraint", "constraint_message::Persian (fa)", "constraint_message::English (en)",
    "relevant", "parameters",
]  # fmt: skip
CHOICES_HEADER = ["list_name", "name", FA, EN]


def workbook(
    path: Path,
    survey: list[list[str | None]],
    choices: list[list[str | None]] | None = None,
    settings: list[list[str | None]] | None = None,
    survey_sheet: str = "survey",
) -> Path:
    """A workbook as staff would make one in Excel: a header row, then one row per line."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = survey_sheet
    for row in survey:
        sheet.append(row)
    for name, rows in (("choices", choices), ("settings", settings)):
        if rows is not None:
            extra = book.create_sheet(name)
            for row in rows:
                extra.append(row)
    book.save(path)
    return path


def q(type_: str, name: str, fa: str | None, en: str | None = None, **cells: str) -> list:
    """One survey row under SURVEY_HEADER; keyword cells by header (hint_fa, relevant, …)."""
    keys = {
        "hint_fa": "hint::Persian (fa)",
        "hint_en": "hint::English (en)",
        "message_fa": "constraint_message::Persian (fa)",
        "message_en": "constraint_message::English (en)",
    }
    row: dict[str, str | None] = {"type": type_, "name": name, FA: fa, EN: en}
    row.update({keys.get(key, key): value for key, value in cells.items()})
    return [row.get(header) for header in SURVEY_HEADER]


SAMPLE_SURVEY = [
    SURVEY_HEADER,
    q("note", "welcome", "به نظرسنجی محله خوش آمدید", "Welcome to the neighbourhood survey"),
    q("select_one yes_no", "resident", "آیا ساکن محله هستید؟", "Do you live here?", required="yes"),
    q(
        "integer", "age", "چند سال دارید؟", "How old are you?",
        required="TRUE", constraint=". >= 0 and . <= 120",
        message_fa="سن بین ۰ و ۱۲۰", message_en="Age is 0 to 120",
    ),
    q("begin_group", "about", "درباره شما", "About you", relevant="${resident} = 'yes'"),
    q("select_multiple needs", "needs", "چه چیزهایی لازم است؟", "What is needed?"),
    q(
        "text", "why_park", "چرا پارک؟", "Why a park?",
        relevant="selected(${needs}, 'park')", hint_fa="کوتاه بنویسید",
    ),
    q("end_group", "", None),
    q("select_one places", "place", "کجا؟", "Where?"),
    q("range", "trust", "اعتماد", "Trust", parameters="start=1 end=10 step=1"),
    q("decimal", "rent", "اجاره (میلیون تومان)", "Rent (million toman)", constraint=". > 0"),
    q("text", "story", "هر چه می‌خواهید بگویید", "Anything else?"),
]  # fmt: skip
SAMPLE_CHOICES = [
    CHOICES_HEADER,
    ["yes_no", "yes", "بله", "Yes"],
    ["yes_no", "no", "خیر", "No"],
    ["needs", "park", "پارک", "A park"],
    ["needs", "library", "کتابخانه", "A library"],
    ["needs", "clinic", "درمانگاه", "A clinic"],
    ["places", "north", "شمال محله", "North"],
    ["places", "south", "جنوب محله", None],
]
SAMPLE_SETTINGS = [["form_title", "default_language"], ["نظرسنجی محله", "Persian (fa)"]]


def test_a_two_language_workbook_becomes_a_form(tmp_path: Path) -> None:
    path = workbook(tmp_path / "محله.xlsx", SAMPLE_SURVEY, SAMPLE_CHOICES, SAMPLE_SETTINGS)
    form = read_xlsform(path)
    assert form.title == {"fa": "نظرسنجی محله"}
    kinds = {question.name: question.kind for question in form.questions}
    assert kinds == {
        "welcome": Kind.NOTE,
        "resident": Kind.YES_NO,
        "age": Kind.NUMBER,
        "needs": Kind.MULTIPLE,
        "why_park": Kind.TEXT,
        "place": Kind.SINGLE,
        "trust": Kind.SCALE,
        "rent": Kind.NUMBER,
        "story": Kind.TEXT,
    }
    resident = form.question("resident")
    assert resident.required and resident.label == {
        "fa": "آیا ساکن محله هستید؟",
        "en": "Do you live here?",
    }
    age = form.question("age")
    assert age.integer and age.required
    assert age.constraint == ". >= 0 and . <= 120"  # kept: it has its own message
    assert age.constraint_message == {"fa": "سن بین ۰ و ۱۲۰", "en": "Age is 0 to 120"}
    assert form.question("needs").choices[0] == Choice("park", {"fa": "پارک", "en": "A park"})
    assert form.question("needs").relevant == "${resident} = 'yes'"  # the group's, flattened
    why_park = form.question("why_park")
    assert why_park.relevant == "(${resident} = 'yes') and (selected(${needs}, 'park'))"
    assert why_park.hint == {"fa": "کوتاه بنویسید"}
    assert form.question("place").choices[1] == Choice("south", {"fa": "جنوب محله"})
    trust = form.question("trust")
    assert (trust.minimum, trust.maximum) == (Decimal(1), Decimal(10))
    rent = form.question("rent")
    assert not rent.integer and rent.constraint == ". > 0"
    assert not form.question("story").required


def test_simple_bounds_become_the_questions_own(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "bounds.xlsx",
        [
            ["type", "name", "label", "constraint"],
            ["integer", "children", "چند فرزند دارید؟", ". >= ۰ and . <= 20"],
            ["text", "title", "عنوان", "string-length(.) <= 80"],
        ],
    )
    form = read_xlsform(path)
    children, title = form.questions
    assert (children.minimum, children.maximum, children.constraint) == (0, 20, None)
    assert (title.max_length, title.constraint) == (80, None)
    assert form.title == {"fa": "bounds"}  # no form_title: the file's name, as in pyxform


@pytest.mark.parametrize(
    ("headers", "settings", "expected"),
    [
        (["label"], [["default_language"], ["English (en)"]], {"en": "الف"}),
        (["label::fa", "label::English"], None, {"fa": "الف", "en": "A"}),
        (["label::Farsi (fa)", "label::en"], None, {"fa": "الف", "en": "A"}),
        (["label", "label::English (en)"], None, {"fa": "الف", "en": "A"}),
        (["label", "label::French (fr)"], None, {"fa": "الف"}),
    ],
)
def test_language_columns_are_read_by_their_code(
    tmp_path: Path, headers: list[str], settings: list | None, expected: dict[str, str]
) -> None:
    path = workbook(
        tmp_path / "languages.xlsx",
        [["type", "name", *headers], ["text", "a", "الف", "A"][: 2 + len(headers)]],
        settings=settings,
    )
    label = read_xlsform(path).question("a").label
    assert label == expected


def test_bytes_are_read_like_a_file(tmp_path: Path) -> None:
    path = workbook(tmp_path / "s.xlsx", SAMPLE_SURVEY, SAMPLE_CHOICES, SAMPLE_SETTINGS)
    assert read_xlsform(path.read_bytes()) == read_xlsform(path)
    bare = workbook(tmp_path / "bare.xlsx", [["type", "name", "label"], ["text", "a", "A"]])
    assert read_xlsform(bare.read_bytes()).title == {"fa": "پرسش‌نامه", "en": "Survey"}


BOUNDED = Form(
    {"fa": "آزمون", "en": "Test"},
    (
        Question(
            "age",
            Kind.NUMBER,
            {"fa": "سن"},
            integer=True,
            minimum=Decimal(0),
            maximum=Decimal(120),
        ),
        Question("rent", Kind.NUMBER, {"en": "Rent"}, minimum=Decimal("0.5")),
        Question("title", Kind.TEXT, {"en": "Title"}, max_length=80, required=True),
        Question(
            "yes_no",
            Kind.SINGLE,
            {"en": "Pick"},
            choices=(Choice("a", {"en": "A"}), Choice("b", {"fa": "ب"})),
        ),
        Question("ok", Kind.YES_NO, {"fa": "خوب است؟"}, relevant="${yes_no} = 'a'"),
    ),
)


@pytest.mark.parametrize("form", [READINESS, BOUNDED], ids=["readiness", "bounded"])
def test_written_workbooks_read_back_the_same(tmp_path: Path, form: Form) -> None:
    path = tmp_path / "template.xlsx"
    write_xlsform(form, path)
    assert read_xlsform(path) == form
    buffer = BytesIO()
    write_xlsform(form, buffer)
    assert read_xlsform(buffer.getvalue()) == form


def test_sample_survives_a_round_trip(tmp_path: Path) -> None:
    form = read_xlsform(
        workbook(tmp_path / "s.xlsx", SAMPLE_SURVEY, SAMPLE_CHOICES, SAMPLE_SETTINGS)
    )
    write_xlsform(form, tmp_path / "again.xlsx")
    assert read_xlsform(tmp_path / "again.xlsx") == form


# ---- broken files -----------------------------------------------------------------------------

H = ["type", "name", "label", "relevant", "constraint", "required", "parameters"]
YES_NO_LIST = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]

BROKEN = [
    (
        "unknown type",
        [H, ["text", "a", "A"], ["integer", "b", "B"], ["geopoint", "where", "Where?"]],
        None,
        (Problem.UNSUPPORTED_TYPE, "survey", 4, "type"),
        'survey sheet, row 4, column "type": unsupported question type "geopoint"',
    ),
    (
        "repeat",
        [H, ["begin_repeat", "kids", "Kids"], ["text", "a", "A"], ["end_repeat"]],
        None,
        (Problem.UNSUPPORTED_TYPE, "survey", 2, "type"),
        None,
    ),
    (
        "or_other",
        [H, ["select_one yn or_other", "a", "A"]],
        YES_NO_LIST,
        (Problem.UNSUPPORTED_TYPE, "survey", 2, "type"),
        None,
    ),
    (
        "select_one_from_file",
        [H, ["select_one_from_file places.csv", "a", "A"]],
        None,
        (Problem.UNSUPPORTED_TYPE, "survey", 2, "type"),
        None,
    ),
    (
        "missing list",
        [H, ["text", "a", "A"], [], ["select_one colours", "c", "Colour?"]],
        YES_NO_LIST,
        (Problem.UNKNOWN_LIST, "survey", 4, "type"),
        'survey sheet, row 4, column "type": the choices sheet has no list "colours"',
    ),
    (
        "missing list and no choices sheet",
        [H, ["select_multiple colours", "c", "Colour?"]],
        None,
        (Problem.UNKNOWN_LIST, "survey", 2, "type"),
        None,
    ),
    (
        "relevant names an unknown question",
        [H, ["text", "a", "A"], ["text", "b", "B", "${zz} = 'x'"]],
        None,
        (Problem.UNKNOWN_NAME, "survey", 3, "relevant"),
        'survey sheet, row 3, column "relevant": there is no question named "zz"',
    ),
    (
        "relevant names a later question",
        [H, ["text", "a", "A", "${b} = 'x'"], ["text", "b", "B"]],
        None,
        (Problem.LATER_NAME, "survey", 2, "relevant"),
        None,
    ),
    (
        "unsupported function in a constraint",
        [H, ["text", "a", "A"], ["text", "code", "Code", None, "regex(., '^[0-9]{10}$')"]],
        None,
        (Problem.BAD_EXPRESSION, "survey", 3, "constraint"),
        'survey sheet, row 3, column "constraint": '
        "cannot use \"regex(., '^[0-9]{10}$')\": the function regex() is not supported",
    ),
    (
        "arithmetic in a group's relevant",
        [
            H,
            ["integer", "a", "A"],
            ["begin_group", "g", "G", "${a} + 1 > 2"],
            ["text", "b", "B"],
            ["end_group"],
        ],
        None,
        (Problem.BAD_EXPRESSION, "survey", 3, "relevant"),
        None,
    ),
    (
        "duplicate names",
        [H, ["text", "a", "A"], ["text", "b", "B"], ["integer", "a", "Again"]],
        None,
        (Problem.DUPLICATE_NAME, "survey", 4, "name"),
        'survey sheet, row 4, column "name": the name "a" is already used in row 2',
    ),
    (
        "duplicate names across groups",
        [H, ["text", "a", "A"], ["begin_group", "g", "G"], ["text", "a", "B"], ["end_group"]],
        None,
        (Problem.DUPLICATE_NAME, "survey", 4, "name"),
        None,
    ),
    (
        "missing name",
        [H, ["text", "a", "A"], ["text", None, "B"]],
        None,
        (Problem.MISSING_VALUE, "survey", 3, "name"),
        None,
    ),
    (
        "missing label",
        [["type", "name", FA, EN], ["text", "a", "A", None], ["text", "b", None, None]],
        None,
        (Problem.MISSING_LABEL, "survey", 3, FA),
        None,
    ),
    (
        "list with one choice",
        [H, ["select_one one", "a", "A"]],
        [["list_name", "name", "label"], ["one", "only", "Only"]],
        (Problem.TOO_FEW_CHOICES, "survey", 2, "type"),
        None,
    ),
    (
        "choice name with a space",
        [H, ["select_one l", "a", "A"]],
        [["list_name", "name", "label"], ["l", "x", "X"], ["l", "y z", "YZ"]],
        (Problem.BAD_NAME, "choices", 3, "name"),
        None,
    ),
    (
        "duplicate choice (pyxform's own check)",
        [H, ["select_one l", "a", "A"]],
        [["list_name", "name", "label"], ["l", "x", "X"], ["l", "x", "X again"]],
        (Problem.PYXFORM, "choices", 3, "name"),
        None,
    ),
    (
        "unmatched group (pyxform's own check)",
        [H, ["text", "a", "A"], ["begin_group", "g", "G"], ["text", "b", "B"]],
        None,
        (Problem.PYXFORM, "survey", 3, None),
        None,
    ),
    (
        "range of 20 points",
        [H, ["range", "r", "R", None, None, None, "start=1 end=20"]],
        None,
        (Problem.BAD_BOUNDS, "survey", 2, "parameters"),
        None,
    ),
    (
        "range by twos",
        [H, ["range", "r", "R", None, None, None, "start=0 end=10 step=2"]],
        None,
        (Problem.BAD_BOUNDS, "survey", 2, "parameters"),
        None,
    ),
    (
        "required maybe",
        [H, ["text", "a", "A", None, None, "maybe"]],
        None,
        (Problem.BAD_VALUE, "survey", 2, "required"),
        None,
    ),
    (
        "number bounds upside down",
        [H, ["integer", "a", "A", None, ". >= 10 and . <= 1"]],
        None,
        (Problem.BAD_BOUNDS, "survey", 2, "constraint"),
        None,
    ),
    (
        "cascading select",
        [[*H, "choice_filter"], ["select_one yn", "a", "A", None, None, None, None, "x = 1"]],
        YES_NO_LIST,
        (Problem.UNSUPPORTED_COLUMN, "survey", 2, "choice_filter"),
        None,
    ),
    (
        "no type column",
        [["name", "label"], ["a", "A"]],
        None,
        (Problem.MISSING_COLUMN, "survey", 1, "type"),
        None,
    ),
    (
        "only notes",
        [H, ["note", "a", "A"]],
        None,
        (Problem.NO_QUESTIONS, "survey", None, None),
        None,
    ),
]


@pytest.mark.parametrize(
    ("survey", "choices", "where", "message"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_workbooks_name_the_cell(
    tmp_path: Path,
    survey: list,
    choices: list | None,
    where: tuple[Problem, str, int | None, str | None],
    message: str | None,
) -> None:
    path = workbook(tmp_path / "broken.xlsx", survey, choices)
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(path)
    error = caught.value
    assert (error.code, error.sheet, error.row, error.column) == where
    if message is not None:
        assert str(error) == message
    assert error.as_dict()["code"] == where[0].value


def test_a_workbook_without_a_survey_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "q.xlsx", [H, ["text", "a", "A"]], YES_NO_LIST, survey_sheet="Q")
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(path)
    error = caught.value
    assert (error.code, error.sheet, error.row, error.column) == (
        Problem.MISSING_SHEET,
        "survey",
        None,
        None,
    )
    assert str(error) == 'survey sheet: the workbook has no sheet named "survey"'


@pytest.mark.parametrize(
    "content",
    [b"type,name,label\ntext,a,A\n", b"PK\x03\x04 not really a zip", "سلام".encode(), b""],
)
def test_a_file_that_is_no_workbook(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "survey.xlsx"
    path.write_bytes(content)
    for source in (path, content):
        with pytest.raises(XLSFormError) as caught:
            read_xlsform(source)
        error = caught.value
        assert (error.code, error.sheet, error.row, error.column) == (
            Problem.NOT_A_WORKBOOK,
            None,
            None,
            None,
        )


def test_every_form_problem_is_an_xlsform_problem() -> None:
    assert {problem.value for problem in FormProblem} <= {problem.value for problem in Problem}
