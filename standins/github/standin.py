"""`GitHubStandIn`: a local GitHub for one App, and the people who use it.

Tests (and `rolecall demo`) build a world with it (users, repositories with real
git history, permissions), act in it as people would (comment, label, push,
review), each action emitting the webhook GitHub would send, and then assert on
what GitHub ends up holding, in GitHub's own JSON shapes.

The class is assembled from its parts by job: the world and building it
(standins.github.world), people acting (standins.github.people), what GitHub holds
(standins.github.views); this module adds starting, settings, webhooks and faults.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from .keys import new_app_key
from .people import People
from .server import Front, RecordedRequest, Server
from .service import Service
from .state import State
from .views import Views
from .webhooks import Delivery


class GitHubStandIn(People, Views):
    """A GitHub (REST, GraphQL, git smart HTTP, webhooks) on 127.0.0.1 for one App."""

    def __init__(
        self, root: Path | str, *, app_slug: str = "rolecall", webhook_secret: str | None = None
    ) -> None:
        self.root = Path(root)
        key, pem = new_app_key()
        self._state = State(self.root, app_slug)
        self._state.app.private_key_pem = pem
        secret = webhook_secret or f"whsec-{key.public_key().public_numbers().n % 10**12}"
        self._svc = Service(self._state, key.public_key(), secret, self.root)
        self._front = Front(self._svc)
        self._server: Server | None = None

    # lifecycle ---------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        self._server = Server(self._front)
        self._svc.set_base_url(self._server.url)
        self._svc.hooks.start()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; queued webhooks get their chance first (GitHub would send them)."""
        if self._server is None:
            return
        self._svc.hooks.wait_idle(timeout=self._svc.hooks.timeout)
        self._svc.hooks.stop()
        self._server.stop()
        self._server = None

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # identity and settings ---------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        return f"{self.api_url}/graphql"

    @property
    def app_id(self) -> int:
        return self._state.app.id

    @property
    def private_key_pem(self) -> str:
        """The App's private key: after a manifest registration, the registered App's."""
        return self._state.app.private_key_pem

    @property
    def webhook_secret(self) -> str:
        """What deliveries are signed with: after a manifest registration, the new App's."""
        return self._svc.hooks.secret

    @property
    def app_slug(self) -> str:
        return self._state.app.slug

    @property
    def bot_login(self) -> str:
        return self._state.app.bot.login

    @property
    def app_permissions(self) -> dict[str, str]:
        """What installations grant; edit it to test a missing permission."""
        return self._state.app.permissions

    @property
    def app_events(self) -> list[str]:
        """Events the App subscribes to; only these are delivered."""
        return self._state.app.events

    @property
    def client_id(self) -> str:
        """The App's OAuth client id, for the web flow (standins.github.oauth)."""
        return self._state.app.client_id

    @property
    def client_secret(self) -> str:
        return self._state.app.client_secret

    @property
    def callback_urls(self) -> list[str]:
        """Where the web flow may send people back; empty: anywhere. Edit it to restrict."""
        return self._state.app.callback_urls

    @property
    def webhook_url(self) -> str | None:
        return self._svc.hooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._svc.hooks.url = url

    @property
    def webhook_timeout(self) -> float:
        """Seconds a delivery waits for the receiver (GitHub: 10)."""
        return self._svc.hooks.timeout

    @webhook_timeout.setter
    def webhook_timeout(self, seconds: float) -> None:
        self._svc.hooks.timeout = seconds

    @property
    def token_lifetime(self) -> float:
        return self._svc.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self._svc.token_lifetime = seconds

    # webhooks, faults, records -----------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        return self._svc.hooks.deliveries

    def redeliver(self, delivery_id: str) -> Delivery:
        return self._svc.hooks.redeliver(delivery_id)

    def wait_for_deliveries(self, timeout: float = 15.0) -> bool:
        """Wait until webhooks caused by the App's own API calls were attempted."""
        return self._svc.hooks.wait_idle(timeout)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next `times` matching requests fail (path matched with re.fullmatch)."""
        self._svc.faults.fail_next(
            method, path_regex, times=times, status=status, headers=headers, body=body
        )

    def stall_next(self, method: str, path_regex: str, *, seconds: float, times: int = 1) -> None:
        """The next `times` matching requests wait `seconds` before being answered."""
        self._svc.faults.stall_next(method, path_regex, seconds=seconds, times=times)

    def clear_faults(self) -> None:
        self._svc.faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._front.recorder.lock:
            return list(self._front.recorder.requests)

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of stand-in bugs (answered 500); a healthy test leaves this empty."""
        return list(self._front.recorder.errors)
