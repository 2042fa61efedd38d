"""The loop breaker: a cap on work per thread, and notes a thread gets at most once.

A GitHub App that reacts to comments can be driven in a loop: two bots answering each
other, a script commenting `/implement` over and over. Whatever the cause, Rolecall stops
itself: once `limit` agent jobs ran on a repository's issue (or pull request) for people
with write access within the past hour, the next one is refused, recorded in the ledger,
and explained on the thread once per window.

Only work counts. A job is admitted (`Job.admitted_at`) when it passed the live write
check (bot.jobs.admission) and the cap; what a reader asks for, `/status`, `/help`,
`/cancel`, and jobs the loop breaker itself refused never count, so nobody can fill the
window to lock a maintainer out or to silence their `/cancel`. Replies (explanations of
an invalid command) are posted once per thread, ever.

Each decision reads the thread's jobs and marks one in a single transaction that holds
the thread's lock (`Ledger.thread_transaction`), so two workers deciding at once decide
in turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as table_select
from sqlalchemy import update

from bot.github import RepoClient
from bot.store.ledger import Job, Ledger, utcnow

log = logging.getLogger("rolecall.loopbreaker")

WINDOW = timedelta(hours=1)
OUTCOME = "loop breaker"
REPLY_KIND = "reply"
# The notes a thread gets at most once per WINDOW (`Job.thread_note`).
LOOP_NOTE = "loop breaker"
READER_NOTE = "reader refusal"

_JOBS = Job.__table__  # type: ignore[attr-defined]


def stop_runaway_thread(ledger: Ledger, job: Job, repo: RepoClient, limit: int) -> bool:
    """Admit `job`, or refuse it when `limit` jobs already ran on its thread this hour.

    True when refused. Call it only for an agent job of someone who may write. A job
    admitted once (and resumed after an interruption, or run after waiting its turn) is
    not counted again.
    """
    assert job.id is not None
    if job.issue_number is None or job.repo_full_name is None or job.admitted_at is not None:
        return False
    now = utcnow()
    since = now - WINDOW
    with ledger.thread_transaction(job.repo_full_name, job.issue_number) as conn:
        rows = conn.execute(
            table_select(
                _JOBS.c.admitted_at, _JOBS.c.state, _JOBS.c.thread_note, _JOBS.c.noted_at
            ).where(
                _JOBS.c.repo_full_name == job.repo_full_name,
                _JOBS.c.issue_number == job.issue_number,
                _JOBS.c.id != job.id,
                (_JOBS.c.admitted_at >= since) | (_JOBS.c.noted_at >= since),
            )
        ).all()
        # Skipped jobs (a `/cc`, a `bug` label: routed, found not to be Rolecall's) did nothing.
        ran = [
            r.admitted_at
            for r in rows
            if r.admitted_at is not None and r.admitted_at >= since and r.state != "skipped"
        ]
        if len(ran) < limit:
            conn.execute(update(_JOBS).where(_JOBS.c.id == job.id).values(admitted_at=now))
            return False
        reason = (
            f"{OUTCOME}: {len(ran)} jobs ran on {job.repo_full_name}#{job.issue_number} in "
            f"the past hour (the limit is {limit}, ROLECALL_MAX_JOBS_PER_THREAD_PER_HOUR)"
        )
        explain = not _noted(rows, LOOP_NOTE, since)
        refused: dict[str, object] = {"state": "refused", "outcome": reason, "finished_at": now}
        if explain:  # claimed in this transaction: a second refusal sees the claim
            refused.update(thread_note=LOOP_NOTE, noted_at=now)
        conn.execute(update(_JOBS).where(_JOBS.c.id == job.id).values(**refused))
    log.warning("job %s refused: %s", job.id, reason)
    if explain:
        again = (min(ran) + WINDOW).strftime("%H:%M UTC")
        post_note(
            ledger,
            job,
            repo,
            f"⏸️ Rolecall has run {len(ran)} jobs on this thread in the past hour, which "
            f"is its limit; it is not starting more until {again}, in case something is "
            "triggering it in a loop. `/status` and `/cancel` still work. Nothing else was "
            "done.",
        )
    return True


def claim_thread_note(ledger: Ledger, job: Job, note: str) -> bool:
    """Whether `job` may post the thread's `note` of this window; claims it if so.

    At most one job per thread and WINDOW claims a note; a claim whose post failed is
    released (`post_note`), so a transient GitHub error does not silence the thread.
    """
    assert job.id is not None
    if job.issue_number is None or job.repo_full_name is None:
        return False
    now = utcnow()
    since = now - WINDOW
    with ledger.thread_transaction(job.repo_full_name, job.issue_number) as conn:
        rows = conn.execute(
            table_select(_JOBS.c.thread_note, _JOBS.c.noted_at).where(
                _JOBS.c.repo_full_name == job.repo_full_name,
                _JOBS.c.issue_number == job.issue_number,
                _JOBS.c.id != job.id,
                _JOBS.c.thread_note == note,
                _JOBS.c.noted_at >= since,
            )
        ).all()
        if _noted(rows, note, since):
            return False
        conn.execute(
            update(_JOBS).where(_JOBS.c.id == job.id).values(thread_note=note, noted_at=now)
        )
    return True


def post_note(ledger: Ledger, job: Job, repo: RepoClient, body: str) -> int | None:
    """Post the note `job` claimed; the comment's id, or None (and the claim let go)."""
    assert job.id is not None and job.issue_number is not None
    try:
        comment_id = repo.comment(job.issue_number, body)
    except Exception:
        log.exception("job %s: could not post its note on the thread", job.id)
        ledger.update_job(job.id, thread_note=None, noted_at=None)
        return None
    ledger.update_job(job.id, tracking_comment_id=comment_id)
    return comment_id


