"""Pushed code runs no CI until a writer asks (invariant 8; issue #9, section 2).

An agent's push can carry code that CI runs with the repository's secrets: a Makefile, a
`conftest.py`, a test, a composite action. So every commit Rolecall pushes carries
GitHub's `[skip ci]` marker (unless `.github/rolecall.yml` opts the repository out with
`ci: {run_on_push: true}`), and CI runs only once a person with write access comments
`/ci` on the pull request: Rolecall then adds an empty commit without the marker, with
the head's own tree, so CI runs on exactly the code that person looked at.

The first tests are the pure decisions; the last drive `rolecall serve` and read what the
GitHub stand-in's bare repository ended up holding.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.github import BranchPush, PullInfo
from bot.jobs.ci_gate import (
    SKIP_MARKER,
    ci_commit_message,
    ci_marker,
    granted_paths,
    has_skip_marker,
    made_by_job,
    moved_refusal,
    target_refusal,
    with_ci_marker,
)
from handlers.config_parsing import parse_config
from handlers.decisions import StartJob
from handlers.dispatch import dispatch
from standins.scenario import REPO
from tests.e2e.conftest import wait_for
from tests.handlers.handler_payloads import PR_LINKS, comment_job, payload
from tests.security.conftest import World

BOT = "rolecall[bot]"
ASKED = datetime(2025, 3, 1, 12, 0, 10, tzinfo=UTC)
HEAD = "a" * 40

# --- the marker -------------------------------------------------------------------------------


def test_every_push_carries_the_skip_marker_unless_the_repository_opts_out() -> None:
    assert ci_marker(parse_config(None)) == SKIP_MARKER == "[skip ci]"
    assert ci_marker(None) == SKIP_MARKER, "no config read (yet): fail closed"
    assert ci_marker(parse_config("ci: {run_on_push: true}\n")) == ""


@pytest.mark.parametrize(
    ("message", "marked"),
    [
        ("feat: add mul()\n\nRequested in #3.", "feat: add mul() [skip ci]\n\nRequested in #3."),
        ("fix: review", "fix: review [skip ci]"),
        ("", "[skip ci]"),
        ("wip [skip ci]\n\nbody", "wip [skip ci]\n\nbody"),  # never twice
    ],
)
def test_the_marker_goes_on_the_subject_line(message: str, marked: str) -> None:
    assert with_ci_marker(message, parse_config(None)) == marked
    assert has_skip_marker(marked)
    opted_out = parse_config("ci:\n  run_on_push: true\n")
    assert with_ci_marker(message, opted_out) == message


@pytest.mark.parametrize(
    ("message", "skips"),
    [
        ("x [skip ci]", True),
        ("x [ci skip]", True),
        ("x [no ci]", True),
        ("x [skip actions]", True),
        ("x [actions skip]", True),
        ("x [SKIP CI]", True),
        ("subject\n\nbody [skip ci]", True),
        ("subject\n\n\nskip-checks: true", True),
        ("subject\n\n\nskip-checks:true", True),
        ("ci: run CI", False),
        ("skip ci", False),
        ("[skipci]", False),
    ],
)
def test_which_messages_github_skips(message: str, skips: bool) -> None:
    assert has_skip_marker(message) is skips


def test_the_ci_commit_has_no_marker_and_names_its_job() -> None:
    message = ci_commit_message(head_sha=HEAD, sender="alice", number=7, job_id=42)
    assert not has_skip_marker(message)
    assert HEAD in message and "#7" in message and "@" not in message
    assert made_by_job(message, 42) and not made_by_job(message, 4) and not made_by_job("x", 42)


def test_a_roles_grants_come_from_the_default_branch_config_only() -> None:
    config = parse_config("roles:\n  Backend:\n    may_change: ['.github/actions/**']\n")
    assert granted_paths(config, "backend") == (".github/actions/**",)
    assert granted_paths(config, "planner") == ()
    assert granted_paths(None, "backend") == (), "no config read: nothing is granted"


# --- which branch /ci may move ------------------------------------------------------------------


def _pull(**changes: Any) -> PullInfo:
    fields: dict[str, Any] = {
        "number": 7,
        "state": "open",
        "title": "Add mul()",
        "body": "",
        "author": BOT,
        "html_url": "https://github.com/octo/calc/pull/7",
        "head_ref": "rolecall/issue-3-add-mul",
        "head_sha": HEAD,
        "head_repo": "octo/calc",
        "base_ref": "main",
        "base_repo": "octo/calc",
    }
    fields.update(changes)
    return PullInfo(**fields)


@pytest.mark.parametrize(
    ("pull", "rolecall_pushed", "refused_because"),
    [
        (_pull(), False, None),  # Rolecall's own branch
        (_pull(head_ref="feature", author="alice"), True, None),  # a PR branch it pushed to
        (_pull(head_ref="feature", author="alice"), False, "Rolecall has not pushed"),
        (_pull(state="closed"), True, "closed"),
        (_pull(head_repo="mallory/calc"), True, "fork"),
        (_pull(head_repo=None), True, "fork"),
        (_pull(head_ref="main", author="alice"), True, "default branch"),
        (_pull(head_ref="Main", author="alice"), True, "default branch"),
    ],
)
def test_ci_moves_only_rolecall_branches_never_the_default_one(
    pull: PullInfo, rolecall_pushed: bool, refused_because: str | None
) -> None:
    refusal = target_refusal(pull, default_branch="main", rolecall_pushed=rolecall_pushed)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal, refusal


def _push(after: str = HEAD, at: datetime = ASKED - timedelta(seconds=5)) -> BranchPush:
    return BranchPush(before="b" * 40, after=after, actor=BOT, at=at)


@pytest.mark.parametrize(
    ("last", "refused_because"),
    [
        (_push(), None),
        (_push(at=ASKED - timedelta(seconds=1)), None),
        # GitHub's clock has whole seconds: a push in the command's second may be later.
        (_push(at=ASKED), "after"),
        (_push(at=ASKED + timedelta(minutes=1)), "after"),
        (_push(after="c" * 40), "moved"),  # the branch moved while Rolecall looked
        (None, "cannot tell"),
    ],
)
def test_ci_runs_only_on_the_head_that_existed_when_it_was_asked(
    last: BranchPush | None, refused_because: str | None
) -> None:
    refusal = moved_refusal(last, head_sha=HEAD, asked_at=ASKED)
    if refused_because is None:
        assert refusal is None
    else:
        assert refusal is not None and refused_because in refusal, refusal


def test_slash_ci_on_a_pull_request_is_a_job_of_its_own() -> None:
    body = payload(
        "issue_comment.created.with-installation",
        **{"comment.body": "/ci", "issue.pull_request": PR_LINKS},
    )
    decision = dispatch("issue_comment", body, bot_login=BOT)
    assert decision == comment_job(
        "ci",
        "",
        is_pull_request=True,
        command="ci",
        reason="/ci by @Codertocat on #1",
    )
    assert isinstance(decision, StartJob)


# --- end to end --------------------------------------------------------------------------------

FIXED = "def add(a, b):\n    return a + b\n"


def _next_second() -> None:
    """GitHub's timestamps are whole seconds: let the command come after the push."""
    start = int(time.time())
    wait_for(lambda: int(time.time()) > start, "the next second", timeout=5)


