"""Roles from the repository, started by a label or by their name, end to end.

The repository holds `.claude/agents/backend.md` and a `.github/rolecall.yml` mapping
the label `backend` to it; what counts is what the model stand-in was sent (the role's
instructions as the system prompt, exactly its tools) and what GitHub ended up holding.
"""

from __future__ import annotations

from standins.scenario import REPO, fixing_agent
from tests.e2e.conftest import Rolecall
from tests.e2e.roles_world import (
    BACKEND_MARK,
    BACKEND_ROLE,
    LABEL_CONFIG,
    bot_comment_containing,
    brief_text,
    put_on_main,
    reactions_on,
    system_text,
    tool_names,
)


def with_backend_role(rolecall: Rolecall) -> None:
    put_on_main(
        rolecall,
        {".claude/agents/backend.md": BACKEND_ROLE, ".github/rolecall.yml": LABEL_CONFIG},
    )
    rolecall.stage.model.respond_with(fixing_agent())


def assert_backend_ran(rolecall: Rolecall, issue: int) -> dict:
    tracking = rolecall.wait_for_outcome(issue)
    assert tracking["body"].startswith("✅"), tracking["body"]
    assert "Role `backend`" in tracking["body"]
    first = rolecall.stage.model.requests[0].json
    assert BACKEND_MARK in system_text(first)
    assert "the implementer" not in system_text(first)
    # Exactly the role's tools: Read, Edit and Bash, plus Glob and Grep, which every role
    # gets for reading (agents.roles.tools); no Write, no TodoWrite.
    assert tool_names(first) == ["Bash", "Edit", "Glob", "Grep", "Read"]
    [pull] = rolecall.github.pulls(REPO)
    assert pull["draft"] is True
    assert "Role `backend`" in pull["body"]
    [job] = rolecall.jobs()
    assert (job["state"], job["role"]) == ("succeeded", "backend")
    return first


