"""Learning the App's bot login (`<slug>[bot]`) in the background, so start-up never waits.

`rolecall serve` must come up even when GitHub cannot be reached; the webhook handlers
get the login as soon as it is known.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.github.errors import explain_github

log = logging.getLogger("rolecall.github")


class BotLoginLearner:
    """Learns the App's bot login (`<slug>[bot]`) in the background, retrying until it can.

    The webhook handlers need the login to tell "a pull request Rolecall opened" and to
    ignore Rolecall's own events. `rolecall serve` must come up even when GitHub cannot be
    reached, so the lookup never runs on the start-up path or the request path: a thread
    asks `GET /app`, and on failure waits (1 s, then longer, at most `max_delay`) and asks
    again, until it succeeds or `stop` is called. `on_learned` receives the login once.
    """

    def __init__(
        self,
        lookup: Callable[[], str],
        on_learned: Callable[[str], None],
        *,
        first_delay: float = 1.0,
        max_delay: float = 300.0,
    ) -> None:
        self._lookup = lookup
        self._on_learned = on_learned
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolecall-bot-login", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)  # a daemon: a lookup in flight is simply abandoned

    def _run(self) -> None:
        delay = self._first_delay
        while not self._stop.is_set():
            try:
                login = self._lookup()
            except Exception as exc:
                log.warning(
                    "could not learn the App's bot login from GET /app (%s); retrying in "
                    "%.0f s. Reviews of Rolecall's pull requests are recognised by their "
                    "rolecall/ branch until then; ROLECALL_BOT_LOGIN sets it explicitly",
                    _one_line(exc),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            log.info("the App's bot login is %s", login)
            self._on_learned(login)
            return


def _one_line(exc: Exception) -> str:
    """A failed lookup as a sentence (bot.github.errors), or its first line."""
    if (sentence := explain_github(exc)) is not None:
        return sentence
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