def _noted(rows: Sequence[Any], note: str, since: datetime) -> bool:
    """Whether one of `rows` (jobs of the thread) claimed `note` since `since`."""
    return any(
        r.thread_note == note and r.noted_at is not None and r.noted_at >= since for r in rows
    )


ANSWERING = "answering on the thread"


def claim_the_answer(ledger: Ledger, job: Job) -> bool:
    """Whether `job` may post the thread's explanation of an invalid request; claims it.

    At most one explanation per thread, ever: a reply job (a Reply decision), or a job
    refused before it was acknowledged (the `screen` phase: a role command on a pull
    request, a label naming no role). The claim is made in one transaction holding the
    thread's lock, so two workers answering at once cannot both win. A claim whose post
    failed (a reply job that ended failed, a refusal with no comment) does not count, so
    a transient GitHub error does not silence the thread.
    """
    if job.issue_number is None or job.repo_full_name is None:
        return True
    jobs = _JOBS
    with ledger.thread_transaction(job.repo_full_name, job.issue_number) as conn:
        rows = conn.execute(
            table_select(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.state,
                jobs.c.phase,
                jobs.c.outcome,
                jobs.c.tracking_comment_id,
            ).where(
                jobs.c.repo_full_name == job.repo_full_name,
                jobs.c.issue_number == job.issue_number,
                jobs.c.id != job.id,
            )
        ).all()
        for row in rows:
            claimed = (row.outcome or "").startswith(ANSWERING) and row.state in (
                "queued",
                "running",
            )
            replied = row.kind == REPLY_KIND and row.state == "succeeded"
            refused = row.phase == "screen" and row.tracking_comment_id is not None
            if claimed or replied or refused:
                return False
        conn.execute(update(jobs).where(jobs.c.id == job.id).values(outcome=ANSWERING))
    return True


def sent_by_itself(ledger: Ledger, job: Job, bot_login: Callable[[], str]) -> bool:
    """Record and skip a job that Rolecall's own account asked for; True when skipped.

    The webhook edge already ignores Rolecall's events, but only once it knows its login
    (it learns it from GitHub after starting); this is the check behind it, so its own
    comment can never start work, even if its login were put on the bot allow-list.
    """
    assert job.id is not None
    try:
        own = bot_login()
    except Exception:  # GitHub unreachable: the job will fail and say so on its own
        log.warning("job %s: could not learn the bot login to rule out a loop", job.id)
        return False
    sender = (job.sender_login or "").casefold().removesuffix("[bot]")
    if sender != own.casefold().removesuffix("[bot]"):
        return False
    ledger.update_job(job.id, state="skipped", outcome=f"sent by Rolecall itself (@{own})")
    return True
