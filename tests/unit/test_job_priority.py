"""A background job's child gives the bot's loop the CPU first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.background import worker
from bot.config import PROJECT_ROOT

# The child's own niceness, printed once main() has given up on a kind of work it does not know.
SCRIPT = """
import os
from bot.background import worker
try:
    worker.main()
except KeyError:
    print(os.nice(0))
"""


def test_a_jobs_child_lowers_its_priority_before_any_work(tmp_path: Path) -> None:
    spec = {"kind": "no such work", "folder": str(tmp_path / "job")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    assert int(done.stdout) == min(19, os.nice(0) + worker.NICENESS)
