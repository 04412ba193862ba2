"""XLSForm files in and out: staff design a survey in Excel the way ODK and KoBo users do.

pyxform reads the workbook (xlsx or xls) and turns it into its JSON form: labels grouped per
language, choices attached to their questions, binds as strings, groups nested. It does not know
which question types Hamgam can ask, does not evaluate expressions, and only reports a row for
some of its errors, so this module checks row by row first (types, names, lists), lets pyxform
check the rest, and then builds a Form whose own checks are reported at the row and column they
came from. Every error is an XLSFormError with a code from `Problem` for the bot to word.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import resource
import sys
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.i18n.normalize import normalize_text
from bot.surveys.conditions import Answer, Compare, ConditionError, Number, StringLength, parse
from bot.surveys.form import (
    TEXT_MAX,
    YES_NO_CHOICES,
    Choice,
    Form,
    FormError,
    Kind,
    Question,
    Texts,
)

if TYPE_CHECKING:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import DefinitionData

# pyxform and openpyxl (with xlrd, lark and numpy) are imported where a workbook is read or
# written: the bot reads one only in read_xlsform_isolated's child process, and loading them at
# start cost about a second and 25 MB that the bot never used.

__all__ = [
    "Problem",
    "XLSFormError",
    "check_packing",
    "read_xlsform",
    "read_xlsform_isolated",
    "write_xlsform",
]

# What an uploaded workbook may cost. A real KoBoToolbox or ODK form has a few hundred rows, at
# most a few thousand (a long list of streets in the choices sheet), and unpacks to a few MB;
# these limits leave several times that room. pyxform reads all of a workbook into memory (a
# 10,000-row sheet: about 2 s and 70 MB) and a zip packs repetitive sheet XML up to a thousand
# times, so a 100 KB file can stall the bot for many seconds: a file is refused before parsing
# if its members' unpacked sizes (which zipfile's readers never read past) exceed
# MAX_UNPACKED_BYTES in all, if a large member is packed more than MAX_RATIO times (sheet XML
# packs about ten times; more means long runs of repeated bytes, not a form), or if a sheet has
# more than MAX_ROWS rows; and it is parsed in a child process stopped after PARSE_SECONDS or
# beyond PARSE_MEMORY_BYTES of address space (the interpreter with pyxform takes about 180 MB).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_RATIO = 200
RATIO_CHECKED_FROM = 1024 * 1024  # smaller members cost little, however well packed
MAX_ROWS = 10_000
PARSE_SECONDS = 20.0
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024

# How the writer names languages in column headers, as ODK's documentation does.
COLUMN_LANGUAGE = {"fa": "Persian (fa)", "en": "English (en)"}
_LANGUAGE_WORDS = {"persian": "fa", "farsi": "fa", "فارسی": "fa", "english": "en"}
_DEFAULT_TITLE = {"fa": "پرسش‌نامه", "en": "Survey"}
_TRUE = {"yes", "true", "true()", "1"}
_FALSE = {"no", "false", "false()", "0", ""}
_UNSUPPORTED_COLUMNS = ("choice_filter",)  # would silently change which choices are offered


class Problem(StrEnum):
    """Every reason a file is refused. The values of FormProblem are here too, unchanged."""

    NOT_A_WORKBOOK = "not_a_workbook"
    MISSING_SHEET = "missing_sheet"  # params: sheet
    MISSING_COLUMN = "missing_column"
    MISSING_VALUE = "missing_value"
    UNSUPPORTED_TYPE = "unsupported_type"  # params: type
    UNSUPPORTED_COLUMN = "unsupported_column"
    UNKNOWN_LIST = "unknown_list"  # params: list
    BAD_VALUE = "bad_value"  # params: value
    NO_QUESTIONS = "no_questions"
    BAD_NAME = "bad_name"  # params: name or choice
    DUPLICATE_NAME = "duplicate_name"  # params: name, first_row
    MISSING_LABEL = "missing_label"
    TOO_FEW_CHOICES = "too_few_choices"  # params: list
    DUPLICATE_CHOICE = "duplicate_choice"  # params: choice
    BAD_BOUNDS = "bad_bounds"
    BAD_EXPRESSION = "bad_expression"  # params: expression, detail (English)
    UNKNOWN_NAME = "unknown_name"  # params: name
    LATER_NAME = "later_name"  # params: name
    UNKNOWN_CHOICE = "unknown_choice"  # params: name, choice
    PYXFORM = "pyxform"  # anything else pyxform refused; params: detail (its English words)
    FILE_TOO_LARGE = "file_too_large"  # params: limit (MB)
    UNPACKED_TOO_LARGE = "unpacked_too_large"  # params: limit (MB)
    PACKED_TOO_TIGHTLY = "packed_too_tightly"  # params: ratio
    TOO_MANY_ROWS = "too_many_rows"  # params: limit; sheet set when known
    TOO_SLOW = "too_slow"  # params: seconds
    TOO_MUCH_MEMORY = "too_much_memory"  # params: limit (MB)


class XLSFormError(ValueError):
    """Where a file goes wrong (sheet, row as Excel numbers it, column header) and why."""

    def __init__(
        self,
        code: Problem,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        **params: str,
    ) -> None:
        self.code = code
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column
        self.params = {key: str(value) for key, value in params.items()}
        super().__init__(f"{self.where}: {message}" if self.where else message)

    @property
    def where(self) -> str:
        parts = [f"{self.sheet} sheet"] if self.sheet else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f'column "{self.column}"')
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "params": self.params,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> XLSFormError:
        return cls(
            Problem(data["code"]),
            data["message"],
            sheet=data["sheet"],
            row=data["row"],
            column=data["column"],
            **data["params"],
        )


# ---- reading ----------------------------------------------------------------------------------


def _mb(size: int) -> str:
    return str(size // (1024 * 1024))


def check_packing(content: bytes) -> None:
    """Refuses a file too large, or a workbook that unpacks too large or packs too tightly, from
    the zip's directory alone (nothing is unpacked); see MAX_UNPACKED_BYTES."""
    if len(content) > MAX_FILE_BYTES:
        raise XLSFormError(
            Problem.FILE_TOO_LARGE,
            f"the file is larger than {_mb(MAX_FILE_BYTES)} MB",
            limit=_mb(MAX_FILE_BYTES),
        )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return  # an .xls, or no workbook at all: its bytes are all there is to read
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError):
        return  # _load refuses it as no workbook
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise XLSFormError(
            Problem.UNPACKED_TOO_LARGE,
            f"the workbook unpacks to more than {_mb(MAX_UNPACKED_BYTES)} MB",
            limit=_mb(MAX_UNPACKED_BYTES),
        )
    for member in members:
        ratio = member.file_size // max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM and ratio > MAX_RATIO:
            raise XLSFormError(
                Problem.PACKED_TOO_TIGHTLY,
                f"{member.filename} unpacks to {ratio} times its packed size",
                ratio=str(ratio),
            )


