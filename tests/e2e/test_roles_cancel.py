"""`/cancel`, and one running plus one pending job per issue, end to end.

The scripted agent starts a command that would run for a long time, with a unique
marker in its command line; the host's /proc shows whether any process of it survives.
"""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from standins.model import text, tool_use
from standins.scenario import REPO, ScriptedAgent, Stage
from tests.e2e.conftest import (
    Rolecall,
    rolecall_executable,
    start_rolecall,
    stop_rolecall,
    wait_for,
)
from tests.e2e.roles_world import (
    bot_comment_containing,
    processes_with,
    reactions_on,
    system_text,
)


def sleeping_agent(marker: str) -> ScriptedAgent:
    # `exec -a` puts the marker in the sleeping process's own command line.
    command = f"(exec -a {marker} sleep 1000)"
    return ScriptedAgent([tool_use("Bash", {"command": command}), text("slept")])


def job_by_id(rolecall: Rolecall, job_id: int) -> dict[str, Any]:
    return next(job for job in rolecall.jobs() if job["id"] == job_id)


def test_cancel_stops_the_running_job_and_kills_its_processes(rolecall: Rolecall) -> None:
    github = rolecall.github
    marker = f"rolecall-e2e-{uuid.uuid4().hex}"
    rolecall.stage.model.respond_with(sleeping_agent(marker))
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/implement")
    wait_for(lambda: processes_with(marker), f"the agent's command to start; {rolecall.log()}")

    cancel = github.comment(REPO, "alice", issue, "/cancel")

    tracking = rolecall.wait_for_outcome(issue)
    assert tracking["body"].startswith("⏹️"), tracking["body"]
    assert "Cancelled by @alice." in tracking["body"]
    assert processes_with(marker) == [], "no process of the cancelled job survives"
    assert reactions_on(rolecall, int(cancel)) == [("eyes", github.bot_login)]
    jobs = {job["kind"]: job for job in rolecall.wait_for_jobs_to_settle()}
    assert jobs["implement"]["state"] == "cancelled"
    assert jobs["cancel"]["state"] == "succeeded"
    assert github.pulls(REPO) == []


def test_one_job_runs_one_waits_and_a_newer_request_replaces_the_waiting_one(
    rolecall: Rolecall,
) -> None:
    github = rolecall.github
    marker = f"rolecall-e2e-{uuid.uuid4().hex}"
    rolecall.stage.model.respond_with(sleeping_agent(marker))
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/implement")
    wait_for(lambda: processes_with(marker), f"the first job's command to start; {rolecall.log()}")

    github.comment(REPO, "alice", issue, "/implementer first follow-up")
    queued = bot_comment_containing(rolecall, issue, "⏳ **Queued")
    assert "Waiting for job 1 to end" in queued["body"]
    github.comment(REPO, "alice", issue, "/planner second follow-up")

    superseded = bot_comment_containing(rolecall, issue, "Superseded by a newer request")
    assert superseded["id"] == queued["id"], "the waiting job's own tracking comment says so"
    assert "`/planner` by @alice (job 3) replaces it" in superseded["body"]
    assert job_by_id(rolecall, 2)["state"] == "cancelled"
    assert job_by_id(rolecall, 2)["outcome"] == "superseded by job 3"
    wait_for(lambda: job_by_id(rolecall, 3)["state"] == "queued", "job 3 to wait its turn")

    github.comment(REPO, "alice", issue, "/status")
    status = bot_comment_containing(rolecall, issue, f"**Rolecall on #{issue}**")["body"]
    assert "Running: job 1 (`implementer` by @alice)" in status
    assert "Waiting for it: job 3 (`planner` by @alice)" in status

    github.comment(REPO, "alice", issue, "/cancel")
    bot_comment_containing(rolecall, issue, "Cancelled by @alice before it started.")
    jobs = {job["id"]: job for job in rolecall.wait_for_jobs_to_settle()}
    assert [jobs[n]["state"] for n in (1, 2, 3)] == ["cancelled", "cancelled", "cancelled"]
    assert processes_with(marker) == []
    assert len(rolecall.stage.model.requests) == 1, "only the first job ever reached the model"


