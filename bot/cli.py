"""The `rolecall` command: serve, worker, jobs, doctor (and what other modules register).

Every command that needs settings builds them once with `get_settings()`; a missing or
malformed setting is one line on stderr each and exit status 2, never a traceback.

Adding a command: write a module with `register(subparsers)` that adds a subparser and
sets `func=` on it (a function taking the parsed arguments and returning the exit
status), and list the module in `COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence

from bot.namespace import enter_private_mounts
from bot.settings import Settings, SettingsError, get_settings

log = logging.getLogger("rolecall.cli")

Command = Callable[[argparse.Namespace], int]

# Modules that add commands, each with `register(subparsers)`; imported when the parser is
# built, so a command's dependencies load only for `rolecall`, not for the app.
COMMAND_MODULES: tuple[str, ...] = ("bot.roles_cli", "bot.demo")


# --- the commands this module owns ----------------------------------------------------------


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

    jobs = subparsers.add_parser("jobs", help="list recent jobs, newest first")
    jobs.add_argument("--json", action="store_true", help="print the jobs as JSON")
    jobs.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    jobs.set_defaults(func=jobs_command)

    doctor = subparsers.add_parser(
        "doctor", help="check this machine and the settings, one line each with what to do"
    )
    doctor.set_defaults(func=doctor_command)


def configure_logging(settings: Settings) -> None:
    """Log lines to stderr, with every secret Rolecall holds redacted (invariant 6)."""
    from agents.redact import Redactor

    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter(
            # The same list the worker's redactor gets: every secret this process holds.
            Redactor(settings.known_secrets()),
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = "DEBUG" if settings.log_level == "trace" else settings.log_level.upper()
    root.setLevel(level)


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted line, tracebacks included (invariant 6).

    Redacting only `record.getMessage()` would miss `log.exception(...)`: the traceback
    is added by the formatter and carries exception messages, which may hold a token.
    """

    def __init__(self, redact: Callable[[str], str], fmt: str) -> None:
        super().__init__(fmt)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.queue import build_queue

    settings = get_settings()
    settings.check_sandbox_reach()
    configure_logging(settings)
    queue = build_queue(settings)
    app = create_app(settings, enqueue=queue.enqueue)
    for line in settings.missing_app_settings():
        log.warning("not configured: %s", line)
    consumer = queue.start_workers(settings.workers)
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal to the
    # handler that was there before it; this one lets `serve` stop its workers too.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stopping)
    try:
        uvicorn.run(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_config=None,
            log_level=settings.log_level,
            access_log=False,  # one line per delivery is logged by bot.webhooks instead
        )
    finally:
        consumer.stop(graceful=True)
    return 0


def _stopping(signum: int, _frame: object) -> None:
    log.info("%s: workers finish their current job (up to 10 s)", signal.strsignal(signum))
    # A second signal stops at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def worker_command(args: argparse.Namespace) -> int:
    from bot.intake import recover
    from bot.ledger import open_ledger
    from bot.queue import build_queue

    settings = get_settings()
    missing = settings.missing_app_credentials()
    if missing:
        raise SettingsError(missing)
    settings.check_sandbox_reach()
    configure_logging(settings)
    queue = build_queue(settings)
    recover(open_ledger(settings), queue.enqueue)
    queue.run_workers(args.workers or settings.workers)
    return 0


