"""The `rolecall` command: the parser, `jobs`, and the modules that register the others.

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
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.cli.namespace import enter_private_mounts
from bot.settings import SettingsError, get_settings

log = logging.getLogger("rolecall.cli")

Command = Callable[[argparse.Namespace], int]

# Modules that add commands, each with `register(subparsers)`; imported when the parser is
# built, so a command's dependencies load only for `rolecall`, not for the app.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli.serve",
    "bot.cli.doctor",
    "bot.cli.roles",
    "bot.cli.demo",
)


# --- the commands this module owns ----------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = subparsers.add_parser("jobs", help="list recent jobs, newest first")
    jobs.add_argument("--json", action="store_true", help="print the jobs as JSON")
    jobs.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    jobs.set_defaults(func=jobs_command)


def jobs_command(args: argparse.Namespace) -> int:
    from bot.store.ledger import open_ledger

    settings = get_settings()
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        # Opening it would create an empty ledger here and say "no jobs yet": untrue.
        print(
            f"rolecall: no ledger at {url.removeprefix('sqlite:///')}; run this where "
            "Rolecall's data directory is, or set ROLECALL_DATA_DIR or ROLECALL_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    ledger = open_ledger(settings)
    try:
        jobs = ledger.list_jobs(limit=args.limit)
    finally:
        ledger.close()
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
                _one_line(job.outcome or "-", 60),
                job.pr_url or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def _one_line(text: str, width: int) -> str:
    """The first line of an outcome as plain text, cut at a word with "…" when too long."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "-")
    line = re.sub(r"[`*_>]+", "", line).strip()
    if len(line) <= width:
        return line
    cut = line[: width - 1].rsplit(" ", 1)[0] or line[: width - 1]
    return cut.rstrip(" ,.;:") + "…"


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
    if argv is None and getattr(args, "private_mounts", False):
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
