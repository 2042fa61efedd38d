"""A restart resumes an interrupted job without posting anything twice (invariant 7).

So does a live server for a job whose worker died on another machine sharing the ledger:
the job's lease runs out and the server takes it over.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.store.ledger import Ledger, utcnow
from bot.web.delivery_rows import delivery_record
from handlers.dispatch import dispatch
from standins.scenario import REPO, Stage, fixing_agent
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall, wait_for


def test_a_job_killed_mid_run_resumes_after_a_restart(stage: Stage, tmp_path: Path) -> None:
    data = tmp_path / "data"
    agent = fixing_agent()
    calls: list[int] = []
    release = threading.Event()

    def first_call_hangs(request: dict[str, Any]) -> Any:
        calls.append(1)
        if len(calls) == 1:
            release.wait(60)  # the first attempt is stuck waiting for the model…
        return agent(request)

    stage.model.respond_with(first_call_hangs)
    first = start_rolecall(stage, data)
    issue = stage.open_issue()
    stage.github.comment(REPO, "alice", issue, "/implement")
    wait_for(lambda: calls, "the job to reach the model")

    first.process.kill()  # …when its process dies without any chance to clean up
    first.process.wait()
    release.set()

    second = start_rolecall(stage, data)
    try:
        tracking = second.wait_for_outcome(issue)
        assert tracking["body"].startswith("✅"), tracking["body"]
        assert len(second.bot_comments(issue)) == 1, "the tracking comment was reused"
        assert len(stage.github.pulls(REPO)) == 1
        [job] = second.jobs()
        assert (job["state"], job["attempts"]) == ("succeeded", 2)
    finally:
        stop_rolecall(second)


def test_a_job_whose_worker_died_on_another_host_is_taken_over(rolecall: Rolecall) -> None:
    stage, github = rolecall.stage, rolecall.github
    stage.model.respond_with(fixing_agent())
    issue = stage.open_issue()
    ledger = Ledger(f"sqlite:///{Path(rolecall.env['ROLECALL_DATA_DIR']) / 'rolecall.db'}")
    # Another machine sharing the ledger received the comment, as its receiver would...
    github.webhook_url = None
    try:
        created = github.comment(REPO, "alice", issue, "/implement")
        assert created.delivery is not None
        payload = created.delivery.payload
        decision = dispatch("issue_comment", payload, bot_login=github.bot_login)
        [recorded] = ledger.record_deliveries(
            [delivery_record(str(uuid.uuid4()), "issue_comment", payload, decision)]
        )
        assert recorded.job_id is not None
        # ...its worker claimed the job and acknowledged it on the issue...
        assert ledger.claim_job(recorded.job_id, runner="build-07:4242:31337") is not None
        tracking = github.comment(REPO, github.bot_login, issue, "👀 Working on it.")
        ledger.update_job(recorded.job_id, phase="execute", tracking_comment_id=int(tracking))
        # ...and then that machine died: nothing has renewed its lease for minutes.
        ledger.update_job(recorded.job_id, lease_expires_at=utcnow() - timedelta(minutes=5))
    finally:
        github.webhook_url = f"{rolecall.url}/api/github/webhooks"

    outcome = rolecall.wait_for_outcome(issue)
    assert outcome["body"].startswith("✅"), outcome["body"]
    assert [c["id"] for c in rolecall.bot_comments(issue)] == [int(tracking)], "reused"
    assert len(github.pulls(REPO)) == 1
    [job] = rolecall.wait_for_jobs_to_settle()
    assert (job["state"], job["attempts"]) == ("succeeded", 2)
    assert not job["runner"].startswith("build-07:"), "the live server ran it"
    ledger.close()
