"""The `rolecall` command: the parser, and the modules that register the commands.

Every command that needs settings builds them once with `get_settings()`; a missing or
malformed setting is one line on stderr each and exit status 2, never a traceback.

Adding a command: write a module with `register(subparsers)` that adds a subparser and
sets `func=` on it (a function taking the parsed arguments and returning the exit
status), and name the module in `COMMANDS` under each command it adds.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli.namespace import enter_private_mounts

log = logging.getLogger("rolecall.cli")

Command = Callable[[argparse.Namespace], int]

# The module that adds each command with `register(subparsers)`, imported when the parser
# is built, so a command's dependencies load only for `rolecall`, not for the app. When
# the command line names a command, only its module is imported (`rolecall jobs` must
# start fast: bench/startup.py); `rolecall --help` and a mistyped command import them all.
COMMANDS: dict[str, str] = {
    "jobs": "bot.cli.jobs",
    "serve": "bot.cli.serve",
    "worker": "bot.cli.serve",
    "doctor": "bot.cli.doctor",
    "roles": "bot.cli.roles",
    "demo": "bot.cli.demo",
}
# Commands that run in a mount namespace of their own (bot.cli.namespace). The process
# re-executes itself there first thing, so the one it replaces loads nothing else.
PRIVATE_MOUNT_COMMANDS = frozenset({"serve", "worker"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for `command` alone (when it is one of COMMANDS), else for every command."""
    parser = argparse.ArgumentParser(
        prog="rolecall",
        description="A self-hosted GitHub App that puts sandboxed coding-agent roles to work "
        "on issues and pull requests.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    wanted = COMMANDS.get(command or "")
    for module in [wanted] if wanted else dict.fromkeys(COMMANDS.values()):
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (2: bad usage or settings)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if argv is None and words and words[0] in PRIVATE_MOUNT_COMMANDS:
        # Only a whole process (the console script) moves into a namespace of its own;
        # a caller running a command in its own process (the tests) never is replaced.
        enter_private_mounts(words)
    from bot.settings import SettingsError  # after the re-execution, which needs none

    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    func: Command | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
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
