"""Who may start work, decided before Rolecall shows anything (invariant 2).

Every job a command, a label or a review asks for passes here first, before any 👀 or
tracking comment: Rolecall's own account is turned away, then the sender's live
permission is checked, then (for agent jobs) the loop breaker admits the job or refuses
it. Someone without write access gets no 👀 and at most one refusal per thread and hour,
and only when they named Rolecall unmistakably (handlers.guards.refusal_helps); nothing
they ask for counts towards the loop breaker. `/cancel`, `/status`, `/help` and `/retry`
of a writer are never held back by it.

A reader's flood must not make Rolecall spend without bound, so who was found unable
to write is remembered for a minute per repository (`NonWriters`): their next requests
are refused without a GitHub call, and concurrent requests by one person wait for one
lookup. Only "cannot write" is remembered; write access is always asked live, so
someone who loses it is refused at once.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from bot import render
from bot.github import RepoClient
from bot.jobcontext import Services
from bot.ledger import Job, utcnow
from bot.loopbreaker import (
    READER_NOTE,
    claim_thread_note,
    post_note,
    sent_by_itself,
    stop_runaway_thread,
)
from bot.slots import CONTROL_KINDS
from handlers.decisions import StartJob
from handlers.guards import has_write, refusal_helps

log = logging.getLogger("rolecall.admission")

# How long "this person cannot write to this repository" is believed without asking.
READER_MEMORY = timedelta(minutes=1)
# The outcome of a job refused because its sender cannot write (bot.control skips them).
NO_WRITE_ACCESS = "no write access"


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


# One per process: what it remembers is a minute of GitHub's answers, shared by its jobs.
NON_WRITERS = NonWriters()


def admit(svc: Services, job: Job, request: StartJob, repo: RepoClient) -> bool:
    """Whether `job` may go on; if not, it is recorded (and maybe explained) here."""
    assert job.id is not None
    if sent_by_itself(svc.ledger, job, svc.app.bot_login):
        return False
    try:
        writer = NON_WRITERS.may_write(repo, request.sender_login)
    except Exception as exc:
        log.exception("job %s: could not check @%s's permission", job.id, request.sender_login)
        svc.ledger.update_job(
            job.id,
            state="failed",
            outcome=f"could not check @{request.sender_login}'s permission: {type(exc).__name__}",
        )
        return False
    if not writer:
        refuse_reader(svc, job, request, repo)
        return False
    if request.kind in CONTROL_KINDS:  # /cancel, /status, /help, /retry: never held back
        return True
    limit = svc.settings.max_jobs_per_thread_per_hour
    return not stop_runaway_thread(svc.ledger, job, repo, limit)


def refuse_reader(svc: Services, job: Job, request: StartJob, repo: RepoClient) -> None:
    """End the job of someone who cannot write: no 👀, one refusal per thread and hour."""
    assert job.id is not None
    who = request.sender_login
    if request.trigger == "review":  # feedback on a pull request, not a request for work
        outcome = f"@{who} cannot write here; a review by them starts nothing"
        svc.ledger.update_job(job.id, state="skipped", outcome=outcome)
        return
    told = None
    if refusal_helps(request) and claim_thread_note(svc.ledger, job, READER_NOTE):
        told = post_note(
            svc.ledger, job, repo, render.permission_refusal(who, _asked_with(request))
        )
    said = "told on the thread" if told is not None else "not answered again"
    svc.ledger.update_job(
        job.id,
        state="refused",
        outcome=f"{NO_WRITE_ACCESS}: @{who} cannot start work here ({said})",
    )


def _asked_with(request: StartJob) -> str:
    """What the requester used: `/backend`, or the label `rolecall:backend`."""
    if request.trigger == "label" and request.label:
        return request.label
    return f"/{request.command or request.kind}"
