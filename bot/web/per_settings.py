"""What the dashboard builds from the settings: the App's OAuth client and the redactor.

The setup page configures the App without a restart by replacing `app.state.settings`
(bot.web.app); both are built again, once, from the settings the app serves with now, so
sign-in with GitHub works and the new secrets are redacted as soon as it is configured.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from fastapi import FastAPI, Request

from agents.text.redact import Redactor
from bot.github.user_access import UserAccess
from bot.settings import Settings

T = TypeVar("T")


class PerSettings(Generic[T]):
    """A value built from a `Settings`, built again when the settings object is replaced."""

    def __init__(self, build: Callable[[Settings], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: tuple[Settings, T] | None = None

    def __call__(self, settings: Settings) -> T:
        with self._lock:
            if self._built is None or self._built[0] is not settings:
                self._built = (settings, self._build(settings))
            return self._built[1]


def _oauth_client(settings: Settings) -> UserAccess | None:
    secret = settings.github_client_secret
    if not settings.github_client_id or secret is None or not secret.get_secret_value():
        return None
    return UserAccess(settings.github_api_url, settings.github_client_id, secret.get_secret_value())


def _redactor(settings: Settings) -> Redactor:
    # Knows every secret this process holds: none is shown, whatever a transcript holds.
    return Redactor(settings.known_secrets())


def register(app: FastAPI) -> None:
    app.state.oauth_client = PerSettings(_oauth_client)
    app.state.dashboard_redactor = PerSettings(_redactor)


def user_access(request: Request) -> UserAccess | None:
    """The App's OAuth client, or None while GITHUB_CLIENT_ID/SECRET are not set."""
    built: PerSettings[UserAccess | None] = request.app.state.oauth_client
    return built(request.app.state.settings)


def redactor(request: Request) -> Redactor:
    built: PerSettings[Redactor] = request.app.state.dashboard_redactor
    return built(request.app.state.settings)
