"""The errors a GitHub call raises for the tracking comment to explain, and their wording.

Kept apart from the clients so that code reading a failure (`bot.jobs.failures`,
`rolecall doctor`) needs none of githubkit's clients, only what GitHub's answer said.
`explain_github` turns a failed call into a sentence a person can act on: which setting
to check, which permission the installation lacks, whether to wait for a rate limit or
for GitHub. It reads the status, the headers and the request Rolecall made; GitHub's own
message only picks between known cases and is never repeated (a body can quote anything).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx
import jwt
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    PrimaryRateLimitExceeded,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

_SEE_THE_LOG = "The details are in Rolecall's log."
_RETRY = "comment `/retry` once it is back"
_REPO_PATH = re.compile(r"/repos/([^/]+)/([^/]+)(/.*)?$")
_INSTALLATION_PATH = re.compile(r"/app/installations/(\d+)(/.*)?$")
# Which of the App's permissions a REST path needs, by its first segment after the repo.
_PERMISSION_BY_SEGMENT = {
    "issues": "issues",
    "labels": "issues",
    "pulls": "pull_requests",
    "check-runs": "checks",
    "check-suites": "checks",
    "git": "contents",
    "contents": "contents",
    "branches": "contents",
    "commits": "contents",
    "merges": "contents",
}


class GitHubError(Exception):
    """A GitHub call failed in a way the tracking comment should explain."""


class NotFastForward(GitHubError):
    """GitHub refused to move a branch: the new commit does not descend from its head."""


def error_message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return f"GitHub answered {exc.response.status_code}"
    messages = [str(body.get("message", ""))]
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            messages.append(str(error["message"]))
    return f"GitHub answered {exc.response.status_code}: " + " ".join(m for m in messages if m)


def explain_github(exc: BaseException) -> str | None:
    """One sentence for a failed GitHub call (githubkit's exceptions), or None for others."""
    if isinstance(exc, RequestFailed):
        return _refused(exc)
    if isinstance(exc, RequestTimeout):
        if isinstance(exc.exc, httpx.ConnectTimeout):
            return _unreachable(exc.exc, "the connection timed out")
        return f"GitHub did not answer in time: {_RETRY}."
    if isinstance(exc, RequestError):
        return _not_sent(exc.exc)
    if isinstance(exc, GraphQLFailed):
        return f"GitHub's GraphQL API answered with an error. {_SEE_THE_LOG}"
    if isinstance(exc, GitHubException):
        return f"A request to GitHub failed ({type(exc).__name__}). {_SEE_THE_LOG}"
    return None


def _not_sent(cause: BaseException) -> str:
    """A request githubkit could not complete: no connection, or the App's JWT unsigned."""
    if isinstance(cause, GitHubException):  # a token minted inside the request's auth flow
        return explain_github(cause) or _SEE_THE_LOG
    if isinstance(cause, httpx.ConnectError):
        return _unreachable(cause, _connect_reason(cause))
    if isinstance(cause, httpx.TransportError):
        return f"The connection to GitHub at {_origin(cause)} broke off: {_RETRY}."
    if _refused_key(cause):  # raised while signing the App's JWT, before anything was sent
        return (
            "Rolecall could not sign in as the GitHub App: PRIVATE_KEY is not an RSA private "
            "key in PEM form. Generate a private key on the App's settings page and set "
            "PRIVATE_KEY (or PRIVATE_KEY_PATH) to it."
        )
    return f"A request to GitHub failed ({type(cause).__name__}). {_SEE_THE_LOG}"


def _refused_key(cause: BaseException) -> bool:
    """PyJWT refusing PRIVATE_KEY (not PEM, not RSA), or cryptography refusing to load it
    (`TypeError: Password was not given but private key is encrypted`)."""
    if isinstance(cause, jwt.PyJWTError):
        return True
    return isinstance(cause, ValueError | TypeError) and "key" in str(cause).lower()


def _refused(exc: RequestFailed) -> str:
    status = exc.response.status_code
    request = exc.request
    path = request.url.path
    if isinstance(exc, RateLimitExceeded):
        return _rate_limited(exc, status)
    if status == 401:
        return "GitHub refused the App's credentials (401): check APP_ID and PRIVATE_KEY."
    if status == 404 and "integration not found" in _message(exc).lower():  # no such App id
        return (
            "GitHub knows no App with the id in APP_ID (404): check APP_ID (the App ID on "
            "the App's settings page, not its client ID or an installation id)."
        )
    installation = _INSTALLATION_PATH.search(path)
    if installation is not None and status == 403 and "suspended" in _message(exc).lower():
        return (
            f"The App's installation {installation.group(1)} is suspended (403): an owner "
            "must unsuspend it in the installation's settings."
        )
    if status == 403:
        return _forbidden(exc, request)
    if installation is not None and status == 404:
        return (
            f"GitHub does not know the App's installation {installation.group(1)} (404): "
            "the App was uninstalled from that account; install it again."
        )
    if installation is not None and status == 422:
        return _token_refused(exc, request)
    if status == 404:
        return _not_found(request)
    if status >= 500:
        return f"GitHub is unavailable ({status}): {_RETRY}."
    return f"GitHub refused `{_call(request)}` ({status}). {_SEE_THE_LOG}"


def _rate_limited(exc: RateLimitExceeded, status: int) -> str:
    minutes = max(1, math.ceil(exc.retry_after.total_seconds() / 60))
    when = "in about a minute" if minutes == 1 else f"in about {minutes} minutes"
    if isinstance(exc, PrimaryRateLimitExceeded):
        return (
            f"GitHub's API rate limit for the App's installation is used up ({status}): "
            f"it resets {when}; comment `/retry` then."
        )
    return (
        f"GitHub's secondary rate limit stopped Rolecall ({status}): too many requests in "
        f"a short time; comment `/retry` {when}."
    )


def _forbidden(exc: RequestFailed, request: httpx.Request) -> str:
    if "archived" in _message(exc).lower():
        return f"GitHub refused `{_call(request)}` (403): the repository is archived (read-only)."
    permission = _permission_for(request)
    needed = f"the permission `{permission}`" if permission else "a permission"
    return (
        f"GitHub refused the App (403): the App's installation lacks {needed} that "
        f"`{_call(request)}` needs; an owner must grant it in the App's settings and "
        "accept it on the installation."
    )


def _token_refused(exc: RequestFailed, request: httpx.Request) -> str:
    """422 on minting a token: a repository outside the installation, or permissions."""
    asked = _json_body(request)
    if "permission" in _message(exc).lower():
        wanted = asked.get("permissions")
        pairs = sorted(wanted.items()) if isinstance(wanted, dict) else []
        listed = ", ".join(f"`{name}: {level}`" for name, level in pairs)
        return (
            f"The App's installation has not granted the permissions Rolecall asks for "
            f"({listed or 'see app.yml'}) (422): an owner must accept them in the "
            "installation's settings."
        )
    names = asked.get("repositories")
    which = f"`{names[0]}`" if isinstance(names, list) and len(names) == 1 else "the repository"
    return (
        f"GitHub could not find {which} in the App's installation (422): it was deleted "
        "or renamed, or the App is not installed on it."
    )


def _not_found(request: httpx.Request) -> str:
    repo = _REPO_PATH.search(request.url.path)
    if repo is None:
        return f"GitHub could not find `{_call(request)}` (404). {_SEE_THE_LOG}"
    full_name = f"{repo.group(1)}/{repo.group(2)}"
    if repo.group(3) in (None, "", "/"):
        return (
            f"GitHub could not find `{full_name}` (404): the repository was deleted or "
            "renamed, or the App is not installed on it."
        )
    return (
        f"GitHub could not find `{_call(request)}` (404): it was deleted, or `{full_name}` "
        "is gone or the App is not installed on it."
    )


def _permission_for(request: httpx.Request) -> str | None:
    repo = _REPO_PATH.search(request.url.path)
    if repo is None or not repo.group(3):
        return None
    segment = repo.group(3).strip("/").split("/")[0]
    name = _PERMISSION_BY_SEGMENT.get(segment)
    if name is None:
        return None
    return f"{name}: {'read' if request.method in ('GET', 'HEAD') else 'write'}"


def _unreachable(cause: httpx.HTTPError, reason: str) -> str:
    return (
        f"Rolecall could not reach GitHub at {_origin(cause)} ({reason}): check "
        "GITHUB_API_URL and the network."
    )


def _connect_reason(cause: httpx.ConnectError) -> str:
    text = str(cause).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "name resolution" in text or "nodename" in text:
        return "its host name does not resolve"
    if "certificate" in text or "ssl" in text:
        return "its TLS certificate was not accepted"
    return "no connection"


def _origin(cause: httpx.HTTPError) -> str:
    """scheme://host:port of the request, without credentials or path."""
    try:
        url = cause.request.url
    except RuntimeError:  # an error raised without its request
        return "GITHUB_API_URL"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _call(request: httpx.Request) -> str:
    """`METHOD /path` of a request Rolecall made (never its query or headers)."""
    return f"{request.method} {request.url.path}"


def _message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _json_body(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, httpx.RequestNotRead):
        return {}
    return body if isinstance(body, dict) else {}
