"""Exports of a million stored answers: `hamgam export survey_responses` as CSV and as XLSX.

The database is seeded with raw sqlite3 (executemany into the migrated schema; COPY on
PostgreSQL, for bench/staff.py): 100,000
residents, each with one finished response to a ten-question survey (numbers, a scale, single
and multiple choices, yes/no, Persian free text), so 1,000,000 survey_answer rows, every one
with a person's name joined and a time to convert to Tehran and Jalali. Each export runs as
its own process (`python -m bot export …`, the real command with its progress bar), so the
time includes start-up and the peak RSS (os.wait4) is the export's own.

`python -m bench.export seed DB` only seeds (for profiling by hand).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from bench.delivery import PROJECT_ROOT, fresh_sqlite
from bot.surveys.form import Choice, Form, Kind, Question

RESIDENTS = 100_000
ANSWERS = 1_000_000  # RESIDENTS × the ten questions
FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime is stored in SQLite
COLOURS = tuple(
    Choice(name, {"fa": fa, "en": en})
    for name, fa, en in (
        ("red", "قرمز", "Red"),
        ("green", "سبز", "Green"),
        ("blue", "آبی", "Blue"),
        ("white", "سفید", "White"),
    )
)
PLACES = tuple(
    Choice(name, {"fa": fa, "en": en})
    for name, fa, en in (
        ("park", "پارک", "Park"),
        ("school", "مدرسه", "School"),
        ("mosque", "مسجد", "Mosque"),
    )
)
FORM = Form(
    {"fa": "نظرسنجی بزرگ محله", "en": "Neighbourhood survey"},
    (
        Question("age", Kind.NUMBER, {"fa": "چند سال دارید؟", "en": "Your age?"}, integer=True),
        Question(
            "safety", Kind.SCALE, {"fa": "امنیت محله؟", "en": "Safety?"}, minimum=1, maximum=5
        ),
        Question("place", Kind.SINGLE, {"fa": "کجا؟", "en": "Where?"}, choices=PLACES),
        Question("colours", Kind.MULTIPLE, {"fa": "رنگ‌ها؟", "en": "Colours?"}, choices=COLOURS),
        Question("member", Kind.YES_NO, {"fa": "عضو هستید؟", "en": "A member?"}),
        Question("idea", Kind.TEXT, {"fa": "پیشنهاد شما؟", "en": "Your idea?"}),
        Question("spend", Kind.NUMBER, {"fa": "هزینهٔ ماهانه؟", "en": "Monthly spend?"}),
        Question(
            "usual", Kind.SINGLE, {"fa": "معمولاً کجا؟", "en": "Usually where?"}, choices=PLACES
        ),
        Question("worry", Kind.TEXT, {"fa": "نگرانی شما؟", "en": "Your worry?"}),
        Question("wanted", Kind.MULTIPLE, {"fa": "چه می‌خواهید؟", "en": "Wanted?"}, choices=COLOURS),
    ),
)
IDEAS = (
    "کاشت درخت در کوچه‌ها و نیمکت برای سالمندان",
    "کتابخانهٔ کوچک در سرای محله",
    "More bins near the park",
    "جلسهٔ ماهانه با شورایاری",
)


def _value(question: Question, n: int) -> str:
    """A stored answer (JSON, as bot.surveys.form.value_to_json writes it)."""
    match question.kind:
        case Kind.NUMBER:
            return json.dumps(str(18 + n % 60) if question.integer else f"{n % 900}.{n % 10}")
        case Kind.SCALE:
            return json.dumps(str(1 + n % 5))
        case Kind.SINGLE:
            return json.dumps(question.choices[n % len(question.choices)].name)
        case Kind.MULTIPLE:
            names = [c.name for i, c in enumerate(question.choices) if (n >> i) & 1] or ["red"]
            return json.dumps(names)
        case Kind.YES_NO:
            return json.dumps("yes" if n % 3 else "no")
    return json.dumps(IDEAS[n % len(IDEAS)], ensure_ascii=False)


def _tables() -> list[tuple[str, tuple[str, ...], Iterator[tuple[object, ...]]]]:
    """(table, columns, rows) of RESIDENTS people, one survey, a finished response each and
    ten answers per response; times as datetimes, for each database to write its own way."""
    began = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    form = json.dumps(FORM.to_json(), ensure_ascii=False)
    people = (
        (n, 10_000_000 + n, f"ساکن شمارهٔ {n}" if n % 2 else f"Resident {n}", "fa", began, began)
        for n in range(1, RESIDENTS + 1)
    )
    responses = (
        (n, 1, n, True, began + timedelta(seconds=20 * n), began + timedelta(seconds=20 * n + 9))
        for n in range(1, RESIDENTS + 1)
    )
    answers = (
        (
            n,
            question.name,
            position,
            _value(question, n + position),
            began + timedelta(seconds=20 * n + position),
        )
        for n in range(1, RESIDENTS + 1)
        for position, question in enumerate(FORM.questions)
    )
    return [
        (
            "person",
            ("id", "telegram_id", "display_name", "language", "created_at", "consented_at"),
            people,
        ),
        (
            "survey",
            ("id", "form", "source", "anonymous", "status", "created_at"),
            iter([(1, form, "bot", False, "closed", began)]),
        ),
        (
            "survey_response",
            ("id", "survey_id", "person_id", "finished", "started_at", "finished_at"),
            responses,
        ),
        ("survey_answer", ("response_id", "question", "position", "value", "answered_at"), answers),
    ]


def seed(path: Path) -> None:
    """The rows of _tables() by executemany into a migrated SQLite database."""

    def stored(value: object) -> object:
        return value.strftime(FORMAT) if isinstance(value, datetime) else value

    # Closed at once: an open connection (a garbage cycle keeps it) would leave its 100 MB
    # write-ahead log for the export to read through, unlike a database that the bot has run on.
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        for table, columns, rows in _tables():
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" VALUES ({', '.join('?' * len(columns))})",
                (tuple(stored(value) for value in row) for row in rows),
            )


async def seed_postgres(database_url: str) -> None:
    """The rows of _tables() by COPY (asyncpg) into a migrated PostgreSQL database, in
    batches so that the million answers never sit in memory at once; the sequences then
    move past the ids written."""
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        for table, columns, rows in _tables():
            while batch := list(islice(rows, 100_000)):
                await connection.copy_records_to_table(table, records=batch, columns=columns)
        for table in ("person", "survey"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _peak_rss_mb(pid: int) -> float | None:
    """The process's high-water RSS (VmHWM) so far; None once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def _run_export(database_url: str, fmt: str, out: Path) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak RSS in MB, rows written) of one `hamgam export` process.
    The CPU time (this process's only child then) is what other work on a shared machine does
    not stretch.

    The peak is the child's own VmHWM, read until it exits (its rusage would also count this
    process's memory, which a forked child inherits until it execs)."""
    env = os.environ | {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "bot", "export", "survey_responses", "--format", fmt]
    with tempfile.TemporaryFile() as log:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--language", "fa", "--out", str(out)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _peak_rss_mb(process.pid) or 0.0)
            time.sleep(0.02)
        seconds = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        log.seek(0)
        output = log.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"export {fmt} failed:\n{output}")
    found = re.search(r"(\d+) rows written", output)
    rows = int(found.group(1)) if found else -1
    return seconds, cpu, peak, rows


