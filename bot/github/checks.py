"""Check run verbs of a repository client: create, update and list check runs on a commit.

A check run shows a job's progress and outcome where people look at a commit (the PR's
checks tab, the commit's status). Its title and summary pass the job's `Redactor` like
everything else Rolecall posts, and a summary longer than GitHub takes is cut, with a
note, rather than refused: GitHub counts the limit in bytes as well as characters.
"""

from __future__ import annotations

from typing import Any, Literal

from bot.github.records import CheckRunInfo
from bot.github.session import RepoSession

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal[
    "success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"
]

# GitHub refuses a check run `output.summary` over 65535 characters or UTF-8 bytes.
SUMMARY_LIMIT = 65535
_CUT_NOTE = "\n\n… (cut here: GitHub keeps at most {limit} bytes of a check run's summary)"


def cap_summary(summary: str, limit: int = SUMMARY_LIMIT) -> str:
    """`summary` unchanged when GitHub takes it whole, else its beginning and a note."""
    if len(summary.encode()) <= limit:
        return summary
    note = _CUT_NOTE.format(limit=limit)
    room = limit - len(note.encode())
    # Cut on a character boundary: drop a multi-byte character the cut split.
    head = summary.encode()[:room].decode(errors="ignore")
    return head.rstrip() + note


class CheckVerbs(RepoSession):
    """Check runs: this App's own, on commits of this repository."""

    def _output(self, title: str, summary: str) -> dict[str, str]:
        # Redacted first, so the cut can never reveal the end of a secret it split.
        return {"title": self._redact(title), "summary": cap_summary(self._redact(summary))}

    def create_check_run(
        self,
        name: str,
        head_sha: str,
        *,
        status: CheckStatus,
        title: str,
        summary: str,
        conclusion: CheckConclusion | None = None,
        details_url: str | None = None,
        external_id: str | None = None,
    ) -> int:
        """A new check run on `head_sha` (a full commit id); its id.

        A `conclusion` makes it completed at once (`status` must then be "completed").
        """
        data: dict[str, Any] = {
            "name": name,
            "head_sha": head_sha,
            "status": status,
            "output": self._output(title, summary),
        }
        if conclusion is not None:
            data["conclusion"] = conclusion
        if details_url is not None:
            data["details_url"] = details_url
        if external_id is not None:
            data["external_id"] = external_id
        created = self.rest.checks.create(self.owner, self.name, data=data).parsed_data
        return int(created.id)

    def update_check_run(
        self,
        check_run_id: int,
        *,
        status: CheckStatus | None = None,
        conclusion: CheckConclusion | None = None,
        title: str,
        summary: str,
    ) -> None:
        """New title and summary; a `conclusion` completes the run."""
        data: dict[str, Any] = {"output": self._output(title, summary)}
        if status is not None:
            data["status"] = status
        if conclusion is not None:
            data["conclusion"] = conclusion
        self.rest.checks.update(self.owner, self.name, check_run_id, data=data)

    def check_runs_for(self, ref: str, name: str | None = None) -> list[CheckRunInfo]:
        """Every check run on the commit `ref` names (SHA, branch or tag), newest first.

        All of them, not only the newest of each name (GitHub's default `filter=latest`);
        `name` keeps those of one check.
        """
        found: list[CheckRunInfo] = []
        page = 1
        while True:
            kwargs: dict[str, Any] = {"filter_": "all", "per_page": 100, "page": page}
            if name is not None:
                kwargs["check_name"] = name
            data = self.rest.checks.list_for_ref(self.owner, self.name, ref, **kwargs).parsed_data
            found.extend(_info(run) for run in data.check_runs)
            if len(data.check_runs) < 100:
                return found
            page += 1


def _info(run: Any) -> CheckRunInfo:
    return CheckRunInfo(
        id=int(run.id),
        name=str(run.name),
        head_sha=str(run.head_sha),
        status=str(run.status),
        conclusion=run.conclusion,
        title=run.output.title,
        summary=run.output.summary,
        external_id=run.external_id or "",
        html_url=str(run.html_url or ""),
    )
