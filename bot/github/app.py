"""The App itself (JWT): its installation tokens, its connection pools, its bot login.

Every token is minted for the one repository and the permissions a job needs, so a
job can touch nothing else; the App keeps it for later jobs on that repository with
those permissions until it is close to expiry.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import RequestFailed

from agents.text.redact import Redactor
from bot.github.errors import GitHubError
from bot.github.records import InstallationToken, as_utc
from bot.github.repo import RepoClient
from bot.github.tokens import TokenSlot
from bot.github.transport import TIMEOUT, CallWatcher, PooledTransport

log = logging.getLogger("rolecall.github")

# What a job needs, and no more (see app.yml for why each is there).
JOB_PERMISSIONS: dict[str, str] = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "pull_requests": "write",
    "metadata": "read",
}


class GitHubApp:
    """The App itself: authenticates as the App, mints installation tokens and keeps them.

    One per process and App (`bot.jobs.worker`), shared by every job and thread: it holds the
    pooled connections (one pool for the App's JWT calls, one per installation) and the
    tokens, keyed by installation, repository and permissions, so a token is only ever
    reused for exactly what it was minted for. `close` (or leaving `with`) closes the
    connections. Every pool tells `watcher` (the process's metrics) of each call.
    """

    def __init__(
        self,
        app_id: int,
        private_key_pem: str,
        api_url: str,
        *,
        watcher: CallWatcher | None = None,
    ) -> None:
        self.api_url = api_url
        self._lock = threading.Lock()
        self._watcher = watcher
        self._app_transport = PooledTransport(pool="app", watcher=watcher)
        self._installation_transports: dict[int, PooledTransport] = {}
        self._tokens: dict[tuple[int, str, tuple[tuple[str, str], ...]], TokenSlot] = {}
        self._client = GitHub(
            AppAuthStrategy(app_id, private_key_pem),
            base_url=api_url,
            timeout=TIMEOUT,
            http_cache=False,
            transport=self._app_transport,
        )
        self._bot_login: str | None = None

    def __enter__(self) -> GitHubApp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; tokens are kept (they are still valid)."""
        with self._lock:
            transports = [self._app_transport, *self._installation_transports.values()]
        for transport in transports:
            transport.shutdown()

    def bot_login(self) -> str:
        """`<slug>[bot]`, the login GitHub shows for everything the App does."""
        if self._bot_login is None:
            app = self._client.rest.apps.get_authenticated().parsed_data
            if app is None or not app.slug:
                raise GitHubError("GET /app returned no slug; check APP_ID and PRIVATE_KEY")
            self._bot_login = f"{app.slug}[bot]"
        return self._bot_login

    def mint_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> InstallationToken:
        """A new token for one repository with exactly `permissions`.

        An installation made before Rolecall asked for `checks` has not granted it until
        its owner accepts the new permission; GitHub then refuses the whole token (422).
        Jobs go on without check runs rather than not at all.
        """
        try:
            response = self._create_token(installation_id, repo_name, permissions)
        except RequestFailed as exc:
            if exc.response.status_code != 422 or "checks" not in permissions:
                raise
            log.warning(
                "installation %s has not granted checks: write; no check runs until its "
                "owner accepts the permission",
                installation_id,
            )
            without = {name: level for name, level in permissions.items() if name != "checks"}
            response = self._create_token(installation_id, repo_name, without)
        data = response.parsed_data
        return InstallationToken(token=data.token, expires_at=as_utc(data.expires_at))

    def _create_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> Any:
        # githubkit types `permissions` as a TypedDict of known names; ours is a plain dict.
        return self._client.rest.apps.create_installation_access_token(  # type: ignore[call-overload]
            installation_id, repositories=[repo_name], permissions=permissions
        )

    def installation_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> InstallationToken:
        """A token for one repository and `permissions`, minted only when none is fresh.

        Jobs asking at once for the same key wait for one mint; other keys do not wait.
        """
        key = (installation_id, repo_name.casefold(), tuple(sorted(permissions.items())))
        now = datetime.now(UTC)
        with self._lock:
            slot = self._tokens.get(key)
            if slot is None:
                self._forget_expired(now)
                slot = self._tokens[key] = TokenSlot()
        with slot.lock:
            token = slot.fresh(datetime.now(UTC))
            if token is None:
                token = slot.token = self.mint_token(installation_id, repo_name, permissions)
            return token

    def forget_token(self, token: InstallationToken) -> None:
        """GitHub refused `token` before its time: the next caller gets a new one."""
        with self._lock:
            slots = list(self._tokens.values())
        for slot in slots:
            with slot.lock:
                if slot.token is token:
                    slot.token = None

    def transport_for(self, installation_id: int) -> PooledTransport:
        """The installation's connection pool, shared by every job on it."""
        with self._lock:
            transport = self._installation_transports.get(installation_id)
            if transport is None:
                transport = PooledTransport(pool=str(installation_id), watcher=self._watcher)
                self._installation_transports[installation_id] = transport
            return transport

    def repo(
        self,
        installation_id: int,
        full_name: str,
        redact: Redactor,
        permissions: dict[str, str] | None = None,
    ) -> RepoClient:
        return RepoClient(self, installation_id, full_name, redact, permissions or JOB_PERMISSIONS)

    def _forget_expired(self, now: datetime) -> None:
        """Drop tokens past their expiry (and not being minted), so the cache stays small."""
        for key, slot in list(self._tokens.items()):
            token = slot.token
            if token is not None and token.expires_at <= now and not slot.lock.locked():
                del self._tokens[key]
