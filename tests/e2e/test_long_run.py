"""A long run on a 200k-token model, end to end: it fits the window and opens its PR.

Sixty turns whose Bash calls each print far more than the toolbox keeps (~7,500 tokens
reach the model per call), on claude-haiku-4-5: without fitting, the conversation
outgrows the window at about turn 28 and the API refuses it. The model stand-in
enforces the window as the API does, so "no request over the window" is read from
what it received.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from standins.model import text, tool_use
from standins.model.window import prompt_tokens
from standins.scenario import FIX, FIX_SUMMARY, REPO, ScriptedAgent, Stage
from tests.e2e.conftest import file_at, start_rolecall, stop_rolecall

TURNS = 60
WINDOW = 200_000  # claude-haiku-4-5's
LOUD = (
    "python3 -c \"import sys; sys.stdout.write(''.join("
    "f'build step {n}: compiling module {i} of 2000, all warnings shown\\\\n' "
    'for i in range(2000)))"'
)


def _long_run() -> ScriptedAgent:
    builds = [tool_use("Bash", {"command": LOUD.replace("{n}", str(n))}) for n in range(TURNS - 2)]
    return ScriptedAgent(
        [*builds, tool_use("Edit", {"file_path": "calc.py", **FIX}), text(FIX_SUMMARY)]
    )


def _transcript(data_dir: str, job_id: int) -> list[dict[str, Any]]:
    path = Path(data_dir) / "transcripts" / f"job-{job_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_sixty_turn_run_with_loud_tools_fits_a_200k_window(stage: Stage, tmp_path: Path) -> None:
    rolecall = start_rolecall(
        stage, tmp_path / "data", ROLECALL_MODEL="claude-haiku-4-5", ROLECALL_MAX_TURNS="80"
    )
    try:
        agent = _long_run()
        stage.model.respond_with(agent)
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")

        tracking = rolecall.wait_for_outcome(issue)
        assert tracking["body"].lstrip().startswith("✅"), tracking["body"]

        [pull] = stage.github.pulls(REPO)
        assert pull["draft"] is True
        assert pull["html_url"] in tracking["body"]
        assert "return a + b" in file_at(rolecall, pull["head"]["ref"], "calc.py")

        requests = [r.json for r in stage.model.requests]
        assert len(requests) == TURNS
        assert all(body["model"] == "claude-haiku-4-5" for body in requests)
        sizes = [prompt_tokens(body) for body in requests]
        assert max(sizes) <= WINDOW, "no request over the window"
        assert max(sizes) > WINDOW // 2, "the run came near it"

        [job] = rolecall.jobs()
        assert job["state"] == "succeeded"
        assert job["turns"] == TURNS
        events = _transcript(rolecall.env["ROLECALL_DATA_DIR"], int(job["id"]))
        cleared = [e for e in events if e["event"] == "context" and e["action"] == "cleared"]
        assert cleared, "the transcript records each clearing"
        assert all(e["tokens_before"] > 0.8 * WINDOW > e["tokens_after"] for e in cleared)
        outputs = [e for e in events if e["event"] == "tool_result"]
        assert sum(len(e["content"]) for e in outputs) > 4 * WINDOW, "the tools were loud"
    finally:
        stop_rolecall(rolecall)
