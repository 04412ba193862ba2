"""Background jobs as the staff member who asked sees them: a progress message edited as the
job goes, then what it made, through the outbox (bot.background.runner runs them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.background.models import JobKind
from bot.background.service import Job
from bot.delivery.content import Content
from handlers import checkin_admin, exports, reports, survey_admin

if TYPE_CHECKING:
    from bot.telegram.app import Hamgam


@dataclass(frozen=True)
class Kind:
    # The progress message's text; None for a kind submitted without one.
    status: Callable[[dict[str, Any], int, int | None], str] | None
    results: Callable[[Job, dict[str, Any]], list[Content]]
    failure: Callable[[Job], Content]


KINDS = {
    JobKind.EXPORT: Kind(exports.job_status, exports.job_results, exports.job_failure),
    JobKind.REPORT: Kind(reports.job_status, reports.job_results, reports.job_failure),
    JobKind.RESULTS: Kind(
        survey_admin.job_status, survey_admin.job_results, survey_admin.job_failure
    ),
    JobKind.PARTICIPATION: Kind(None, checkin_admin.job_results, checkin_admin.job_failure),
}


class ChatSurface:
    """Words in the job's language (the one its staff member asked in)."""

    def __init__(self, hamgam: Hamgam) -> None:
        self.hamgam = hamgam

    async def progress(self, job: Job, done: int, total: int | None) -> None:
        status = KINDS[job.kind].status
        if job.message_id is None or status is None:
            return
        i18n = self.hamgam.i18n
        with i18n.context(), i18n.use_locale(job.language):
            await self.hamgam.bot.edit_message_text(
                status(job.params, done, total),
                chat_id=job.chat_id,
                message_id=job.message_id,
            )

    def results(self, job: Job, result: dict[str, Any]) -> list[Content]:
        i18n = self.hamgam.i18n
        with i18n.context(), i18n.use_locale(job.language):
            return KINDS[job.kind].results(job, result)

    def failure(self, job: Job) -> Content:
        i18n = self.hamgam.i18n
        with i18n.context(), i18n.use_locale(job.language):
            return KINDS[job.kind].failure(job)

    def sent(self) -> None:
        self.hamgam.sender.wake()
