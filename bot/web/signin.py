"""Signing in to the dashboard: with GitHub (the App's OAuth web flow), or as the operator.

`/signin` shows the choices. `/signin/github` sends the browser to GitHub with a random
`state`, also kept in a short-lived cookie that only this site can set; GitHub sends it
back to `/signin/callback` with a code, and a callback whose `state` differs from the
cookie's (a forged or stale link) is refused. The code becomes a user token, the token a
login, and a new session (bot.web.sessions) holds both; the browser gets only its id.
The operator form checks ROLECALL_OPERATOR_TOKEN. `/signout` ends the session.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response

from bot.github.errors import GitHubError
from bot.github.user_access import SignInFailed
from bot.settings import Settings
from bot.web import layout, per_settings
from bot.web.layout import e
from bot.web.per_settings import user_access
from bot.web.sessions import LIFETIME, SESSION_COOKIE, SessionStore
from bot.web.viewer import current_viewer, operator_token_matches

log = logging.getLogger("rolecall.web")

CALLBACK_PATH = "/signin/callback"
STATE_COOKIE = "rolecall_signin"
STATE_LIFETIME = 600  # seconds a sign-in may take on GitHub's side
_MAX_FORM = 4096
# Where a sign-in may return to: a path on this site, never another host (`//evil`).
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&-]{0,400}")


def register(app: FastAPI) -> None:
    """The sign-in routes and the session store."""
    app.state.sessions = SessionStore()
    per_settings.register(app)
    app.add_api_route("/signin", signin_page, methods=["GET"])
    app.add_api_route("/signin/github", start_github, methods=["GET"])
    app.add_api_route(CALLBACK_PATH, callback, methods=["GET"])
    app.add_api_route("/signin/operator", operator_signin, methods=["POST"])
    app.add_api_route("/signout", signout, methods=["POST"])


def safe_next(value: str | None) -> str:
    """`value` if it is a path on this site, else `/`."""
    return value if value and _LOCAL_PATH.fullmatch(value) else "/"


def signin_page(request: Request, next: str | None = None) -> Response:
    if current_viewer(request) is not None:
        return layout.redirect(safe_next(next))
    return sign_in_form(request, safe_next(next))


def sign_in_form(
    request: Request, next_path: str = "/", *, problem: str = "", status: int = 200
) -> Response:
    """The sign-in choices; `problem` says what went wrong with the last try."""
    settings: Settings = request.app.state.settings
    parts = ["<h1>Sign in to Rolecall</h1>"]
    if problem:
        parts.append(f'<p class="error" id="problem">{e(problem)}</p>')
    if user_access(request) is not None:
        target = "/signin/github?" + urlencode({"next": next_path})
        parts.append(
            f'<p><a class="button" id="signin-github" href="{e(target)}">Sign in with '
            'GitHub</a></p><p class="muted">You will see the jobs of the repositories '
            "you can write.</p>"
        )
    else:
        parts.append(
            '<p class="notice" id="not-configured">Signing in with GitHub is not set up. '
            "Set <code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code> (the "
            "GitHub App's client ID, and a client secret generated on its settings page), "
            f"add <code>{e(_public_base(request, settings))}{CALLBACK_PATH}</code> to the "
            "App's callback URLs, and restart Rolecall. Until then only the operator "
            "token signs in.</p>"
        )
    if settings.operator_token:
        parts.append(
            '<h2>Operator</h2><form method="post" action="/signin/operator">'
            f'<input type="hidden" name="next" value="{e(next_path)}">'
            '<label>Operator token <input type="password" name="token" id="operator-token" '
            'autocomplete="off" required></label> '
            '<button type="submit" id="operator-signin">Sign in</button></form>'
        )
    else:
        parts.append(
            '<p class="muted">No operator token is set (<code>ROLECALL_OPERATOR_TOKEN</code>).</p>'
        )
    return layout.page("Sign in · Rolecall", "\n".join(parts), status=status)


def start_github(request: Request, next: str | None = None) -> Response:
    """Off to GitHub, with a `state` the callback must bring back."""
    access = user_access(request)
    if access is None:
        return sign_in_form(request, safe_next(next), status=404)
    nonce = secrets.token_urlsafe(24)
    response = layout.redirect(access.authorize_url(_redirect_uri(request), nonce))
    response.status_code = 302
    carried = json.dumps({"state": nonce, "next": safe_next(next)}).encode()
    response.set_cookie(
        STATE_COOKIE,
        base64.urlsafe_b64encode(carried).decode(),
        max_age=STATE_LIFETIME,
        path="/signin",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )
    return response


def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """GitHub sent the person back: check `state`, trade the code, start a session."""
    access = user_access(request)
    carried = _carried(request.cookies.get(STATE_COOKIE))
    if access is None:
        return sign_in_form(request, status=404)
    if carried is None or not state or not hmac.compare_digest(state, carried["state"]):
        return _failed(request, "This sign-in was not started here or took too long. Try again.")
    next_path = safe_next(carried.get("next"))
    if error:
        return _failed(request, "Signing in was cancelled on GitHub.", next_path)
    if not code:
        return _failed(request, "GitHub sent no sign-in code back. Try again.", next_path)
    try:
        signed_in = access.sign_in(code, _redirect_uri(request))
    except SignInFailed as exc:
        return _failed(request, str(exc), next_path, status=502)
    except GitHubError as exc:
        return _failed(request, f"GitHub could not be asked who you are: {exc}", next_path, 502)
    try:
        writable: frozenset[str] | None = access.writable_repositories(signed_in.token)
    except GitHubError as exc:
        log.warning("could not ask GitHub what %s can write: %s", signed_in.login, exc)
        writable = None  # asked again on the next page
    sessions: SessionStore = request.app.state.sessions
    session = sessions.create(login=signed_in.login, token=signed_in.token, writable=writable)
    log.info("%s signed in to the dashboard", signed_in.login)
    response = layout.redirect(next_path)
    _set_session_cookie(request, response, session.id)
    response.delete_cookie(STATE_COOKIE, path="/signin")
    return response


async def operator_signin(request: Request) -> Response:
    """The operator's form: the right token starts an operator session."""
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    settings: Settings = request.app.state.settings
    if not _same_origin(request) or not operator_token_matches(settings, form.get("token", "")):
        return sign_in_form(
            request, next_path, problem="That is not the operator token.", status=401
        )
    sessions: SessionStore = request.app.state.sessions
    session = sessions.create(login=None, operator=True)
    log.info("an operator signed in to the dashboard")
    response = layout.redirect(next_path)
    _set_session_cookie(request, response, session.id)
    return response