def test_the_waiting_job_runs_when_the_running_one_ends(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    release = threading.Event()

    def respond(request: dict[str, Any]) -> Any:
        if "You are the planner" in system_text(request):
            return text("- [ ] Change add() to return a + b")
        release.wait(120)  # the first job holds the issue until the test lets it finish
        return text("Nothing to change.")

    model.respond_with(respond)
    issue = rolecall.stage.open_issue()
    try:
        github.comment(REPO, "alice", issue, "/implement")
        wait_for(lambda: model.requests, "the first job to ask the model")
        github.comment(REPO, "alice", issue, "/planner")
        bot_comment_containing(rolecall, issue, "⏳ **Queued")
        assert job_by_id(rolecall, 2)["state"] == "queued"
    finally:
        release.set()

    answer = bot_comment_containing(rolecall, issue, "The `planner` role's answer")
    assert "Change add() to return a + b" in answer["body"]
    jobs = {job["id"]: job for job in rolecall.wait_for_jobs_to_settle()}
    assert (jobs[1]["state"], jobs[2]["state"]) == ("no_changes", "succeeded")
    assert jobs[2]["started_at"] >= jobs[1]["finished_at"], "it waited for the first one"


def sleeping_per_issue(marker: str) -> Any:
    """Each job sleeps under a marker naming its issue, so the test can tell them apart."""

    def respond(request: dict[str, Any]) -> Any:
        if any(message["role"] == "assistant" for message in request["messages"]):
            return text("slept")
        number = re.search(r"issue #(\d+)", str(request["messages"][0]["content"]))
        assert number is not None
        command = f"(exec -a {marker}-{number.group(1)} sleep 1000)"
        return tool_use("Bash", {"command": command})

    return respond


def test_cancel_reaches_a_job_running_in_a_separate_worker_process(
    stage: Stage, tmp_path: Path
) -> None:
    marker = f"rolecall-e2e-{uuid.uuid4().hex}"
    stage.model.respond_with(sleeping_per_issue(marker))
    rolecall = start_rolecall(stage, tmp_path / "data", ROLECALL_WORKERS="1")
    worker: subprocess.Popen[bytes] | None = None
    try:
        github = stage.github
        first, second = stage.open_issue(), stage.open_issue()
        github.comment(REPO, "alice", first, "/implement")
        # serve's only agent thread is now busy: the next job can only run elsewhere.
        wait_for(lambda: processes_with(f"{marker}-{first}"), f"job 1 to start; {rolecall.log()}")
        with (tmp_path / "worker.log").open("wb") as worker_log:
            worker = subprocess.Popen(
                [rolecall_executable(), "worker", "--workers", "1"],
                env=rolecall.env,
                cwd=rolecall.env["ROLECALL_DATA_DIR"],
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
        github.comment(REPO, "alice", second, "/implement")
        wait_for(lambda: processes_with(f"{marker}-{second}"), "job 2 to start in the worker")
        job = job_by_id(rolecall, 2)
        assert job["runner"].split(":")[1] == str(worker.pid), "job 2 runs in `rolecall worker`"

        github.comment(REPO, "alice", second, "/cancel")

        tracking = rolecall.wait_for_outcome(second)
        assert "Cancelled by @alice." in tracking["body"]
        assert processes_with(f"{marker}-{second}") == []
        assert processes_with(f"{marker}-{first}") != [], "the other issue's job runs on"
        github.comment(REPO, "alice", first, "/cancel")
        assert "Cancelled by @alice." in rolecall.wait_for_outcome(first)["body"]
        assert processes_with(marker) == []
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        stop_rolecall(rolecall)
