"""What the stand-in's GitHub holds, read back in GitHub's own JSON shapes.

Tests assert on these: issues, comments, reactions, pull requests, reviews and their
threads, check runs, branches; each read takes the state lock, as the REST API does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import gitrepo
from .world import StandInWorld


class Views(StandInWorld):
    """`GitHubStandIn`'s methods for reading what GitHub holds."""

    def issue(self, repo: str, number: int) -> dict[str, Any]:
        with self._state.lock:
            return self._svc.shapes.issue(self._state.issue(self._repo(repo), int(number)))

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.issue_comments(self._repo(repo), int(number))
            return [self._svc.shapes.comment(c) for c in found]

    def reactions(
        self,
        repo: str,
        *,
        issue: int | None = None,
        comment: int | None = None,
        review_comment: int | None = None,
    ) -> list[dict[str, Any]]:
        kind, subject = self._reaction_subject(repo, issue, comment, review_comment)
        with self._state.lock:
            return [self._svc.shapes.reaction(r) for r in self._state.reactions_of(kind, subject)]

    def pulls(self, repo: str) -> list[dict[str, Any]]:
        with self._state.lock:
            return [self._svc.shapes.pull(p) for p in self._state.repo_pulls(self._repo(repo))]

    def pull(self, repo: str, number: int) -> dict[str, Any]:
        with self._state.lock:
            return self._svc.shapes.pull(self._state.pull(self._repo(repo), int(number)))

    def branches(self, repo: str) -> dict[str, str]:
        return gitrepo.branches(self._repo(repo).path)

    def review_comments(self, repo: str, pr: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.pull_review_comments(self._repo(repo), int(pr))
            return [self._svc.shapes.review_comment(c) for c in found]

    def reviews(self, repo: str, pr: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.pull_reviews(self._repo(repo), int(pr))
            return [self._svc.shapes.review(r) for r in found]

    def review_threads(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """Threads as GraphQL sees them: node id, resolved flag, comment database ids."""
        with self._state.lock:
            return [
                {
                    "id": t.node_id,
                    "is_resolved": t.resolved_by is not None,
                    "resolved_by": t.resolved_by.login if t.resolved_by else None,
                    "path": t.path,
                    "line": t.line,
                    "comment_ids": list(t.comment_ids),
                }
                for t in self._state.pull_threads(self._repo(repo), int(pr))
            ]

    def check_runs(self, repo: str) -> list[dict[str, Any]]:
        target = self._repo(repo)
        with self._state.lock:
            runs = [r for r in self._state.check_runs.values() if r.repo is target]
            return [self._svc.shapes.check_run(r) for r in runs]

    def repo_path(self, repo: str) -> Path:
        return self._repo(repo).path

    def clone_url(self, repo: str) -> str:
        return f"{self.api_url}/{self._repo(repo).full_name}.git"
