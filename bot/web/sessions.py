"""Who is signed in to the dashboard: sessions held in this process, named by a cookie.

The cookie holds only a random session id (256 bits, HttpOnly, SameSite=Lax, Secure
behind https); the person's login, their GitHub user token and the repositories they can
write stay here, in memory. A restart signs everyone out, which costs a click. Sessions
end after `LIFETIME`, on sign-out, or when GitHub stops accepting the token; at most
`MAX_SESSIONS` are kept (the oldest go first), so a flood of sign-ins cannot exhaust
memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

SESSION_COOKIE = "rolecall_session"
LIFETIME = 8 * 3600.0  # seconds; GitHub's user tokens live as long
MAX_SESSIONS = 10_000
# How long the repositories someone can write are trusted before GitHub is asked again.
ACCESS_TTL = 60.0


@dataclass
class Session:
    """One signed-in browser: an operator, or a person with their GitHub user token."""

    id: str
    login: str | None  # None for an operator
    token: str | None = field(default=None, repr=False)  # the user access token
    operator: bool = False
    created: float = field(default_factory=time.monotonic)
    writable: frozenset[str] = frozenset()  # lower-cased full names
    writable_at: float | None = None  # when `writable` was learned (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def access_is_fresh(self, now: float) -> bool:
        return self.writable_at is not None and now - self.writable_at < ACCESS_TTL


class SessionStore:
    """The sessions of this process, by id; safe to share between threads."""

    def __init__(self, *, lifetime: float = LIFETIME, max_sessions: int = MAX_SESSIONS) -> None:
        self._lifetime = lifetime
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def create(
        self,
        *,
        login: str | None,
        token: str | None = None,
        operator: bool = False,
        writable: frozenset[str] | None = None,
    ) -> Session:
        """A new session with a fresh id (never one the browser brought: no fixation)."""
        session = Session(id=secrets.token_urlsafe(32), login=login, token=token, operator=operator)
        if writable is not None:
            session.writable, session.writable_at = writable, time.monotonic()
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and time.monotonic() - session.created > self._lifetime:
                del self._sessions[session_id]
                return None
        return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)
