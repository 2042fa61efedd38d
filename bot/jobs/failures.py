"""What Rolecall says about a failure: its own words, never the exception's text.

An exception's text can hold anything: git's stderr quotes the files it read, an
OSError names host paths, a model API error quotes its endpoint, a GitHub error is
`Response(401 Unauthorized, …)`. What is posted (the tracking comment) or stored (a
job's outcome, what `rolecall jobs` shows) is one sentence naming the failure and what
to do (`bot.github.errors.explain_github` for GitHub's); the raw text goes to the log
only, through the redacting formatter.
"""

from __future__ import annotations

import re

from agents import workspace
from agents.model_ref import ModelError
from agents.run import SandboxError
from bot.github import GitHubError
from bot.github.errors import explain_github

# What is said when a phase raised, by kind of failure.
_FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (workspace.WorkspaceError, "Rolecall could not prepare or read the repository's files."),
    (SandboxError, "The sandbox the agent runs in could not be started or used."),
    (OSError, "A file or process operation on Rolecall's host failed."),
)
_SEE_THE_LOG = "The details are in Rolecall's log."


def explain_failure(exc: Exception) -> str:
    """What failed, in Rolecall's words, for the (public) tracking comment.

    The raw text goes to the log only: `Worker.run` logs the traceback, and
    `agents.workspace.run_git` logs git's own output (kept on `GitError`, never in its
    message). Both pass the redacting log formatter.
    """
    if isinstance(exc, workspace.GitError):
        verb = exc.command.split(" ", 1)[0]
        verb = verb if re.fullmatch(r"[a-z][a-z-]{0,30}", verb) else "…"
        outcome = "timed out" if exc.returncode == -1 else f"failed (exit {exc.returncode})"
        return f"`git {verb}` {outcome}. {_SEE_THE_LOG}"
    if (github := explain_github(exc)) is not None:  # githubkit's errors, in our words
        return github
    if isinstance(exc, GitHubError):  # written for the tracking comment (bot.github)
        return _first_line(exc)
    if isinstance(exc, ModelError):  # Rolecall's own, saying what to set (agents.model_ref)
        return f"The model API could not be used: {_first_line(exc)}."
    for kind, said in _FAILURES:
        if isinstance(exc, kind):
            return f"{said} {_SEE_THE_LOG}"
    return f"Rolecall failed unexpectedly ({type(exc).__name__}). {_SEE_THE_LOG}"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