def _rolecall_pull(world: World, *, branch: str | None = None, author: str | None = None) -> int:
    """A draft PR whose head Rolecall pushed with the marker, as its delivery does."""
    github = world.github
    bot = github.bot_login
    branch = branch or f"rolecall/issue-{uuid.uuid4().hex[:6]}-ci"
    github.push_commit(
        REPO, bot, branch=branch, files={"calc.py": FIXED}, message="fix: add() adds [skip ci]"
    )
    number = int(github.open_pr(REPO, author or bot, head=branch, title="Fix add()", draft=True))
    _next_second()
    return number


def _head(world: World, number: int) -> str:
    return str(world.github.pull(REPO, number)["head"]["sha"])


def _commit_posts(world: World) -> list[Any]:
    return [
        r for r in world.github_requests() if r.method in ("POST", "PATCH") and "/git/" in r.path
    ]


@pytest.mark.usefixtures("bwrap")
def test_a_writers_ci_adds_one_empty_commit_without_the_marker(world: World) -> None:
    number = _rolecall_pull(world)
    before = _head(world, number)
    world.github.comment(REPO, "alice", number, "/ci")
    [job] = world.jobs_on(number)
    assert job["kind"] == "ci" and job["state"] == "succeeded", job
    after = _head(world, number)
    branch = world.github.pull(REPO, number)["head"]["ref"]
    assert world.github.branches(REPO)[branch] == after != before
    assert world.git("rev-list", "--count", f"{before}..{after}") == "1"
    assert world.git("rev-parse", f"{after}^") == before
    assert world.git("rev-parse", f"{after}^{{tree}}") == world.git(
        "rev-parse", f"{before}^{{tree}}"
    ), "CI must run on exactly the code that was asked about"
    message = world.git("log", "-1", "--format=%B", after)
    assert not has_skip_marker(message), message
    assert world.git("log", "-1", "--format=%an", after) == world.github.bot_login
    [reply] = world.bot_comments(number)
    assert reply["body"].startswith("✅") and after[:12] in reply["body"], reply["body"]
    assert before[:12] in reply["body"]
    assert world.model_requests() == [], "/ci runs no agent"


