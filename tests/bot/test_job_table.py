"""`rolecall jobs` as a person reads it: each outcome one line of plain text, fitted."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cli.job_table import display_width, plain_text, render, shorten


@pytest.mark.parametrize(
    ("outcome", "shown"),
    [
        ("**Stopped early:** the `turn limit`", "Stopped early: the turn limit"),
        (
            "⚠️ **Rolecall cannot use `.github/rolecall.yml`**, so it started nothing:\n\n"
            "- line 3, `labels.x`: no role named `x`\n- line 9, `roles`: must be a mapping\n",
            "Rolecall cannot use .github/rolecall.yml, so it started nothing: line 3, labels.x: "
            "no role named x; line 9, roles: must be a mapping",
        ),
        ("Opened [#12](https://github.com/o/r/pull/12) <!-- rolecall:job 3 -->", "Opened #12"),
        ("See <https://example.com/a> and ![chart](c.png)", "See https://example.com/a and chart"),
        ("# Done\nThe tests pass\nnow.", "Done; The tests pass now."),
        ("> quoted\n> text", "quoted text"),
        ("<details><summary>Log</summary>\n\n```\nexit 1\n```\n</details>", "Log; exit 1"),
        (
            "snake_case_name stays, *this* and _that_ do not",
            "snake_case_name stays, this and that do not",
        ),
        (r"2 \* 3 \* 4 = 24, \_not emphasis\_", "2 * 3 * 4 = 24, _not emphasis_"),
        ("~~old~~ __new__", "old new"),
        # Exception reprs from an older ledger, shown plainly.
        ("RuntimeError('boom')", "RuntimeError: boom"),
        (
            'failed: httpx.ConnectError("[Errno 111] refused")',
            "failed: ConnectError: [Errno 111] refused",
        ),
        ("ValueError('it\\'s wrong', 3)", "ValueError: it's wrong"),
        ("httpx.ReadTimeout()", "ReadTimeout"),
        # Nothing that steers a terminal or draws nothing reaches it.
        ("red \x1b[31mtext\x07 here\u200b\U000e0041", "red [31mtext here"),
        ("\U00100041 private use is dropped", "private use is dropped"),
    ],
)
def test_outcomes_are_one_line_of_plain_text(outcome: str, shown: str) -> None:
    assert plain_text(outcome) == shown


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("The agent stopped at the turn limit", 40, "The agent stopped at the turn limit"),
        ("The agent stopped at the turn limit", 30, "The agent stopped at the turn…"),
        ("The agent stopped at the turn limit", 29, "The agent stopped at the…"),
        ("Stopped, at the limit", 9, "Stopped…"),  # no comma before the ellipsis
        ("https://github.com/octo/calc/pull/12", 12, "https://git…"),  # one word: cut in it
        ("漢字漢字漢字", 7, "漢字漢…"),  # wide characters take two columns
    ],
)
def test_shortened_at_a_word_with_an_ellipsis(text: str, width: int, shown: str) -> None:
    assert shorten(text, width) == shown
    assert display_width(shorten(text, width)) <= width


def job(number: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": number,
        "state": "succeeded",
        "role": "implementer",
        "kind": "implement",
        "repo_full_name": "octo/calc",
        "issue_number": number,
        "cost_usd": 0.25,
        "pr_url": None,
        "outcome": None,
        **fields,
    }


def test_the_table_fits_the_width_and_the_outcome_takes_what_is_left() -> None:
    long = "Opened a draft pull request that adds the divide function and a test for it. " * 3
    jobs = [
        job(12, pr_url="https://github.com/octo/calc/pull/13", outcome=long),
        job(3, pr_url="https://github.com/other/fork/pull/4", state="failed", cost_usd=None),
    ]
    for width in (90, 100, 160):
        lines = render(jobs, width)
        assert all(display_width(line) <= width for line in lines), lines
        assert lines[0].split() == ["ID", "STATE", "ROLE", "TARGET", "COST", "PR", "OUTCOME"]
        assert lines[1].split()[:6] == [
            "12",
            "succeeded",
            "implementer",
            "octo/calc#12",
            "$0.2500",
            "#13",
        ]
        assert lines[1].endswith("…") and display_width(lines[1]) >= width - 10
        assert lines[2].split() == [
            "3",
            "failed",
            "implementer",
            "octo/calc#3",
            "unknown",
            "other/fork#4",
            "-",
        ]


def test_a_narrow_terminal_still_gets_a_readable_outcome() -> None:
    """Below MIN_OUTCOME columns an outcome says nothing; the line runs over instead."""
    [_, row] = render([job(1, outcome="The tests pass and the pull request is open")], 40)
    assert row.endswith("  The tests pass and the…")


def test_long_targets_keep_their_issue_number() -> None:
    repo = "an-organisation-with-a-long-name/and-a-repository-with-one-too"
    [_, row] = render([job(7, repo_full_name=repo)], 200)
    target = row.split()[3]
    assert target.endswith("#7") and "…" in target and display_width(target) <= 40
