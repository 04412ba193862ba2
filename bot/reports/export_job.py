"""/export as a background job: how large the file would be (told to staff before the work
starts), and the work itself, in the job's child process (bot.background.worker).

A file larger than Telegram lets a bot send goes as a ZIP of it; CSV compresses several
times over. When even that would not fit, staff are told at once, with the command line
that writes the file on the server."""

from __future__ import annotations

import asyncio
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.background.work import Work
from bot.db import scalar_aside
from bot.reports.export import PLANS, Dataset, Format, export

FILE_LIMIT = 49 * 1024 * 1024  # bots may send files of up to 50 MB
# Bytes a row takes, measured on a million survey answers (CSV: 151 in Persian, 122 in
# English; XLSX, which is already compressed: 44), with a margin for longer texts; a file
# that turns out larger than its estimate is zipped, or refused, after all.
BYTES_PER_ROW: dict[str, int] = {"csv": 170, "xlsx": 46}
# How many times smaller a CSV gets in a ZIP: 15-17 on those answers, 6-10 on varied text;
# the estimate takes the low end, so that what it promises is sent.
ZIP_RATIO = 6


@dataclass(frozen=True)
class Estimate:
    rows: int
    size: int  # bytes, of the file as written
    zipped: bool  # sent as a ZIP of the file, which alone would be too large
    fits: bool  # within Telegram's limit, zipped if need be


async def count(session: AsyncSession, dataset: Dataset, language: str) -> int:
    """How many rows the export will write (one COUNT, no rows read; asked in /export's
    handler, so read aside from the event loop)."""
    plan = await PLANS[dataset](session, language)
    return await scalar_aside(session, plan.count) or 0


def estimate(rows: int, fmt: Format, limit: int | None = None) -> Estimate:
    limit = FILE_LIMIT if limit is None else limit
    size = rows * BYTES_PER_ROW[fmt]
    if size <= limit:
        return Estimate(rows, size, zipped=False, fits=True)
    if fmt == "csv":  # an XLSX file is a ZIP already: zipping it again gains nothing
        return Estimate(rows, size, zipped=True, fits=size / ZIP_RATIO <= limit)
    return Estimate(rows, size, zipped=False, fits=False)


async def export_file(session: AsyncSession, work: Work) -> dict[str, Any]:
    """Writes the file (zipped when the estimate said so, or when it turned out too large),
    and says what to send: {"path", "file_name", "rows", "size", "fits"}; nothing goes
    `early`, the file being all there is."""
    params = work.params
    name, fmt, limit = params["file_name"], params["format"], params["limit"]
    path = work.folder / name
    rows = await export(
        session, Dataset(params["dataset"]), fmt, work.language, path, progress=work.progress
    )
    if params["zip"] or (fmt == "csv" and path.stat().st_size > limit):
        path = await asyncio.to_thread(_zip, path)
    size = path.stat().st_size
    return {
        "path": str(path),
        "file_name": path.name,
        "rows": rows,
        "size": size,
        "fits": size <= limit,
    }


def _zip(path: Path) -> Path:
    zipped = path.with_name(path.name + ".zip")
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.write(path, path.name)
    path.unlink()
    return zipped
