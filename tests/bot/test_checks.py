"""Check runs from Rolecall's side: the `RepoClient` verbs and a job's `JobCheck`.

Against the GitHub stand-in with the real githubkit, as a job builds its client
(`GitHubApp.repo` with the job's permissions and its own `Redactor`). What counts is
what GitHub ended up holding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.text.redact import REDACTED, Redactor
from bot.github import JOB_PERMISSIONS, GitHubApp, RepoClient
from bot.github.checks import SUMMARY_LIMIT, cap_summary
from bot.jobs.checks import JobCheck, check_name
from standins.github import GitHubStandIn

REPO = "octo/calc"
SECRET = "s3cr3t-value-that-must-not-leave-9f8e7d"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.add_user("alice")
        stand_in.create_repo(REPO, files={"README.md": "calc\n"})
        stand_in.set_permission(REPO, "alice", "write")
        yield stand_in
        assert stand_in.server_errors == []


@pytest.fixture
def app(github: GitHubStandIn) -> Iterator[GitHubApp]:
    with GitHubApp(github.app_id, github.private_key_pem, github.api_url) as app:
        yield app


def job_client(
    app: GitHubApp, github: GitHubStandIn, permissions: dict[str, str] | None = None
) -> RepoClient:
    return app.repo(github.installation_id(REPO), REPO, Redactor([SECRET]), permissions)


def push(github: GitHubStandIn, branch: str, text: str = "x\n") -> str:
    return github.push_commit(REPO, "alice", branch=branch, files={"f.txt": text}, message="A")


def runs(github: GitHubStandIn) -> list[dict[str, Any]]:
    return sorted(github.check_runs(REPO), key=lambda r: int(r["id"]))


def test_job_tokens_may_write_check_runs() -> None:
    assert JOB_PERMISSIONS["checks"] == "write"


def test_create_update_and_list(github: GitHubStandIn, app: GitHubApp) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-1")
    run_id = repo.create_check_run(
        "Rolecall / implementer",
        head,
        status="in_progress",
        title="Working on it",
        summary="Started.",
        details_url="https://example.invalid/job/1",
        external_id="1",
    )
    [held] = runs(github)
    assert held["id"] == run_id and held["status"] == "in_progress"
    assert held["details_url"] == "https://example.invalid/job/1"
    repo.update_check_run(run_id, conclusion="success", title="Done", summary="Changed x.")
    [held] = runs(github)
    assert (held["status"], held["conclusion"]) == ("completed", "success")
    assert held["output"]["summary"] == "Changed x."
    repo.create_check_run(
        "lint", head, status="completed", conclusion="failure", title="T", summary="S"
    )

    listed = repo.check_runs_for("rolecall/issue-1")
    assert [(r.name, r.status, r.conclusion) for r in listed] == [
        ("lint", "completed", "failure"),
        ("Rolecall / implementer", "completed", "success"),
    ]
    [mine] = repo.check_runs_for(head, name="Rolecall / implementer")
    assert (mine.id, mine.head_sha, mine.title, mine.external_id) == (run_id, head, "Done", "1")


def test_what_is_posted_is_redacted_and_capped(github: GitHubStandIn, app: GitHubApp) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-2")
    long = f"token {SECRET}\n" + "é" * 40_000  # 80000 bytes: over GitHub's byte limit
    run_id = repo.create_check_run(
        "Rolecall / fixer", head, status="in_progress", title=f"Uses {SECRET}", summary=long
    )
    [held] = runs(github)
    assert SECRET not in held["output"]["title"] and REDACTED in held["output"]["title"]
    summary = held["output"]["summary"]
    assert SECRET not in summary and REDACTED in summary
    assert len(summary.encode()) <= SUMMARY_LIMIT and "cut here" in summary
    repo.update_check_run(run_id, conclusion="neutral", title="t", summary="x" * 70_000)
    [held] = runs(github)
    assert len(held["output"]["summary"]) <= SUMMARY_LIMIT
    assert held["output"]["summary"].startswith("x" * 60_000)


def test_cap_summary_keeps_what_fits() -> None:
    assert cap_summary("short") == "short"
    exact = "a" * SUMMARY_LIMIT
    assert cap_summary(exact) == exact
    cut = cap_summary("€" * SUMMARY_LIMIT)  # three bytes each
    assert len(cut.encode()) <= SUMMARY_LIMIT
    assert cut.startswith("€" * 20_000) and "cut here" in cut


def test_a_job_check_runs_then_completes_on_the_same_commit(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-3")
    github.open_pr(REPO, "alice", head="rolecall/issue-3", title="Fix")
    check = JobCheck.start(repo, head, "fixer", 42, details_url="https://example.invalid/c/1")
    [held] = runs(github)
    assert held["name"] == check_name("fixer") == "Rolecall / fixer"
    assert (held["status"], held["external_id"]) == ("in_progress", "42")
    assert held["output"]["title"] == "Working on it"
    assert [p["number"] for p in held["pull_requests"]] == [1]
    check.progress("Turn 3", "Editing calc.py")
    assert runs(github)[0]["output"]["summary"] == "Editing calc.py"
    check.complete("success", "Fixed the review", "## What changed\n- calc.py")
    [held] = runs(github)
    assert (held["status"], held["conclusion"]) == ("completed", "success")
    assert held["output"]["title"] == "Fixed the review"
    assert held["output"]["summary"] == "## What changed\n- calc.py"


def test_a_job_that_pushed_completes_on_its_new_commit(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    repo = job_client(app, github)
    old = push(github, "rolecall/issue-4", "1\n")
    check = JobCheck.start(repo, old, "fixer", 7)
    new = push(github, "rolecall/issue-4", "2\n")
    check.complete("success", "Done", "Summary of the PR", head_sha=new)
    before, after = runs(github)
    assert (before["head_sha"], before["conclusion"]) == (old, "neutral")
    assert new[:12] in before["output"]["summary"]
    assert (after["head_sha"], after["status"], after["conclusion"]) == (
        new,
        "completed",
        "success",
    )
    assert after["output"]["summary"] == "Summary of the PR" and after["name"] == "Rolecall / fixer"
    assert check.head_sha == new and check.run_id == after["id"]


def test_a_completed_run_on_a_newly_pushed_commit(github: GitHubStandIn, app: GitHubApp) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-5")
    JobCheck.completed(
        repo, head, "implementer", 9, conclusion="success", title="Opened #1", summary="Body"
    )
    [held] = runs(github)
    assert (held["name"], held["status"], held["conclusion"]) == (
        "Rolecall / implementer",
        "completed",
        "success",
    )
    assert held["external_id"] == "9"


def test_a_stopped_job_ends_neutral_with_the_reason(github: GitHubStandIn, app: GitHubApp) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-6")
    check = JobCheck.start(repo, head, "implementer", 11)
    check.stopped("the turn limit (40) was reached", "What was done so far.")
    [held] = runs(github)
    assert (held["status"], held["conclusion"]) == ("completed", "neutral")
    assert held["output"]["title"] == "Stopped early"
    assert held["output"]["summary"].startswith("**Stopped early:** the turn limit (40)")
    assert "What was done so far." in held["output"]["summary"]


def test_a_check_run_github_refuses_never_fails_the_job(
    github: GitHubStandIn, app: GitHubApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Without `checks` permission every call is refused (403); the job carries on."""
    no_checks = {k: v for k, v in JOB_PERMISSIONS.items() if k != "checks"}
    repo = job_client(app, github, no_checks)
    head = push(github, "rolecall/issue-7")
    with caplog.at_level(logging.WARNING, logger="rolecall.checks"):
        check = JobCheck.start(repo, head, "implementer", 12)
        check.progress("t", "s")
        check.complete("failure", "Failed", "Why")
        JobCheck.completed(
            repo, head, "implementer", 12, conclusion="success", title="t", summary="s"
        )
    assert check.run_id is None
    assert runs(github) == []
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages  # start, complete (created instead), completed
    assert all("403" in m and "job 12" in m for m in messages)


