"""Checks at the trust boundary that more than one playbook needs.

- `head_move_refusal`: code at trigger time. A job works from the SHA bound when its
  command was authorized. If a pull request's head moved after that, the new commits
  are used only when every push that moved it came from someone with write access; a
  commit's author line proves nothing (anyone can write any name into a commit), so the
  pushers are read from the repository's activity log, where GitHub records who pushed.
- `outgoing_refusal`: what leaves. Before a push, the commits from the bound SHA to HEAD
  must not touch a protected path the role is not granted (`handlers.protected_paths`:
  `.github/`, CODEOWNERS, agent instruction files; workflows never, since Rolecall has no
  `workflows` permission) and must carry no credential, in the diff or a commit message.

Both return the reason to refuse, written for the tracking comment, or None; the caller
raises `JobStopped` with it, so a refusal is reported like any other end of a job.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from agents import workspace
from agents.text.redact import Redactor
from handlers.guards import has_write
from handlers.protected_paths import protected_changes, refusal

ZERO_SHA = "0" * 40
# How far back the activity log is read to connect the current head to the bound SHA.
MAX_ACTIVITIES = 100


def head_move_refusal(
    rest: Any,
    owner: str,
    name: str,
    *,
    branch: str,
    bound_sha: str,
    current_sha: str,
    permission: Callable[[str], str],
    trusted_logins: Collection[str] = (),
) -> str | None:
    """Why a PR head that moved from `bound_sha` to `current_sha` must not be used, or None.

    Walks the branch's activity log back from the push that produced `current_sha` to
    the one that started from `bound_sha`; every pusher on that chain must have write
    access now (`permission(login)`, the live collaborator permission) or be one of
    `trusted_logins` (Rolecall's own bot, which only pushes what a writer asked for).
    Fails closed: a chain that cannot be followed (a fork's branch, a log that has
    rotated) is a refusal. `rest` is an installation client's `.rest` (githubkit).
    """
    if current_sha == bound_sha:
        return None
    moved = f"the pull request's head moved from {bound_sha[:12]} to {current_sha[:12]}"
    # The branch's last 100 updates, newest first; a chain longer than that is refused.
    items = rest.repos.list_activities(
        owner, name, ref=f"refs/heads/{branch}", per_page=MAX_ACTIVITIES
    ).parsed_data
    by_after: dict[str, Any] = {}
    for activity in items:
        by_after.setdefault(str(activity.after), activity)
    trusted = {login.casefold() for login in trusted_logins}
    checked: dict[str, bool] = {}
    sha = current_sha
    for _ in range(len(by_after) + 1):
        activity = by_after.get(sha)
        if activity is None:
            return (
                f"{moved} after the command, and Rolecall cannot tell who pushed "
                f"{sha[:12]}; it works only from commits pushed by people with write access"
            )
        login = activity.actor.login if activity.actor is not None else None
        if login is None:
            return f"{moved} after the command, pushed by an unknown account; not used"
        if login.casefold() not in trusted:
            if login not in checked:
                checked[login] = has_write(permission(login))
            if not checked[login]:
                return (
                    f"{moved} after the command, pushed by @{login}, who cannot write to "
                    "this repository; Rolecall works only from commits pushed by people "
                    "with write access. Ask again once the branch is as you want it."
                )
        if str(activity.before) in (bound_sha, ZERO_SHA):
            return None if str(activity.before) == bound_sha else f"{moved}; not used"
        sha = str(activity.before)
    return f"{moved}, through more pushes than Rolecall can follow; not used"


def outgoing_refusal(
    worktree: Path, base_sha: str, redact: Redactor, *, role: str, granted: Sequence[str] = ()
) -> str | None:
    """Why the commits `base_sha..HEAD` in `worktree` must not be pushed, or None.

    `granted` is the role's `may_change` patterns from `.github/rolecall.yml`.

    The secret check uses the job's `Redactor`, so it finds every credential Rolecall
    holds (even one that matches no pattern) as well as credential-shaped strings, also
    folded over lines, colour-coded or base64-encoded.
    """
    refused = protected_changes(workspace.changed_files(worktree, base_sha), granted)
    if refused:
        return refusal(refused, role)
    leaked = redact.find(workspace.diff(worktree, base_sha))
    leaked += redact.find(workspace.commit_messages(worktree, base_sha))
    if leaked:
        return (
            f"the change contains {len(leaked)} credential-shaped string(s), so it was not "
            "pushed; nothing left this machine. Remove the credential and ask again."
        )
    return None
