"""/export for staff, in a private chat only: a dataset as CSV or XLSX, sent as a file (zipped
when it would be too large for Telegram otherwise), made by a background job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.background.models import JobKind
from bot.background.service import Job
from bot.delivery.content import Content, Media
from bot.i18n import N_
from bot.i18n import format as fmt
from bot.i18n.format import TEHRAN
from bot.people.models import Person, Role
from bot.reports import export_job
from bot.reports.export import Dataset, Format
from bot.telegram.filters import PrivateChat
from bot.telegram.guards import Onboarded, RequireRole
from handlers.forms import keyboard
from handlers.locale import current_language

if TYPE_CHECKING:
    from bot.telegram.app import Hamgam

router = Router(name="exports")
router.message.filter(PrivateChat(), Onboarded())
router.callback_query.filter(PrivateChat(), Onboarded())
router.message.middleware(RequireRole(Role.STAFF))
router.callback_query.middleware(RequireRole(Role.STAFF))

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
        _("Which data would you like?"),
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
async def start_export(
    query: CallbackQuery,
    callback_data: ExportButton,
    message: Message,
    session: AsyncSession,
    person: Person,
    hamgam: Hamgam,
) -> None:
    """Counts the rows and says what will arrive before any of the work starts (or that it
    would not fit, with the command line instead); the file is made by a background job."""
    if callback_data.dataset not in set(Dataset):
        await query.answer(_("This button has expired."), show_alert=True)
        return
    await query.answer()
    dataset, fmt_ = Dataset(callback_data.dataset), cast(Format, callback_data.format)
    language = current_language()
    rows = await export_job.count(session, dataset, language)
    limit = export_job.FILE_LIMIT
    estimate = export_job.estimate(rows, fmt_, limit)
    if not estimate.fits:
        await message.edit_text(
            _(
                "{name} as {format} would be about {size}, too large for Telegram even"
                " compressed. Run this on the server instead: {command}"
            ).format(
                name=_(DATASET_NAMES[dataset]),
                format=FORMAT_NAMES[fmt_],
                size=_megabytes(estimate.size, language),
                command=f"<code>{_command(dataset, fmt_)}</code>",
            )
        )
        return
    stamp = clock.now().astimezone(TEHRAN).strftime("%Y%m%d-%H%M")
    params = {
        "dataset": dataset.value,
        "format": fmt_,
        "file_name": f"hamgam-{dataset.value}-{stamp}.{fmt_}",
        "rows": rows,
        "size": estimate.size,
        "zip": estimate.zipped,
        "limit": limit,
    }
    await message.edit_text(job_status(params, 0, rows))
    await hamgam.submit(
        session,
        JobKind.EXPORT,
        params,
        person_id=person.id,
        chat_id=message.chat.id,
        language=language,
        message_id=message.message_id,
    )


FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel (XLSX)"}


def _command(dataset: Dataset, fmt_: str) -> str:
    return f"hamgam export {dataset.value} --format {fmt_}"


def _megabytes(size: int, language: str) -> str:
    return _("{megabytes} MB").format(
        megabytes=fmt.number(max(1, round(size / 1024 / 1024)), language)
    )


def job_status(params: dict[str, Any], done: int, total: int | None) -> str:
    """The export's progress message: what will arrive, and how far it is."""
    language = current_language()
    name = _(DATASET_NAMES[Dataset(params["dataset"])])
    rows = fmt.number(params["rows"], language)
    if params["zip"]:
        what = _(
            "Preparing {name} ({rows} rows). As a CSV file it would be about {size}, more than"
            " Telegram lets a bot send (50 MB), so it will arrive here as a ZIP of the CSV file."
        ).format(name=name, rows=rows, size=_megabytes(params["size"], language))
    else:
        what = _("Preparing {name} ({rows} rows) as {format}; the file will arrive here.").format(
            name=name, rows=rows, format=FORMAT_NAMES[params["format"]]
        )
    share = done / total if total else 0.0
    return (
        what
        + "\n"
        + _("Preparing the file… {percent}").format(percent=fmt.percent(min(share, 1.0), language))
    )


def job_results(job: Job, result: dict[str, Any]) -> list[Content]:
    """The file, or, when it came out too large after all, the command line instead."""
    language = job.language
    dataset = Dataset(job.params["dataset"])
    if not result["fits"]:
        text = _(
            "{name} came out at {size}, too large for Telegram even compressed. Run this on the"
            " server instead: {command}"
        ).format(
            name=_(DATASET_NAMES[dataset]),
            size=_megabytes(result["size"], language),
            command=f"<code>{_command(dataset, job.params['format'])}</code>",
        )
        return [Content(text={language: text})]
    caption = _("{name}: {rows} rows.").format(
        name=_(DATASET_NAMES[dataset]), rows=fmt.number(result["rows"], language)
    )
    if result["file_name"].endswith(".zip"):
        caption += " " + _("The CSV file is inside the ZIP.")
    media = Media("document", path=result["path"], file_name=result["file_name"])
    return [Content(text={language: caption}, media=media)]


def job_failure(job: Job) -> Content:
    return Content(text={job.language: _("The file could not be made. Please try again later.")})


@router.callback_query(ExportButton.filter())
async def unknown(query: CallbackQuery) -> None:
    await query.answer(_("This button has expired."), show_alert=True)
