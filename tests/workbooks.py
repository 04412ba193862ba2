"""Workbooks that cost far more to read than they weigh, built in a moment for the tests."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

SURVEY_SHEET = "xl/worksheets/sheet1.xml"


def _skeleton() -> bytes:
    """A valid XLSForm workbook whose «survey» sheet (the first) has only its header row."""
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)"])
    book.create_sheet("choices").append(["list_name", "name", "label::English (en)"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_survey_sheet(xml: bytes) -> bytes:
    """The skeleton with its «survey» sheet's XML replaced."""
    source = zipfile.ZipFile(io.BytesIO(_skeleton()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for member in source.infolist():
            content = xml if member.filename == SURVEY_SHEET else source.read(member)
            target.writestr(member.filename, content)
    return out.getvalue()


def _cell(column: str, row: int, text: str) -> str:
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def many_rows(rows: int, *, alike: bool = False) -> bytes:
    """A workbook whose «survey» sheet has this many small text questions below its header;
    `alike` rows are all the same, with no cell references (both optional), so they pack to
    almost nothing."""
    lines = [
        f'<row r="1">{_cell("A", 1, "type")}{_cell("B", 1, "name")}'
        f"{_cell('C', 1, 'label::English (en)')}</row>"
    ]
    same = (
        '<row><c t="inlineStr"><is><t>text</t></is></c><c t="inlineStr"><is><t>a</t></is></c></row>'
    )
    for row in range(2, rows + 2):
        lines.append(
            same
            if alike
            else f'<row r="{row}">{_cell("A", row, "text")}{_cell("B", row, f"q{row}")}'
            f"{_cell('C', row, 'Q')}</row>"
        )
    return _with_survey_sheet(_sheet_xml("".join(lines)))


def zip_bomb(unpacked_bytes: int) -> bytes:
    """A workbook whose «survey» sheet's XML is padded with blanks to this size."""
    header = f'<row r="1">{_cell("A", 1, "type")}{_cell("B", 1, "name")}</row>'
    return _with_survey_sheet(_sheet_xml(header + " " * unpacked_bytes))


def _sheet_xml(rows: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()
