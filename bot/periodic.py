"""A background tick for the length of a `with` block: what the cancel watch and the
job's lease both are.

Each tick runs on a daemon thread every `interval` seconds until the block ends; an
exception in a tick (the ledger briefly unreachable) is logged and the next tick runs
anyway, so a hiccup never ends the watch, or the job.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Self

log = logging.getLogger(__name__)


class Periodic:
    """Calls `tick()` every `interval` seconds while entered; subclasses say what it does."""

    def __init__(self, name: str, interval: float) -> None:
        self.interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                self.tick()
            except Exception:
                log.exception("%s: a tick failed; trying again", self._thread.name)
