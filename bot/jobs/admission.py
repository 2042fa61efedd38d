"""Who may start work, decided before Rolecall shows anything (invariant 2).

Every job a command, a label or a review asks for passes here first, before any 👀 or
tracking comment: Rolecall's own account is turned away, then the sender's live
permission is checked, then (for agent jobs) the loop breaker admits the job or refuses
it. Someone without write access gets no 👀 and at most one refusal per thread and hour,
and only when they named Rolecall unmistakably (handlers.guards.refusal_helps); nothing
they ask for counts towards the loop breaker. `/cancel`, `/status`, `/help` and `/retry`
of a writer are never held back by it.

Who was found unable to write is remembered for a minute (bot.jobs.non_writers), so a
reader's flood costs one permission lookup, not one each.
"""

from __future__ import annotations

import logging

from bot.github import RepoClient
from bot.jobs.context import Services
from bot.jobs.failures import explain_failure
from bot.jobs.loopbreaker import (
    READER_NOTE,
    claim_thread_note,
    post_note,
    sent_by_itself,
    stop_runaway_thread,
)
from bot.render import tracking
from bot.store.ledger import Job
from bot.store.slots import CONTROL_KINDS
from handlers.decisions import StartJob
from handlers.guards import refusal_helps

log = logging.getLogger("rolecall.admission")

# The outcome of a job refused because its sender cannot write (bot.jobs.control skips them).
NO_WRITE_ACCESS = "no write access"


def admit(svc: Services, job: Job, request: StartJob, repo: RepoClient) -> bool:
    """Whether `job` may go on; if not, it is recorded (and maybe explained) here."""
    assert job.id is not None
    if sent_by_itself(svc.ledger, job, svc.app.bot_login):
        return False
    try:
        writer = svc.non_writers.may_write(repo, request.sender_login)
    except Exception as exc:
        log.exception("job %s: could not check @%s's permission", job.id, request.sender_login)
        # Nothing can be posted (GitHub refused or is away): the ledger says why, in words.
        svc.ledger.update_job(job.id, state="failed", outcome=explain_failure(exc))
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
            svc.ledger, job, repo, tracking.permission_refusal(who, asked_with(request))
        )
    said = "told on the thread" if told is not None else "not answered again"
    svc.ledger.update_job(
        job.id,
        state="refused",
        outcome=f"{NO_WRITE_ACCESS}: @{who} cannot start work here ({said})",
    )


def asked_with(request: StartJob) -> str:
    """What the requester used: `/backend`, or the label `rolecall:backend`."""
    if request.trigger == "label" and request.label:
        return request.label
    return f"/{request.command or request.kind}"