def jobs_command(args: argparse.Namespace) -> int:
    from bot.ledger import open_ledger

    settings = get_settings()
    jobs = open_ledger(settings).list_jobs(limit=args.limit)
    if args.json:
        print(json.dumps([job.model_dump(mode="json") for job in jobs], indent=2))
        return 0
    if not jobs:
        print("no jobs yet")
        return 0
    rows = [("ID", "STATE", "ROLE", "TARGET", "COST", "OUTCOME", "PR")]
    for job in jobs:
        target = job.repo_full_name or "-"
        if job.issue_number is not None:
            target += f"#{job.issue_number}"
        rows.append(
            (
                str(job.id),
                job.state,
                job.role or job.kind,
                target,
                "unknown" if job.cost_usd is None else f"${job.cost_usd:.4f}",
                (job.outcome or "-").splitlines()[0][:60],
                job.pr_url or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


# --- doctor -----------------------------------------------------------------------------------


def doctor_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    checks = [
        _check_sandbox(settings),
        _check_git(),
        _check_data_dir(settings),
        *_check_settings(settings),
        _check_database(settings),
        _check_queue(settings),
    ]
    for ok, line in checks:
        print(f"{'ok  ' if ok else 'FAIL'}  {line}")
    return 0 if all(ok for ok, _ in checks) else 1


Check = tuple[bool, str]


def _check_sandbox(settings: Settings) -> Check:
    if settings.sandbox == "none":
        return True, "sandbox: none, agent commands run unconfined (ROLECALL_SANDBOX=none)"
    if shutil.which("bwrap") is None:
        return False, "bwrap: not found; install bubblewrap (apt-get install bubblewrap)"
    try:
        result = subprocess.run(
            ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap: could not run it ({exc})"
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return False, (
            f"bwrap: cannot make a sandbox here ({reason}); allow unprivileged user "
            "namespaces (on Ubuntu: sysctl kernel.apparmor_restrict_unprivileged_userns=0) "
            "or run Rolecall in a container that permits them"
        )
    return True, "bwrap: sandboxes work"


def _check_git() -> Check:
    try:
        result = subprocess.run(["git", "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False, "git: not found; install git (apt-get install git)"
    if result.returncode != 0:
        return False, f"git: `git --version` failed ({result.stderr.strip()}); reinstall git"
    return True, f"git: {result.stdout.strip()}"


def _check_data_dir(settings: Settings) -> Check:
    path = settings.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return False, (
            f"data dir: cannot write {path} ({exc.strerror or exc}); set ROLECALL_DATA_DIR "
            "to a directory this user can write"
        )
    return True, f"data dir: {path} is writable"


def _check_settings(settings: Settings) -> list[Check]:
    missing = settings.missing_app_settings()
    if settings.anthropic_api_key is None and settings.anthropic_base_url is None:
        missing.append(
            "ANTHROPIC_API_KEY: the model API key (or ANTHROPIC_BASE_URL for a gateway "
            "that needs none)"
        )
    if not missing:
        return [(True, "settings: the GitHub App and the model API are configured")]
    return [(False, f"setting {line}") for line in missing]


def _check_database(settings: Settings) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.ledger import Ledger

    url = settings.resolved_database_url()
    shown = _without_password(url)
    try:
        ledger = Ledger(url)
        try:
            ledger.ping()
        finally:
            ledger.close()
    except (SQLAlchemyError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, f"database: cannot reach {shown} ({reason}); check ROLECALL_DATABASE_URL"
    return True, f"database: {shown} is reachable"


def _check_queue(settings: Settings) -> Check:
    url = settings.resolved_queue_url()
    shown = _without_password(url)
    if not url.startswith(("redis://", "rediss://")):
        return True, f"queue: {shown} (SQLite, checked with the data dir)"
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return False, f"queue: cannot reach {shown} ({exc}); check ROLECALL_QUEUE_URL"
    return True, f"queue: {shown} is reachable"


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return url.split("@")[-1]


# --- the entry point --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rolecall",
        description="A self-hosted GitHub App that puts sandboxed coding-agent roles to work "
        "on issues and pull requests.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    register(subparsers)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (2: bad usage or settings)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    if argv is None and func in (serve_command, worker_command):
        # Only a whole process (the console script) moves into a namespace of its own;
        # a caller running a command in its own process (the tests) never is replaced.
        enter_private_mounts(sys.argv[1:])
    try:
        return func(args)
    except SettingsError as exc:
        for line in exc.lines:
            print(f"rolecall: setting {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Imported only now: a command that never touched the ledger never loads it.
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"rolecall: database error ({reason}); check ROLECALL_DATABASE_URL", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
