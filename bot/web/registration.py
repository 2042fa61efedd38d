"""Registering the GitHub App from the setup page, and serving with it at once.

`POST /setup/register` keeps the model key (only while none is set), makes a `state`,
and answers with the page that posts the manifest to GitHub. GitHub sends the person
back to `GET /setup/callback?code=…&state=…`: a state this server did not issue in the
last hour is refused (a forged or replayed link), the code is traded for the App's
credentials, they are stored (bot.app_credentials), the settings are read again, and
`configure` hands them to the running process (the webhook secrets, the job services,
the bot login; see bot.web.app and bot.cli.serve). Anyone may reach these routes before
an App exists, so both refuse to write once one is configured, and one lock makes two
racing callbacks register one App.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.app_credentials import CredentialStore
from bot.github.errors import GitHubError
from bot.github.manifest import ManifestCodeRefused, RegisteredApp, convert_manifest_code
from bot.github.web_url import github_web_url
from bot.settings import Settings
from bot.web import setup
from bot.web.manifest import (
    ManifestInputError,
    app_name,
    build_manifest,
    new_app_url,
    organization,
    webhook_url,
)
from bot.web.signin import CALLBACK_PATH as SIGNIN_CALLBACK_PATH
from bot.web.webhooks import WEBHOOK_PATH

log = logging.getLogger("rolecall.web")

# GitHub's codes live an hour; a registration may take as long.
STATE_LIFETIME = 3600.0
# Registrations started and not finished that are remembered (oldest forgotten first).
MAX_PENDING = 64
_MAX_FORM = 16 * 1024
_MAX_MODEL_KEY = 512

Configure = Callable[[Settings], None]
"""Serve with these settings from now on (the App was just registered)."""


class PendingStates:
    """The `state` of each registration this server started: random, kept here, an hour."""

    def __init__(
        self,
        lifetime: float = STATE_LIFETIME,
        limit: int = MAX_PENDING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._clock = clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        state = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            while len(self._issued) >= self._limit:
                del self._issued[next(iter(self._issued))]
            self._issued[state] = self._clock()
        return state

    def known(self, state: str | None) -> bool:
        """Whether `state` was issued here within the hour (compared in constant time)."""
        if not state:
            return False
        with self._lock:
            self._drop_expired()
            candidates = list(self._issued)
        found = False
        for issued in candidates:
            found |= hmac.compare_digest(issued.encode(), state.encode("utf-8", "replace"))
        return found

    def forget(self, state: str) -> None:
        with self._lock:
            self._issued.pop(state, None)

    def _drop_expired(self) -> None:
        oldest = self._clock() - self._lifetime
        for state, issued in list(self._issued.items()):
            if issued < oldest:
                del self._issued[state]


class Registration:
    """The setup flow's state: the pending `state`s, the lock, and how to apply settings."""

    def __init__(self, configure: Configure) -> None:
        self.configure = configure
        self.states = PendingStates()
        self.lock = threading.Lock()


def register(app: FastAPI, configure: Configure) -> None:
    """The setup routes; `configure` applies the settings once the App is registered."""
    app.state.registration = Registration(configure)
    app.add_api_route(setup.REGISTER_PATH, start, methods=["POST"])
    app.add_api_route(setup.CALLBACK_PATH, finish, methods=["GET"])
    app.add_api_route(setup.SCRIPT_PATH, setup.continue_script, methods=["GET"])


async def start(request: Request) -> Response:
    """The setup form: keep the model key, then on to GitHub with the manifest and a state."""
    settings: Settings = request.app.state.settings
    if not settings.missing_app_settings():
        return _already_configured(settings)
    if not setup.registrable(settings):
        return setup.page(request, status=409)
    if not _same_origin(request, settings):
        return setup.refused_page(
            settings,
            "Not sent from this page",
            "The form came from another site, so nothing was done. Open Rolecall's own "
            "page and register from there.",
            403,
        )
    form = await _form(request)
    base = setup.public_base(request, settings)
    try:
        name = app_name(form.get("app_name", ""))
        org = organization(form.get("organization", ""))
        hook = webhook_url(form.get("webhook_url") or base + WEBHOOK_PATH)
        model_key = _model_key(form.get("anthropic_api_key", ""))
    except ManifestInputError as problem:
        return setup.page(request, problem=str(problem), status=400)
    if model_key is not None:
        await run_in_threadpool(_keep_model_key, settings, model_key)
    registration: Registration = request.app.state.registration
    state = registration.states.issue()
    manifest = build_manifest(
        name=name,
        webhook_url=hook,
        redirect_url=base + setup.CALLBACK_PATH,
        callback_url=base + SIGNIN_CALLBACK_PATH,
        setup_url=base + "/",
    )
    target = new_app_url(github_web_url(settings.github_api_url), org)
    return setup.continue_page(settings, f"{target}?{urlencode({'state': state})}", manifest)


