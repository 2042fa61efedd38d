"""A running agent's progress, shown in its tracking comment without flooding GitHub.

The executor reports after every model response and before every tool call; editing the
comment that often would meet GitHub's secondary rate limits, so the comment is edited
at most every `interval` seconds, with the latest report (one that arrives sooner waits
for its turn on a timer, so a long command still shows as the current step). A wait for
the model API ("model overloaded, retrying in 8 s") is shown at once: those are spaced
by their own backoff. Showing progress never fails the job: an edit that fails is
logged and the run goes on. Once closed, nothing more is shown, so the outcome the
worker writes next is never overwritten.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from agents.progress import RunProgress
from bot.render import tracking
from bot.render.inert import Neutralizer

log = logging.getLogger("rolecall.progress")

SHOW_EVERY = 10.0


class LiveProgress:
    """While entered, shows the latest `RunProgress` through `show`, throttled."""

    def __init__(
        self,
        show: Callable[[str], None],
        words: Neutralizer,
        *,
        interval: float = SHOW_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.show = show
        self.words = words
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._shown_at: float | None = None
        self._pending: RunProgress | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __call__(self, progress: RunProgress) -> None:
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            wait = 0.0 if self._shown_at is None else self._shown_at + self.interval - now
            if wait > 0 and progress.retry_in is None:
                self._pending = progress
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._pending = None
            self._show(progress, now)

    def close(self) -> None:
        """Show nothing more (called before the worker writes the outcome)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()

    def line(self, progress: RunProgress) -> str:
        usage = progress.usage
        spend = tracking.Spend(
            turns=progress.turns,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            cost_usd=progress.cost_usd,
        )
        step = self.words.plain(progress.step) if progress.step else None  # the agent's input
        return tracking.live_line(spend, progress.elapsed, step, progress.retry_note)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed or self._pending is None:
                return
            progress, self._pending = self._pending, None
            self._show(progress, self.clock())

    def _show(self, progress: RunProgress, now: float) -> None:
        """Edit the comment (under the lock, so edits never overtake each other)."""
        self._shown_at = now
        try:
            self.show(self.line(progress))
        except Exception:
            log.exception("could not show the agent's progress")
