"""The tracking comment's progress line: throttled edits, retries at once, nothing after close."""

from __future__ import annotations

import threading
from decimal import Decimal

from agents.pricing import Usage
from agents.progress import RunProgress
from agents.text.redact import Redactor
from bot.jobs.progress import LiveProgress
from bot.render.inert import Neutralizer

WORDS = Neutralizer(Redactor(["hunter2-secret-token-value"]), "github.com")


def progress(turns: int, step: str | None = None, retry_in: float | None = None) -> RunProgress:
    return RunProgress(
        turns=turns,
        usage=Usage(input_tokens=1000 * turns, output_tokens=10),
        cost_usd=Decimal("0.0123"),
        elapsed=75.0,
        step=step,
        retry_in=retry_in,
        retry_reason="model overloaded" if retry_in else None,
    )


class Shown:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.more = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self.more.set()


def test_edits_are_spaced_and_the_latest_report_is_shown_when_its_turn_comes() -> None:
    shown = Shown()
    with LiveProgress(shown, WORDS, interval=0.3) as live:
        live(progress(1))
        live(progress(2, "Bash: make test"))
        live(progress(3, "Bash: sleep 1000"))
        assert len(shown.lines) == 1, "a second edit waits for the interval"
        shown.more.clear()
        assert shown.more.wait(10), "the latest report is shown once the interval passed"
    assert len(shown.lines) == 2
    assert "3 turns ·" in shown.lines[1] and "now: `Bash: sleep 1000`" in shown.lines[1]
    assert "$0.0123" in shown.lines[1] and "1 min 15 s" in shown.lines[1]


def test_a_model_retry_shows_at_once_and_nothing_shows_after_close() -> None:
    shown = Shown()
    live = LiveProgress(shown, WORDS, interval=60)
    live(progress(1))
    live(progress(1, retry_in=8))
    assert "model overloaded, retrying in 8 s" in shown.lines[-1]
    live(progress(2, "Bash: true"))  # waits for its turn…
    live.close()  # …which never comes: the worker writes the outcome next
    live(progress(3))
    assert len(shown.lines) == 2


def test_what_the_agent_ran_is_shown_inert_and_redacted() -> None:
    shown = Shown()
    with LiveProgress(shown, WORDS) as live:
        live(progress(1, "Bash: curl -H hunter2-secret-token-value @alice `x` #12"))
    [line] = shown.lines
    assert "hunter2-secret-token-value" not in line
    assert "@alice" not in line, "no mention reaches GitHub"