_ROW = re.compile(rb"<(?:\w{1,8}:)?row[\s>/]")  # at most 14 bytes: see _count_rows
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")


def _attribute(tag: bytes, name: bytes) -> str | None:
    found = re.search(rb"(?:^|\s)(?:\w+:)?" + name + rb'\s*=\s*"([^"]*)"', tag)
    return found.group(1).decode("utf-8", "replace") if found else None


def _sheet_names(book: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member → the sheet's name, as far as the workbook's parts say."""
    try:
        workbook = book.read("xl/workbook.xml")
        relationships = book.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return {}
    targets = {
        _attribute(tag, b"Id"): _attribute(tag, b"Target")
        for tag in _RELATIONSHIP.findall(relationships)
    }
    names = {}
    for tag in _SHEET.findall(workbook):
        target = targets.get(_attribute(tag, b"id"))
        if target and (name := _attribute(tag, b"name")):
            names["xl/" + target.removeprefix("/xl/").removeprefix("/")] = name
    return names


def _count_rows(sheet: IO[bytes]) -> int:
    """Rows in a worksheet's XML, read in chunks and stopped once past MAX_ROWS."""
    rows, tail = 0, b""
    while rows <= MAX_ROWS and (chunk := sheet.read(1024 * 1024)):
        text = tail + chunk
        cut = max(len(text) - 16, 0)  # a row tag starting after it is counted with the next chunk
        rows += sum(1 for found in _ROW.finditer(text) if found.start() < cut)
        tail = text[cut:]
    return rows + len(_ROW.findall(tail))


def check_rows(content: bytes) -> None:
    """Refuses a workbook with a sheet of more than MAX_ROWS rows, counted in its XML without
    building any cell (an .xls has its rows counted once loaded: see _Sheets)."""
    try:
        book = zipfile.ZipFile(io.BytesIO(content))
        names = _sheet_names(book)
        for member in book.infolist():
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                with book.open(member) as sheet:
                    rows = _count_rows(sheet)
                if rows > MAX_ROWS:
                    break
        else:
            return
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # not a zip (an .xls), or a broken one: _load tells
    _too_many_rows(names.get(member.filename))


def _too_many_rows(sheet: str | None) -> NoReturn:
    raise XLSFormError(
        Problem.TOO_MANY_ROWS,
        f"the sheet has more than {MAX_ROWS} rows",
        sheet=sheet,
        limit=str(MAX_ROWS),
    )


def read_xlsform(source: str | PathLike[str] | bytes) -> Form:
    """The Form in an XLSForm workbook (a path or the file's bytes), or XLSFormError. It runs
    in the calling process: a file from someone else goes through read_xlsform_isolated."""
    if isinstance(source, bytes):
        content, stem = source, None
    else:
        content, stem = Path(source).read_bytes(), Path(source).stem
    return _read(content, stem)


def _read(content: bytes, stem: str | None) -> Form:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json

    check_packing(content)
    check_rows(content)
    book = _load(content)
    sheet = _Sheets(book)
    try:
        pyxform_json = workbook_to_json(book, fallback_form_name=stem, warnings=[])
    except PyXFormError as error:
        raise _from_pyxform(error) from None
    return _Builder(sheet, pyxform_json, stem).form()


_ROOT = str(Path(__file__).resolve().parents[2])  # so that the child imports this very code


async def read_xlsform_isolated(
    content: bytes,
    stem: str | None = None,
    *,
    seconds: float = PARSE_SECONDS,
    memory_bytes: int = PARSE_MEMORY_BYTES,
) -> Form:
    """read_xlsform in a child process, stopped after `seconds` or beyond `memory_bytes` of
    address space, so that a costly file neither holds up the event loop nor takes the bot's
    memory; the checks that need no unpacking refuse most such files first."""
    check_packing(content)
    paths = [_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.surveys.xlsform import _child; _child()",
        stem or "",
        str(memory_bytes),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
    try:
        output, errors = await asyncio.wait_for(process.communicate(content), seconds)
    except TimeoutError:
        raise XLSFormError(
            Problem.TOO_SLOW,
            f"reading the file took longer than {seconds:g} s",
            seconds=str(max(round(seconds), 1)),
        ) from None
    finally:
        if process.returncode is None:  # timed out, or the bot is stopping
            process.kill()
            await process.wait()
    if process.returncode != 0 or not output:
        raise RuntimeError(f"the XLSForm reader failed: {errors.decode(errors='replace')[-2000:]}")
    result = json.loads(output)
    if "error" in result:
        raise XLSFormError.from_dict(result["error"])
    return Form.from_json(result["form"])


def _child() -> None:
    """The child process of read_xlsform_isolated: the file on stdin, JSON on stdout."""
    stem, memory_bytes = sys.argv[1] or None, int(sys.argv[2])
    content = sys.stdin.buffer.read()
    # The readers load before the limit, which is for what the file costs.
    import pyxform.xls2json
    import pyxform.xls2json_backends  # noqa: F401

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        result = {"form": _read(content, stem).to_json()}
    except XLSFormError as error:
        result = {"error": error.as_dict()}
    except MemoryError:
        limit = _mb(memory_bytes)
        result = {
            "error": XLSFormError(
                Problem.TOO_MUCH_MEMORY, f"reading the file needs more than {limit} MB", limit=limit
            ).as_dict()
        }
    sys.stdout.write(json.dumps(result))


def _load(content: bytes) -> DefinitionData:
    from pyxform.xls2json_backends import get_xlsform

    for file_type in (".xlsx", ".xls"):
        try:
            return get_xlsform(content, file_type=file_type)
        except Exception:  # untrusted bytes: the readers leak zipfile's and xlrd's own errors
            continue
    raise XLSFormError(Problem.NOT_A_WORKBOOK, "this is not an Excel workbook (.xlsx or .xls)")


def _type_of(raw: str) -> tuple[str, str | None]:
    """(base type, list name) of a `type` cell; base "" means unsupported."""
    words = raw.split()
    lowered = " ".join(words).lower()
    simple = {
        "integer": "integer",
        "int": "integer",
        "decimal": "decimal",
        "text": "text",
        "string": "text",
        "note": "note",
        "range": "range",
        "begin_group": "begin_group",
        "begin group": "begin_group",
        "end_group": "end_group",
        "end group": "end_group",
    }
    if lowered in simple:
        return simple[lowered], None
    for prefix, base in (
        ("select_one", "select_one"),
        ("select one", "select_one"),
        ("select_multiple", "select_multiple"),
        ("select all that apply", "select_multiple"),
    ):
        rest = words[len(prefix.split()) :]
        if lowered.startswith(prefix + " ") and len(rest) == 1:
            return base, rest[0]
    return "", None


class _Sheets:
    """The raw rows, checked for what pyxform lets through or reports without a row: the sheets
    and columns we need, supported types, names present and unique, lists that exist."""

    def __init__(self, book: DefinitionData) -> None:
        names = {name.lower() for name in book.sheet_names or ()}
        if "survey" not in names:
            raise XLSFormError(
                Problem.MISSING_SHEET,
                'the workbook has no sheet named "survey"',
                sheet="survey",
            )
        for sheet, rows in (("survey", book.survey), ("choices", book.choices)):
            if len(rows or ()) > MAX_ROWS:
                _too_many_rows(sheet)
        self.survey_headers = _headers(book.survey_header)
        self.choices_headers = _headers(book.choices_header)
        # pyxform falls back to the file name for a title; only a form_title cell is one.
        self.has_title = any(
            header.lower().startswith(("form_title", "set_form_title"))
            for header in _headers(book.settings_header)
        )
        for column in ("type", "name"):
            if column not in {header.lower() for header in self.survey_headers}:
                raise XLSFormError(
                    Problem.MISSING_COLUMN,
                    f'the sheet has no "{column}" column',
                    sheet="survey",
                    row=1,
                    column=column,
                )
        self.choice_rows: dict[tuple[str, str], int] = {}
        for row, cells in _rows(book.choices):
            list_name, name = _cell(cells, "list_name"), _cell(cells, "name")
            if list_name and name:
                self.choice_rows.setdefault((list_name, name), row)
        lists = {list_name for list_name, _ in self.choice_rows}
        self.question_rows: dict[str, int] = {}
        self.group_rows: dict[str, int] = {}
        self.lists: dict[str, str] = {}  # question name -> its choice list
        for row, cells in _rows(book.survey):
            self._check_row(row, cells, lists)

    def _check_row(self, row: int, cells: Mapping[str, str], lists: set[str]) -> None:
        raw_type, name = _cell(cells, "type"), _cell(cells, "name")
        if not raw_type:
            if name:
                raise self.error(Problem.MISSING_VALUE, row, "type", "the type is missing")
            return  # a comment row, as in pyxform
        base, list_name = _type_of(raw_type)
        if not base:
            raise self.error(
                Problem.UNSUPPORTED_TYPE,
                row,
                "type",
                f'unsupported question type "{raw_type}"',
                type=raw_type,
            )
        for column in _UNSUPPORTED_COLUMNS:
            if _cell(cells, column):
                raise self.error(
                    Problem.UNSUPPORTED_COLUMN, row, column, f'"{column}" is not supported'
                )
        if base == "end_group":
            return
        if not name:
            raise self.error(Problem.MISSING_VALUE, row, "name", "the name is missing")
        if base == "begin_group":
            self.group_rows[name] = row
            return
        if name in self.question_rows:
            first = self.question_rows[name]
            raise self.error(
                Problem.DUPLICATE_NAME,
                row,
                "name",
                f'the name "{name}" is already used in row {first}',
                name=name,
                first_row=str(first),
            )
        self.question_rows[name] = row
        if list_name is not None:
            if list_name not in lists:
                raise self.error(
                    Problem.UNKNOWN_LIST,
                    row,
                    "type",
                    f'the choices sheet has no list "{list_name}"',
                    list=list_name,
                )
            self.lists[name] = list_name

    def error(
        self, code: Problem, row: int | None, column: str | None, message: str, **params: str
    ) -> XLSFormError:
        header = self.column(column) if column else None
        return XLSFormError(code, message, sheet="survey", row=row, column=header, **params)

    def column(self, wanted: str, headers: list[str] | None = None) -> str:
        """The header as written in the file: `wanted` exactly, or the first `wanted::…`."""
        headers = self.survey_headers if headers is None else headers
        for header in headers:
            if header.lower() == wanted or header.lower().startswith(wanted + "::"):
                return header
        return wanted


def _headers(header_rows: Any) -> list[str]:
    return [str(header) for header in header_rows[0]] if header_rows else []


def _rows(sheet: Any) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as Excel shows it, cells by lower-case header); pyxform keeps blank rows."""
    for index, cells in enumerate(sheet or ()):
        yield index + 2, {key.lower(): str(value).strip() for key, value in cells.items()}


def _cell(cells: Mapping[str, str], column: str) -> str:
    return cells.get(column, "")


_PYXFORM_ROW = re.compile(r"^\[row : (\d+)\]\s*")
_PYXFORM_WHERE = re.compile(r"On the '(\w+)' sheet, the '([^']+)' value")


def _from_pyxform(error: PyXFormError) -> XLSFormError:
    """pyxform's refusal, located: from its context when it gives one, else from its words."""
    from pyxform.errors import ErrorCode

    text = str(error)
    context = error.context
    found_row = _PYXFORM_ROW.match(text)
    found_where = _PYXFORM_WHERE.search(text)
    row = context.get("row") or (int(found_row.group(1)) if found_row else None)
    sheet = context.get("sheet") or (found_where.group(1) if found_where else None)
    column = context.get("column") or (found_where.group(2) if found_where else None)
    detail = _PYXFORM_ROW.sub("", text)
    if row is not None and sheet is None:
        sheet = "survey"  # pyxform names the sheet except for survey rows
    if error.code is ErrorCode.PYREF_003 and context.get("q"):
        name = str(context["q"])
        return XLSFormError(
            Problem.UNKNOWN_NAME,
            f'there is no question named "{name}"',
            sheet=sheet,
            row=row,
            column=column,
            name=name,
        )
    return XLSFormError(Problem.PYXFORM, detail, sheet=sheet, row=row, column=column, detail=detail)


def _language(key: str, default: str) -> str | None:
    """The language code of a column suffix: "Persian (fa)", "Farsi (fa)", "fa", "English" …
    give "fa" or "en"; other languages are not ours (None)."""
    if key == "default":
        return default
    code = re.search(r"\(\s*([A-Za-z]+)(?:[-_][A-Za-z]+)?\s*\)\s*$", key)
    word = code.group(1) if code else key.strip()
    language = _LANGUAGE_WORDS.get(word.lower(), word.lower())
    return language if language in LANGUAGES else None


class _Builder:
    """pyxform's JSON to a Form, with every problem reported at its row and column."""

    def __init__(self, sheets: _Sheets, data: Mapping[str, Any], stem: str | None) -> None:
        self.sheets = sheets
        self.data = data
        self.stem = stem
        self.default = _language(str(data.get("default_language", "default")), "") or (
            DEFAULT_LANGUAGE
        )
        self.kinds: dict[str, Kind] = {}

    def texts(self, value: Any) -> Texts:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            value = {"default": value}
        texts: Texts = {}
        for key, text in value.items():
            language = _language(str(key), self.default)
            cleaned = normalize_text(str(text or ""))
            if language and cleaned and language not in texts:
                texts[language] = cleaned
        return texts

    def form(self) -> Form:
        questions = tuple(self.walk(self.data.get("children", ()), ()))
        title = self.texts(self.data.get("title")) if self.sheets.has_title else {}
        if not title:
            title = {self.default: self.stem} if self.stem else dict(_DEFAULT_TITLE)
        try:
            return Form(title, questions)
        except FormError as error:
            raise self.located(error) from None

    def walk(self, children: Any, relevant: tuple[str, ...]) -> Iterator[Question]:
        for child in children:
            if child.get("type") != "group":
                yield self.question(child, relevant)
                continue
            if child.get("control", {}).get("bodyless"):
                continue  # pyxform's own meta group (instanceID)
            own = child.get("bind", {}).get("relevant")
            if own:
                self.check_group_relevant(child["name"], own)
            yield from self.walk(child.get("children", ()), (*relevant, own) if own else relevant)

    def check_group_relevant(self, group: str, source: str) -> None:
        row, column = self.sheets.group_rows.get(group), "relevant"
        try:
            names = parse(source).names
        except ConditionError as error:
            raise self.sheets.error(
                Problem.BAD_EXPRESSION,
                row,
                column,
                str(error),
                expression=source,
                detail=error.detail,
            ) from None
        for name in names:
            if name not in self.kinds:
                later = name in self.sheets.question_rows
                raise self.sheets.error(
                    Problem.LATER_NAME if later else Problem.UNKNOWN_NAME,
                    row,
                    column,
                    f'relevant names "{name}", which is not an earlier question',
                    name=name,
                )

    def question(self, child: Mapping[str, Any], relevant: tuple[str, ...]) -> Question:
        name = str(child["name"])
        bind = child.get("bind", {})
        required = str(bind.get("required", "")).strip()
        if required.lower() not in _TRUE | _FALSE:
            raise self.sheets.error(
                Problem.BAD_VALUE,
                self.sheets.question_rows.get(name),
                "required",
                f'"{required}" is not yes or no',
                value=required,
            )
        own = bind.get("relevant")
        parts = (*relevant, own) if own else relevant
        fields: dict[str, Any] = {
            "name": name,
            "label": self.texts(child.get("label")),
            "hint": self.texts(child.get("hint")),
            "required": required.lower() in _TRUE,
            "constraint": bind.get("constraint") or None,
            "constraint_message": self.texts(bind.get("jr:constraintMsg")),
            "relevant": _all_of(parts),
        }
        fields.update(self.kind_fields(name, child))
        self.kinds[name] = fields["kind"]
        try:
            question = Question(**fields)
        except FormError as error:
            raise self.located(error) from None
        return self.with_limits(question)

    def kind_fields(self, name: str, child: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(child.get("type"))
        if kind in ("select one", "select all that apply"):
            choices = tuple(
                Choice(str(c["name"]), self.texts(c.get("label"))) for c in child.get("choices", ())
            )
            if kind == "select one" and [c.name for c in choices] == ["yes", "no"]:
                return {"kind": Kind.YES_NO}  # the bot's own yes/no, which reads «آره» too
            return {
                "kind": Kind.SINGLE if kind == "select one" else Kind.MULTIPLE,
                "choices": choices,
            }
        if kind in ("integer", "int", "decimal"):
            return {"kind": Kind.NUMBER, "integer": kind != "decimal"}
        if kind in ("text", "string"):
            return {"kind": Kind.TEXT}
        if kind == "note":
            return {"kind": Kind.NOTE}
        if kind == "range":
            return {"kind": Kind.SCALE, **self.scale(name, child.get("parameters") or {})}
        row = self.sheets.question_rows.get(name)  # pragma: no cover - _Sheets refused it
        raise self.sheets.error(
            Problem.UNSUPPORTED_TYPE, row, "type", f'unsupported type "{kind}"', type=kind
        )

    def scale(self, name: str, parameters: Mapping[str, str]) -> dict[str, Decimal]:
        try:
            start, end, step = (Decimal(str(parameters.get(k, d))) for k, d in _RANGE_DEFAULTS)
        except InvalidOperation:
            step = Decimal(0)  # pyxform already refuses non-numbers; this is a safety net
        if step != 1:
            raise self.sheets.error(
                Problem.BAD_BOUNDS,
                self.sheets.question_rows.get(name),
                "parameters",
                "a range steps by 1",
            )
        return {"minimum": start, "maximum": end}

    def with_limits(self, question: Question) -> Question:
        """A constraint that only bounds the answer (`. >= 0 and . <= 120`, `string-length(.) <=
        200`) and has no message of its own becomes the question's bounds, so a person is told
        the limit in their language; write_xlsform writes bounds this way."""
        if question.constraint is None or question.constraint_message:
            return question
        limits = _limits(question.constraint)
        allowed = {Kind.NUMBER: {"minimum", "maximum"}, Kind.TEXT: {"max_length"}}
        if not limits or not set(limits) <= allowed.get(question.kind, set()):
            return question
        if "max_length" in limits:
            length = limits["max_length"]
            if length != length.to_integral_value() or length < 1:
                return question
            limits = {"max_length": int(length)}
        try:
            return replace(question, constraint=None, **limits)
        except FormError as error:
            raise self.located(error) from None

    def located(self, error: FormError) -> XLSFormError:
        """A Form's own complaint, at the cell it came from."""
        code = Problem(error.problem.value)
        message = error.message
        params = dict(error.params)
        if error.question is None:
            if error.field == "title":
                return XLSFormError(code, message, sheet="settings", column="form_title", **params)
            return XLSFormError(code, message, sheet="survey", **params)
        row = self.sheets.question_rows.get(error.question)
        column = _FIELD_COLUMNS.get(error.field or "", error.field)
        list_name = self.sheets.lists.get(error.question)
        if error.field == "choices" and list_name:
            params["list"] = list_name
            choice = params.get("choice")
            if choice is not None and (list_name, choice) in self.sheets.choice_rows:
                header = "label" if code is Problem.MISSING_LABEL else "name"
                return XLSFormError(
                    code,
                    message,
                    sheet="choices",
                    row=self.sheets.choice_rows[list_name, choice],
                    column=self.sheets.column(header, self.sheets.choices_headers),
                    **params,
                )
            column = "type"
        if error.field in ("minimum", "maximum"):
            column = "parameters" if self.kinds.get(error.question) is Kind.SCALE else "constraint"
        return self.sheets.error(code, row, column, message, **params)


def _all_of(conditions: tuple[str, ...]) -> str | None:
    """One relevant from a question's own and its groups' (a flattened group asks each of its
    questions only when the group's relevant holds)."""
    if len(conditions) < 2:
        return conditions[0] if conditions else None
    return " and ".join(f"({condition})" for condition in conditions)


_RANGE_DEFAULTS = (("start", "1"), ("end", "10"), ("step", "1"))  # ODK's defaults
_FIELD_COLUMNS = {"max_length": "constraint", "choices": "type"}


def _limits(source: str) -> dict[str, Decimal] | None:
    """{"minimum"/"maximum"/"max_length": n} when every part of the constraint is such a bound."""
    limits: dict[str, Decimal] = {}
    for part in parse(source).conjuncts:
        match part:
            case Compare(">=", Answer(None), Number(n)) | Compare("<=", Number(n), Answer(None)):
                key = "minimum"
            case Compare("<=", Answer(None), Number(n)) | Compare(">=", Number(n), Answer(None)):
                key = "maximum"
            case Compare("<=", StringLength(Answer(None)), Number(n)):
                key = "max_length"
            case _:
                return None
        if key in limits:
            return None
        limits[key] = n
    return limits


# ---- writing ----------------------------------------------------------------------------------


def _headers_for(column: str) -> list[str]:
    return [f"{column}::{COLUMN_LANGUAGE[language]}" for language in LANGUAGES]


def _in_languages(texts: Texts) -> list[str | None]:
    return [texts.get(language) for language in LANGUAGES]


_SURVEY_COLUMNS = (
    "type",
    "name",
    *_headers_for("label"),
    *_headers_for("hint"),
    "required",
    "relevant",
    "constraint",
    *_headers_for("constraint_message"),
    "parameters",
)


def write_xlsform(form: Form, target: str | PathLike[str] | IO[bytes]) -> None:
    """The form as an XLSForm workbook that read_xlsform (and ODK tools) read back: a template
    staff download and edit. Bounds become constraints (see _Builder.with_limits)."""
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(_SURVEY_COLUMNS)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *_headers_for("label")])
    yes_no = "yes_no"  # one list for every yes/no question, named apart from the others
    while any(question.name == yes_no and question.choices for question in form.questions):
        yes_no += "_"
    if any(question.kind is Kind.YES_NO for question in form.questions):
        for choice in YES_NO_CHOICES:
            choices.append([yes_no, choice.name, *_in_languages(choice.label)])
    for question in form.questions:
        row = _survey_row(question, yes_no)
        survey.append([row.get(column) for column in _SURVEY_COLUMNS])
        for choice in question.choices:
            choices.append([question.name, choice.name, *_in_languages(choice.label)])
    settings = book.create_sheet("settings")
    settings.append([*_headers_for("form_title"), "default_language"])
    settings.append([*_in_languages(form.title), COLUMN_LANGUAGE[DEFAULT_LANGUAGE]])
    book.save(target)