async def measure(workdir: Path) -> dict[str, float]:
    database_url = await fresh_sqlite(workdir, "export.db")
    began = time.perf_counter()
    seed(workdir / "export.db")
    print(f"  seeded {ANSWERS:,} answers in {time.perf_counter() - began:.1f} s")
    figures: dict[str, float] = {}
    peak = 0.0
    for fmt in ("csv", "xlsx"):
        out = workdir / f"answers.{fmt}"
        seconds, cpu, rss, rows = await asyncio.to_thread(_run_export, database_url, fmt, out)
        if rows != ANSWERS:
            raise RuntimeError(f"{fmt}: {rows} rows written, expected {ANSWERS}")
        size = out.stat().st_size / 2**20
        print(
            f"  {fmt}: {seconds:.1f} s ({cpu:.1f} s of CPU),"
            f" peak RSS {rss:.0f} MB, {size:.0f} MB file"
        )
        figures[f"export_{fmt}_1m_s"] = round(seconds, 1)
        figures[f"export_{fmt}_1m_cpu_s"] = round(cpu, 1)
        peak = max(peak, rss)
        out.unlink()
    figures["export_peak_rss_mb"] = round(peak, 1)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["seed"]:
        target = Path(sys.argv[2]).resolve()
        asyncio.run(fresh_sqlite(target.parent, target.name))
        seed(target)
    else:
        sys.exit("usage: python -m bench.export seed DB   (or: python -m bench export)")
