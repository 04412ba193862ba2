"""`make bench`: start-up time (wall-clock and CPU), idle memory and reply latency of the bot,
then each part (bench/delivery.py, checkins.py, answers.py, export.py, report.py, replicas.py,
staff.py), written to bench/results.json (one flat object, figure name → number; names carry
the unit).
`python -m bench <part> …` runs some parts; figures of the others are kept as they were."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import answers, checkins, delivery, export, replicas, report, staff
from bot.sandbox import Emulator, SandboxClient
from bot.schema import upgrade

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
RESULTS = Path(__file__).parent / "results.json"


async def _first_poll(client: SandboxClient, process: asyncio.subprocess.Process) -> None:
    while (await client.stats())["calls"].get("getUpdates", 0) == 0:
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}")
        await asyncio.sleep(0.005)


async def measure(workdir: Path) -> dict[str, float]:
    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await upgrade(database_url)
    startups, cpu, rss, latencies = [], [], [], []
    for run in range(3):
        emulator = Emulator(TOKEN)
        api = await emulator.start()
        env = os.environ | {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("WEBHOOK_URL", None)
        async with SandboxClient(api) as client:
            began = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env
            )
            try:
                await asyncio.wait_for(_first_poll(client, process), 60)
                startups.append(time.perf_counter() - began)
                # The CPU it took, which other work on a shared machine does not stretch.
                times = psutil.Process(process.pid).cpu_times()
                cpu.append(times.user + times.system)
                print(
                    f"  run {run + 1}/3: polling after {startups[-1]:.2f} s, {cpu[-1]:.2f} s of CPU"
                )
                await asyncio.sleep(3)
                rss.append(psutil.Process(process.pid).memory_info().rss / 2**20)
                if run == 0:
                    user = 9000
                    await client.add_user(id=user, first_name="Bench", language_code="fa")
                    for _ in range(50):
                        sent = time.perf_counter()
                        await client.send_message(user_id=user, text="/help")
                        latencies.append((time.perf_counter() - sent) * 1000)
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), 10)
        await emulator.stop()
    return {
        "startup_s": round(statistics.median(startups), 3),
        "startup_cpu_s": round(statistics.median(cpu), 3),
        "idle_rss_mb": round(statistics.median(rss), 1),
        "reply_latency_ms_p50": round(statistics.median(latencies), 1),
        "reply_latency_ms_p95": round(statistics.quantiles(latencies, n=20)[-1], 1),
    }


PARTS = {
    "startup": measure,
    "delivery": delivery.measure,
    "checkins": checkins.measure,
    "answers": answers.measure,
    "export": export.measure,
    "report": report.measure,
    "replicas": replicas.measure,
    "staff_load": staff.measure_load,
    "report_delivered": staff.measure_report,
}


async def measure_parts(names: list[str], workdir: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name in names:
        print(f"== {name}")
        figures |= await PARTS[name](workdir)
    return figures


def main() -> None:
    names = sys.argv[1:] or list(PARTS)
    if unknown := set(names) - set(PARTS):
        sys.exit(f"unknown part(s) {sorted(unknown)}; choose from {sorted(PARTS)}")
    with tempfile.TemporaryDirectory() as workdir:
        figures = asyncio.run(measure_parts(names, Path(workdir)))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(figures)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
