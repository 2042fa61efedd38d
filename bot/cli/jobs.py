"""`rolecall jobs [--json] [--limit N]`: the ledger's recent jobs, newest first.

A read-only command: it never creates a ledger, a directory or a table. The ledger is
where the settings say (ROLECALL_DATABASE_URL, else `rolecall.db` in ROLECALL_DATA_DIR),
from whatever directory the command runs in; when there is none there, it says where it
looked and which setting moves it, and exits 1 (an empty list would be untrue).

A SQLite ledger is read with the standard library (bot.store.ledger_file), so the
command starts in a fraction of a second; PostgreSQL goes through bot.store.ledger.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings, get_settings
from bot.store.ledger_file import LedgerFileError, read_jobs, sqlite_file

MOVED_BY = "ROLECALL_DATA_DIR (or ROLECALL_DATABASE_URL)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = subparsers.add_parser("jobs", help="list recent jobs, newest first")
    jobs.add_argument("--json", action="store_true", help="print the jobs as JSON")
    jobs.add_argument("--limit", type=_positive, default=50, help="how many (default 50)")
    jobs.set_defaults(func=jobs_command)


def jobs_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = settings.resolved_database_url()
    path = sqlite_file(url)
    if path is None:
        jobs = _jobs_from_database(url, args.limit)
    elif not path.is_file():
        print(no_ledger(settings, path), file=sys.stderr)
        return 1
    else:
        try:
            jobs = read_jobs(path, limit=args.limit)
        except LedgerFileError as exc:
            print(f"rolecall: {exc}; check {MOVED_BY}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(jobs, indent=2))
        return 0
    if not jobs:
        print("no jobs yet" + (f" in {path.absolute()}" if path is not None else ""))
        return 0
    from bot.cli.job_table import render

    for line in render(jobs):
        print(line)
    return 0


def no_ledger(settings: Settings, path: Path) -> str:
    """Where `jobs` looked for the ledger, why there, and which setting moves it."""
    looked = path.absolute()
    if settings.database_url:
        why = "ROLECALL_DATABASE_URL names it"
        fix = "Point ROLECALL_DATABASE_URL at the ledger `rolecall serve` uses"
    else:
        if "data_dir" in settings.model_fields_set:
            why = f"ROLECALL_DATA_DIR is {settings.data_dir}"
        else:
            why = (
                f"ROLECALL_DATA_DIR is not set, so the default data directory ({settings.data_dir}"
            )
            why += ", in this directory)" if not settings.data_dir.is_absolute() else ")"
            why += " was used"
        fix = f"Set {MOVED_BY} to what `rolecall serve` uses, in the environment or in .env here"
    return f"rolecall: no ledger at {looked} ({why}); nothing was created.\nrolecall: {fix}."


def _jobs_from_database(url: str, limit: int) -> list[dict[str, Any]]:
    """Jobs from a PostgreSQL ledger, as JSON values; its schema is never touched here."""
    from bot.store.ledger import Ledger

    ledger = Ledger(url)
    try:
        return [job.model_dump(mode="json") for job in ledger.list_jobs(limit=limit)]
    finally:
        ledger.close()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value