async def signout(request: Request) -> Response:
    if _same_origin(request):
        sessions: SessionStore = request.app.state.sessions
        sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = layout.redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- helpers ----------------------------------------------------------------------------


def _failed(request: Request, problem: str, next_path: str = "/", status: int = 400) -> Response:
    response = sign_in_form(request, next_path, problem=problem, status=status)
    response.delete_cookie(STATE_COOKIE, path="/signin")
    return response


def _carried(cookie: str | None) -> dict[str, str] | None:
    """What `start_github` put in the state cookie, if it is intact."""
    if not cookie:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cookie.encode()))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("state"), str):
        return None
    return {key: str(item) for key, item in value.items()}


def _public_base(request: Request, settings: Settings) -> str:
    """Where browsers reach this server: ROLECALL_PUBLIC_URL, else this request's origin."""
    return settings.public_url or str(request.base_url).rstrip("/")


def _redirect_uri(request: Request) -> str:
    return _public_base(request, request.app.state.settings) + CALLBACK_PATH


def _is_https(request: Request) -> bool:
    return _public_base(request, request.app.state.settings).startswith("https://")


def _set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(LIFETIME),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )


def _same_origin(request: Request) -> bool:
    """A form posted from another site (its Origin says so) is not acted on."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.rstrip("/") in {
        str(request.base_url).rstrip("/"),
        (request.app.state.settings.public_url or "").rstrip("/"),
    }


async def _form(request: Request) -> dict[str, str]:
    """A small url-encoded form (nothing here needs more than a token)."""
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