def test_a_failing_update_is_logged_and_the_next_one_still_lands(
    github: GitHubStandIn, app: GitHubApp, caplog: pytest.LogCaptureFixture
) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-8")
    check = JobCheck.start(repo, head, "fixer", 13)
    github.fail_next("PATCH", r"/repos/octo/calc/check-runs/\d+", status=422)
    with caplog.at_level(logging.WARNING, logger="rolecall.checks"):
        check.progress("t", "lost")
    assert [r for r in caplog.records if "could not update" in r.getMessage()]
    check.complete("success", "Done", "Landed")
    [held] = runs(github)
    assert (held["conclusion"], held["output"]["summary"]) == ("success", "Landed")


def test_a_start_github_refused_completes_with_a_new_run(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    repo = job_client(app, github)
    head = push(github, "rolecall/issue-9")
    github.fail_next("POST", r"/repos/octo/calc/check-runs", status=422)
    check = JobCheck.start(repo, head, "fixer", 14)
    assert check.run_id is None and runs(github) == []
    check.complete("success", "Done", "Landed")
    [held] = runs(github)
    assert (held["status"], held["conclusion"]) == ("completed", "success")


def test_an_installation_without_checks_still_gets_job_tokens(
    app: GitHubApp, github: GitHubStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """Installed before Rolecall asked for `checks`: jobs run, without check runs."""
    del github.app_permissions["checks"]
    repo = job_client(app, github, JOB_PERMISSIONS)
    head = push(github, "main")

    with caplog.at_level(logging.WARNING):
        assert repo.info().full_name == REPO, "the job's token was minted"
        check = JobCheck.start(repo, head, "implementer", job_id=7)
        check.complete("success", "Done", "All good.")

    assert runs(github) == []
    assert "has not granted checks: write" in caplog.text