def _survey_row(question: Question, yes_no_list: str) -> dict[str, str | None]:
    types = {
        Kind.SINGLE: f"select_one {question.name}",
        Kind.MULTIPLE: f"select_multiple {question.name}",
        Kind.YES_NO: f"select_one {yes_no_list}",
        Kind.SCALE: "range",
        Kind.NUMBER: "integer" if question.integer else "decimal",
        Kind.TEXT: "text",
        Kind.NOTE: "note",
    }
    row: dict[str, str | None] = {
        "type": types[question.kind],
        "name": question.name,
        "required": "yes" if question.required else None,
        "relevant": question.relevant,
    }
    for column, texts in (
        ("label", question.label),
        ("hint", question.hint),
        ("constraint_message", question.constraint_message),
    ):
        for language, text in texts.items():
            row[f"{column}::{COLUMN_LANGUAGE[language]}"] = text
    bounds = []
    if question.kind is Kind.SCALE:
        row["parameters"] = f"start={question.minimum} end={question.maximum} step=1"
    elif question.kind is Kind.NUMBER:
        if question.minimum is not None:
            bounds.append(f". >= {question.minimum}")
        if question.maximum is not None:
            bounds.append(f". <= {question.maximum}")
    elif question.kind is Kind.TEXT and question.max_length != TEXT_MAX:
        bounds.append(f"string-length(.) <= {question.max_length}")
    if question.constraint:
        bounds.append(f"({question.constraint})" if bounds else question.constraint)
    row["constraint"] = " and ".join(bounds) or None
    return row
