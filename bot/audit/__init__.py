"""The audit log: who changed what, so the backbone can answer for every staff action."""

from bot.audit.models import AuditEntry
from bot.audit.service import forget, record

__all__ = ["AuditEntry", "forget", "record"]
