"""The loop breaker: a cap on jobs per thread, and one reply per thread at most.

A GitHub App that reacts to comments can be driven in a loop: two bots answering each
other, a script commenting `/implement` over and over, somebody without write access
spamming a command (each refusal is a comment too). Whatever the cause, Rolecall stops
itself: the worker refuses a thread's job once `limit` jobs were created for the same
repository and issue (or pull request) within the past hour, records why in the ledger,
and says so on the thread once per window. Replies (explanations of an invalid command)
are posted once per thread, ever: a second invalid command is recorded and left unanswered.

The ledger is the record: the decision uses job rows (ordered by id, so two workers
looking at once agree), and a refused job's outcome says it was the loop breaker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select as table_select
from sqlalchemy import update
from sqlmodel import Session, select

from bot.github import RepoClient
from bot.ledger import Job, Ledger, utcnow

log = logging.getLogger("rolecall.loopbreaker")

WINDOW = timedelta(hours=1)
OUTCOME = "loop breaker"
REPLY_KIND = "reply"


def _thread_jobs(ledger: Ledger, job: Job, *, since: object | None) -> list[Job]:
    """The jobs on `job`'s thread created before it (lower id), newest first."""
    with Session(ledger.engine) as session:
        query = select(Job).where(
            Job.repo_full_name == job.repo_full_name,
            Job.issue_number == job.issue_number,
            Job.id < job.id,  # type: ignore[operator]
        )
        if since is not None:
            query = query.where(Job.created_at >= since)  # type: ignore[operator]
        return list(session.exec(query.order_by(Job.id.desc())).all())  # type: ignore[union-attr]


def stop_runaway_thread(ledger: Ledger, job: Job, repo: RepoClient, limit: int) -> bool:
    """Refuse `job` if its thread already had `limit` jobs this hour; True when refused.

    Refused jobs count too (spam refused for want of permission is still spam). The first
    job over the limit explains itself on the thread; later ones are only recorded.
    """
    assert job.id is not None
    if job.issue_number is None or job.repo_full_name is None:
        return False
    since = utcnow() - WINDOW
    # Skipped jobs (a `/cc`, a `bug` label: routed, found not to be Rolecall's) did nothing.
    earlier = [
        j
        for j in _thread_jobs(ledger, job, since=since)
        if j.kind != REPLY_KIND and j.state != "skipped"
    ]
    if len(earlier) < limit:
        return False
    reason = (
        f"{OUTCOME}: {len(earlier)} jobs on {job.repo_full_name}#{job.issue_number} in the "
        f"past hour (the limit is {limit}, ROLECALL_MAX_JOBS_PER_THREAD_PER_HOUR)"
    )
    # Exactly the first job over the limit explains; decided by id order, so two workers
    # refusing two jobs at once never both post.
    explain = len(earlier) == limit
    comment_id: int | None = None
    if explain:
        oldest = min(j.created_at for j in earlier)
        again = (oldest + WINDOW).strftime("%H:%M UTC")
        try:
            comment_id = repo.comment(
                job.issue_number,
                f"⏸️ Rolecall has started {len(earlier)} jobs on this thread in the past hour, "
                f"which is its limit; it is not starting more until {again}, in case "
                "something is triggering it in a loop. Nothing else was done.",
            )
        except Exception:
            log.exception("job %s: could not post the loop breaker's note", job.id)
    ledger.update_job(job.id, state="refused", outcome=reason, tracking_comment_id=comment_id)
    log.warning("job %s refused: %s", job.id, reason)
    return True


ANSWERING = "answering on the thread"


def claim_the_answer(ledger: Ledger, job: Job) -> bool:
    """Whether `job` may post the thread's explanation of an invalid request; claims it.

    At most one explanation per thread, ever: a reply job (a Reply decision), or a job
    refused before it was acknowledged (the `screen` phase: a role command on a pull
    request, a label naming no role). The claim is made in one write transaction over
    the thread's job rows (locked on PostgreSQL, IMMEDIATE on SQLite), so two workers
    answering at once cannot both win. A claim whose post failed (a reply job that
    ended failed, a refusal with no comment) does not count, so a transient GitHub error
    does not silence the thread.
    """
    if job.issue_number is None or job.repo_full_name is None:
        return True
    jobs = Job.__table__  # type: ignore[attr-defined]
    with ledger.transaction() as conn:
        rows = conn.execute(
            table_select(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.state,
                jobs.c.phase,
                jobs.c.outcome,
                jobs.c.tracking_comment_id,
            )
            .where(
                jobs.c.repo_full_name == job.repo_full_name,
                jobs.c.issue_number == job.issue_number,
                jobs.c.id != job.id,
            )
            .with_for_update()
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
