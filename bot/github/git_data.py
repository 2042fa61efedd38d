"""Git data verbs of a repository client: commits, branch heads and who moved them.

What `/ci` needs to copy a commit and move a branch through the API, never by force
(invariant 5), and the activity log that says who pushed and when.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from githubkit.exception import RequestFailed

from bot.github.errors import GitHubError, NotFastForward, error_message
from bot.github.records import BranchPush, GitCommitInfo, as_utc
from bot.github.session import RepoSession


class GitDataVerbs(RepoSession):
    """Commit objects and branch refs through the Git Data API, and the activity log."""

    def branch_sha(self, branch: str) -> str:
        return str(self.rest.repos.get_branch(self.owner, self.name, branch).parsed_data.commit.sha)

    def git_commit(self, sha: str) -> GitCommitInfo:
        """A commit object (tree, parents, message) through the Git Data API."""
        data = self.rest.git.get_commit(self.owner, self.name, sha).parsed_data
        return GitCommitInfo(
            sha=str(data.sha),
            tree_sha=str(data.tree.sha),
            parents=tuple(str(p.sha) for p in data.parents),
            message=str(data.message),
        )

    def last_push(self, branch: str, *, actor: str | None = None) -> BranchPush | None:
        """The newest update of `branch` in the activity log (by `actor`, if given).

        The log says who pushed and when, which a commit cannot (anyone can write any
        author and date into one).
        """
        options: dict[str, Any] = {
            "ref": f"refs/heads/{branch}",
            "per_page": 1,
            "direction": "desc",
        }
        if actor is not None:
            options["actor"] = actor
        items = self.rest.repos.list_activities(self.owner, self.name, **options).parsed_data
        if not items:
            return None
        item = items[0]
        return BranchPush(
            before=str(item.before),
            after=str(item.after),
            actor=item.actor.login if item.actor is not None else None,
            at=as_utc(item.timestamp),
        )

    def create_commit(self, *, message: str, tree_sha: str, parents: list[str]) -> str:
        """Write a commit object (moving no branch) as the App's bot; its sha."""
        data = self.rest.git.create_commit(
            self.owner,
            self.name,
            data={"message": self._redact(message), "tree": tree_sha, "parents": parents},
        ).parsed_data
        return str(data.sha)

    def fast_forward(self, branch: str, sha: str, *, default_branch: str) -> None:
        """Move `branch` to `sha`, a descendant of its head; never force (invariant 5).

        Refuses the default branch before asking; `NotFastForward` when GitHub finds the
        branch moved elsewhere meanwhile.
        """
        if branch.casefold() == default_branch.casefold():
            raise GitHubError(f"Rolecall never moves the default branch (`{default_branch}`)")
        try:
            self.rest.git.update_ref(
                self.owner, self.name, f"heads/{quote(branch, safe='/')}", sha=sha, force=False
            )
        except RequestFailed as exc:
            if exc.response.status_code == 422 and "fast forward" in error_message(exc):
                raise NotFastForward(error_message(exc)) from exc
            raise
