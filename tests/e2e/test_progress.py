"""While the agent runs, its tracking comment shows how far it got and what it does now."""

from __future__ import annotations

import uuid

from standins.model import tool_use
from standins.scenario import REPO, ScriptedAgent
from tests.e2e.conftest import Rolecall, wait_for
from tests.e2e.roles_world import processes_with


def test_the_tracking_comment_shows_turns_cost_and_the_current_step(rolecall: Rolecall) -> None:
    github = rolecall.github
    marker = f"rolecall-e2e-{uuid.uuid4().hex}"
    rolecall.stage.model.respond_with(
        ScriptedAgent(
            [
                tool_use("Bash", {"command": "python3 -m unittest -q"}),
                tool_use("Bash", {"command": f"(exec -a {marker} sleep 1000)"}),
            ]
        )
    )
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/implement")
    wait_for(lambda: processes_with(marker), f"the agent's long command; {rolecall.log()}")

    def live() -> str | None:
        [tracking] = rolecall.bot_comments(issue)
        body: str = tracking["body"]
        return body if "now: `Bash: (exec -a rolecall-e2e-" in body else None

    body = wait_for(live, "the tracking comment to show the running command")
    assert body.startswith("👀"), "still working"
    assert "2 turns ·" in body and "tokens ·" in body and "$" in body
    assert " s" in body  # the elapsed time

    github.comment(REPO, "alice", issue, "/cancel")
    final = rolecall.wait_for_outcome(issue)
    assert "now: `" not in final["body"], "the outcome replaces the progress line"
