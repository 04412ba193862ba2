"""xlsxwriter's worksheet with one more way in, for exports: a whole row at once.

In constant_memory mode xlsxwriter keeps each cell as a tuple until its row is done, then
formats the row cell by cell (a cell reference, attribute lists, three escaping passes per
text); for a million rows that is over four fifths of an XLSX export's time (profiled:
bench/export.py). An export's cells are few kinds, so `Sheet.write_cells` takes the row's XML
as the exporter builds it from the pieces below, which give what xlsxwriter writes for the
same cell. A text that xlsxwriter would change (control characters, «_xHHHH_», leading or
trailing white space, a rich-text shape, very long) is not "plain": its row goes through
xlsxwriter's own write_string and write_number instead (tests/test_export.py compares both).

Imported only when an XLSX file is written (xlsxwriter is not needed to start the bot).
"""

from __future__ import annotations

import re

from xlsxwriter.worksheet import Worksheet

# What xlsxwriter escapes or marks in an inline string (Worksheet._write_cell): control
# characters, literal «_xHHHH_», non-characters, and leading or trailing white space.
_NOT_PLAIN = re.compile(r"^\s|\s$|_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_PLAIN_MAX = 32767 // 2  # longer texts may pass Excel's limit (UTF-16 units): xlsxwriter cuts


def plain_text(text: str) -> str | None:
    """The end of an inline string cell (after its reference) as xlsxwriter writes it, or None
    when xlsxwriter would change the text."""
    if (
        len(text) > _PLAIN_MAX
        or _NOT_PLAIN.search(text)
        or (text.startswith("<r>") and text.endswith("</r>"))  # xlsxwriter: rich text
    ):
        return None
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t>{text}</t></is></c>'


class Sheet(Worksheet):
    """A constant_memory worksheet that also takes whole rows of cells as XML."""

    def write_rows(self, rows: list[tuple[int, str]]) -> None:
        """Rows in order, after the header (whose write_string calls fix the sheet's columns):
        each (row, its cells' XML, each `<c r="…">…</c>` as xlsxwriter writes it)."""
        last = rows[-1][0]
        if last > self.previous_row:
            self._write_single_row(last)  # what write_string and write_number hold, first
        self._check_dimensions(last, 0)
        if (
            self.row_info
            or self.excel_version != 2007
            or (self.default_row_height != self.original_row_height)
        ):  # rows with attributes: xlsxwriter writes their <row>
            for row, cells in rows:
                self._write_row(row, None, self.row_info.get(row))
                self.fh.write(cells)
                self._xml_end_tag("row")
        else:
            self.fh.write("".join([f'<row r="{row + 1}">{cells}</row>' for row, cells in rows]))
