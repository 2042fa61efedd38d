"""The FastAPI app: the webhook route, a status page, a health check. Nothing else.

`create_app` only wires; the lifespan owns the intake writer (started before the first
request, drained after the last) and runs `recover` so that jobs a previous process left
behind are queued again or failed cleanly. Worker threads are not the app's business:
`rolecall serve` starts them beside it.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.github.login import BotLoginLearner
from bot.observe.metrics import Metrics
from bot.settings import Settings
from bot.store.ledger import Ledger
from bot.store.recovery import Enqueue, recover
from bot.web import dashboard, registration, setup
from bot.web.intake import Intake
from bot.web.metrics_endpoint import METRICS_PATH, metrics_page
from bot.web.webhooks import WEBHOOK_PATH, Decide, Receive, Scope, Send, WebhookEndpoint


def _default_decide(settings: Settings) -> Decide:
    """The handlers, told which bots may start work (ROLECALL_ALLOWED_BOTS)."""
    from handlers.dispatch import dispatch

    return functools.partial(dispatch, allowed_bots=settings.allowed_bot_logins())


class RolecallApp(FastAPI):
    """FastAPI, with the webhook URL answered before FastAPI's routing and middleware.

    See `WebhookEndpoint`: the webhook is the one hot path; every other URL is ordinary
    FastAPI.
    """

    webhook: WebhookEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH:
            await self.webhook(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    ledger: Ledger,
    enqueue: Enqueue,
    decide: Decide | None = None,
    bot_login_lookup: Callable[[], str] | None = None,
    metrics: Metrics | None = None,
    on_configured: Callable[[Settings], None] | None = None,
) -> FastAPI:
    """The app for `settings`, recording into `ledger` and queueing with `enqueue`.

    `decide` replaces the handlers (tests); `bot_login_lookup` asks GitHub for the App's
    bot login (`GET /app`), in the background, when ROLECALL_BOT_LOGIN does not say it.
    `metrics` is the process's (`bot.cli.serve.Root`); by default a new one on `ledger`.
    `on_configured` hears the settings the setup page configured the App with (the process
    root's `Root.configure`), before the app serves with them.
    """
    intake = Intake(ledger, enqueue)
    metrics = metrics if metrics is not None else Metrics(ledger)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        intake.start()
        recover(ledger, enqueue)
        learner = _bot_login_learner(settings, endpoint, bot_login_lookup)
        if learner is not None:
            learner.start()
        try:
            yield
        finally:
            if learner is not None:
                learner.stop()
            for later in learners:
                later.stop()
            intake.stop()

    app = RolecallApp(title="Rolecall", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.webhook = endpoint = WebhookEndpoint(
        secrets=settings.webhook_secrets(),
        decide=decide or _default_decide(settings),
        intake=intake,
        bot_login=settings.bot_login,
        metrics=metrics,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.intake = intake
    app.state.metrics = metrics
    app.add_api_route("/", front_page, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/healthz", healthz, methods=["GET"])
    learners: list[BotLoginLearner] = []  # started once the setup page configured the App

    def configured(new: Settings) -> None:
        """The setup page registered the App: serve with its settings, no restart."""
        if on_configured is not None:
            on_configured(new)  # first the jobs' services, so a delivery finds them
        app.state.settings = new
        endpoint.secrets = tuple(new.webhook_secrets())
        later = _bot_login_learner(new, endpoint, bot_login_lookup)
        if later is not None:
            learners.append(later)
            later.start()

    registration.register(app, configured)  # /setup/…: the one-click App registration
    dashboard.register(app)  # /jobs/…, sign-in, the dashboard's assets
    app.add_api_route(METRICS_PATH, metrics_page, methods=["GET"])
    return app


def _bot_login_learner(
    settings: Settings, endpoint: WebhookEndpoint, lookup: Callable[[], str] | None
) -> BotLoginLearner | None:
    """Learns the bot's login from `GET /app` unless it is configured (or cannot be).

    In the background: start-up never waits on GitHub, and the handlers get the login as
    soon as it is known (see `BotLoginLearner`).
    """
    if settings.bot_login or lookup is None or settings.missing_app_credentials():
        return None

    def learned(login: str) -> None:
        endpoint.bot_login = login

    return BotLoginLearner(lookup, learned)


def healthz(request: Request) -> JSONResponse:
    """200 while deliveries can be acknowledged; 503 when the intake writer is down."""
    state = request.app.state
    running = state.intake.running
    stats = state.intake.stats
    body: dict[str, Any] = {
        "status": "ok" if running else "intake stopped",
        "configured": not state.settings.missing_app_settings(),
        # The App's bot login the handlers use; null until learned from GET /app.
        "bot_login": request.app.webhook.bot_login,
        # How well commits are grouped since start: deliveries per fsync.
        "intake": {
            "deliveries": stats.deliveries,
            "commits": stats.commits,
            "largest_batch": stats.largest_batch,
        },
    }
    return JSONResponse(body, status_code=200 if running else 503)


def front_page(
    request: Request,
    repo: str | None = None,
    state: str | None = None,
    before: int | None = None,
) -> Response:
    """`/`: the setup page until the App is configured, the dashboard after."""
    settings: Settings = request.app.state.settings
    if settings.missing_app_settings():
        return setup.page(request)
    return dashboard.page(request, repo=repo, state=state, before=before)
