"""/export for staff, in a private chat only: a dataset as CSV or XLSX, sent as a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.people.models import Role
from bot.reports.export import Dataset, export
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.forms import keyboard
from handlers.locale import current_language

router = Router(name="exports")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

FILE_LIMIT = 49 * 1024 * 1024  # bots may send files of up to 50 MB
DATASET_NAMES = {
    Dataset.CHECKIN_ANSWERS: N_("Check-in answers"),
    Dataset.SURVEY_RESPONSES: N_("Survey responses"),
    Dataset.INDICATOR_VALUES: N_("Indicator values"),
    Dataset.DELIVERIES: N_("Messages sent"),
    Dataset.MEETINGS: N_("Meetings and attendance"),
}


class ExportButton(CallbackData, prefix="exp"):
    dataset: str
    format: str = ""


@router.message(Command("export"))
async def choose_dataset(message: Message) -> None:
    await message.answer(
        _("Which data?"),
        reply_markup=keyboard(
            [
                [(_(name), ExportButton(dataset=dataset.value))]
                for dataset, name in DATASET_NAMES.items()
            ]
        ),
    )


@router.callback_query(ExportButton.filter(F.format == ""))
async def choose_format(
    query: CallbackQuery, callback_data: ExportButton, message: Message
) -> None:
    if callback_data.dataset not in set(Dataset):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    await message.edit_text(
        _("In which format? CSV opens anywhere; Excel keeps Persian sheets right-to-left."),
        reply_markup=keyboard(
            [
                [
                    ("CSV", ExportButton(dataset=callback_data.dataset, format="csv")),
                    ("Excel (XLSX)", ExportButton(dataset=callback_data.dataset, format="xlsx")),
                ]
            ]
        ),
    )


@router.callback_query(ExportButton.filter(F.format.in_({"csv", "xlsx"})))
async def send_export(
    query: CallbackQuery, callback_data: ExportButton, message: Message, session: AsyncSession
) -> None:
    if callback_data.dataset not in set(Dataset):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer(_("Preparing the file…"))
    dataset, language = Dataset(callback_data.dataset), current_language()
    stamp = clock.now().astimezone(TEHRAN).strftime("%Y%m%d-%H%M")
    name = f"hamgam-{dataset.value}-{stamp}.{callback_data.format}"
    with tempfile.TemporaryDirectory(prefix="hamgam-export-") as folder:
        path = Path(folder) / name
        rows = await export(session, dataset, callback_data.format, language, path)  # type: ignore[arg-type]
        if path.stat().st_size > FILE_LIMIT:
            command = f"hamgam export {dataset.value} --format {callback_data.format}"
            await message.answer(
                _("The file is too large for Telegram; on the server run: {command}").format(
                    command=f"<code>{command}</code>"
                )
            )
            return
        await message.answer_document(
            FSInputFile(path, filename=name),
            caption=_("{name}: {rows} rows.").format(
                name=_(DATASET_NAMES[dataset]), rows=fmt.number(rows, language)
            ),
        )


@router.callback_query(ExportButton.filter())
async def unknown(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)
