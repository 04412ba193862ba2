"""One aiogram Router per feature, assembled here in the order they should see updates."""

from aiogram import Router

from bot.telegram.guards import ButtonGuard
from handlers import common, errors, fallback, groups, help, leave, onboarding, staff

FEATURES = (
    errors.router,
    onboarding.router,
    common.router,
    help.router,
    leave.router,
    groups.membership,
    groups.router,
    staff.router,
    fallback.router,
)


def setup_routers() -> Router:
    root = Router(name="hamgam")
    root.callback_query.outer_middleware(ButtonGuard())
    for feature in FEATURES:
        # aiogram attaches a router to one parent for good; a second bot built in the same
        # process (a restart in tests or in the sandbox) takes the feature routers back first.
        feature._parent_router = None
    root.include_routers(*FEATURES)
    return root
