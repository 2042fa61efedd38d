"""`/implement` on an issue, end to end: webhook → job → sandboxed agent → draft PR."""

from __future__ import annotations

import httpx

from standins.scenario import FIX_SUMMARY, REPO, fixing_agent
from tests.e2e.conftest import Rolecall, file_at, wait_for
from tests.e2e.roles_world import tool_results


def test_implement_opens_a_draft_pull_request(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    trigger = github.comment(REPO, "alice", issue, "/implement keep the public API unchanged")

    tracking = rolecall.wait_for_outcome(issue)

    reactions = github.reactions(REPO, comment=int(trigger))
    assert [(r["content"], r["user"]["login"]) for r in reactions] == [("eyes", github.bot_login)]
    assert len(rolecall.bot_comments(issue)) == 1, "one tracking comment, edited in place"
    pulls = github.pulls(REPO)
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["draft"] is True
    assert pull["head"]["ref"].startswith(f"rolecall/issue-{issue}-")
    assert f"Fixes #{issue}" in pull["body"]
    assert FIX_SUMMARY.splitlines()[0] in pull["body"]
    assert "python3 -m unittest -q" in pull["body"]
    assert pull["html_url"] in tracking["body"]
    assert "return a + b" in file_at(rolecall, pull["head"]["ref"], "calc.py")
    assert "return a - b" in file_at(rolecall, "main", "calc.py")

    # The model saw the notes and the repository's AGENTS.md, and tools with cache marks.
    first = model.requests[0].json
    brief = first["messages"][0]["content"]
    brief_text = brief if isinstance(brief, str) else " ".join(b.get("text", "") for b in brief)
    assert "keep the public API unchanged" in brief_text
    assert "python3 -m unittest -q" in brief_text
    assert first["tools"][-1].get("cache_control") == {"type": "ephemeral"}

    # The pushed head carries Rolecall's check run, with the PR body's summary.
    [check] = github.check_runs(REPO)
    assert check["name"] == "Rolecall / implementer"
    assert check["head_sha"] == pull["head"]["sha"]
    assert (check["status"], check["conclusion"]) == ("completed", "success")
    assert FIX_SUMMARY.splitlines()[0] in check["output"]["summary"]
    assert "python3 -m unittest -q" in check["output"]["summary"]

    [job] = rolecall.jobs()
    assert job["state"] == "succeeded"
    assert job["pr_url"] == pull["html_url"]
    assert job["turns"] == 5
    assert job["output_tokens"] > 0
    assert job["cache_write_tokens"] > 0, "the first turn writes the prompt cache"
    assert job["cache_read_tokens"] > 0, "later turns read the shared prefix from cache"
    assert job["cost_usd"] is not None and job["cost_usd"] > 0


def test_a_redelivered_webhook_makes_no_second_job(rolecall: Rolecall) -> None:
    github = rolecall.github
    rolecall.stage.model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    trigger = github.comment(REPO, "alice", issue, "/implement")
    rolecall.wait_for_outcome(issue)

    again = github.redeliver(trigger.delivery.id)

    assert again.status == 200, again.response_body
    assert len(rolecall.wait_for_jobs_to_settle()) == 1
    assert len(github.pulls(REPO)) == 1
    assert len(rolecall.bot_comments(issue)) == 1


def test_a_reader_gets_one_polite_reply_and_no_work(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    branches_before = github.branches(REPO)

    github.comment(REPO, "mallory", issue, "/implement")
    [job] = rolecall.wait_for_jobs_to_settle()

    [reply] = rolecall.bot_comments(issue)
    assert "@mallory" in reply["body"]
    assert "write, maintain or admin access" in reply["body"]
    assert job["state"] == "refused"
    assert model.requests == []
    assert github.pulls(REPO) == []
    assert github.branches(REPO) == branches_before
    assert not any(r.path.endswith("git-receive-pack") for r in github.requests)


def test_commands_that_are_not_visible_new_and_human_start_nothing(rolecall: Rolecall) -> None:
    github = rolecall.github
    github.add_user("helper[bot]", type="Bot")
    github.set_permission(REPO, "helper[bot]", "write")
    issue = rolecall.stage.open_issue()

    github.comment(REPO, "helper[bot]", issue, "/implement")
    github.comment(REPO, "alice", issue, "> /implement")
    github.comment(REPO, "alice", issue, "```\n/implement\n```")
    github.comment(REPO, "alice", issue, "Use `/implement` when ready")
    github.comment(REPO, "alice", issue, "<!-- /implement -->")
    github.comment(REPO, "alice", issue, "/imple\u200bment")
    edited = github.comment(REPO, "alice", issue, "thinking about it")
    github.edit_comment(REPO, "alice", int(edited), "/implement")

    alice_and_bot = [d for d in github.deliveries if d.event == "issue_comment"]
    assert len(alice_and_bot) == 8
    assert all(d.ok for d in alice_and_bot), [(d.status, d.response_body) for d in alice_and_bot]
    assert rolecall.jobs() == []
    assert rolecall.bot_comments(issue) == []
    assert not any(r.path.endswith("/reactions") for r in github.requests)


def test_the_turn_limit_ends_the_job_cleanly(stage, tmp_path) -> None:
    from standins.model import tool_use
    from standins.scenario import ScriptedAgent
    from tests.e2e.conftest import start_rolecall, stop_rolecall

    rolecall = start_rolecall(stage, tmp_path / "data", ROLECALL_MAX_TURNS="3")
    try:
        stage.model.respond_with(ScriptedAgent([], after=tool_use("Bash", {"command": "true"})))
        issue = stage.open_issue()
        stage.github.comment(REPO, "alice", issue, "/implement")

        tracking = rolecall.wait_for_outcome(issue)

        assert "turn limit (3 turns)" in tracking["body"]
        assert "`execute`" in tracking["body"]
        [job] = rolecall.jobs()
        assert job["state"] == "failed"
        assert "turn limit" in job["outcome"]
        assert len(stage.model.requests) == 3
        assert stage.github.pulls(REPO) == []
        assert rolecall.process.poll() is None, "rolecall serve is still running"
    finally:
        stop_rolecall(rolecall)


def test_inside_the_sandbox_no_credential_or_network_is_reachable(rolecall: Rolecall) -> None:
    from urllib.parse import urlsplit

    from standins.model import text, tool_use
    from standins.scenario import MODEL_API_KEY, ScriptedAgent

    github, model = rolecall.github, rolecall.stage.model
    host_port = urlsplit(github.api_url).port
    probes = [
        "env",
        "cat /proc/self/environ | tr '\\0' '\\n'",
        "cat .git/config",
        f"curl -sS -m 5 http://127.0.0.1:{host_port}/ ; echo curl-exit=$?",
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', "
        f'{host_port}), timeout=5)" ; echo socket-exit=$?',
    ]
    model.respond_with(
        ScriptedAgent([tool_use("Bash", {"command": c}) for c in probes] + [text("done")])
    )
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/implement")
    rolecall.wait_for_outcome(issue)

    results = [output for output, _ in tool_results(model.requests[-1].json)]
    assert len(results) == len(probes)
    env_output, environ, git_config, curl, sock = results
    secrets = [
        MODEL_API_KEY,
        github.webhook_secret,
        github.private_key_pem.splitlines()[1],
        *installation_tokens(github),
    ]
    for output in results:
        for secret in secrets:
            assert secret not in output
    assert "ANTHROPIC" not in env_output and "GITHUB" not in env_output
    assert "PATH=" in env_output, "the probe really ran"
    assert "APP_ID" not in environ and "PRIVATE_KEY" not in environ
    assert "[core]" in git_config and "x-access-token" not in git_config
    assert "curl-exit=0" not in curl
    assert "socket-exit=0" not in sock and "socket-exit=" in sock
    assert not any(r.headers.get("user-agent", "").startswith("curl") for r in github.requests)


def installation_tokens(github) -> set[str]:
    """Every installation token Rolecall used, as the GitHub stand-in saw them."""
    tokens = set()
    for request in github.requests:
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer") and value and not value.startswith("eyJ"):
            tokens.add(value)
    assert tokens, "Rolecall authenticated with installation tokens"
    return tokens


def test_no_change_means_no_pull_request_and_the_agent_is_quoted(rolecall: Rolecall) -> None:
    from standins.model import text

    answer = "The issue is already fixed on main: add() returns a + b there."
    rolecall.stage.model.respond_with(lambda request: text(answer))
    issue = rolecall.stage.open_issue()
    rolecall.github.comment(REPO, "alice", issue, "/implement")

    tracking = rolecall.wait_for_outcome(issue)

    assert "without changing any files" in tracking["body"]
    assert f"> {answer}" in tracking["body"]
    assert rolecall.github.pulls(REPO) == []
    assert set(rolecall.github.branches(REPO)) == {"main"}
    [job] = rolecall.jobs()
    assert job["state"] == "no_changes"


def test_a_mention_of_the_app_starts_the_default_role_with_the_rest_as_notes(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    slug = github.bot_login.removesuffix("[bot]")

    def learned() -> str | None:  # serve learns its login from GET /app as it starts
        login: str | None = httpx.get(f"{rolecall.url}/healthz").json()["bot_login"]
        return login

    assert wait_for(learned, "rolecall serve to learn its login") == github.bot_login
    github.comment(REPO, "alice", issue, f"@{slug} please fix it, and keep the API unchanged")

    tracking = rolecall.wait_for_outcome(issue)

    [pull] = github.pulls(REPO)
    assert pull["html_url"] in tracking["body"]
    first = model.requests[0].json["messages"][0]["content"]
    brief = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    assert "please fix it, and keep the API unchanged" in brief
    [job] = rolecall.jobs()
    assert (job["kind"], job["role"]) == ("implement", "implementer")
