"""Failures said in people's words, end to end: what the issue shows, what `rolecall jobs`
shows, when a credential is wrong.

Before, a job whose App key was another App's failed with `RequestFailed: Response(401 …`
in the ledger and nothing on the issue; now the ledger names the settings to check, and
a wrong model key is named in the tracking comment the job could post.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.store.ledger import Ledger
from standins.github.keys import new_app_key
from standins.scenario import REPO, Stage
from tests.e2e.conftest import start_rolecall, stop_rolecall, wait_for

CREDENTIALS = "GitHub refused the App's credentials (401): check APP_ID and PRIVATE_KEY."
MODEL_KEY_REFUSED = "The model API refused the key (401): check ANTHROPIC_API_KEY."


def another_apps_key() -> str:
    """A well-formed RSA key that belongs to no App (another App's key, for GitHub)."""
    return new_app_key()[1]


def ended_jobs(ledger: Ledger) -> list[dict[str, Any]] | None:
    """Every job once there is one and none is queued or running (read from the ledger
    file: the CLI takes a second to start, and this is polled)."""
    jobs = [job.model_dump(mode="json") for job in ledger.list_jobs(limit=100)]
    if jobs and all(job["state"] not in ("queued", "running") for job in jobs):
        return jobs
    return None


def test_a_job_whose_token_cannot_be_minted_ends_with_a_readable_outcome(
    stage: Stage, tmp_path: Path
) -> None:
    rolecall = start_rolecall(stage, tmp_path / "data", PRIVATE_KEY=another_apps_key())
    ledger = Ledger(f"sqlite:///{Path(rolecall.env['ROLECALL_DATA_DIR']) / 'rolecall.db'}")
    try:
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")
        wait_for(lambda: ended_jobs(ledger), f"the job to end; log:\n{rolecall.log()}")
        [job] = rolecall.jobs()  # what `rolecall jobs` shows the operator
    finally:
        ledger.close()
        stop_rolecall(rolecall)
    assert (job["state"], job["outcome"]) == ("failed", CREDENTIALS)
    assert rolecall.bot_comments(issue) == []  # GitHub took nothing from this App


def test_a_wrong_model_key_is_named_in_the_tracking_comment(stage: Stage, tmp_path: Path) -> None:
    wrong_key = "sk-ant-api03-revoked-" + "x" * 30
    rolecall = start_rolecall(stage, tmp_path / "data", ANTHROPIC_API_KEY=wrong_key)
    ledger = Ledger(f"sqlite:///{Path(rolecall.env['ROLECALL_DATA_DIR']) / 'rolecall.db'}")
    try:
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")
        tracking = rolecall.wait_for_outcome(issue)
        [job] = wait_for(lambda: ended_jobs(ledger), "the job's row to be final")
    finally:
        ledger.close()
        stop_rolecall(rolecall)
    body = tracking["body"]
    assert body.startswith("❌ **Rolecall stopped in the `execute` phase**")
    assert f"> {MODEL_KEY_REFUSED}" in body.splitlines()
    assert (job["state"], job["outcome"]) == ("failed", MODEL_KEY_REFUSED)
    for raw in ("AuthenticationError", "Error code", "invalid x-api-key", wrong_key):
        assert raw not in body and raw not in job["outcome"]
