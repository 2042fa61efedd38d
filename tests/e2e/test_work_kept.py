"""A run that stops early keeps its work: a pushed branch, and a draft PR marked incomplete.

What a maintainer sees on GitHub after a turn limit or a `/cancel` that came after the
agent had already changed files.
"""

from __future__ import annotations

import uuid
from typing import Any

from standins.model import text, tool_use
from standins.scenario import FIX, FIX_SUMMARY, REPO, ScriptedAgent, Stage
from tests.e2e.conftest import Rolecall, file_at, start_rolecall, stop_rolecall, wait_for
from tests.e2e.roles_world import processes_with


def test_a_turn_limit_after_edits_leaves_an_incomplete_draft_pull_request(
    stage: Stage, tmp_path
) -> None:
    rolecall = start_rolecall(stage, tmp_path / "data", ROLECALL_MAX_TURNS="2")
    try:
        stage.model.respond_with(
            ScriptedAgent(
                [tool_use("Edit", {"file_path": "calc.py", **FIX})],
                after=tool_use("Bash", {"command": "python3 -m unittest -q"}),
            )
        )
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")

        tracking = rolecall.wait_for_outcome(issue)

        [pull] = stage.github.pulls(REPO)
        assert pull["draft"] is True
        assert pull["title"].startswith("[incomplete] ")
        assert "stopped before it finished" in pull["body"]
        assert "turn limit (2 turns)" in pull["body"]
        assert "/continue" in pull["body"]
        assert f"Fixes #{issue}" in pull["body"]
        assert "return a + b" in file_at(rolecall, pull["head"]["ref"], "calc.py")
        assert "turn limit (2 turns)" in tracking["body"]
        assert pull["html_url"] in tracking["body"]
        [job] = rolecall.jobs()
        assert job["state"] == "failed"
        assert job["pr_url"] == pull["html_url"]
        [check] = stage.github.check_runs(REPO)
        assert check["head_sha"] == pull["head"]["sha"]
        assert (check["status"], check["conclusion"]) == ("completed", "neutral")
        assert "turn limit (2 turns)" in check["output"]["summary"]
    finally:
        stop_rolecall(rolecall)


def test_after_cancel_the_branch_is_pushed_and_no_pull_request_is_opened(
    stage: Stage, tmp_path
) -> None:
    marker = f"rolecall-e2e-{uuid.uuid4().hex}"
    rolecall = start_rolecall(stage, tmp_path / "data")
    try:
        stage.model.respond_with(
            ScriptedAgent(
                [
                    tool_use("Edit", {"file_path": "calc.py", **FIX}),
                    tool_use("Bash", {"command": f"(exec -a {marker} sleep 1000)"}),
                ]
            )
        )
        issue = stage.open_issue()
        branches_before = set(stage.github.branches(REPO))
        stage.github.comment(REPO, "alice", issue, "/implement")
        wait_for(lambda: processes_with(marker), f"the agent's command; {rolecall.log()}")

        stage.github.comment(REPO, "alice", issue, "/cancel")

        tracking = rolecall.wait_for_outcome(issue)
        assert "Cancelled by @alice." in tracking["body"]
        [branch] = set(stage.github.branches(REPO)) - branches_before
        assert branch.startswith(f"rolecall/issue-{issue}-")
        assert f"`{branch}`" in tracking["body"]
        assert "return a + b" in file_at(rolecall, branch, "calc.py")
        assert stage.github.pulls(REPO) == []
    finally:
        stop_rolecall(rolecall)


def brief_of(request: dict[str, Any]) -> str:
    first = request["messages"][0]["content"]
    return first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)


def test_continue_on_the_incomplete_pull_request_finishes_it_on_the_same_branch(
    stage: Stage, tmp_path
) -> None:
    rolecall = start_rolecall(stage, tmp_path / "data", ROLECALL_MAX_TURNS="2")
    try:
        first_run = ScriptedAgent(
            [tool_use("Edit", {"file_path": "calc.py", **FIX})],
            after=tool_use("Bash", {"command": "true"}),
        )
        second_run = ScriptedAgent(
            [tool_use("Bash", {"command": "python3 -m unittest -q"}), text(FIX_SUMMARY)]
        )

        def agent(request: dict[str, Any]) -> Any:
            resumed = "An earlier run on this branch stopped" in brief_of(request)
            return (second_run if resumed else first_run)(request)

        stage.model.respond_with(agent)
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")
        rolecall.wait_for_outcome(issue)
        [incomplete] = stage.github.pulls(REPO)
        branch = incomplete["head"]["ref"]
        head_before = stage.github.branches(REPO)[branch]

        stage.github.comment(REPO, "alice", incomplete["number"], "/continue run the tests")

        tracking = rolecall.wait_for_outcome(incomplete["number"])
        assert tracking["body"].startswith("✅"), tracking["body"]
        [pull] = stage.github.pulls(REPO)
        assert pull["number"] == incomplete["number"], "the same pull request, completed"
        assert not pull["title"].startswith("[incomplete]")
        assert "stopped before it finished" not in pull["body"]
        assert FIX_SUMMARY.splitlines()[0] in pull["body"]
        assert stage.github.branches(REPO)[branch] == head_before, "nothing new to commit"
        resumed_brief = brief_of(second_run.seen[0])
        assert "turn limit (2 turns)" in resumed_brief
        assert "run the tests" in resumed_brief
        assert f"issue #{issue}" in resumed_brief
        jobs = {job["kind"]: job for job in rolecall.wait_for_jobs_to_settle()}
        assert jobs["continue"]["state"] == "succeeded"
        assert jobs["continue"]["role"] == jobs["implement"]["role"]
    finally:
        stop_rolecall(rolecall)


def test_continue_where_nothing_stopped_early_says_so(rolecall: Rolecall) -> None:
    issue = rolecall.stage.open_issue()
    rolecall.github.comment(REPO, "alice", issue, "/continue")

    tracking = rolecall.wait_for_outcome(issue)

    assert "nothing to continue" in tracking["body"]
    assert rolecall.stage.model.requests == []
    assert rolecall.github.pulls(REPO) == []
