"""Installation tokens: how one is kept fresh, and how a request is signed with it.

Every token is minted for the one repository and the permissions a job needs, so a job
can touch nothing else; the App (`bot.github.app.GitHubApp`) keeps it for later jobs on
that repository with those permissions until it is close to expiry. A repository client
(`bot.github.session.RepoSession`) asks for it through `TokenSource`, so it needs only
these few verbs of the App, not the App itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from githubkit import GitHubCore
from githubkit.auth.base import BaseAuthStrategy

from bot.github.records import InstallationToken
from bot.github.transport import PooledTransport

# A token is replaced this long before GitHub's `expires_at` (an hour after minting), so
# a call or a git push never starts with one about to lapse.
REFRESH_MARGIN = timedelta(minutes=5)


class TokenSource(Protocol):
    """What a repository client needs of the App: its URL, its tokens, its pools."""

    @property
    def api_url(self) -> str: ...

    def installation_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> InstallationToken: ...

    def forget_token(self, token: InstallationToken) -> None: ...

    def transport_for(self, installation_id: int) -> PooledTransport: ...


@dataclass
class TokenSlot:
    """One (installation, repository, permissions): its token, and a lock so one mints."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: InstallationToken | None = None

    def fresh(self, now: datetime) -> InstallationToken | None:
        if self.token is None or self.token.expires_at - now < REFRESH_MARGIN:
            return None
        return self.token


class InstallationAuth(httpx.Auth):
    """Signs each request with the job's current token; once more with a new one when
    `retry_with` says the answer was about the token (see `RepoSession._retry_with`).

    GitHub answers 401 and 404 before doing anything, so sending the request again is
    safe.
    """

    def __init__(
        self,
        current: Callable[[], InstallationToken],
        retry_with: Callable[[InstallationToken, int], InstallationToken | None],
    ) -> None:
        self._current = current
        self._retry_with = retry_with

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        request.headers["Authorization"] = f"token {token.token}"
        response = yield request
        replacement = self._retry_with(token, response.status_code)
        if replacement is not None:
            request.headers["Authorization"] = f"token {replacement.token}"
            yield request


@dataclass(frozen=True)
class InstallationAuthStrategy(BaseAuthStrategy):
    """githubkit's side of `InstallationAuth`: asked for an auth flow per HTTP client."""

    current: Callable[[], InstallationToken]
    retry_with: Callable[[InstallationToken, int], InstallationToken | None]

    def get_auth_flow(self, github: GitHubCore[Any]) -> httpx.Auth:
        return InstallationAuth(self.current, self.retry_with)
