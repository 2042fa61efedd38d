"""A `NAME=value` secret the agent writes never leaves: not to GitHub, not to disk.

End to end (a real `rolecall serve`, bubblewrap, git and both stand-ins). The scripted
agent does what a careless role file or an obeyed injection makes it do: it writes a
`BETTER_AUTH_SECRET=<value>` line into a file, prints it with Bash, and repeats it in
its final message. The value matches no token format: only its name says it is a
secret. Whatever Rolecall then does (refuse the push, redact the text), the value must
be in nothing GitHub received and in nothing Rolecall stored: transcripts, log, ledger.

Values are random and assembled at run time, so a hit proves this test's value leaked.
"""

from __future__ import annotations

import json
import secrets
import string
import subprocess
from pathlib import Path

import pytest

from standins.model import text, tool_use
from standins.scenario import REPO, ScriptedAgent
from tests.security.conftest import World

pytestmark = pytest.mark.usefixtures("bwrap")

ALPHABET = string.ascii_letters + string.digits


def random_value(n: int = 40) -> str:
    """Random letters and digits, with at least one digit and both cases."""
    return "".join(secrets.choice(ALPHABET) for _ in range(n - 3)) + "Zq7"


def everything_github_received(world: World) -> str:
    """Every request body Rolecall sent to GitHub since the test began, and every pushed
    commit (message, author, content) in the repository's object store."""
    bodies = [json.dumps(request.json) for request in world.github_requests()]
    pushed = subprocess.run(
        ["git", "--git-dir", str(world.github.repo_path(REPO)), "log", "--all", "-p"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return "\n".join([*bodies, pushed])


def everything_rolecall_stored(world: World, job_ids: list[int]) -> str:
    """The transcripts of these jobs, the service log and the jobs' ledger rows."""
    data = Path(world.rolecall.env["ROLECALL_DATA_DIR"])
    transcripts = [(data / "transcripts" / f"job-{job_id}.jsonl") for job_id in job_ids]
    assert all(path.is_file() for path in transcripts), "the job kept no transcript"
    rows = [json.dumps(job) for job in world.jobs() if job["id"] in job_ids]
    return "\n".join(
        [*(path.read_text() for path in transcripts), (data / "serve.log").read_text(), *rows]
    )


def test_a_named_secret_in_a_file_and_the_final_message_never_leaves(world: World) -> None:
    value = random_value()
    line = f"BETTER_AUTH_SECRET={value}"
    world.model.respond_with(
        ScriptedAgent(
            [
                tool_use(
                    "Write",
                    {
                        "file_path": "config/auth.env",
                        "content": f"{line}\nBETTER_AUTH_URL=http://localhost:3000\n",
                    },
                ),
                tool_use("Bash", {"command": "cat config/auth.env"}),
                text(
                    "Set up auth in `config/auth.env`. Deploy with:\n\n"
                    f"    export {line}\n\nThe server signs sessions with {value}."
                ),
            ]
        )
    )
    branches_before = world.github.branches(REPO)
    number = world.new_issue("Set up sign-in")
    world.github.comment(REPO, "alice", number, "/implement")
    [job] = world.jobs_on(number)

    # The push was refused, and the tracking comment says why without the value.
    assert job["state"] == "failed" and job["pr_url"] is None, job
    assert "credential" in job["outcome"] and "not pushed" in job["outcome"]
    [tracking] = world.bot_comments(number)
    assert "credential" in tracking["body"]
    assert world.github.branches(REPO) == branches_before, "something was pushed"
    # The value is nowhere GitHub holds, and nowhere Rolecall keeps.
    assert value not in everything_github_received(world)
    stored = everything_rolecall_stored(world, [job["id"]])
    assert value not in stored
    # The transcript really holds the agent's work, with the value redacted out of it.
    assert "BETTER_AUTH_SECRET=[REDACTED]" in stored and "config/auth.env" in stored


def test_named_secrets_in_the_final_message_are_redacted_from_the_pull_request(
    world: World,
) -> None:
    values = [random_value() for _ in range(4)]
    summary = (
        "Added mul(). The staging config I used:\n\n"
        f"```yaml\nauth:\n  clientSecret: {values[0]}\n  debug: true\n```\n\n"
        f'```json\n{{"apiKey": "{values[1]}", "region": "eu"}}\n```\n\n'
        f"Database: postgres://app:{values[2]}@db.internal:5432/app\n"
        f"and `DB_PASSWORD='{values[3]}'` for the migrations."
    )
    world.model.respond_with(
        ScriptedAgent(
            [
                tool_use(
                    "Write",
                    {"file_path": "mul.py", "content": "def mul(a, b):\n    return a * b\n"},
                ),
                text(summary),
            ]
        )
    )
    number = world.new_issue("Add a mul() function")
    world.github.comment(REPO, "alice", number, "/implement")
    [job] = world.jobs_on(number)
    assert job["state"] == "succeeded", job["outcome"]
    pull = world.github.pull(REPO, int(job["pr_url"].rsplit("/", 1)[1]))

    # The pull request was opened with the summary, each value replaced by the marker
    # and what was configured still readable.
    body = pull["body"] or ""
    assert body.count("[REDACTED]") >= len(values)
    assert "clientSecret: [REDACTED]" in body and '"region": "eu"' in body
    assert "postgres://app:[REDACTED]@" in body  # (an `@` may be made inert after it)
    received = everything_github_received(world)
    stored = everything_rolecall_stored(world, [job["id"]])
    for value in values:
        assert value not in received, "a value reached GitHub"
        assert value not in stored, "a value was stored"


def test_a_secret_in_a_role_file_is_redacted_wherever_the_agent_repeats_it(
    world: World,
) -> None:
    """The issue's own example: a role file holds `BETTER_AUTH_SECRET=…`. The agent,
    told it in its instructions, writes the bare value into a file and its message,
    where nothing names it: it is known from the role file, and still never leaves."""
    value = random_value()
    role = (
        "---\nname: deployer\ndescription: Deploys the app\n---\n"
        f"You deploy the app. The environment is:\n\nBETTER_AUTH_SECRET={value}\n"
    )
    repo = f"octo/deploy-{secrets.token_hex(4)}"  # its own repository: no other test's roles
    world.github.create_repo(
        repo, files={"README.md": "# deploy\n", ".claude/agents/deployer.md": role}
    )
    world.github.set_permission(repo, "alice", "write")
    world.model.respond_with(
        ScriptedAgent(
            [
                tool_use("Write", {"file_path": "session.key", "content": f"{value}\n"}),
                text(f"Wrote the session key ({value}) to `session.key`."),
            ]
        )
    )
    branches_before = world.github.branches(repo)
    number = int(world.github.open_issue(repo, "alice", "Deploy", "Please deploy."))
    world.github.comment(repo, "alice", number, "/deployer")
    [job] = [
        j for j in world.settle() if (j["repo_full_name"], j["issue_number"]) == (repo, number)
    ]

    assert job["role"] == "deployer" and job["state"] == "failed", job
    assert "credential" in job["outcome"] and "not pushed" in job["outcome"]
    assert world.github.branches(repo) == branches_before, "something was pushed"
    # The model was told (its instructions are the role file), and nothing else knows.
    assert any(value in json.dumps(request.json) for request in world.model_requests())
    bodies = [json.dumps(request.json) for request in world.github_requests()]
    assert value not in "\n".join(bodies)
    stored = everything_rolecall_stored(world, [job["id"]])
    assert value not in stored and "[REDACTED]" in stored
