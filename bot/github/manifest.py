"""The last step of GitHub's manifest flow: trading the code for the new App's credentials.

GitHub redirects the person who registered the App back with a `code`; the server trades
it at `POST /app-manifests/{code}/conversions`, unauthenticated, for the App's id, slug,
private key, webhook secret and OAuth client. A code is single use and expires after an
hour, so a refusal says to register again rather than to retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.errors import GitHubError, error_message
from bot.github.transport import TIMEOUT

# GitHub's codes are short hex strings; anything else never reaches the URL path.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")


class ManifestCodeRefused(GitHubError):
    """GitHub does not know the code (used, expired, or from another GitHub)."""


@dataclass(frozen=True)
class RegisteredApp:
    """What GitHub answered for a registered App; the secrets stay out of `repr`."""

    id: int
    slug: str
    name: str
    html_url: str
    owner: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    client_secret: str = field(repr=False)

    @property
    def install_url(self) -> str:
        """The App's page for installing it on an account and choosing repositories."""
        return f"{self.html_url}/installations/new"


def convert_manifest_code(api_url: str, code: str) -> RegisteredApp:
    """The App registered with `code`; `ManifestCodeRefused` or `GitHubError` otherwise."""
    if not _CODE.fullmatch(code):
        raise ManifestCodeRefused("the code GitHub sent back is malformed")
    # Unauthenticated: the code is the credential. Kept in a name while used (githubkit's
    # REST namespace holds its client weakly).
    github = GitHub(base_url=api_url, timeout=TIMEOUT, http_cache=False)
    try:
        app = github.rest.apps.create_from_manifest(code).parsed_data
    except RequestFailed as exc:
        if exc.response.status_code in (404, 422):
            raise ManifestCodeRefused(
                "GitHub refused the code: it was used already or is over an hour old"
            ) from None
        raise GitHubError(error_message(exc)) from None
    except httpx.HTTPError as exc:
        raise GitHubError(f"could not reach GitHub at {api_url} ({type(exc).__name__})") from None
    if not app.slug or not app.webhook_secret:
        raise GitHubError("GitHub registered the App without a slug or webhook secret")
    owner = getattr(app.owner, "login", None) or getattr(app.owner, "slug", "")
    return RegisteredApp(
        id=app.id,
        slug=app.slug,
        name=app.name,
        html_url=app.html_url.rstrip("/"),
        owner=str(owner),
        client_id=app.client_id,
        pem=app.pem,
        webhook_secret=app.webhook_secret,
        client_secret=app.client_secret,
    )
