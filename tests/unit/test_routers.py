"""Every filter and handler the routers hold is a coroutine: aiogram runs a synchronous one
(a magic `F.…` filter, a bare State) in a worker thread for every update that reaches it,
which once cost most of an update's time (bench/answers.py)."""

from aiogram import Router

from handlers import setup_routers


def _routers(router: Router):
    yield router
    for sub in router.sub_routers:
        yield from _routers(sub)


def test_no_filter_or_handler_leaves_the_event_loop() -> None:
    synchronous = []
    for router in _routers(setup_routers()):
        for kind, observer in router.observers.items():
            callables = [(f, "router filter") for f in observer._handler.filters or []]
            for handler in observer.handlers:
                callables.append((handler, "handler"))
                callables += [(f, "filter") for f in handler.filters or []]
            synchronous += [
                f"{router.name} {kind} {what}: {item.callback!r}"
                for item, what in callables
                if not item.awaitable
            ]
    assert synchronous == []
