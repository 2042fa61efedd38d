"""A role job's turn on its issue: run now, or wait (visibly) for the job running there.

The ledger side is `bot.slots`; this adds what people see. A job that must wait says
so in its tracking comment before it parks, and the pending job it replaces gets its
tracking comment rewritten as superseded. Handing the issue on when a job ends, and
queueing the next one, is `hand_on`.
"""

from __future__ import annotations

import logging

from bot import render_roles, slots
from bot.jobcontext import Context, JobParked, JobStopped, Services
from bot.queue import shared_queue
from bot.role_settings import model_for
from bot.routing import describe_trigger

log = logging.getLogger("rolecall.turns")


def wait_turn(svc: Services, ctx: Context) -> None:
    """Take the issue, or raise `JobParked` with the job queued behind the running one."""
    running = slots.holder(svc.ledger, ctx.job)
    note = render_roles.waiting_note(running) if running is not None else ""
    if running is not None:
        _show_queued(svc, ctx, running)
    turn = slots.take_turn(svc.ledger, ctx.job, waiting_note=note)
    if turn.superseded_job_id is not None:
        _show_superseded(svc, ctx, turn.superseded_job_id)
    if turn.runs:
        return
    assert turn.running_job_id is not None
    if running is None:  # the issue was taken between the look and the claim
        _show_queued(svc, ctx, turn.running_job_id)
    raise JobParked(render_roles.waiting_note(turn.running_job_id))


def hand_on(svc: Services, ctx: Context) -> None:
    """After a job ends: give the issue to its pending job and queue that job."""
    try:
        next_job = slots.release(svc.ledger, ctx.job)
        if next_job is not None:
            shared_queue(svc.settings).enqueue(next_job)
    except Exception:
        # The pending job stays queued in the ledger; the next start's recovery runs it.
        log.exception("job %s: could not hand the issue on", ctx.job_id)


def _show_queued(svc: Services, ctx: Context, running: int) -> None:
    if ctx.job.tracking_comment_id is None:
        return
    role = ctx.role.name if ctx.role else ctx.decision.role
    body = render_roles.queued_tracking(ctx.job, role, _model_shown(svc, ctx), running)
    ctx.repo.update_comment(ctx.job.tracking_comment_id, body)


def _model_shown(svc: Services, ctx: Context) -> str:
    if ctx.model is not None:
        return str(ctx.model)
    if ctx.role is None:
        return svc.settings.model
    try:
        return str(model_for(ctx.role, ctx.setup.config if ctx.setup else None, svc.settings))
    except JobStopped:
        return svc.settings.model  # the brief phase reports it once the job runs


def _show_superseded(svc: Services, ctx: Context, superseded: int) -> None:
    job = svc.ledger.get_job(superseded)
    if job is None or job.tracking_comment_id is None:
        return
    detail = (
        f"Superseded by a newer request: {describe_trigger(ctx.decision)} by "
        f"@{ctx.decision.sender_login} (job {ctx.job_id}) replaces it."
    )
    try:
        body = render_roles.stopped_before_start(job, detail, svc.settings.model)
        ctx.repo.update_comment(job.tracking_comment_id, body)
    except Exception:
        log.exception("job %s: could not mark job %s superseded", ctx.job_id, superseded)
