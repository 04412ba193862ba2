"""What the bot loads to start: heavy libraries wait for the feature that needs them, and
aiogram's types are built when first used (bot/telegram/lazy_types.py). Each check runs in a
fresh interpreter, since this one has imported everything the other tests needed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Needed by one feature each, loaded when it is first used.
FEATURE_LIBRARIES = (
    "matplotlib",  # charts
    "numpy",
    "PIL",
    "openpyxl",  # XLSForm files and XLSX exports
    "xlsxwriter",
    "pyxform",
    "xlrd",
    "lark",
    "icalendar",  # meeting invitations
    "dateutil",
    "redis",  # replicas
    "alembic",  # migrating (the schema is checked at start without it)
    "mako",
)


def _run(code: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_starting_the_bot_loads_no_feature_library_and_builds_few_telegram_types() -> None:
    found = _run(
        """
        import json, sys
        import bot.cli, bot.telegram.app, handlers
        from aiogram.types import Message, Sticker, Update
        from bot.telegram.lazy_types import aiogram_models

        print(json.dumps({
            "loaded": sorted({name.split(".")[0] for name in sys.modules}),
            "built": [m.__pydantic_complete__ for m in (Message, Update, Sticker)],
            "types": len([m for m in aiogram_models() if m.__module__.startswith("aiogram.types")]),
            "types built": len([
                m for m in aiogram_models()
                if m.__module__.startswith("aiogram.types") and m.__pydantic_complete__
            ]),
        }))
        """
    )
    assert not set(FEATURE_LIBRARIES) & set(found["loaded"])
    assert found["built"] == [True, True, False]
    assert found["types"] > 400 and found["types built"] < 50, found


def test_a_reports_child_process_loads_no_telegram_library() -> None:
    """A background job's child starts for each /report: aiogram alone took a second of it."""
    found = _run(
        """
        import json, sys
        import bot.background.worker, bot.reports.report_job

        print(json.dumps({"loaded": sorted({name.split(".")[0] for name in sys.modules})}))
        """
    )
    assert not {"aiogram", "handlers", "matplotlib"} & set(found["loaded"])


def test_every_telegram_type_and_method_builds_when_first_used() -> None:
    found = _run(
        """
        import json
        import bot.telegram
        from aiogram.methods import Response
        from aiogram.types import Message, Update
        from bot.telegram.lazy_types import aiogram_models

        models = aiogram_models()
        for model in models:
            model.model_rebuild()  # raises if a name could not be resolved
        update = Update.model_validate({
            "update_id": 1,
            "message": {
                "message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                "from": {"id": 1, "is_bot": False, "first_name": "M"}, "text": "/start",
                "reply_to_message": {
                    "message_id": 0, "date": 0, "chat": {"id": 1, "type": "private"},
                    "sticker": {
                        "file_id": "s", "file_unique_id": "u", "type": "regular",
                        "width": 1, "height": 1, "is_animated": False, "is_video": False,
                    },
                },
            },
        })
        answer = Response[Message].model_validate({"ok": True, "result": {
            "message_id": 2, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi",
        }})
        print(json.dumps({
            "models": len(models),
            "built": all(m.__pydantic_complete__ for m in models),
            "sticker": update.message.reply_to_message.sticker.file_id,
            "answer": answer.result.text,
        }))
        """
    )
    assert found["models"] > 600 and found["built"]
    assert (found["sticker"], found["answer"]) == ("s", "hi")
