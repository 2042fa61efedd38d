"""The process roots: `rolecall serve` (web server and workers) and `rolecall worker`.

Everything long-lived is built here, once per process, and passed down: the settings,
the ledger, the queue, the metrics (`/metrics`), and (`Root.services`, on first use) the
GitHub App client with its pooled connections, the redaction of known secrets, the memory
of who cannot write.
Nothing below keeps a module-level client, ledger or queue. The job code and the model
SDK are imported in a background thread once the server listens (`Root.warm_up`), so
neither `/healthz` nor the first job's 👀 waits on those imports.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.cli.logs import configure_logging
from bot.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from agents.run import ModelClients
    from bot.jobs.context import Services
    from bot.observe.metrics import Metrics
    from bot.queue import JobQueue
    from bot.store.ledger import Ledger

log = logging.getLogger("rolecall.cli")
# How long the warm-up waits for the server to listen before it imports anyway.
_WARM_UP_WAIT = 10.0
# uvicorn's exit status when the server could not start (the port is taken, say).
_SERVER_NEVER_STARTED = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve", help="receive webhooks and run jobs (web server and workers in one process)"
    )
    serve.add_argument("--host", help="address to listen on (default HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default PORT or 3000)")
    serve.set_defaults(func=serve_command)

    worker = subparsers.add_parser(
        "worker", help="run jobs from the queue without a web server (more workers, elsewhere)"
    )
    worker.add_argument("--workers", type=int, help="threads (default ROLECALL_WORKERS or 2)")
    worker.set_defaults(func=worker_command)


class Root:
    """What one process builds once: the ledger, the queue, and the services jobs use."""

    def __init__(self, settings: Settings) -> None:
        # Imported here, not at the top: `rolecall --help` and `rolecall jobs` build the
        # parser, which imports this module, and must not pay for SQLModel (bench/startup.py).
        from bot.observe.metrics import Metrics
        from bot.queue import build_queue
        from bot.store.ledger import open_ledger

        self.settings = settings
        self.ledger: Ledger = open_ledger(settings)
        # This process's counters; /metrics adds the ledger's gauges at each scrape.
        self.metrics: Metrics = Metrics(self.ledger)
        self.queue: JobQueue = build_queue(settings, self.ledger, self.run_job)
        self._services: Services | None = None
        # The model API clients, kept across rebuilt services (made with the first: the
        # model SDK is not imported before a job needs it).
        self._model_clients: ModelClients | None = None
        self._lock = threading.Lock()

    def services(self) -> Services:
        """The collaborators every job shares, built on first use (they import githubkit)."""
        with self._lock:
            if self._services is None:
                self._services = self._build_services()
            return self._services

    def _build_services(self) -> Services:
        from agents.run import ModelClients
        from bot.github import GitHubApp
        from bot.jobs.context import Services
        from bot.jobs.non_writers import NonWriters

        if self._model_clients is None:
            self._model_clients = ModelClients()
        settings = self.settings
        pem = settings.private_key_pem()
        if settings.app_id is None or pem is None:
            raise RuntimeError("APP_ID and PRIVATE_KEY are needed to run jobs")
        app = GitHubApp(settings.app_id, pem, settings.github_api_url, watcher=self.metrics)
        return Services(
            settings,
            self.ledger,
            app,
            self.queue.enqueue,
            NonWriters(),
            metrics=self.metrics,
            model_clients=self._model_clients,
        )

    def configure(self, settings: Settings) -> None:
        """The setup page registered the App: jobs use `settings` from now on.

        The job services are rebuilt on first use with the new App's credentials, and log
        lines redact its secrets. No job can run without an App, so there are normally
        no old services to close.
        """
        configure_logging(settings)
        with self._lock:
            self.settings = settings
            services, self._services = self._services, None
        if services is not None:
            services.app.close()

    def run_job(self, job_id: int) -> None:
        """The queue's runner: one job, with this process's services."""
        from bot.jobs.worker import run_job

        run_job(self.services(), job_id)

    def bot_login(self) -> str:
        """The App's bot login from `GET /app`, through this process's App client."""
        return self.services().app.bot_login()

    def warm_up(self, after: Callable[[], bool] = lambda: True) -> None:
        """Import the job code (the model SDK above all, about a second) in the background,
        once `after()` holds (the server listens).

        Paid inside the first job, it would delay that job's 👀 by as much; paid before
        the server starts, or beside its start (imports share one interpreter lock), it
        would delay `/healthz` as much. A job that starts sooner waits on the same import
        lock, no longer.
        """

        def import_jobs() -> None:
            deadline = time.monotonic() + _WARM_UP_WAIT
            while not after() and time.monotonic() < deadline:
                time.sleep(0.01)
            import bot.jobs.worker  # noqa: F401

        threading.Thread(target=import_jobs, name="rolecall-warm-up", daemon=True).start()

    def close(self) -> None:
        """After the workers stopped: close the pooled GitHub and model API connections and
        the ledger."""
        with self._lock:
            services, self._services = self._services, None
        if services is not None:
            services.app.close()
        if self._model_clients is not None:
            self._model_clients.close()
        self.ledger.close()


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.web.app import create_app

    settings = get_settings()
    settings.check_sandbox_reach()
    configure_logging(settings)
    root = Root(settings)
    app = create_app(
        settings,
        ledger=root.ledger,
        enqueue=root.queue.enqueue,
        # Asked once the App is configured, at start or by the setup page.
        bot_login_lookup=root.bot_login,
        metrics=root.metrics,
        on_configured=root.configure,
    )
    for line in settings.missing_app_settings():
        log.warning("not configured: %s", line)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_config=None,
            log_level=settings.log_level,
            access_log=False,  # one line per delivery is logged by bot.web.webhooks instead
        )
    )
    root.warm_up(after=lambda: server.started)
    consumer = root.queue.start_workers(settings.workers)
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal to the
    # handler that was there before it; this one lets `serve` stop its workers too.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stopping)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop at once
            server.run()
    finally:
        consumer.stop(graceful=True)
        root.close()
    return 0 if server.started else _SERVER_NEVER_STARTED


def _stopping(signum: int, _frame: object) -> None:
    log.info("%s: workers finish their current job (up to 10 s)", signal.strsignal(signum))
    # A second signal stops at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def worker_command(args: argparse.Namespace) -> int:
    from bot.store.recovery import recover

    settings = get_settings()
    missing = settings.missing_app_credentials()
    if missing:
        raise SettingsError(missing)
    settings.check_sandbox_reach()
    configure_logging(settings)
    root = Root(settings)
    recover(root.ledger, root.queue.enqueue)
    root.warm_up()
    try:
        root.queue.run_workers(args.workers or settings.workers)
    finally:
        root.close()
    return 0
