"""Which handler decides about a delivery: a probot-style registry per topic.

Each topic module (handlers.issues, handlers.reviews) owns a `Router` and registers its
handlers with `@router.on("issue_comment.created")`; handlers.dispatch combines them, as
python/bedevere combines its routers in one place. A handler receives a `Context` (the
payload, the bot's login, the allow-listed bots) and returns a decision in a few lines.

This module is only the registry: it imports no topic, so topics import it freely.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.decisions import Decision, Ignore
from handlers.events import EventT, parse_event


@dataclass(frozen=True)
class Context:
    """One delivery as a handler sees it."""

    event: str  # the X-GitHub-Event header, e.g. "issue_comment"
    action: str | None  # the payload's `action`, e.g. "created"
    payload: Mapping[str, Any]
    bot_login: str | None = None
    allowed_bots: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        """`event.action` ("issue_comment.created"), or just the event when it has none."""
        return f"{self.event}.{self.action}" if self.action else self.event

    def parse(self, model: type[EventT]) -> EventT:
        """The payload read as `model` (the few fields it declares), or `EventError`."""
        return parse_event(model, self.payload, name=self.name)


Handler = Callable[[Context], Decision]


class Router:
    """Handlers by `event.action` name (or bare `event` for every action of it)."""

    def __init__(self, *routers: Router) -> None:
        self._handlers: dict[str, Handler] = {}
        for router in routers:
            for name, handler in router._handlers.items():
                self._add(name, handler)

    def on(self, *names: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for each of `names`."""

        def register(handler: Handler) -> Handler:
            for name in names:
                self._add(name, handler)
            return handler

        return register

    def _add(self, name: str, handler: Handler) -> None:
        if name in self._handlers:
            # One delivery, one decision: two handlers for a name would have to be merged.
            raise ValueError(f"{name} already has a handler ({self._handlers[name].__name__})")
        self._handlers[name] = handler

    def dispatch(
        self,
        event_name: str,
        payload: Mapping[str, Any],
        *,
        bot_login: str | None,
        allowed_bots: Collection[str] = (),
    ) -> Decision:
        """The decision about one delivery; `Ignore` when nothing handles it."""
        action = payload.get("action")
        context = Context(
            event=event_name,
            action=action if isinstance(action, str) and action else None,
            payload=payload,
            bot_login=bot_login,
            allowed_bots=frozenset(allowed_bots),
        )
        handler = self._handlers.get(context.name) or self._handlers.get(event_name)
        if handler is None:
            return Ignore(f"no handler for {context.name}")
        return handler(context)
