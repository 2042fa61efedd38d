"""The errors a GitHub call raises for the tracking comment to explain, and their wording.

Kept apart from the clients so that code reading a failure (`bot.jobs.failures`) needs
none of githubkit's clients, only what GitHub's answer said.
"""

from __future__ import annotations

from githubkit.exception import RequestFailed


class GitHubError(Exception):
    """A GitHub call failed in a way the tracking comment should explain."""


class NotFastForward(GitHubError):
    """GitHub refused to move a branch: the new commit does not descend from its head."""


def error_message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return f"GitHub answered {exc.response.status_code}"
    messages = [str(body.get("message", ""))]
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            messages.append(str(error["message"]))
    return f"GitHub answered {exc.response.status_code}: " + " ".join(m for m in messages if m)
