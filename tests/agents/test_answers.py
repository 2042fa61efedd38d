"""Reading per-thread answers and review findings from what a model really writes."""

from __future__ import annotations

import pytest

from agents.answers import Finding, ThreadAnswer, parse_findings, parse_thread_answers

REFS = ["T1", "T2", "T3"]


def test_a_json_block_gives_one_answer_per_known_thread() -> None:
    message = """I added type hints and left the loop alone.

```json
[
  {"thread": "T1", "outcome": "changed", "reply": "Added hints."},
  {"thread": "t2", "outcome": "unchanged", "reply": "The loop is fine."},
  {"thread": "T9", "outcome": "changed", "reply": "No such thread."}
]
```
"""
    answers, summary = parse_thread_answers(message, REFS)
    assert answers == {
        "T1": ThreadAnswer("T1", True, "Added hints."),
        "T2": ThreadAnswer("T2", False, "The loop is fine."),
    }
    assert summary == "I added type hints and left the loop alone."


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ('{"threads": [{"thread": 1, "status": "fixed", "body": "Done."}]}', (True, "Done.")),
        ('[{"ref": "Thread T1", "outcome": "won\'t fix", "reply": "No."}]', (False, "No.")),
        ('[{"thread": "T1", "reply": "Looked at it."}]', (None, "Looked at it.")),
    ],
)
def test_near_misses_of_the_format_still_read(
    block: str, expected: tuple[bool | None, str]
) -> None:
    answers, _ = parse_thread_answers(f"Summary.\n\n```\n{block}\n```", REFS)
    assert (answers["T1"].changed, answers["T1"].reply) == expected


def test_the_last_block_that_reads_as_answers_wins() -> None:
    message = (
        'Ran:\n\n```json\n{"tests": "ok"}\n```\n\n'
        '```json\n[{"thread": "T1", "outcome": "changed", "reply": "Yes."}]\n```\n'
    )
    answers, summary = parse_thread_answers(message, REFS)
    assert answers["T1"].reply == "Yes."
    assert '{"tests": "ok"}' in summary


def test_markdown_sections_are_the_fallback() -> None:
    message = """Summary of the work.

### T1 — changed
Renamed `x` to `count`.

**T2** (not changed)
The reviewer's suggestion would break the API.

### Thread T3
I looked, nothing to do here.
"""
    answers, summary = parse_thread_answers(message, REFS)
    assert answers["T1"] == ThreadAnswer("T1", True, "Renamed `x` to `count`.")
    assert answers["T2"].changed is False and "break the API" in answers["T2"].reply
    assert answers["T3"].changed is None
    assert summary == "Summary of the work."


def test_no_structure_at_all_gives_no_answers_and_the_whole_summary() -> None:
    message = "I fixed everything the reviewer asked for."
    assert parse_thread_answers(message, REFS) == ({}, message)
    broken = 'Done.\n\n```json\n[{"thread": "T1", "outcome": \n```'
    assert parse_thread_answers(broken, REFS)[0] == {}


def test_an_overlong_reply_is_clipped() -> None:
    message = (
        '```json\n[{"thread": "T1", "outcome": "changed", "reply": "' + "x" * 9000 + '"}]\n```'
    )
    answers, _ = parse_thread_answers(message, REFS)
    assert len(answers["T1"].reply) == 4000 and answers["T1"].reply.endswith("…")


def test_findings_from_a_json_block() -> None:
    message = """The change is mostly right.

```json
[
  {"path": "src/a.py", "line": 12, "body": "Off by one."},
  {"path": "/src/b.py", "line": "7", "body": "Unused import."},
  {"path": "README.md", "body": "Mention the new flag."},
  {"path": "src/c.py", "line": 3, "body": ""}
]
```
"""
    findings, summary = parse_findings(message)
    assert findings == [
        Finding("src/a.py", 12, "Off by one."),
        Finding("src/b.py", 7, "Unused import."),
        Finding("README.md", None, "Mention the new flag."),
    ]
    assert summary == "The change is mostly right."


def test_an_empty_findings_block_means_nothing_found() -> None:
    assert parse_findings("Looks correct.\n\n```json\n[]\n```") == ([], "Looks correct.")


def test_path_line_lines_are_the_findings_fallback() -> None:
    message = (
        "Overall fine.\n\n- `src/a.py:12` — off by one\n2. docs/x.md:3: typo\n"
        "We met at 12:30 - it went well."
    )
    findings, summary = parse_findings(message)
    assert findings == [Finding("src/a.py", 12, "off by one"), Finding("docs/x.md", 3, "typo")]
    assert summary == "Overall fine.\n\nWe met at 12:30 - it went well."
