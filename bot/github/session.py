"""A repository client's connection: its githubkit client, its token, its redactor.

The verbs (`bot.github.issues`, `pulls`, `git_data`, `checks`) build on this;
`bot.github.repo.RepoClient` puts them together. Every token the session uses is
added to the job's `Redactor` as it first sees it, also one another job minted.
"""

from __future__ import annotations

import threading
from typing import Any

from githubkit import GitHub

from agents.text.redact import Redactor
from bot.github.records import InstallationToken
from bot.github.tokens import InstallationAuthStrategy, TokenSource
from bot.github.transport import TIMEOUT


class RepoSession:
    """One repository for one job, through the App's shared token for it (see `GitHubApp`).

    Every token this client uses is added to the job's `Redactor` as it first sees it,
    also one another job minted.
    """

    def __init__(
        self,
        app: TokenSource,
        installation_id: int,
        full_name: str,
        redact: Redactor,
        permissions: dict[str, str],
    ) -> None:
        self.owner, self.name = full_name.split("/", 1)
        self.full_name = full_name
        self._app = app
        self.installation_id = installation_id
        self._permissions = dict(permissions)
        self._redact = redact
        self._lock = threading.Lock()
        self._seen: InstallationToken | None = None
        self._token_answered = False  # GitHub has accepted a token of this job's
        # One githubkit client for the job: each request is signed with the token the
        # call's `rest`/`graphql` just made sure of, and sent through the installation's pool.
        self._client = GitHub(
            InstallationAuthStrategy(self._current_token, self._retry_with),
            base_url=app.api_url,
            timeout=TIMEOUT,
            http_cache=False,
            transport=app.transport_for(installation_id),
        )

    # -- auth -------------------------------------------------------------------------

    def token(self) -> str:
        """A live installation token (also for git, which receives it via its environment)."""
        return self._live_token().token

    def _live_token(self) -> InstallationToken:
        """The App's token for this repository and permissions, known to the job's redactor.

        Asked before every call (`rest`, `graphql`), outside the request, so a failed
        mint raises as GitHub's answer (`RequestFailed`), as it always did.
        """
        token = self._app.installation_token(self.installation_id, self.name, self._permissions)
        with self._lock:
            if self._seen is not token:
                self._redact.add(token.token)
                self._seen = token
        return token

    def _current_token(self) -> InstallationToken:
        with self._lock:
            seen = self._seen
        return seen if seen is not None else self._live_token()

    def _replace_token(self, refused: InstallationToken) -> InstallationToken:
        self._app.forget_token(refused)
        return self._live_token()

    def _retry_with(self, token: InstallationToken, status: int) -> InstallationToken | None:
        """A new token to send the request again with, when the answer was about `token`.

        401: GitHub no longer takes it before its time (revoked, installation changed).
        404 on the job's first call: a cached token covers the repository that had this
        name when it was minted; renamed away and re-created, the name is another
        repository, which that token does not reach. Later 404s are about what was asked.
        """
        with self._lock:
            first, self._token_answered = not self._token_answered, True
        if status == 401 or (status == 404 and first):
            return self._replace_token(token)
        return None

    @property
    def rest(self) -> Any:
        self._live_token()
        return self._client.rest

    @property
    def graphql(self) -> Any:
        self._live_token()
        return self._client.graphql

    @staticmethod
    def _paginate(method: Any, *args: Any) -> Any:
        page = 1
        while True:
            items = method(*args, per_page=100, page=page).parsed_data
            yield from items
            if len(items) < 100:
                return
            page += 1
