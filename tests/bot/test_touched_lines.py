"""handlers.touched_lines: which review threads a commit really changed, read from git's diff."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from handlers.touched_lines import FileChange, ThreadSpan, file_change, thread_span, touches

BEFORE = "".join(f"line {n}\n" for n in range(1, 21))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def change_of(tmp_path: Path, after: str | bytes, before: str | bytes = BEFORE) -> FileChange:
    """How git's own zero-context diff (as Rolecall reads it) says `before` became `after`."""
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    git(repo, "init", "-q")
    target = repo / "f.txt"
    target.write_bytes(before.encode() if isinstance(before, str) else before)
    git(repo, "add", "f.txt")
    git(repo, "commit", "-qm", "before")
    target.write_bytes(after.encode() if isinstance(after, str) else after)
    git(repo, "commit", "-qam", "after")
    return file_change(git(repo, "diff", "-U0", "--no-renames", "HEAD~1", "HEAD", "--", "f.txt"))


def lines_replaced(numbers: dict[int, str]) -> str:
    return "".join(numbers.get(n, f"line {n}\n") for n in range(1, 21))


@pytest.mark.parametrize(
    ("after", "span", "touched"),
    [
        (lines_replaced({5: "five\n"}), (5, 5), True),
        (lines_replaced({5: "five\n"}), (3, 7), True),
        (lines_replaced({5: "five\n"}), (6, 9), False),
        (lines_replaced({5: "five\n"}), (1, 4), False),
        (lines_replaced({5: ""}), (5, 5), True),  # deleted
        (lines_replaced({5: "line 5\nnew\n"}), (5, 5), True),  # inserted right after
        (lines_replaced({5: "new\nline 5\n"}), (5, 5), True),  # inserted right before
        (lines_replaced({5: "line 5\nnew\n"}), (7, 8), False),
        (lines_replaced({10: "ten\n", 11: "eleven\n"}), (11, 12), True),
        (BEFORE + "line 21\n", (20, 20), True),  # appended below the last line
        (BEFORE + "line 21\n", (1, 19), False),
        ("top\n" + BEFORE, (1, 1), True),  # a new first line
        ("top\n" + BEFORE, (2, 20), False),
        ("", (12, 12), True),  # the file emptied
    ],
)
def test_a_thread_is_touched_only_by_changes_to_its_lines(
    tmp_path: Path, after: str, span: tuple[int, int], touched: bool
) -> None:
    change = change_of(tmp_path, after)
    assert touches(ThreadSpan("f.txt", *span), {"f.txt": change}) is touched


def test_a_file_the_commit_did_not_change_is_never_touched() -> None:
    changed = {"calc.py": FileChange(removed=((1, 1),))}
    assert not touches(ThreadSpan("README.md", 5, 5), changed)
    assert not touches(ThreadSpan("README.md", None, None), changed)


def test_without_a_current_line_any_change_to_the_file_counts(tmp_path: Path) -> None:
    change = change_of(tmp_path, lines_replaced({19: "nineteen\n"}))
    assert touches(ThreadSpan("f.txt", None, None), {"f.txt": change})


def test_a_binary_change_counts_for_every_line(tmp_path: Path) -> None:
    change = change_of(tmp_path, b"\x00\x01changed", before=b"\x00\x01original")
    assert change.whole_file and touches(ThreadSpan("f.txt", 3, 3), {"f.txt": change})


def test_a_missing_final_newline_is_not_a_line() -> None:
    patch = "@@ -3 +3 @@\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file\n"
    assert file_change(patch) == FileChange(removed=((3, 3),))


def comment(**fields: object) -> SimpleNamespace:
    base: dict[str, object] = {"path": "calc.py", "line": 7, "side": "RIGHT"}
    base |= {"start_line": None, "start_side": None}
    return SimpleNamespace(**(base | fields))


def test_a_threads_span_is_its_current_lines_on_the_head_side() -> None:
    assert thread_span(comment()) == ThreadSpan("calc.py", 7, 7)
    assert thread_span(comment(start_line=4, start_side="RIGHT")) == ThreadSpan("calc.py", 4, 7)
    # Outdated (GitHub nulls `line`), or on the base side: the whole file.
    assert thread_span(comment(line=None, original_line=7)) == ThreadSpan("calc.py", None, None)
    assert thread_span(comment(side="LEFT")) == ThreadSpan("calc.py", None, None)
