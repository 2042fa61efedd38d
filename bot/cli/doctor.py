"""`rolecall doctor`: this machine and the settings, checked one line each with what to do.

Each setting is proved, not just found: the App's key signs a JWT GitHub accepts, the
model key gets an answer from the default model, bubblewrap makes a sandbox, the data
dir takes a file, the ledger and the queue open (`bot.cli.doctor_services` for the
App, the webhook secret and the model). A failing line says how to fix it; the exit
status is 1 when any line fails.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from bot.cli.doctor_services import Check, check_app, check_model, check_webhook_secret
from bot.settings import Settings, get_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check this machine and the settings, one line each with what to do"
    )
    doctor.set_defaults(func=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    checks = [
        *check_app(settings),
        check_webhook_secret(settings),
        *check_model(settings),
        _check_sandbox(settings),
        _check_job_sandbox(settings),
        _check_git(),
        _check_data_dir(settings),
        _check_database(settings),
        _check_queue(settings),
    ]
    for ok, line in checks:
        print(f"{'ok  ' if ok else 'FAIL'}  {line}", flush=True)
    return 0 if all(ok for ok, _ in checks) else 1


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


def _check_job_sandbox(settings: Settings) -> Check:
    """A command run the way a job runs it: its user, cgroup and limits, in the data dir.

    Run as root, that is `ROLECALL_SANDBOX_USER`, which must be able to enter every
    parent of a worktree; a plain `bwrap true` proves none of that.
    """
    if settings.sandbox == "none":
        return True, "job sandbox: none (ROLECALL_SANDBOX=none)"
    from agents.sandbox.bubblewrap import make_sandbox

    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        worktree = Path(tempfile.mkdtemp(dir=settings.data_dir, prefix="doctor-worktree-"))
    except OSError as exc:
        return False, f"job sandbox: no worktree in {settings.data_dir} ({exc.strerror})"
    try:
        worktree.chmod(0o755)
        sandbox = make_sandbox(
            settings.sandbox,
            worktree,
            allow_unsafe=settings.allow_unsafe_sandbox,
            run_as=settings.sandbox_run_as(),
            limits=settings.sandbox_limits(),
        )
        result = sandbox.run("id -un", timeout=30)
    except Exception as exc:
        return False, f"job sandbox: cannot run a command as a job does ({exc})"
    finally:
        shutil.rmtree(worktree, ignore_errors=True)
    if result.exit_code != 0:
        said = (result.output.strip().splitlines() or ["no output"])[-1]
        return False, f"job sandbox: a command failed as a job runs it ({said})"
    return True, f"job sandbox: commands run as {result.output.strip() or 'the sandbox user'}"


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


def _check_database(settings: Settings) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.store.ledger import Ledger

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
        return _check_sqlite_queue(Path(url.removeprefix("sqlite:///")))
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


def _check_sqlite_queue(path: Path) -> Check:
    """The queue's SQLite file opens and answers (huey creates its tables at start)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=5)
        try:
            connection.execute("PRAGMA schema_version").fetchone()
        finally:
            connection.close()
    except (sqlite3.Error, OSError) as exc:
        return False, f"queue: cannot open {path} ({exc}); check ROLECALL_QUEUE_URL"
    return True, f"queue: {path} opens (SQLite)"


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return url.split("@")[-1]
