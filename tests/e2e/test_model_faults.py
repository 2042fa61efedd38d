"""The model API's bad days, end to end: `rolecall serve` waits out an overload storm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from standins.scenario import FIX_SUMMARY, REPO, fixing_agent
from tests.e2e.conftest import Rolecall, file_at


def _transcript(data_dir: str, job_id: int) -> list[dict[str, Any]]:
    path = Path(data_dir) / "transcripts" / f"job-{job_id}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_thirty_second_overload_storm_is_survived(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    model.overload_for(seconds=30)  # every request gets 529 until it passes
    issue = rolecall.stage.open_issue()

    github.comment(REPO, "alice", issue, "/implement")
    tracking = rolecall.wait_for_outcome(issue)

    [pull] = github.pulls(REPO)
    assert pull["html_url"] in tracking["body"]
    assert FIX_SUMMARY.splitlines()[0] in pull["body"]
    assert "return a + b" in file_at(rolecall, pull["head"]["ref"], "calc.py")
    [job] = rolecall.jobs()
    assert job["state"] == "succeeded"
    assert job["turns"] == 5
    events = _transcript(rolecall.env["ROLECALL_DATA_DIR"], int(job["id"]))
    retries = [event for event in events if event["event"] == "model_retry"]
    assert retries and {event["reason"] for event in retries} == {"model overloaded"}
    assert len(model.requests) == len(retries) + 5  # each retry was one more request
