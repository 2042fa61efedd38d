"""`/implement` on an issue, end to end: webhook → job → sandboxed agent → draft PR."""

from __future__ import annotations

import subprocess

from standins.scenario import FIX_SUMMARY, REPO, fixing_agent
from tests.e2e.conftest import Rolecall


def file_on_branch(rolecall: Rolecall, branch: str, path: str) -> str:
    repo = rolecall.github.repo_path(REPO)
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{branch}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_implement_opens_a_draft_pull_request(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    trigger = github.comment(REPO, "alice", issue, "/implement keep the public API unchanged")

    tracking = rolecall.wait_for_outcome(issue)

    reactions = github.reactions(REPO, comment=int(trigger))
    assert [(r["content"], r["user"]["login"]) for r in reactions] == [("eyes", github.bot_login)]
    assert len(rolecall.bot_comments(issue)) == 1, "one tracking comment, edited in place"
    pulls = github.pulls(REPO)
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["draft"] is True
    assert pull["head"]["ref"].startswith(f"rolecall/issue-{issue}-")
    assert f"Fixes #{issue}" in pull["body"]
    assert FIX_SUMMARY.splitlines()[0] in pull["body"]
    assert "python3 -m unittest -q" in pull["body"]
    assert pull["html_url"] in tracking["body"]
    assert "return a + b" in file_on_branch(rolecall, pull["head"]["ref"], "calc.py")
    assert "return a - b" in file_on_branch(rolecall, "main", "calc.py")

    # The model saw the notes and the repository's AGENTS.md, and tools with cache marks.
    first = model.requests[0].json
    brief = first["messages"][0]["content"]
    brief_text = brief if isinstance(brief, str) else " ".join(b.get("text", "") for b in brief)
    assert "keep the public API unchanged" in brief_text
    assert "python3 -m unittest -q" in brief_text
    assert first["tools"][-1].get("cache_control") == {"type": "ephemeral"}

    [job] = rolecall.jobs()
    assert job["state"] == "succeeded"
    assert job["pr_url"] == pull["html_url"]
    assert job["turns"] == 5
    assert job["output_tokens"] > 0
    assert job["cache_write_tokens"] > 0, "the first turn writes the prompt cache"
    assert job["cache_read_tokens"] > 0, "later turns read the shared prefix from cache"
    assert job["cost_usd"] is not None and job["cost_usd"] > 0
