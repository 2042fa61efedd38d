"""Signing a person in with the App's OAuth client, and which repositories they can write.

GitHub's web flow for GitHub Apps: the browser is sent to `{web}/login/oauth/authorize`
with the App's client id, a redirect URI and a `state`; GitHub sends it back with a
`code`, which the server trades (with the client secret) for a user access token. With
that token (user-to-server) GitHub answers who the person is and, per installation of
the App, the repositories they reach with their own `permissions`: the dashboard shows a
person the jobs of the repositories they can write, and nothing else.

The token never leaves this process: callers keep it server-side (bot.web.sessions).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from githubkit import GitHub, OAuthWebAuthStrategy, TokenAuthStrategy, UnauthAuthStrategy
from githubkit.exception import AuthExpiredError, GitHubException, RequestFailed

from bot.github.errors import GitHubError, error_message
from bot.github.transport import TIMEOUT, PooledTransport

# What GitHub calls the roles that may push: write, maintain and admin.
WRITE_FLAGS = ("push", "maintain", "admin")
# Pages of 100 are asked for; more than this many per installation are not looked at.
_MAX_PAGES = 20


class SignInFailed(GitHubError):
    """GitHub would not sign the person in; the message says why, for them to read."""


class TokenRevoked(GitHubError):
    """The user access token no longer works (expired or revoked): sign in again."""


def github_web_url(api_url: str) -> str:
    """Where people use GitHub in a browser, from the REST URL Rolecall talks to.

    `https://api.github.com` is `https://github.com`; a GitHub Enterprise Server's
    `https://HOST/api/v3` is `https://HOST`; anything else (a local stand-in) serves its
    pages on its own origin.
    """
    parts = urlsplit(api_url.rstrip("/"))
    if parts.netloc.lower() == "api.github.com":
        return "https://github.com"
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and their user access token (kept server-side, never in a cookie)."""

    login: str
    token: str


class UserAccess:
    """The App's OAuth client: sends people to GitHub, trades codes, asks what they may write.

    One per process (built with the web app); its connections are pooled.
    """

    def __init__(self, api_url: str, client_id: str, client_secret: str) -> None:
        self.api_url = api_url
        self.web_url = github_web_url(api_url)
        self.client_id = client_id
        self._client_secret = client_secret
        self._transport = PooledTransport()

    def close(self) -> None:
        self._transport.shutdown()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """The GitHub page that asks the person to sign in to the App."""
        query = urlencode(
            {"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state}
        )
        return f"{self.web_url}/login/oauth/authorize?{query}"

    def sign_in(self, code: str, redirect_uri: str) -> SignedIn:
        """Trade the code GitHub sent back for a user token, and learn whose it is."""
        strategy = OAuthWebAuthStrategy(
            self.client_id, self._client_secret, code, redirect_uri=redirect_uri
        )
        try:
            # The exchange goes out unauthenticated: the secret is in its body.
            token = strategy.exchange_token(self._github(UnauthAuthStrategy())).token
        except AuthExpiredError as exc:
            raise SignInFailed(_exchange_problem(exc)) from None
        except RequestFailed as exc:
            raise SignInFailed(f"GitHub refused the sign-in: {error_message(exc)}") from None
        except GitHubException as exc:
            raise SignInFailed(f"GitHub could not be reached: {exc}") from None
        if not token:
            raise SignInFailed("GitHub answered the sign-in without a token. Sign in again.")
        github = self._github(TokenAuthStrategy(token))  # held: namespaces refer to it weakly
        with _asking_github():
            user = github.rest.users.get_authenticated()
        return SignedIn(login=user.parsed_data.login, token=token)

    def writable_repositories(self, token: str) -> frozenset[str]:
        """Full names (lower-cased) of the App's repositories this person can push to."""
        writable: set[str] = set()
        for installation_id in self._installation_ids(token):
            for repo in self._repositories(token, installation_id):
                permissions = repo.permissions
                if permissions and any(getattr(permissions, f, False) for f in WRITE_FLAGS):
                    writable.add(repo.full_name.lower())
        return frozenset(writable)

    # -- helpers ----------------------------------------------------------------------

    def _github(self, auth: Any) -> GitHub[Any]:
        return GitHub(
            auth,
            base_url=self.api_url,
            timeout=TIMEOUT,
            http_cache=False,
            transport=self._transport,
            # A person waits on these: a failure shows at once, no 1+4+9 s of retries.
            auto_retry=False,
        )

    def _installation_ids(self, token: str) -> Iterator[int]:
        github = self._github(TokenAuthStrategy(token))
        for page in range(1, _MAX_PAGES + 1):
            with _asking_github():
                listing = github.rest.apps.list_installations_for_authenticated_user
                found = listing(per_page=100, page=page).parsed_data
            yield from (installation.id for installation in found.installations)
            if len(found.installations) < 100:
                return

    def _repositories(self, token: str, installation_id: int) -> Iterator[Any]:
        github = self._github(TokenAuthStrategy(token))
        for page in range(1, _MAX_PAGES + 1):
            with _asking_github():
                listing = github.rest.apps.list_installation_repos_for_authenticated_user
                found = listing(installation_id, per_page=100, page=page).parsed_data
            yield from found.repositories
            if len(found.repositories) < 100:
                return


@contextmanager
def _asking_github() -> Iterator[None]:
    """GitHub's failures as ours; a 401 means the person's token is gone."""
    try:
        yield
    except RequestFailed as exc:
        if exc.response.status_code == 401:
            raise TokenRevoked("GitHub no longer accepts this sign-in") from None
        raise GitHubError(error_message(exc)) from None
    except GitHubException as exc:
        raise GitHubError(f"GitHub could not be reached: {exc}") from None


def _exchange_problem(exc: AuthExpiredError) -> str:
    """GitHub's answer to a refused code exchange, as advice (it comes with HTTP 200)."""
    answer = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    error = str(answer.get("error", ""))
    if error == "incorrect_client_credentials":
        return (
            "GitHub refused the App's client id or secret: check GITHUB_CLIENT_ID and "
            "GITHUB_CLIENT_SECRET against the App's settings page."
        )
    if error == "redirect_uri_mismatch":
        return (
            "GitHub refused the redirect URI: add this server's /signin/callback to the "
            "App's callback URLs (and set ROLECALL_PUBLIC_URL if it is behind a proxy)."
        )
    if error == "bad_verification_code":
        return "The sign-in code was used already or expired. Sign in again."
    described = str(answer.get("error_description", "")) or error or "no reason given"
    return f"GitHub refused the sign-in: {described}"
