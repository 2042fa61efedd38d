"""A role that cannot change files answers in a comment, and its tools refuse writes."""

from __future__ import annotations

from standins.model import text, tool_use
from standins.scenario import REPO, ScriptedAgent
from tests.e2e.conftest import Rolecall
from tests.e2e.roles_world import bot_comment_containing, brief_text, tool_names, tool_results

PLAN = (
    "- [ ] Change `add()` in calc.py to return `a + b`\n"
    "- [ ] Run `python3 -m unittest -q` to verify"
)


def test_the_planner_answers_with_a_plan_and_its_write_is_refused(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(
        ScriptedAgent(
            [
                tool_use("Read", {"file_path": "calc.py"}),
                tool_use("Write", {"file_path": "calc.py", "content": "hacked = True\n"}),
                text(PLAN),
            ]
        )
    )
    issue = rolecall.stage.open_issue()
    branches_before = github.branches(REPO)

    github.comment(REPO, "alice", issue, "/planner")

    tracking = rolecall.wait_for_outcome(issue)
    assert tracking["body"].startswith("✅ **Rolecall answered on this issue.**")
    assert "Posted the role's answer" in tracking["body"]
    answer = bot_comment_containing(rolecall, issue, "The `planner` role's answer")
    assert PLAN in answer["body"]

    first, last = model.requests[0].json, model.requests[-1].json
    assert tool_names(first) == ["Glob", "Grep", "Read"]
    assert "you can read it but not change it" in brief_text(first)
    (read, read_failed), (write, write_failed) = tool_results(last)
    assert not read_failed and "return a - b" in read
    assert write_failed and "Write is not available to this role" in write

    assert github.pulls(REPO) == []
    assert github.branches(REPO) == branches_before
    [job] = rolecall.jobs()
    assert (job["state"], job["role"], job["outcome"]) == ("succeeded", "planner", "answer posted")