@pytest.mark.usefixtures("bwrap")
def test_a_readers_ci_does_nothing(world: World) -> None:
    number = _rolecall_pull(world)
    before = _head(world, number)
    world.github.comment(REPO, "mallory", number, "/ci")
    [job] = world.jobs_on(number)
    assert job["state"] == "refused", job
    assert _head(world, number) == before
    assert _commit_posts(world) == [], "no commit was even created"


@pytest.mark.usefixtures("bwrap")
def test_ci_never_moves_a_branch_rolecall_did_not_push(world: World) -> None:
    github = world.github
    branch = f"alice-{uuid.uuid4().hex[:6]}"
    github.push_commit(REPO, "alice", branch=branch, files={"calc.py": FIXED}, message="mine")
    number = int(github.open_pr(REPO, "alice", head=branch, title="Alice's fix"))
    _next_second()
    before = _head(world, number)
    github.comment(REPO, "alice", number, "/ci")
    [job] = world.jobs_on(number)
    assert job["state"] == "refused", job
    assert "Rolecall has not pushed" in job["outcome"]
    assert _head(world, number) == before and _commit_posts(world) == []


@pytest.mark.usefixtures("bwrap")
def test_ci_is_refused_when_the_head_moved_after_it_was_asked(world: World) -> None:
    number = _rolecall_pull(world)
    asked = world.comment_payload("alice", number, "/ci")
    _next_second()
    branch = world.github.pull(REPO, number)["head"]["ref"]
    world.github.push_commit(
        REPO,
        world.github.bot_login,
        branch=branch,
        files={"conftest.py": "import os\nprint(os.environ)\n"},
        message="later, unreviewed [skip ci]",
    )
    moved = _head(world, number)
    answer = world.post_webhook("issue_comment", asked)
    assert answer.status_code == 202, answer.text
    [job] = world.jobs_on(number)
    assert job["state"] == "refused" and "after" in job["outcome"], job
    assert _head(world, number) == moved and _commit_posts(world) == []


@pytest.mark.usefixtures("bwrap")
def test_ci_on_an_issue_says_where_it_works(world: World) -> None:
    number = world.new_issue("Run CI please")
    world.github.comment(REPO, "alice", number, "/ci")
    [job] = world.jobs_on(number)
    assert job["state"] == "refused", job
    [reply] = world.bot_comments(number)
    assert "`/ci`" in reply["body"] and "pull request" in reply["body"]
    assert _commit_posts(world) == []
