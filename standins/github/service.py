"""The parts of the stand-in wired together, as handlers and people's actions see them.

`Service` is the one object every REST handler, GraphQL resolver and person's
action receives: state, auth, the serializer, the webhook sender and the git
locks. It carries no behaviour of its own beyond the small checks every handler
repeats (which repository, which token, which permission).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .auth import Auth
from .exchange import Request
from .faults import Faults
from .records import Repo, Token, User
from .serialize_pulls import Serializer
from .state import State
from .webhooks import Delivery, Webhooks


@dataclass
class Event:
    """A webhook GitHub would send, built under the state lock, sent after it."""

    name: str
    payload: dict[str, Any]


class Service:
    def __init__(
        self,
        state: State,
        public_key: RSAPublicKey,
        webhook_secret: str,
        root: Path,
    ) -> None:
        self.state = state
        self.root = root
        self.auth = Auth(state, public_key)
        self.faults = Faults()
        self.hooks = Webhooks(webhook_secret, state.app.id, hook_id=state.new_id())
        self.shapes = Serializer(state, "http://127.0.0.1")
        self.token_lifetime: float = 3600.0
        self._git_locks: dict[int, threading.Lock] = {}

    def set_base_url(self, base_url: str) -> None:
        self.shapes = Serializer(self.state, base_url)

    @property
    def base_url(self) -> str:
        return self.shapes.base

    def git_lock(self, repo: Repo) -> threading.Lock:
        """One writer per repository, so before/after ref snapshots see one push."""
        with self.state.lock:
            return self._git_locks.setdefault(repo.id, threading.Lock())

    # checks every REST handler repeats ---------------------------------------------

    def token_repo(
        self,
        request: Request,
        owner: str,
        name: str,
        permission: str | tuple[str, ...] = "metadata",
        level: str = "read",
    ) -> tuple[Repo, Token]:
        """The repository, if this installation token may use it for this purpose."""
        token = self.auth.require_token(request.caller)
        repo = self.state.repo(f"{owner}/{name}")
        self.auth.require_repo(token, repo, permission, level)
        return repo, token

    def bot(self) -> User:
        return self.state.app.bot

    # webhooks ----------------------------------------------------------------------

    def envelope(
        self, name: str, repo: Repo, sender: User, action: str | None, **objects: Any
    ) -> Event:
        """Webhook payload in GitHub's key order: action, objects, repository, ..."""
        payload: dict[str, Any] = {}
        if action is not None:
            payload["action"] = action
        payload.update(objects)
        payload["repository"] = self.shapes.repo(repo)
        if repo.owner.type == "Organization":
            payload["organization"] = self.shapes.organization(repo.owner)
        payload["sender"] = self.shapes.user(sender)
        if repo.installation_id is not None:
            payload["installation"] = self.shapes.webhook_installation(repo.installation_id)
        return Event(name=name, payload=payload)

    def deliver(self, events: list[Event], *, wait: bool) -> list[Delivery]:
        """Send the events the App is subscribed to, from installed repositories only."""
        out: list[Delivery] = []
        for event in events:
            if event.name not in self.state.app.events:
                continue
            if "installation" not in event.payload:
                continue
            out.append(self.hooks.emit(event.name, event.payload, wait=wait))
        return out
