"""Records to GitHub's JSON: check runs and the check suite they belong to.

A check run in a REST answer names its suite by id only; in a `check_run` webhook the
suite is spelled out (status, conclusion, branch, pull requests), derived here from the
suite's runs the way GitHub derives it. Both come from this one serializer.
"""

from __future__ import annotations

from . import gitrepo
from .records import CheckRun, Repo, iso
from .serialize import JSON, Shapes

# A completed suite's conclusion is the most severe of its runs' (GitHub's order).
_SEVERITY = (
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "neutral",
    "success",
    "skipped",
)


class CheckShapes(Shapes):
    """Check runs and suites; `serialize_pulls.Serializer` builds on this."""

    def check_pull_requests(self, repo: Repo, head_sha: str) -> list[JSON]:
        """Open PRs whose head is this commit, in this repository (GitHub ignores forks)."""
        found: list[JSON] = []
        for pull in self.state.repo_pulls(repo):
            if pull.head_sha != head_sha or pull.issue.state != "open":
                continue
            if pull.head_repo is not repo:
                continue
            found.append(
                {
                    "id": pull.id,
                    "number": pull.issue.number,
                    "url": f"{self.base}/repos/{repo.full_name}/pulls/{pull.issue.number}",
                    "head": {"ref": pull.head_ref, "sha": pull.head_sha, **self._mini(repo)},
                    "base": {"ref": pull.base_ref, "sha": pull.base_sha, **self._mini(repo)},
                }
            )
        return found

    def _mini(self, repo: Repo) -> JSON:
        url = f"{self.base}/repos/{repo.full_name}"
        return {"repo": {"id": repo.id, "url": url, "name": repo.name}}

    def check_run(self, run: CheckRun) -> JSON:
        repo = run.repo
        api = f"{self.base}/repos/{repo.full_name}/check-runs/{run.id}"
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": f"CR_{run.id}",
            "external_id": run.external_id or "",
            "url": api,
            "html_url": f"{self.base}/{repo.full_name}/runs/{run.id}",
            # Without one, GitHub links the App's homepage.
            "details_url": run.details_url or f"{self.base}/apps/{self.state.app.slug}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": run.annotations_count,
                "annotations_url": f"{api}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite_id},
            "app": self.app(),
            "pull_requests": self.check_pull_requests(repo, run.head_sha),
        }

    def check_suite(self, repo: Repo, head_sha: str) -> JSON:
        """The suite as a `check_run` webhook carries it, derived from its runs."""
        runs = self.state.commit_check_runs(repo, head_sha)
        suite_id = self.state.check_suite_id(repo, head_sha)
        statuses = {r.status for r in runs}
        conclusion: str | None = None
        if statuses == {"completed"}:
            status = "completed"
            found = {r.conclusion for r in runs}
            conclusion = next((c for c in _SEVERITY if c in found), "success")
        elif statuses <= {"queued"}:
            status = "queued"
        else:
            status = "in_progress"
        branches = sorted(gitrepo.branches(repo.path).items())
        head_branch = next((name for name, sha in branches if sha == head_sha), None)
        parents = gitrepo.commit_info(repo.path, head_sha).parents
        times = [t for r in runs for t in (r.started_at, r.completed_at) if t is not None]
        return {
            "id": suite_id,
            "node_id": f"CS_{suite_id}",
            "head_branch": head_branch,
            "head_sha": head_sha,
            "status": status,
            "conclusion": conclusion,
            "url": f"{self.base}/repos/{repo.full_name}/check-suites/{suite_id}",
            "before": parents[0] if parents else "0" * 40,
            "after": head_sha,
            "pull_requests": self.check_pull_requests(repo, head_sha),
            "app": self.app(),
            "created_at": iso(min(times)) if times else None,
            "updated_at": iso(max(times)) if times else None,
        }

    def check_run_event(self, run: CheckRun) -> JSON:
        """A check run as its webhooks carry it: the whole suite instead of its id."""
        return {**self.check_run(run), "check_suite": self.check_suite(run.repo, run.head_sha)}
