"""A restart resumes an interrupted job without posting anything twice (invariant 7)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from standins.scenario import REPO, Stage, fixing_agent
from tests.e2e.conftest import start_rolecall, stop_rolecall, wait_for


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
