"""An XLSForm that costs more to read than a form ever does is refused before it is parsed,
and parsing runs in a child process that is stopped when it takes too long or too much."""

from __future__ import annotations

import io
import zipfile

import pytest
from pyxform.xls2json_backends import DefinitionData

from bot.surveys import xlsform
from bot.surveys.templates import READINESS
from bot.surveys.xlsform import (
    MAX_ROWS,
    Problem,
    XLSFormError,
    check_packing,
    check_rows,
    read_xlsform,
    read_xlsform_isolated,
    write_xlsform,
)
from tests.workbooks import many_rows, zip_bomb


def refusal(check, content: bytes) -> XLSFormError:  # type: ignore[no-untyped-def]
    with pytest.raises(XLSFormError) as caught:
        check(content)
    return caught.value


def test_a_file_over_the_upload_limit_is_refused() -> None:
    error = refusal(check_packing, b"PK" + b"\0" * xlsform.MAX_FILE_BYTES)
    assert error.code is Problem.FILE_TOO_LARGE and error.params == {"limit": "2"}


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused_from_its_directory() -> None:
    bomb = zip_bomb(xlsform.MAX_UNPACKED_BYTES + 1)
    assert len(bomb) < 100_000
    error = refusal(check_packing, bomb)
    assert error.code is Problem.UNPACKED_TOO_LARGE and error.params == {"limit": "20"}
    assert refusal(read_xlsform, bomb).code is Problem.UNPACKED_TOO_LARGE


def test_a_large_member_packed_too_tightly_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b" " * (2 * 1024 * 1024))  # about 1000 to 1
    error = refusal(check_packing, out.getvalue())
    assert error.code is Problem.PACKED_TOO_TIGHTLY and int(error.params["ratio"]) > 200
    monkeypatch.setattr(xlsform, "RATIO_CHECKED_FROM", 4 * 1024 * 1024)  # small: let through
    check_packing(out.getvalue())


def test_an_ordinary_form_passes_every_check() -> None:
    sample = io.BytesIO()
    write_xlsform(READINESS, sample)
    check_packing(sample.getvalue())
    check_rows(sample.getvalue())


def test_rows_are_counted_up_to_the_limit_and_the_sheet_is_named() -> None:
    check_rows(many_rows(MAX_ROWS - 1))  # with its header: exactly MAX_ROWS rows
    error = refusal(check_rows, many_rows(MAX_ROWS))
    assert (error.code, error.sheet, error.params) == (
        Problem.TOO_MANY_ROWS,
        "survey",
        {"limit": str(MAX_ROWS)},
    )


def test_rows_split_across_read_chunks_are_each_counted_once() -> None:
    rows = b"".join(b"<row r='%d'/>" % n for n in range(1, 300_001))  # well past 1 MB
    assert xlsform._count_rows(io.BytesIO(rows)) > MAX_ROWS
    assert xlsform._count_rows(io.BytesIO(rows[: rows.index(b"<row r='5000'/>")])) == 4999


def test_an_xls_sheet_with_too_many_rows_is_refused_once_loaded() -> None:
    book = DefinitionData(
        fallback_form_name="x",
        sheet_names=["survey"],
        survey=[{"type": "note", "name": f"n{n}"} for n in range(MAX_ROWS + 1)],
        survey_header=[{"type": None, "name": None}],
    )
    with pytest.raises(XLSFormError) as caught:
        xlsform._Sheets(book)
    assert caught.value.code is Problem.TOO_MANY_ROWS and caught.value.sheet == "survey"


async def test_the_isolated_reader_returns_the_same_form() -> None:
    sample = io.BytesIO()
    write_xlsform(READINESS, sample)
    assert await read_xlsform_isolated(sample.getvalue()) == READINESS
    with pytest.raises(XLSFormError) as caught:
        await read_xlsform_isolated(b"not a workbook")
    assert caught.value.code is Problem.NOT_A_WORKBOOK


async def test_a_parse_that_takes_too_long_is_stopped() -> None:
    with pytest.raises(XLSFormError) as caught:
        await read_xlsform_isolated(many_rows(MAX_ROWS - 1), seconds=0.2)
    assert caught.value.code is Problem.TOO_SLOW and caught.value.params == {"seconds": "1"}


async def test_a_parse_that_needs_too_much_memory_is_stopped() -> None:
    with pytest.raises(XLSFormError) as caught:
        await read_xlsform_isolated(many_rows(MAX_ROWS - 1), memory_bytes=150 * 1024 * 1024)
    assert caught.value.code is Problem.TOO_MUCH_MEMORY
    assert caught.value.params == {"limit": "150"}
