"""A report as one self-contained HTML page: the whole of it, in the reader's language and
direction, for a report too long to read in a chat (opened on a phone, printed, forwarded).

Nothing is fetched when it is opened: the style is inline, the charts are base64 PNGs, and the
fonts are the reader's own (Vazirmatn where installed, else Tahoma or DejaVu Sans, which both
carry joined Persian glyphs). Plain text goes in through `text` and `table`, which escape it;
only markup this module or the catalogs wrote is passed as HTML.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

STYLE = """
:root { color-scheme: light; }
body { margin: 0 auto; max-width: 52rem; padding: 1rem; color: #222; background: #fff;
  font: 16px/1.6 Vazirmatn, Tahoma, "DejaVu Sans", "Noto Sans Arabic", sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .25rem;
  border-bottom: 2px solid #0072B2; }
h3 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
p { margin: .25rem 0; }
.muted { color: #666; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .9rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e8e8e8; text-align: start;
  vertical-align: top; }
th { background: #f4f6f8; font-weight: bold; }
td.n { text-align: end; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; border: 1px solid #e8e8e8; }
@media (max-width: 30rem) {
  body { padding: .5rem; font-size: 15px; }
  th, td { padding: .25rem .3rem; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2, h3 { break-after: avoid; }
  tr, figure { break-inside: avoid; }
  .scroll { overflow: visible; }
}
"""


def text(value: str, tag: str = "p", css: str = "", isolate: bool = False) -> str:
    """A paragraph (or heading) of plain text, escaped; `isolate` for a name someone typed,
    laid out in its own direction («نظرسنجی 3» stays so in an English page)."""
    attribute = f' class="{css}"' if css else ""
    content = f"<bdi>{escape(value)}</bdi>" if isolate else escape(value)
    return f"<{tag}{attribute}>{content}</{tag}>"


def table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> str:
    """A table of plain text, every cell escaped; `numeric` columns line up as figures. It
    scrolls sideways on a narrow phone instead of squeezing the words. Words are isolated (a
    Latin name in a Persian page keeps its order); figures take the page's direction, as a
    Persian percent needs."""
    numbers = set(numeric)

    def cell(index: int, value: str) -> str:
        return (
            f'<td class="n">{escape(value)}</td>'
            if index in numbers
            else f"<td><bdi>{escape(value)}</bdi></td>"
        )

    header = "".join(f"<th>{escape(name)}</th>" for name in head)
    body = "".join(
        "<tr>" + "".join(cell(index, value) for index, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{header}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def image(png: bytes, alt: str) -> str:
    """A chart, embedded: the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}"></figure>'


def page(title: str, language: str, body: Iterable[str]) -> str:
    """The whole document; `body` is markup made by the functions above (or the catalogs')."""
    direction = "rtl" if language == "fa" else "ltr"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
