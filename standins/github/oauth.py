"""The OAuth web flow of a GitHub App: a person authorizes the App, the App gets a user token.

GitHub's steps, reproduced: `GET /login/oauth/authorize?client_id&redirect_uri&state`
shows a page where the person (here: whoever's login is typed in, since the stand-in has
no passwords) authorizes the App; GitHub then redirects to `redirect_uri?code&state`. The
App trades the code at `POST /login/oauth/access_token` (client id and secret, JSON or
form-encoded) for a user access token `ghu_…` that expires, with a refresh token. A code
is single use and lives ten minutes; a wrong secret, code or redirect URI is answered
200 with an `error` field, as GitHub answers. The pages are served on the API's origin,
as a GitHub Enterprise Server serves them on its own host.
"""

from __future__ import annotations

import html
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from .exchange import Request, Response
from .records import OAuthCode, User, UserToken
from .router import Router
from .service import Service

router = Router()

CODE_LIFETIME = timedelta(minutes=10)
USER_TOKEN_LIFETIME = timedelta(hours=8)
REFRESH_TOKEN_LIFETIME = timedelta(days=184)
_ALPHABET = string.ascii_letters + string.digits
_TROUBLESHOOTING = (
    "https://docs.github.com/apps/managing-oauth-apps/"
    "troubleshooting-oauth-app-access-token-request-errors/"
)


def _page(status: int, title: str, body: str) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    return Response(status, document.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _field(request: Request, name: str) -> str:
    """A form, JSON or query field as text ('' when absent or not text)."""
    data: Any = request.json if isinstance(request.json, dict) else {}
    value = data.get(name, request.query.get(name, ""))
    return value if isinstance(value, str) else ""


def _redirect_uri(svc: Service, asked: str) -> str | None:
    """The redirect URI the App may use: one of its callback URLs when it has any."""
    registered = svc.state.app.callback_urls
    if not registered:
        return asked or None
    if not asked:
        return registered[0]
    return asked if asked in registered else None


def _back_to(redirect_uri: str, **params: str) -> Response:
    joiner = "&" if urlsplit(redirect_uri).query else "?"
    return Response(302, b"", {"Location": f"{redirect_uri}{joiner}{urlencode(params)}"})


@router.add("GET", "/login/oauth/authorize")
def authorize_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """The page that asks a person to authorize the App (their login stands in for a session)."""
    app = svc.state.app
    client_id, state = _field(request, "client_id"), _field(request, "state")
    if client_id != app.client_id:
        return _page(404, "Not Found", "<h1>404</h1><p>No application has this client_id.</p>")
    redirect_uri = _redirect_uri(svc, _field(request, "redirect_uri"))
    if redirect_uri is None:
        return _page(
            400,
            "Redirect URI mismatch",
            "<h1>The redirect_uri is not associated with this application.</h1>",
        )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
        )
    )
    login = html.escape(_field(request, "login"))
    body = f"""<h1>Authorize {html.escape(app.name)}</h1>
<p>{html.escape(app.name)} by {html.escape(app.owner.login)} wants to know who you are and
which of its installations you can reach.</p>
<form method="post" action="/login/oauth/authorize">{hidden}
<label>Signed in as <input name="login" id="login" value="{login}" autocomplete="off"></label>
<button type="submit" name="authorize" value="1" id="authorize">Authorize
{html.escape(app.name)}</button>
<button type="submit" name="cancel" value="1" id="cancel">Cancel</button>
</form>"""
    return _page(200, f"Authorize {app.name}", body)


@router.add("POST", "/login/oauth/authorize")
def authorize(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """The person's answer: back to the App with a code, or with `error=access_denied`."""
    app = svc.state.app
    if _field(request, "client_id") != app.client_id:
        return _page(404, "Not Found", "<h1>404</h1><p>No application has this client_id.</p>")
    redirect_uri = _redirect_uri(svc, _field(request, "redirect_uri"))
    if redirect_uri is None:
        return _page(400, "Redirect URI mismatch", "<h1>The redirect_uri is not allowed.</h1>")
    state = _field(request, "state")
    if _field(request, "cancel"):
        return _back_to(
            redirect_uri,
            error="access_denied",
            error_description="The user has denied your application access.",
            state=state,
        )
    user = _person(svc, _field(request, "login"))
    if user is None:
        return _page(422, "Sign in", "<h1>No GitHub account has that login.</h1>")
    code = OAuthCode(
        code=secrets.token_hex(10),
        client_id=app.client_id,
        user=user,
        redirect_uri=redirect_uri,
        expires_at=datetime.now(UTC) + CODE_LIFETIME,
    )
    with svc.state.lock:
        svc.state.oauth_codes[code.code] = code
    return _back_to(redirect_uri, code=code.code, state=state)


def _person(svc: Service, login: str) -> User | None:
    with svc.state.lock:
        user = svc.state.users.get(login.strip().lower())
    return user if user is not None and user.type == "User" else None


def _random(length: int) -> str:
    """Letters and digits, as GitHub's token formats hold."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _error(error: str, description: str) -> Response:
    anchor = error.replace("_", "-")
    return Response(
        200,
        {"error": error, "error_description": description, "error_uri": _TROUBLESHOOTING + anchor},
    )


@router.add("POST", "/login/oauth/access_token")
def access_token(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """Trade a code for a user access token: the client's secret checked, the code used up."""
    app = svc.state.app
    if _field(request, "client_id") != app.client_id or not secrets.compare_digest(
        _field(request, "client_secret"), app.client_secret
    ):
        return _error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        )
    if _field(request, "grant_type") not in ("", "authorization_code"):
        return _error("unsupported_grant_type", "This grant type is not supported.")
    with svc.state.lock:
        code = svc.state.oauth_codes.pop(_field(request, "code"), None)
    if code is None or code.expires_at <= datetime.now(UTC) or code.client_id != app.client_id:
        return _error("bad_verification_code", "The code passed is incorrect or expired.")
    asked = _field(request, "redirect_uri")
    if asked and asked != code.redirect_uri:
        return _error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        )
    token = UserToken(
        token="ghu_" + _random(36),
        user=code.user,
        expires_at=datetime.now(UTC) + USER_TOKEN_LIFETIME,
    )
    with svc.state.lock:
        svc.state.user_tokens[token.token] = token
    return Response(
        200,
        {
            "access_token": token.token,
            "expires_in": int(USER_TOKEN_LIFETIME.total_seconds()),
            "refresh_token": "ghr_" + _random(76),
            "refresh_token_expires_in": int(REFRESH_TOKEN_LIFETIME.total_seconds()),
            "token_type": "bearer",
            "scope": "",
        },
    )
