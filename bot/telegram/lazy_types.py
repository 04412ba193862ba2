"""aiogram's Telegram types, each built when first used instead of all at import.

aiogram 3.31 declares its pydantic models with `defer_build=True`, then calls `model_rebuild()`
on all 444 types at the end of `aiogram/types/__init__.py` (to resolve their forward
references), which builds every validator and serializer anyway. Each validator holds a copy of
the schemas of everything it contains (a Message's copy of nearly all of them), so that loop
took 107 MB of the bot's 245 MB at idle and 3 to 5 s of CPU at start on the benchmark machine,
for types a bot mostly never receives or sends.

Here the loop only keeps the namespace it would have resolved with, and every aiogram model
gets it, so pydantic builds a model on first use with the same result. Message and Update are
built at once: every update needs them, and a model already built is reused inside the others
(otherwise Update and Response[Message] would each build all of Message again, 0.3 s apiece);
the rest (a method and its Response[...], at the method's first call) take milliseconds.
Building on first use is not thread-safe in pydantic; aiogram's models are used only on the
event loop's thread here.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def import_aiogram() -> None:
    """Imports aiogram without building its types; a no-op when it is imported already (then
    they were built at import, which is slower and larger but works the same)."""
    if "aiogram" in sys.modules:
        return
    namespace: dict[str, Any] = {}
    rebuild = BaseModel.__dict__["model_rebuild"]

    def keep_namespace(cls: type[BaseModel], *, _types_namespace: Any = None, **_: Any) -> None:
        namespace.update(_types_namespace or {})

    BaseModel.model_rebuild = classmethod(keep_namespace)  # type: ignore[method-assign,assignment]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    # What pydantic resolves forward references with when it builds a model later; a generic
    # model's parametrisations (`Response[Message]`) inherit it.
    for model in aiogram_models():
        model.__pydantic_parent_namespace__ = namespace
    from aiogram.types import Message, Update

    Message.model_rebuild()
    Update.model_rebuild()


def aiogram_models() -> set[type[BaseModel]]:
    """Every pydantic model aiogram has defined so far."""
    found, unseen = set(), [BaseModel]
    while unseen:
        for model in unseen.pop().__subclasses__():
            if model not in found and model.__module__.startswith("aiogram."):
                found.add(model)
                unseen.append(model)
    return found
