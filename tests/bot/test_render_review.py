"""What Rolecall posts in review cycles: thread replies, the fix summary, the review itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.answers import Finding
from bot.render import replies, tracking

PATCH = """@@ -1,3 +1,4 @@
 def add(a, b):
-    return a - b
+    return a + b
+
@@ -10,2 +11,3 @@ def sub(a, b):
 x = 1
+y = 2
 z = 3"""
SPEND = tracking.Spend(turns=2, input_tokens=100, output_tokens=20, cost_usd=Decimal("0.01"))


def test_right_side_lines_are_added_and_context_lines_of_each_hunk() -> None:
    assert replies.right_side_lines(PATCH) == frozenset({1, 2, 3, 11, 12, 13})
    assert replies.right_side_lines(None) == frozenset()
    assert replies.right_side_lines("@@ -0,0 +1,2 @@\n+a\n+b\n") == frozenset({1, 2})
    assert replies.right_side_lines("@@ -1,2 +0,0 @@\n-a\n-b") == frozenset()


def plan(findings: list[Finding], *, anchor: bool = True) -> replies.PlannedReview:
    return replies.plan_review(
        "Mostly fine.",
        findings,
        {"calc.py": replies.right_side_lines(PATCH)},
        focus="error handling",
        role="reviewer",
        model="claude-test",
        spend=SPEND,
        job_id=7,
        anchor=anchor,
    )


def test_findings_on_diff_lines_are_inline_others_go_in_the_body() -> None:
    planned = plan(
        [
            Finding("calc.py", 2, "Good fix."),
            Finding("calc.py", 5, "Not a line of the diff."),
            Finding("other.py", 1, "A file the PR does not change."),
            Finding("calc.py", None, "No line given."),
        ]
    )
    assert planned.comments == [
        {"path": "calc.py", "line": 2, "side": "RIGHT", "body": "Good fix."}
    ]
    assert planned.outside == 3
    assert "- `calc.py:5` — Not a line of the diff." in planned.body
    assert "- `other.py:1` — A file the PR does not change." in planned.body
    assert "- `calc.py` — No line given." in planned.body
    assert planned.body.startswith("Review focus: error handling\n\nMostly fine.")
    assert "never approves" in planned.body and planned.body.endswith("<!-- rolecall:job=7 -->")


def test_without_anchoring_every_finding_goes_in_the_body() -> None:
    planned = plan([Finding("calc.py", 2, "Good fix.")], anchor=False)
    assert planned.comments == [] and "- `calc.py:2` — Good fix." in planned.body


def test_no_findings_says_so() -> None:
    assert "No inline findings." in plan([]).body


@pytest.mark.parametrize(
    ("changed", "commit", "answer", "lead"),
    [
        (True, "abc123", "Renamed it.", "**Changed** in abc123. Renamed it."),
        (False, "abc123", "Kept on purpose.", "**Not changed.** Kept on purpose."),
        (True, None, "Renamed it.", "**Not changed**: the agent meant to change this"),
        (None, "abc123", "", "Rolecall pushed abc123 for this review. The agent did not"),
        (None, None, "", "Rolecall changed nothing for this review. The agent did not"),
    ],
)
def test_thread_reply_says_what_changed_or_why_not(
    changed: bool | None, commit: str | None, answer: str, lead: str
) -> None:
    outcome = replies.ThreadOutcome("T1", "calc.py", 2, changed, answer)
    body = replies.thread_reply(outcome, job_id=3, commit=commit, notes=["The branch moved."])
    assert body.startswith(lead)
    assert "_The branch moved._" in body
    assert body.endswith(replies.thread_marker(3, "T1"))


def test_fix_report_tables_every_thread() -> None:
    outcomes = [
        replies.ThreadOutcome("T1", "calc.py", 2, True, "x", "https://gh/pull/1#r1", True),
        replies.ThreadOutcome("T2", "a|b.py", None, False, "y"),
        replies.ThreadOutcome("T3", "c.py", 9, None, ""),
    ]
    report = replies.fix_report(
        outcomes, summary="All done.", branch="rolecall/x", commit="abc123", notes=["Rebased."]
    )
    assert report.startswith("Pushed abc123 to `rolecall/x`.")
    assert "| [T1](https://gh/pull/1#r1) | `calc.py` line 2 | changed, resolved |" in report
    assert "| T2 | `a\\|b.py` | not changed |" in report
    assert "| T3 | `c.py` line 9 | no answer |" in report
    assert "_Rebased._" in report and "All done." in report
    nothing = replies.fix_report([], summary="", branch="b", commit=None)
    assert nothing.startswith("No commits")


@pytest.mark.parametrize(
    ("kind", "heading", "deliver_label"),
    [
        ("fix", "✅ **Rolecall addressed the review feedback.**", "replied in each review thread"),
        ("review", "✅ **Rolecall reviewed this pull request.**", "Posted the review"),
        ("implement", "✅ **Rolecall opened a draft pull request: u**", "opened a draft pull"),
    ],
)
def test_tracking_comment_speaks_for_each_kind(kind: str, heading: str, deliver_label: str) -> None:
    body = tracking.tracking_comment(
        tracking.Tracking(
            job_id=1,
            role="r",
            model="m",
            phase="deliver",
            outcome="succeeded",
            pr_url="u",
            kind=kind,
            report="The report.",
        )
    )
    assert body.startswith(heading) and deliver_label in body and "The report." in body
    failed = tracking.tracking_comment(
        tracking.Tracking(
            job_id=1, role="r", model="m", phase="deliver", outcome="failed", kind=kind
        )
    )
    assert "stopped in the `deliver` phase" in failed and "The report." not in failed


def test_fork_refusal_and_moved_note_say_what_happened() -> None:
    assert "lives in a fork" in replies.fork_refusal("alice", 4)
    note = replies.moved_note("a" * 40, "b" * 40)
    assert "aaaaaaaaaaaa" in note and "bbbbbbbbbbbb" in note and "new head" in note