def test_a_label_mapped_in_the_config_runs_that_role(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()

    rolecall.github.label(REPO, "alice", issue, "backend")

    assert_backend_ran(rolecall, issue)
    [job] = rolecall.jobs()
    assert job["sender_login"] == "alice", "the labeler is the one who asked"


def test_a_command_named_after_a_role_runs_it(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()

    trigger = rolecall.github.comment(REPO, "alice", issue, "/backend keep the diff small")

    first = assert_backend_ran(rolecall, issue)
    assert "keep the diff small" in brief_text(first)
    assert reactions_on(rolecall, int(trigger)) == [("eyes", rolecall.github.bot_login)]


def test_a_reader_applying_the_label_starts_nothing(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()

    rolecall.github.label(REPO, "mallory", issue, "rolecall:backend")

    refusal = bot_comment_containing(rolecall, issue, "@mallory")
    assert "write, maintain or admin access" in refusal["body"]
    [job] = rolecall.wait_for_jobs_to_settle()
    assert job["state"] == "refused"
    assert rolecall.stage.model.requests == []
    assert rolecall.github.pulls(REPO) == []


def test_help_lists_the_commands_and_the_roles_of_this_repository(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()

    trigger = rolecall.github.comment(REPO, "alice", issue, "/help")

    reply = bot_comment_containing(rolecall, issue, "**Roles**")["body"]
    assert reactions_on(rolecall, int(trigger)) == [("eyes", rolecall.github.bot_login)]
    for command in ("/implement", "/help", "/status", "/cancel", "/retry"):
        assert f"`{command}" in reply
    backend_row = next(line for line in reply.splitlines() if line.startswith("| `backend`"))
    assert "Backend specialist. Fixes server-side code" in backend_row
    assert "`.claude/agents/backend.md`" in backend_row
    assert "label `backend`" in backend_row and "`/backend`" in backend_row
    assert "a draft pull request" in backend_row
    planner_row = next(line for line in reply.splitlines() if line.startswith("| `planner`"))
    assert "changes no files" in planner_row
    assert len(rolecall.bot_comments(issue)) == 1, "one reply, nothing else"
    assert rolecall.stage.model.requests == []


def test_commands_and_labels_that_name_nothing_here_end_silently(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()

    shrug = rolecall.github.comment(REPO, "alice", issue, "/shrug")
    cc = rolecall.github.comment(REPO, "alice", issue, "/cc @mallory")
    rolecall.github.label(REPO, "alice", issue, "bug")

    jobs = rolecall.wait_for_jobs_to_settle()
    assert len(jobs) == 3
    assert {job["state"] for job in jobs} == {"skipped"}
    outcomes = sorted(job["outcome"] for job in jobs)
    assert "`/cc` names no command or role in this repository" in outcomes
    assert "`/shrug` names no command or role in this repository" in outcomes
    assert "label `bug` names no command or role in this repository" in outcomes
    assert rolecall.bot_comments(issue) == []
    assert reactions_on(rolecall, int(shrug)) == [] and reactions_on(rolecall, int(cc)) == []
    assert rolecall.stage.model.requests == []


def test_a_role_file_only_on_a_pull_request_branch_is_never_used(rolecall: Rolecall) -> None:
    github = rolecall.github
    with_backend_role(rolecall)
    sneaky = "---\nname: sneaky\ndescription: not on main\n---\nSNEAKY-ROLE\n"
    github.push_commit(
        REPO,
        "alice",
        branch="feature",
        files={
            ".claude/agents/sneaky.md": sneaky,
            ".claude/agents/backend.md": BACKEND_ROLE.replace(BACKEND_MARK, "SNEAKY-BACKEND"),
        },
        message="roles of a pull request",
    )
    pull = int(github.open_pr(REPO, "alice", head="feature", title="Add roles"))
    issue = rolecall.stage.open_issue()

    on_issue = github.comment(REPO, "alice", issue, "/sneaky")
    on_pull = github.comment(REPO, "alice", pull, "/sneaky")
    skipped = rolecall.wait_for_jobs_to_settle()
    assert [job["state"] for job in skipped] == ["skipped", "skipped"]
    assert (
        reactions_on(rolecall, int(on_issue)) == [] and reactions_on(rolecall, int(on_pull)) == []
    )

    github.comment(REPO, "alice", issue, "/backend")
    rolecall.wait_for_outcome(issue)
    system = system_text(rolecall.stage.model.requests[0].json)
    assert BACKEND_MARK in system and "SNEAKY" not in system


def test_retry_runs_the_issues_last_job_again(rolecall: Rolecall) -> None:
    from standins.model import text
    from standins.scenario import ScriptedAgent

    github, model = rolecall.github, rolecall.stage.model
    with_backend_role(rolecall)
    model.respond_with(ScriptedAgent([text("I changed nothing.")]))
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/backend")
    first = rolecall.wait_for_outcome(issue)
    assert first["body"].startswith("ℹ️")

    model.respond_with(fixing_agent())
    retry = github.comment(REPO, "alice", issue, "/retry")

    rerun = bot_comment_containing(rolecall, issue, "✅ **Rolecall opened a draft pull request")
    assert "Role `backend`" in rerun["body"]
    assert reactions_on(rolecall, int(retry)) == [("eyes", github.bot_login)]
    assert BACKEND_MARK in system_text(model.requests[-1].json)
    jobs = sorted(rolecall.wait_for_jobs_to_settle(), key=lambda job: job["id"])
    assert [(j["kind"], j["role"], j["state"]) for j in jobs] == [
        ("implement", "backend", "no_changes"),
        ("implement", "backend", "succeeded"),
    ]
    assert jobs[1]["outcome"] == "pull request opened"
    assert len(github.pulls(REPO)) == 1


def test_what_was_skipped_does_not_count_towards_the_loop_breaker(rolecall: Rolecall) -> None:
    with_backend_role(rolecall)
    issue = rolecall.stage.open_issue()
    for n in range(7):  # more than ROLECALL_MAX_JOBS_PER_THREAD_PER_HOUR (6)
        rolecall.github.comment(REPO, "alice", issue, f"/shrug number {n}")
    rolecall.wait_for_jobs_to_settle()

    rolecall.github.comment(REPO, "alice", issue, "/backend")

    tracking = rolecall.wait_for_outcome(issue)
    assert tracking["body"].startswith("✅"), tracking["body"]
    assert len(rolecall.bot_comments(issue)) == 1, "no loop-breaker note either"


def test_a_role_command_on_a_pull_request_is_told_roles_run_on_issues(rolecall: Rolecall) -> None:
    github = rolecall.github
    with_backend_role(rolecall)
    github.push_commit(REPO, "alice", branch="topic", files={"NOTES.md": "n\n"}, message="n")
    pull = int(github.open_pr(REPO, "alice", head="topic", title="Notes"))

    github.comment(REPO, "alice", pull, "/backend")

    reply = bot_comment_containing(rolecall, pull, "runs a role on an issue")["body"]
    assert reply.startswith("@alice `/backend` runs a role on an issue")
    [job] = rolecall.wait_for_jobs_to_settle()
    assert job["state"] == "failed"
    assert rolecall.stage.model.requests == []


def test_a_copilot_chat_mode_is_a_role_its_command_runs(rolecall: Rolecall) -> None:
    mark = "DEBUG-CHATMODE-INSTRUCTIONS-7d2a"
    chat_mode = (
        "---\ndescription: 'Find the cause of a bug and fix it'\n"
        "tools: ['codebase', 'editFiles', 'runCommands', 'githubRepo']\n"
        f"model: Claude Sonnet 4\n---\n{mark}: reproduce the failure, then fix its cause.\n"
    )
    put_on_main(rolecall, {".github/chatmodes/debug.chatmode.md": chat_mode})
    rolecall.stage.model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()

    rolecall.github.comment(REPO, "alice", issue, "/debug")

    tracking = rolecall.wait_for_outcome(issue)["body"]
    assert tracking.startswith("✅"), tracking
    assert "Role `debug`" in tracking
    first = rolecall.stage.model.requests[0].json
    assert mark in system_text(first)
    assert first["model"] == "claude-sonnet-4-0"  # "Claude Sonnet 4", from the model table
    # codebase finds, editFiles edits and creates, runCommands is the shell.
    assert tool_names(first) == ["Bash", "Edit", "Glob", "Grep", "Read", "Write"]
