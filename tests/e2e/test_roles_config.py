"""`.github/rolecall.yml` and model providers, end to end.

A broken config earns one comment saying what is wrong and where, and nothing runs; a
role naming `provider,model` reaches the server configured as that provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from standins.model import ModelStandIn
from standins.scenario import REPO, Stage, fixing_agent
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall
from tests.e2e.roles_world import (
    BACKEND_ROLE,
    bot_comment_containing,
    put_on_main,
    reactions_on,
)

GATEWAY_KEY = "gw-standin-key-0123456789"


def test_an_invalid_config_gets_one_comment_listing_every_problem_in_line_order(
    rolecall: Rolecall,
) -> None:
    # Schema errors (lines 5 and 7) and roles the repository lacks (lines 3 and 8): all
    # told in the one comment, in the order a maintainer reads the file.
    config = (
        "labels:\n"  # 1
        "  backend: backend\n"  # 2
        "  frontend: frontnd\n"  # 3
        "roles:\n"  # 4
        "  backend: {max_turns: 0}\n"  # 5
        "pull_requests:\n"  # 6
        "  drafts: true\n"  # 7
        "default_role: plannr\n"  # 8
    )
    put_on_main(
        rolecall, {".claude/agents/backend.md": BACKEND_ROLE, ".github/rolecall.yml": config}
    )
    issue = rolecall.stage.open_issue()

    trigger = rolecall.github.comment(REPO, "alice", issue, "/backend")

    comment = bot_comment_containing(rolecall, issue, ".github/rolecall.yml")["body"]
    problems = [line for line in comment.splitlines() if line.startswith("- line ")]
    assert [line.split(":")[0] for line in problems] == [
        "- line 3, `labels.frontend`",
        "- line 5, `roles.backend.max_turns`",
        "- line 7, `pull_requests.drafts`",
        "- line 8, `default_role`",
    ], comment
    assert "no role named `frontnd` in this repository" in problems[0]
    assert problems[1].endswith("must be at least 1, not `0`")
    assert "did you mean `draft`?" in problems[2]
    assert "no role named `plannr`" in problems[3]
    assert "default branch (`main`)" in comment
    [job] = rolecall.wait_for_jobs_to_settle()
    assert job["state"] == "failed"
    assert len(rolecall.bot_comments(issue)) == 1
    assert reactions_on(rolecall, int(trigger)) == []
    assert rolecall.stage.model.requests == []
    assert rolecall.github.pulls(REPO) == []


def test_implement_with_an_invalid_config_says_so_in_its_tracking_comment(
    rolecall: Rolecall,
) -> None:
    put_on_main(rolecall, {".github/rolecall.yml": "lables:\n  backend: implementer\n"})
    issue = rolecall.stage.open_issue()

    rolecall.github.comment(REPO, "alice", issue, "/implement")

    [tracking] = [rolecall.wait_for_outcome(issue)]
    assert "line 1, `lables`: unknown key; did you mean `labels`?" in tracking["body"]
    assert len(rolecall.bot_comments(issue)) == 1
    assert rolecall.stage.model.requests == []


def test_a_model_nobody_serves_is_reported_with_the_role_file_to_fix(rolecall: Rolecall) -> None:
    role = "---\nname: local\ndescription: runs locally\nmodel: nowhere,qwen3\n---\nHello.\n"
    put_on_main(rolecall, {".claude/agents/local.md": role})
    issue = rolecall.stage.open_issue()

    rolecall.github.comment(REPO, "alice", issue, "/local")

    tracking = rolecall.wait_for_outcome(issue)["body"]
    assert "`model:` in `.claude/agents/local.md` says `nowhere,qwen3`" in tracking
    assert "unknown model provider 'nowhere'" in tracking
    assert "`provider,model`" in tracking and "`ollama`" in tracking
    assert rolecall.stage.model.requests == []


@pytest.fixture
def gateway() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=GATEWAY_KEY) as server:
        yield server


def test_a_provider_model_role_reaches_that_provider(
    stage: Stage, gateway: ModelStandIn, tmp_path: Path
) -> None:
    providers = {"gateway": {"base_url": gateway.url, "api_key": GATEWAY_KEY}}
    rolecall = start_rolecall(stage, tmp_path / "data", ROLECALL_PROVIDERS=json.dumps(providers))
    try:
        role = BACKEND_ROLE.replace("tools: Read", "model: gateway,qwen-coder-9b\ntools: Read")
        put_on_main(rolecall, {".claude/agents/backend.md": role})
        gateway.respond_with(fixing_agent())
        issue = stage.open_issue()

        stage.github.comment(REPO, "alice", issue, "/backend")

        tracking = rolecall.wait_for_outcome(issue)["body"]
        assert tracking.startswith("✅"), tracking
        assert "model `gateway,qwen-coder-9b`" in tracking
        assert stage.model.requests == [], "the default provider was not used"
        first = gateway.requests[0]
        assert first.json["model"] == "qwen-coder-9b"
        # The SDK sends the key as x-api-key or a bearer token; the stand-in checks either.
        sent = first.headers.get("x-api-key") or first.headers.get("authorization", "")
        assert sent.removeprefix("Bearer ") == GATEWAY_KEY
        [job] = rolecall.jobs()
        assert job["model"] == "gateway,qwen-coder-9b"
        assert job["cost_usd"] is None, "no price is known for another provider's model"
    finally:
        stop_rolecall(rolecall)
    assert not gateway.errors
