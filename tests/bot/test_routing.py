"""Which role a command or label runs in a repository: a table of the routing rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from handlers.decisions import StartJob
from handlers.roles import Refuse, RepoSetup, RunRole, Skip, build_setup, plausibly_ours, resolve

BACKEND = "---\nname: backend\ndescription: Backend work.\ntools: Read, Edit\n---\nBackend.\n"
CONFIG = """\
default_role: backend
commands:
  be: backend
labels:
  needs-backend: backend
"""


def setup(config: str | None = CONFIG, **files: str) -> RepoSetup:
    return build_setup(
        "main",
        config,
        {".claude/agents/backend.md": BACKEND, **files},
        default_model="sonnet",
        providers=["anthropic", "ollama"],
    )


def comment(command: str, *, on_pull: bool = False) -> StartJob:
    return StartJob(
        kind="implement",
        role=command,
        repo_full_name="octo/calc",
        repo_id=1,
        installation_id=1,
        issue_number=3,
        is_pull_request=on_pull,
        comment_id=9,
        sender_login="alice",
        notes="",
        trigger_at=datetime(2024, 1, 1, tzinfo=UTC),
        trigger="comment",
        command=command,
    )


def label(name: str) -> StartJob:
    return replace(comment(""), trigger="label", label=name, comment_id=None, command="")


@pytest.mark.parametrize(
    ("decision", "role"),
    [
        (comment("implement"), "backend"),  # default_role
        (comment("implementer"), "implementer"),  # a role's own name, built-in ones too
        (comment("backend"), "backend"),
        (comment("be"), "backend"),  # a command mapped in the config
        (comment("planner"), "planner"),
        (label("needs-backend"), "backend"),  # a label mapped in the config
        (label("Needs-Backend"), "backend"),
        (label("rolecall:backend"), "backend"),  # the default label for every role
        (label("rolecall:planner"), "planner"),
    ],
)
def test_commands_and_labels_that_name_a_role_run_it(decision: StartJob, role: str) -> None:
    route = resolve(decision, setup())
    assert isinstance(route, RunRole) and route.role.name == role


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        (comment("shrug"), "`/shrug` names no command or role in this repository"),
        (comment("cc"), "`/cc` names no command or role in this repository"),
        (label("bug"), "label `bug` names no command or role in this repository"),
        (label("backend"), "label `backend` names no command or role in this repository"),
    ],
)
def test_what_names_nothing_here_is_skipped_quietly(decision: StartJob, reason: str) -> None:
    assert resolve(decision, setup()) == Skip(reason)


def test_without_a_config_implement_runs_the_implementer() -> None:
    route = resolve(comment("implement"), setup(None))
    assert isinstance(route, RunRole) and route.role.name == "implementer"
    assert isinstance(resolve(comment("be"), setup(None)), Skip)


def test_a_role_file_only_a_pull_request_has_is_not_a_role() -> None:
    # build_setup only ever sees the default branch's files (bot.jobs.setup reads them).
    assert isinstance(resolve(comment("sneaky"), setup()), Skip)


def test_a_rolecall_label_for_a_missing_role_says_which_roles_exist() -> None:
    route = resolve(label("rolecall:backnd"), setup())
    assert isinstance(route, Refuse)
    assert "no role of that name" in route.message and "`backend`" in route.message


def test_a_role_command_on_a_pull_request_says_roles_run_on_issues() -> None:
    route = resolve(comment("backend", on_pull=True), setup())
    assert isinstance(route, Refuse)
    assert route.message.startswith("@alice `/backend` runs a role on an issue")


BROKEN = "commands:\n  be: backend\nroles:\n  backend:\n    max_turns: 0\n"


@pytest.mark.parametrize(
    "decision",
    [
        comment("implement"),
        comment("help"),
        comment("backend"),  # a role's name
        comment("be"),  # named by the broken file itself
        label("rolecall:backend"),
        label("backend"),  # a role's name
    ],
)
def test_a_broken_config_is_reported_to_whatever_was_meant_for_rolecall(
    decision: StartJob,
) -> None:
    route = resolve(decision, setup(BROKEN))
    assert isinstance(route, Refuse)
    assert "line 5, `roles.backend.max_turns`: must be at least 1" in route.message


@pytest.mark.parametrize("decision", [comment("shrug"), label("bug")])
def test_a_broken_config_stays_quiet_for_what_was_never_meant_for_rolecall(
    decision: StartJob,
) -> None:
    assert isinstance(resolve(decision, setup(BROKEN)), Skip)


def test_config_references_are_checked_against_the_roles() -> None:
    found = setup("labels:\n  x: backnd\nroles:\n  ghost: {max_turns: 3}\n")
    assert [(p.key, p.line) for p in found.problems] == [("labels.x", 2), ("roles.ghost", 4)]
    found = setup("models:\n  fast: nowhere,fast-1\n")
    assert [p.key for p in found.problems] == ["models.fast"]


@pytest.mark.parametrize(
    ("decision", "ours"),
    [
        (comment("implement"), True),
        (comment("status"), True),
        (comment("planner"), True),
        (comment("backend"), False),
        (label("rolecall:x"), True),
        (label("bug"), False),
    ],
)
def test_without_the_repository_only_builtins_count_as_ours(decision: StartJob, ours: bool) -> None:
    assert plausibly_ours(decision) is ours
