"""The ids a log line carries: the HTTP request, the chat event and the delivery it belongs to.

Kept in :mod:`contextvars`, so they follow the work through ``await``, ``asyncio.create_task`` and
``asyncio.to_thread`` without being passed by hand; ``bot/logs.py`` writes them on every line. Ids only, never text:
a log line says which request it belongs to, not what anyone wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("cxbot_request_id", default=None)
EVENT_ID: ContextVar[str | None] = ContextVar("cxbot_event_id", default=None)
DELIVERY_ID: ContextVar[str | None] = ContextVar("cxbot_delivery_id", default=None)

_BY_NAME = {"request_id": REQUEST_ID, "event_id": EVENT_ID, "delivery_id": DELIVERY_ID}


@contextmanager
def bound(
    *, request_id: str | None = None, event_id: str | None = None, delivery_id: str | None = None
) -> Iterator[None]:
    """Set the given ids for the block (None leaves an id as it is), and restore them after it."""
    values = {"request_id": request_id, "event_id": event_id, "delivery_id": delivery_id}
    tokens = [(_BY_NAME[name], _BY_NAME[name].set(value)) for name, value in values.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, str]:
    """The ids set here, by name (those unset left out)."""
    return {name: value for name, var in _BY_NAME.items() if (value := var.get()) is not None}
