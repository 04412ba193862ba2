"""The Bot API methods the emulator implements, by name."""

from bot.sandbox.methods import chats, delivery, messages, polls, profile
from bot.sandbox.methods.base import Call, MethodRegistry

REGISTRY = MethodRegistry().include(
    chats.methods, delivery.methods, messages.methods, polls.methods, profile.methods
)

__all__ = ["REGISTRY", "Call", "MethodRegistry"]
