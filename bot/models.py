"""Every table, imported in one place so that metadata (and Alembic) sees them all."""

from bot.announcements.models import Announcement
from bot.audit.models import AuditEntry
from bot.background.models import BackgroundJob
from bot.checkins.models import Checkin, CheckinAnswer, CheckinParticipant, CheckinRound
from bot.conversations import ConversationState
from bot.db import Base
from bot.delivery.models import Delivery
from bot.groups.models import Group, Membership
from bot.indicators.models import Indicator, IndicatorValue
from bot.instance import Instance
from bot.meetings.models import Meeting, MeetingInvitee
from bot.people.models import Person, PersonRole, PersonTag
from bot.polls.models import PollVote, QuickPoll
from bot.reports.models import Digest
from bot.surveys.models import Survey, SurveyAnswer, SurveyParticipant, SurveyResponse
from bot.updates import HandledUpdate, ParkedUpdate

__all__ = [
    "Announcement",
    "AuditEntry",
    "BackgroundJob",
    "Base",
    "Checkin",
    "CheckinAnswer",
    "CheckinParticipant",
    "CheckinRound",
    "ConversationState",
    "Delivery",
    "Digest",
    "Group",
    "HandledUpdate",
    "Indicator",
    "IndicatorValue",
    "Instance",
    "Meeting",
    "MeetingInvitee",
    "Membership",
    "ParkedUpdate",
    "Person",
    "PersonRole",
    "PersonTag",
    "PollVote",
    "QuickPoll",
    "Survey",
    "SurveyAnswer",
    "SurveyParticipant",
    "SurveyResponse",
]
