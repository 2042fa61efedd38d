"""Every topic's handlers in one place, and the one entry point that decides a delivery.

There is no global registry filled in by import side effects: the topics are listed
here, in `_TOPICS`, and combined once into one `Router` (handlers.router).

`dispatch` raises `EventError` when a payload lacks a field its handler needs; the
webhook receiver answers that delivery with an error, so it shows in GitHub's Recent
Deliveries and can be redelivered once fixed, instead of being silently dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from handlers import issues, reviews
from handlers.decisions import Decision
from handlers.router import Router

_TOPICS = Router(issues.router, reviews.router)


def dispatch(
    event_name: str,
    payload: Mapping[str, Any],
    *,
    bot_login: str | None,
    allowed_bots: Collection[str] = (),
) -> Decision:
    """Decide about one delivery: `Ignore`, `Reply` or `StartJob`.

    `event_name` is the X-GitHub-Event header; `ping` is the caller's business. Pure: it
    reads the payload and returns, with no I/O, so the request path stays fast.
    """
    return _TOPICS.dispatch(event_name, payload, bot_login=bot_login, allowed_bots=allowed_bots)