def finish(request: Request, code: str | None = None, state: str | None = None) -> Response:
    """GitHub's redirect: check the state, trade the code, store, and start serving."""
    registration: Registration = request.app.state.registration
    with registration.lock:
        settings: Settings = request.app.state.settings
        if not settings.missing_app_settings():
            return _already_configured(settings)
        if not setup.registrable(settings):
            return setup.page(request, status=409)
        if not registration.states.known(state):
            return setup.refused_page(
                settings,
                "Registration not recognised",
                "This link does not come from a registration started on this Rolecall in "
                "the last hour (or Rolecall restarted since), so nothing was stored. "
                "Start again from Rolecall's page.",
                400,
            )
        if not code:
            return setup.refused_page(
                settings,
                "No code from GitHub",
                "GitHub sent no code back, so no App was registered. Start again from "
                "Rolecall's page.",
                400,
            )
        if (unwritable := _unwritable(settings)) is not None:
            return setup.refused_page(settings, "Cannot store the App", unwritable, 500)
        try:
            app = convert_manifest_code(settings.github_api_url, code)
        except ManifestCodeRefused as exc:
            return setup.refused_page(
                settings,
                "GitHub refused the code",
                f"{exc}. Register again from Rolecall's page; if GitHub created the App "
                "already, delete it in its settings first.",
                400,
            )
        except GitHubError as exc:
            return setup.refused_page(
                settings,
                "GitHub did not answer",
                f"{exc}. Reload this page to try again within the hour.",
                502,
            )
        try:
            stored_in = _store(settings, app)
        except OSError as exc:
            log.error("could not store the registered App %s: %s", app.slug, exc.strerror)
            return setup.refused_page(
                settings,
                "Cannot store the App",
                f"GitHub registered {app.name}, but Rolecall could not write its "
                f"credentials ({exc.strerror}). Delete the App in its settings on GitHub, "
                "make the data directory writable, and register again.",
                500,
            )
        registration.states.forget(state or "")
        configured = _reread(settings)
        if configured.missing_app_settings() or configured.app_id != app.id:
            return setup.refused_page(
                settings,
                "Stored, but not in use",
                f"The App's credentials are in {stored_in}, but the environment or .env "
                "overrides some of them. Unset APP_ID, PRIVATE_KEY, PRIVATE_KEY_PATH and "
                "WEBHOOK_SECRET there and restart Rolecall.",
                500,
            )
        registration.configure(configured)
    log.info(
        "registered the GitHub App %s (id %d) for %s; credentials stored in %s",
        app.slug,
        app.id,
        app.owner,
        stored_in,
    )
    return setup.registered_page(configured, app, stored_in)


# -- helpers ----------------------------------------------------------------------------


def _store(settings: Settings, app: RegisteredApp) -> str:
    """The App's credentials in the data directory (0600 files); where they are."""
    store = CredentialStore(settings.data_dir)
    key_path = store.store_private_key(app.pem)
    store.update(
        {
            "APP_ID": str(app.id),
            "PRIVATE_KEY_PATH": str(key_path.absolute()),
            "WEBHOOK_SECRET": app.webhook_secret,
            "GITHUB_CLIENT_ID": app.client_id,
            "GITHUB_CLIENT_SECRET": app.client_secret,
        }
    )
    return str(store.path.absolute())


def _unwritable(settings: Settings) -> str | None:
    """Why the credentials could not be stored, asked before GitHub's one-time code is used."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return (
            f"The data directory {data_dir} cannot be created ({exc.strerror}); nothing "
            "was registered."
        )
    if not os.access(data_dir, os.W_OK | os.X_OK):
        return f"The data directory {data_dir} is not writable; nothing was registered."
    return None


def _keep_model_key(settings: Settings, key: str) -> None:
    """The model key in the credentials file, unless one is set already: the page never
    replaces a key (it is reachable by anyone while Rolecall is unconfigured)."""
    store = CredentialStore(settings.data_dir)
    if settings.anthropic_api_key is None and "ANTHROPIC_API_KEY" not in store.read():
        store.update({"ANTHROPIC_API_KEY": key})


def _model_key(value: str) -> str | None:
    key = value.strip()
    if not key:
        return None
    if len(key) > _MAX_MODEL_KEY or not all("!" <= char <= "~" for char in key):
        raise ManifestInputError(
            "The model key is printable ASCII without spaces, as Anthropic's keys are."
        )
    return key


def _reread(settings: Settings) -> Settings:
    """`settings` again: every value it holds, and what the credentials file now adds
    where it held none (the environment still wins: its values are among those held)."""
    held = {name: getattr(settings, name) for name in settings.model_fields_set}
    return type(settings)(_env_file=None, **held)  # type: ignore[call-arg]


def _already_configured(settings: Settings) -> HTMLResponse:
    return setup.refused_page(
        settings,
        "Rolecall already has a GitHub App",
        "This page registers an App only while none is configured, and never replaces "
        "one. To use another App, stop Rolecall, remove github-app.json and "
        "github-app.pem from its data directory (or change APP_ID and the others in "
        "the environment), and start it again.",
        409,
    )


def _same_origin(request: Request, settings: Settings) -> bool:
    """Whether the form was posted from this site, as the browser says.

    Browsers say it in `Sec-Fetch-Site`; older ones only in `Origin`, which is `null`
    under the pages' `Referrer-Policy: no-referrer`, so `Sec-Fetch-Site` is asked first.
    A client that sends neither is no browser another site could drive.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.rstrip("/") in {
        str(request.base_url).rstrip("/"),
        (settings.public_url or "").rstrip("/"),
    }


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
