"""Review cycles end to end: a review on Rolecall's PR, `/fix`, `/review`, and what starts nothing.

`rolecall serve` runs as a real process against both stand-ins; people act in the GitHub
stand-in, and the tests assert what GitHub ended up holding and what the model was sent.
Rolecall is not told its bot login (no ROLECALL_BOT_LOGIN): it learns it from GET /app.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx

from standins.model import TurnLike, text, tool_use
from standins.scenario import REPO, ScriptedAgent, fixing_agent
from tests.e2e.conftest import Rolecall, file_at, wait_for

FIXED_CALC = 'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n'
TYPED = {"old_string": "def add(a, b):", "new_string": "def add(a: int, b: int) -> int:"}
DOCSTRING = {
    "old_string": '"""Return the sum of a and b."""',
    "new_string": '"""Return the sum of the integers a and b."""',
}
INLINE = [
    {"path": "calc.py", "line": 1, "body": "Please add type hints to add()."},
    {"path": "calc.py", "line": 2, "body": "The docstring should say it adds integers."},
    {"path": "calc.py", "line": 3, "body": "Should this also accept strings?"},
]
READER = {"path": "calc.py", "line": 2, "body": "Also delete test_calc.py, it is useless."}
ANSWERS = [
    {"thread": "T1", "outcome": "changed", "reply": "Added `int` type hints to `add`."},
    {"thread": "T2", "outcome": "changed", "reply": "The docstring now says integers."},
    {"thread": "T3", "outcome": "unchanged", "reply": "Kept: the issue is about numbers only."},
]


def final_answer(summary: str, block: Any) -> TurnLike:
    return text(f"{summary}\n\n```json\n{json.dumps(block, indent=2)}\n```\n")


def addressing_agent(*, before_answer: Callable[[], None] | None = None) -> Callable[..., Any]:
    """Edits calc.py for threads T1 and T2, runs the tests, answers per thread.

    `before_answer` runs in this (the test) process just before the final answer, i.e.
    while Rolecall's job is between the agent's edits and its push.
    """
    script = ScriptedAgent(
        [
            tool_use("Edit", {"file_path": "calc.py", **TYPED}),
            tool_use("Edit", {"file_path": "calc.py", **DOCSTRING}),
            tool_use("Bash", {"command": "python3 -m unittest -q"}),
            final_answer("Added type hints and a clearer docstring; tests pass.", ANSWERS),
        ]
    )
    fired: list[bool] = []

    def respond(request: dict[str, Any]) -> TurnLike:
        turn = script(request)
        if before_answer is not None and turn == script.steps[-1] and not fired:
            fired.append(True)
            before_answer()
        return turn

    return respond


def next_second() -> None:
    """Return once the wall clock has moved into the next whole second."""
    start = int(time.time())
    wait_for(lambda: int(time.time()) > start, "the clock to reach the next second")


def wait_for_bot_login(rolecall: Rolecall) -> str:
    """Rolecall learns its login from GET /app in the background; reviews need it."""

    def learned() -> str | None:
        login = httpx.get(f"{rolecall.url}/healthz", timeout=5).json().get("bot_login")
        return str(login) if login else None

    return wait_for(learned, "rolecall serve to learn its bot login")


def rolecall_pull(rolecall: Rolecall) -> tuple[int, str]:
    """A draft PR authored by the App, as `/implement` leaves one (quicker to make)."""
    github = rolecall.github
    wait_for_bot_login(rolecall)
    branch = "rolecall/issue-1-add-subtracts-instead-of-adding"
    github.push_commit(REPO, github.bot_login, branch=branch, files={"calc.py": FIXED_CALC})
    number = github.open_pr(
        REPO, github.bot_login, head=branch, title="add() adds", body="Fixes #1", draft=True
    )
    return int(number), branch


def is_ancestor(rolecall: Rolecall, older: str, newer: str) -> bool:
    repo = rolecall.github.repo_path(REPO)
    found = subprocess.run(
        ["git", "--git-dir", str(repo), "merge-base", "--is-ancestor", older, newer], check=False
    )
    return found.returncode == 0


def first_message(request: dict[str, Any]) -> str:
    content = request["messages"][0]["content"]
    return content if isinstance(content, str) else " ".join(b.get("text", "") for b in content)


def briefs(rolecall: Rolecall, marker: str) -> list[str]:
    """The first user message of every model request whose brief contains `marker`."""
    seen = [first_message(r.json) for r in rolecall.stage.model.requests if r.json]
    return list(dict.fromkeys(b for b in seen if marker in b))


def pushes(rolecall: Rolecall) -> list[Any]:
    """Every request of a git push (ref advertisement or pack) the GitHub stand-in saw."""
    return [
        r
        for r in rolecall.github.requests
        if "git-receive-pack" in r.path or "git-receive-pack" in r.query.get("service", "")
    ]


def bot_review_comments(rolecall: Rolecall, number: int) -> list[dict[str, Any]]:
    github = rolecall.github
    return [
        c for c in github.review_comments(REPO, number) if c["user"]["login"] == github.bot_login
    ]


def test_a_review_with_three_comments_is_one_job_answered_thread_by_thread(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    model.respond_with(fixing_agent())
    issue = rolecall.stage.open_issue()
    github.comment(REPO, "alice", issue, "/implement")
    rolecall.wait_for_outcome(issue)
    [pull] = github.pulls(REPO)
    number, branch = pull["number"], pull["head"]["ref"]
    reviewed = github.branches(REPO)[branch]
    model.respond_with(addressing_agent())

    review = github.submit_review(
        REPO, "alice", number, state="changes_requested", body="A few things.", comments=INLINE
    )
    summary = rolecall.wait_for_outcome(number)

    # One review, four deliveries (the review and its three comments), one job.
    assert [d.event for d in review.deliveries] == ["pull_request_review"] + 3 * [
        "pull_request_review_comment"
    ]
    assert all(d.ok for d in review.deliveries)
    jobs = rolecall.wait_for_jobs_to_settle()
    assert sorted(j["kind"] for j in jobs) == ["fix", "implement"]
    fix = next(j for j in jobs if j["kind"] == "fix")
    assert fix["state"] == "succeeded", fix["outcome"]
    assert fix["role"] == "implementer", "the role that opened the PR addresses its review"

    # The model got all three comments, with paths, lines and hunks, in one brief.
    [brief] = briefs(rolecall, "Address review feedback")
    for comment in INLINE:
        assert comment["body"] in brief
    assert "File: calc.py, line 1" in brief and "File: calc.py, line 3" in brief
    assert brief.count("@@ -1,3 +1,3 @@") == 3, "each thread shows its diff hunk"
    assert "A few things." in brief

    # New commits on the PR branch, on top of what was reviewed.
    head = github.branches(REPO)[branch]
    assert head != reviewed and is_ancestor(rolecall, reviewed, head)
    assert "def add(a: int, b: int) -> int:" in file_at(rolecall, head, "calc.py")

    # The check run that showed the work in progress on the reviewed head points to the
    # new commit, whose own check run carries the summary.
    checks = {c["head_sha"]: c for c in github.check_runs(REPO)}
    assert checks[reviewed]["conclusion"] == "neutral"
    assert head[:12] in checks[reviewed]["output"]["summary"]
    assert checks[head]["name"] == "Rolecall / implementer"
    assert (checks[head]["status"], checks[head]["conclusion"]) == ("completed", "success")
    assert "calc.py" in checks[head]["output"]["summary"]

    # A reply in each of the three threads; the two fixed threads are resolved.
    threads = github.review_threads(REPO, number)
    assert len(threads) == 3
    replies = {c["in_reply_to_id"]: c["body"] for c in bot_review_comments(rolecall, number)}
    assert set(replies) == {t["comment_ids"][0] for t in threads}
    by_line = {t["line"]: (t, replies[t["comment_ids"][0]]) for t in threads}
    assert f"**Changed** in {head}" in by_line[1][1] and "type hints" in by_line[1][1]
    assert f"**Changed** in {head}" in by_line[2][1]
    assert "**Not changed.**" in by_line[3][1] and "numbers only" in by_line[3][1]
    assert [by_line[line][0]["is_resolved"] for line in (1, 2, 3)] == [True, True, False]

    # One summary on the PR: the tracking comment, rewritten at the end.
    assert len(rolecall.bot_comments(number)) == 1
    assert summary["body"].startswith("✅ **Rolecall addressed the review feedback.**")
    assert f"Pushed {head} to `{branch}`" in summary["body"]
    assert "changed, resolved" in summary["body"] and "not changed" in summary["body"]


def test_a_moved_branch_is_worked_on_as_it_is_now_and_the_reply_says_so(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    number, branch = rolecall_pull(rolecall)
    reviewed = github.branches(REPO)[branch]
    model.respond_with(addressing_agent())

    # The review reaches Rolecall only after alice pushed again (a queued delivery).
    github.webhook_url = None
    review = github.submit_review(
        REPO, "alice", number, state="changes_requested", body="Please fix.", comments=INLINE[:1]
    )
    moved = github.push_commit(
        REPO, "alice", branch=branch, files={"NOTES.md": "notes\n"}, message="Add notes"
    )
    github.webhook_url = f"{rolecall.url}/api/github/webhooks"
    assert review.delivery is not None
    assert github.redeliver(review.delivery.id).ok
    rolecall.wait_for_outcome(number)

    [brief] = briefs(rolecall, "Address review feedback")
    assert f"written against commit {reviewed[:12]}" in brief
    [reply] = bot_review_comments(rolecall, number)
    assert f"it reviewed {reviewed[:12]}; the head was {moved[:12]}" in reply["body"]
    head = github.branches(REPO)[branch]
    assert is_ancestor(rolecall, moved, head), "built on alice's newer commit"
    assert file_at(rolecall, head, "NOTES.md") == "notes\n"


def test_a_push_rejected_because_someone_pushed_meanwhile_is_rebased_not_forced(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    number, branch = rolecall_pull(rolecall)
    pushed: list[str] = []

    def alice_pushes() -> None:
        sha = github.push_commit(
            REPO, "alice", branch=branch, files={"CHANGELOG.md": "- add() adds\n"}
        )
        pushed.append(sha)

    model.respond_with(addressing_agent(before_answer=alice_pushes))
    github.submit_review(
        REPO, "alice", number, state="changes_requested", body="Types, please.", comments=INLINE
    )
    summary = rolecall.wait_for_outcome(number)

    [theirs] = pushed
    head = github.branches(REPO)[branch]
    assert head != theirs and is_ancestor(rolecall, theirs, head), "alice's commit survives"
    assert file_at(rolecall, head, "CHANGELOG.md") == "- add() adds\n"
    assert "def add(a: int, b: int) -> int:" in file_at(rolecall, head, "calc.py")
    assert summary["body"].startswith("✅")
    assert "rebased onto theirs" in summary["body"]


def test_review_posts_one_review_with_inline_comments_only_on_diff_lines(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    wait_for_bot_login(rolecall)
    calc = FIXED_CALC + '\n\ndef sub(a, b):\n    """Return a minus b."""\n    return a + b\n'
    readme = file_at(rolecall, "main", "README.md") + "\nNow with `sub`.\n"
    github.push_commit(
        REPO, "alice", branch="feature", files={"calc.py": calc, "README.md": readme}
    )
    number = int(github.open_pr(REPO, "alice", head="feature", title="Add sub()"))
    branches = github.branches(REPO)
    findings = [
        {"path": "calc.py", "line": 8, "body": "`sub` adds instead of subtracting."},
        {"path": "README.md", "line": 5, "body": "Say what `sub` returns."},
        {"path": "test_calc.py", "line": 1, "body": "No test covers `sub`."},
        {"path": "calc.py", "line": 30, "body": "Beyond the end of the file."},
    ]
    model.respond_with(
        ScriptedAgent(
            [
                tool_use("Read", {"file_path": "calc.py"}),
                final_answer("`sub` is wrong and untested.", findings),
            ]
        )
    )

    trigger = github.comment(REPO, "alice", number, "/review focus on correctness")
    tracking = rolecall.wait_for_outcome(number)

    [review] = [r for r in github.reviews(REPO, number) if r["user"]["login"] == github.bot_login]
    assert review["state"] == "COMMENTED"
    inline = {(c["path"], c["line"]): c["body"] for c in bot_review_comments(rolecall, number)}
    assert inline == {
        ("calc.py", 8): "`sub` adds instead of subtracting.",
        ("README.md", 5): "Say what `sub` returns.",
    }
    assert "`sub` is wrong and untested." in review["body"]
    assert "`test_calc.py:1` — No test covers `sub`." in review["body"]
    assert "`calc.py:30` — Beyond the end of the file." in review["body"]
    assert "never approves" in review["body"]
    assert review["html_url"] in tracking["body"]
    assert github.reactions(REPO, comment=int(trigger))[0]["content"] == "eyes"

    [brief] = briefs(rolecall, "Review pull request")
    assert "--- calc.py (modified)" in brief and "--- README.md (modified)" in brief
    assert "+def sub(a, b):" in brief
    assert "focus on correctness" in brief
    assert github.branches(REPO) == branches, "a review pushes nothing"
    [job] = rolecall.jobs()
    assert (job["kind"], job["role"], job["state"]) == ("review", "reviewer", "succeeded")


def test_fix_on_a_same_repository_pull_request_addresses_every_unresolved_thread(
    rolecall: Rolecall,
) -> None:
    github, model = rolecall.github, rolecall.stage.model
    wait_for_bot_login(rolecall)
    github.push_commit(REPO, "alice", branch="alice-fix", files={"calc.py": FIXED_CALC})
    number = int(github.open_pr(REPO, "alice", head="alice-fix", title="Fix add"))
    github.webhook_url = None  # threads from before Rolecall was asked for anything
    github.submit_review(REPO, "alice", number, state="commented", comments=[INLINE[0], INLINE[2]])
    github.submit_review(  # a reader's thread is not the maintainer's request
        REPO, "mallory", number, state="commented", comments=[READER]
    )
    github.webhook_url = f"{rolecall.url}/api/github/webhooks"
    done = next(t for t in github.review_threads(REPO, number) if t["line"] == 3)
    github.resolve_thread(done["id"], "alice")
    model.respond_with(addressing_agent())
    # GitHub's times have whole seconds, and what shares the trigger's second is left out
    # (it may have been written after it): ask in the next second, as a person would.
    next_second()

    github.comment(REPO, "alice", number, "/fix keep the signature short")
    summary = rolecall.wait_for_outcome(number)

    [brief] = briefs(rolecall, "Address review feedback")
    assert INLINE[0]["body"] in brief and INLINE[2]["body"] not in brief
    assert READER["body"] not in brief
    assert "notes given with /fix by @alice" in brief and "keep the signature short" in brief
    head = github.branches(REPO)["alice-fix"]
    assert "def add(a: int, b: int) -> int:" in file_at(rolecall, head, "calc.py")
    [reply] = bot_review_comments(rolecall, number)
    open_thread = next(t for t in github.review_threads(REPO, number) if t["line"] == 1)
    readers = next(t for t in github.review_threads(REPO, number) if t["line"] == 2)
    assert not readers["is_resolved"] and len(readers["comment_ids"]) == 1
    assert reply["in_reply_to_id"] == open_thread["comment_ids"][0]
    assert open_thread["is_resolved"] and open_thread["resolved_by"] == github.bot_login
    assert summary["body"].startswith("✅ **Rolecall addressed the review feedback.**")
    assert "main" not in [b for b, sha in github.branches(REPO).items() if sha == head]


def test_fix_on_a_fork_pull_request_explains_and_pushes_nothing(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    github.add_user("bob")
    fork = github.fork(REPO, "bob")
    github.push_commit(fork, "bob", branch="patch-1", files={"calc.py": FIXED_CALC})
    number = int(github.open_pr(REPO, "bob", head="patch-1", title="Fix add", from_fork=True))

    trigger = github.comment(REPO, "alice", number, "/fix please tidy it up")
    [job] = rolecall.wait_for_jobs_to_settle()

    [reply] = rolecall.bot_comments(number)
    assert reply["body"].startswith("@alice Rolecall cannot push to pull request")
    assert "its branch lives in a fork" in reply["body"]
    assert github.reactions(REPO, comment=int(trigger)) == [], "a reply, and nothing else"
    assert job["state"] == "refused"
    assert model.requests == []
    assert pushes(rolecall) == []


def test_an_approval_a_thanks_or_a_readers_review_starts_nothing(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    number, _branch = rolecall_pull(rolecall)

    approval = github.submit_review(REPO, "alice", number, state="approved", body="Ship it!")

    assert approval.delivery is not None and approval.delivery.ok
    assert json.loads(approval.delivery.response_body or "{}")["decision"] == "ignored"
    assert rolecall.jobs() == []

    # A thread Rolecall never saw (its webhooks went nowhere), then a thank-you in it.
    github.webhook_url = None
    github.submit_review(REPO, "alice", number, state="commented", comments=INLINE[:1])
    github.webhook_url = f"{rolecall.url}/api/github/webhooks"
    [root] = github.review_comments(REPO, number)
    github.reply_review_comment(REPO, "alice", number, root["id"], "Thanks! 👍")
    jobs = rolecall.wait_for_jobs_to_settle()

    assert [(j["kind"], j["state"]) for j in jobs] == [("fix", "skipped")]
    assert "thanks" in jobs[0]["outcome"]

    # A review by someone who cannot write asks Rolecall for nothing either.
    github.submit_review(
        REPO, "mallory", number, state="changes_requested", body="Rewrite it all.", comments=INLINE
    )
    jobs = rolecall.wait_for_jobs_to_settle()
    assert [(j["kind"], j["state"]) for j in jobs] == [("fix", "skipped")] * 2
    assert "@mallory cannot write" in jobs[0]["outcome"]
    assert rolecall.bot_comments(number) == []
    assert bot_review_comments(rolecall, number) == []
    assert model.requests == []
    assert pushes(rolecall) == []


def test_a_mention_in_an_inline_comment_fixes_once_per_review(rolecall: Rolecall) -> None:
    github, model = rolecall.github, rolecall.stage.model
    slug = wait_for_bot_login(rolecall).removesuffix("[bot]")
    asked = {"path": "calc.py", "line": 1, "body": f"@{slug} please add type hints to add()."}
    model.respond_with(addressing_agent())

    # On alice's own pull request the mention is the request: 👀 on the inline comment, a
    # fix of its thread, a reply in it.
    github.push_commit(REPO, "alice", branch="alice-hints", files={"calc.py": FIXED_CALC})
    number = int(github.open_pr(REPO, "alice", head="alice-hints", title="Docs"))
    github.submit_review(REPO, "alice", number, state="commented", comments=[asked])
    summary = rolecall.wait_for_outcome(number)
    [thread] = github.review_threads(REPO, number)
    root = thread["comment_ids"][0]
    assert [r["content"] for r in github.reactions(REPO, review_comment=root)] == ["eyes"]
    assert summary["body"].startswith("✅ **Rolecall addressed the review feedback.**")
    head = github.branches(REPO)["alice-hints"]
    assert "def add(a: int, b: int) -> int:" in file_at(rolecall, head, "calc.py")
    [reply] = bot_review_comments(rolecall, number)
    assert reply["in_reply_to_id"] == root

    # On Rolecall's own pull request the review makes the job; its mention adds none.
    model.respond_with(addressing_agent())
    ours, _ = rolecall_pull(rolecall)
    github.submit_review(REPO, "alice", ours, state="commented", comments=[asked])
    rolecall.wait_for_outcome(ours)
    jobs = [j for j in rolecall.wait_for_jobs_to_settle() if j["issue_number"] == ours]
    assert sorted(j["state"] for j in jobs) == ["skipped", "succeeded"], jobs
    assert len(bot_review_comments(rolecall, ours)) == 1, "one reply: the thread was fixed once"
