"""Rolecall's own lines around agent text: they keep working, and only they act."""

from __future__ import annotations

from decimal import Decimal

from bot.render import pulls, replies, tracking
from bot.render.inert import inert_markdown, inert_plain_text
from tests import markdown_oracle

HOST = "github.com"
SPEND = tracking.Spend(turns=1, input_tokens=10, output_tokens=5, cost_usd=Decimal("0.001"))


def test_the_pull_request_body_keeps_rolecalls_sections_and_closing_line() -> None:
    summary = inert_markdown(
        "Done. Fixes #9 for @some-user.\n\n```python\n@decorator\n", github_host=HOST
    )
    stat = inert_plain_text(" ````weird.md | 1 +\n @owner.py   | 2 +-\n")
    body = pulls.pull_request_body(
        issue_number=3,
        summary=summary,
        commands=[pulls.CommandRun(inert_plain_text("echo @some-user Fixes #9"), 0)],
        role="implementer",
        model="m",
        spend=SPEND,
        diff_stat=stat,
        job_id=5,
    )
    found = markdown_oracle.live_parts(body, github_host=HOST, own_closing="Fixes #3")
    assert (
        found.mentions == [] and found.closing == [] and found.markers == [tracking.job_marker(5)]
    )
    html = markdown_oracle.render(body).html
    assert html.startswith("<p>Fixes #3</p>")
    assert "<h2>How it was verified</h2>" in html and "<h2>Run</h2>" in html
    # The list of files sits in a fence longer than any backtick run in a file name.
    assert "`````\n````weird.md" in body and "</details>" in html


def test_a_thread_the_commit_did_not_touch_is_said_to_stay_open() -> None:
    said = inert_markdown("Renamed it, @some-user.", github_host=HOST)
    outcome = replies.ThreadOutcome("T2", "README.md", 5, True, said, touched=False)
    reply = replies.thread_reply(outcome, job_id=4, commit="abc123")
    assert reply.startswith("**Still open**") and "abc123 does not change" in reply
    assert markdown_oracle.live_parts(reply, github_host=HOST).mentions == []
    report = replies.fix_report([outcome], summary=said, branch="b", commit="abc123")
    assert "left open" in report and "changed, resolved" not in report
