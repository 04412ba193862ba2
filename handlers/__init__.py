"""One aiogram Router per feature, assembled here in the order they should see updates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiogram import Router

    from bot.telegram.app import Hamgam


def features() -> tuple[Router, ...]:
    """The routers, imported when the bot is built: a background job's child process imports
    one handler module for its words, not every feature (bot.background.worker)."""
    from handlers import (
        announcements,
        audience,
        checkin_admin,
        checkins,
        common,
        errors,
        exports,
        fallback,
        groups,
        help,
        indicators,
        leave,
        meetings,
        onboarding,
        polls,
        reports,
        staff,
        survey_admin,
        surveys,
    )

    # Residents' answers to surveys and check-ins are most of the traffic, so their routers
    # come first; they take only typed text in their own conversation state (or, for
    # check-ins, from onboarded members a round waits for), and commands, buttons and files
    # pass them by.
    return (
        errors.router,
        surveys.router,
        checkins.router,
        onboarding.router,
        common.router,
        help.router,
        leave.router,
        groups.membership,
        groups.router,
        staff.router,
        audience.router,
        announcements.router,
        checkin_admin.router,
        survey_admin.router,
        polls.router,
        polls.votes,
        meetings.staff_router,
        meetings.router,
        indicators.staff_router,
        indicators.router,
        reports.router,
        exports.router,
        fallback.router,
    )


def setup_routers() -> Router:
    from aiogram import Router

    from bot.telegram.guards import ButtonGuard

    root = Router(name="hamgam")
    root.callback_query.outer_middleware(ButtonGuard())
    routers = features()
    for feature in routers:
        # aiogram attaches a router to one parent for good; a second bot built in the same
        # process (a restart in tests or in the sandbox) takes the feature routers back first.
        feature._parent_router = None
    root.include_routers(*routers)
    return root


def periodic_jobs(hamgam: Hamgam) -> list[tuple[str, Callable[[], Awaitable[None]], float]]:
    """(job id, job, every so many seconds) for the clock."""
    from handlers import announcements, checkins, meetings, polls, reports, surveys

    return [
        ("announcements", announcements.ProgressReporter(hamgam).run, 1.0),
        ("checkins", checkins.CheckinClock(hamgam).run, 1.0),
        ("surveys", surveys.SurveyClock(hamgam).run, 1.0),
        ("polls", polls.PollClock(hamgam).run, 1.0),
        ("meetings", meetings.MeetingClock(hamgam).run, 1.0),
        ("digest", reports.DigestClock(hamgam).run, 1.0),
    ]
