"""Who is looking at the dashboard, and which repositories' jobs they may see.

An operator (ROLECALL_OPERATOR_TOKEN, as `Authorization: Bearer …` or through the
sign-in form) sees every job. A person signed in with GitHub sees the jobs of the
repositories they can write (push, maintain or admin), as GitHub answers with their own
token, asked again at most once a minute per session. Anyone else is nobody: `None`.
When GitHub cannot be asked, the person sees nothing rather than what they saw before.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass

from fastapi import Request

from bot.github.errors import GitHubError
from bot.github.user_access import TokenRevoked, UserAccess
from bot.settings import Settings
from bot.web.per_settings import user_access
from bot.web.sessions import SESSION_COOKIE, Session, SessionStore

log = logging.getLogger("rolecall.web")


@dataclass(frozen=True)
class Viewer:
    """Someone allowed in: an operator, or a person with the repositories they can write."""

    login: str | None
    operator: bool = False
    writable: frozenset[str] = frozenset()  # lower-cased full names
    # A problem to show on the page (GitHub could not be asked which repositories).
    notice: str = ""

    @property
    def name(self) -> str:
        return "operator" if self.operator else str(self.login)

    @property
    def visible(self) -> frozenset[str] | None:
        """The repositories whose jobs this viewer sees; None: all of them."""
        return None if self.operator else self.writable

    def can_see(self, repo_full_name: str | None) -> bool:
        if self.operator:
            return True
        return repo_full_name is not None and repo_full_name.lower() in self.writable


def operator_token_matches(settings: Settings, presented: str) -> bool:
    """Whether `presented` is the operator token (compared in constant time)."""
    expected = settings.operator_token.get_secret_value() if settings.operator_token else ""
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def current_viewer(request: Request) -> Viewer | None:
    """The viewer of this request, or None for the anonymous (and a wrong token).

    May ask GitHub (at most once a minute per session): call it from a thread, not
    the event loop.
    """
    state = request.app.state
    settings: Settings = state.settings
    authorization = request.headers.get("authorization", "")
    scheme, _, presented = authorization.partition(" ")
    if authorization:
        if scheme.lower() == "bearer" and operator_token_matches(settings, presented.strip()):
            return Viewer(login=None, operator=True)
        return None
    sessions: SessionStore = state.sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    if session.operator:
        # The operator token may have been changed since: the session ends with it.
        return Viewer(login=None, operator=True) if settings.operator_token else None
    return _person(session, sessions, user_access(request))


def _person(session: Session, sessions: SessionStore, access: UserAccess | None) -> Viewer | None:
    if access is None or session.token is None or session.login is None:
        sessions.drop(session.id)  # sign-in with GitHub was turned off since
        return None
    with session.lock:  # one lookup per session at a time; the others wait for it
        now = time.monotonic()
        if not session.access_is_fresh(now):
            try:
                session.writable = access.writable_repositories(session.token)
            except TokenRevoked:
                sessions.drop(session.id)
                return None
            except GitHubError as exc:
                log.warning("could not ask GitHub what %s can write: %s", session.login, exc)
                return Viewer(
                    login=session.login,
                    notice=f"GitHub could not be asked which repositories you can write ({exc}).",
                )
            session.writable_at = now
        return Viewer(login=session.login, writable=session.writable)
