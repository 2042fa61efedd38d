"""Who was found unable to write to a repository, remembered for a minute.

A reader's flood must not make Rolecall spend without bound, so who was found unable
to write is remembered per repository: their next requests are refused without a
GitHub call, and concurrent requests by one person wait for one lookup. Only "cannot
write" is remembered; write access is always asked live, so someone who loses it is
refused at once. One instance per process (`Services.non_writers`), shared by its jobs.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from bot.github import RepoClient
from bot.store.ledger import utcnow
from handlers.guards import has_write

# How long "this person cannot write to this repository" is believed without asking.
READER_MEMORY = timedelta(minutes=1)


class NonWriters:
    """Who was found unable to write, per repository, for `memory`; one lookup at a time.

    Lookups for one person take turns (one lock per stripe of people), so a burst of
    their requests costs one permission check, not one each.
    """

    STRIPES = 64

    def __init__(self, memory: timedelta = READER_MEMORY) -> None:
        self.memory = memory
        self._until: dict[tuple[str, str], datetime] = {}
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]

    def may_write(self, repo: RepoClient, login: str) -> bool:
        """Whether `login` can write to `repo`: remembered if not, else asked live."""
        key = (repo.full_name.casefold(), login.casefold())
        with self._stripes[hash(key) % self.STRIPES]:
            until = self._until.get(key)
            if until is not None and until > utcnow():
                return False
            if has_write(repo.permission(login)):
                self._until.pop(key, None)
                return True
            self._forget_expired()
            self._until[key] = utcnow() + self.memory
            return False

    def _forget_expired(self) -> None:
        """Keep the memory as small as the past minute's readers."""
        now = utcnow()
        for key, until in list(self._until.items()):
            if until <= now:
                self._until.pop(key, None)
