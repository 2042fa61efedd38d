"""A role job's slot on its issue: run now, or wait (visibly) for the job running there.

The ledger side is `bot.store.slots`; this adds what people see. A job that must wait says
so in its tracking comment before it parks, and the pending job it replaces gets its
tracking comment rewritten as superseded. Handing the issue on when a job ends, and
queueing the next one, is `hand_on`.
"""

from __future__ import annotations

import logging

from agents.roles.loader import Role
from bot.jobs.context import Given, JobParked, JobStopped, Services
from bot.jobs.role_settings import model_for
from bot.render import roles as render_roles
from bot.store import slots
from handlers.config import RepoConfig
from handlers.roles import describe_trigger

log = logging.getLogger("rolecall.turns")


def wait_turn(svc: Services, given: Given, role: str, model: str) -> None:
    """Take the issue, or raise `JobParked` with the job queued behind the running one.

    `role` and `model` are what the tracking comment shows while the job waits.
    """
    job = given.record.row
    running = slots.holder(svc.ledger, job)
    note = render_roles.waiting_note(running) if running is not None else ""
    if running is not None:
        _show_queued(given, role, model, running)
    turn = slots.take_turn(svc.ledger, job, waiting_note=note)
    if turn.superseded_job_id is not None:
        _show_superseded(svc, given, turn.superseded_job_id)
    if turn.runs:
        return
    assert turn.running_job_id is not None
    if running is None:  # the issue was taken between the look and the claim
        _show_queued(given, role, model, turn.running_job_id)
    raise JobParked(render_roles.waiting_note(turn.running_job_id))


def hand_on(svc: Services, given: Given) -> None:
    """After a job ends: give the issue to its pending job and queue that job."""
    try:
        next_job = slots.release(svc.ledger, given.record.row)
        if next_job is not None:
            svc.enqueue(next_job)
    except Exception:
        # The pending job stays queued in the ledger; the next start's recovery runs it.
        log.exception("job %s: could not hand the issue on", given.job_id)


def model_shown(svc: Services, role: Role | None, config: RepoConfig | None) -> str:
    """The model a waiting job will run on, as far as it is known before its brief."""
    if role is None:
        return svc.settings.model
    try:
        return str(model_for(role, config, svc.settings))
    except JobStopped:
        return svc.settings.model  # the brief phase reports it once the job runs


def _show_queued(given: Given, role: str, model: str, running: int) -> None:
    job = given.record.row
    if job.tracking_comment_id is None:
        return
    body = render_roles.queued_tracking(job, role, model, running)
    given.repo.update_comment(job.tracking_comment_id, body)


def _show_superseded(svc: Services, given: Given, superseded: int) -> None:
    job = svc.ledger.get_job(superseded)
    if job is None or job.tracking_comment_id is None:
        return
    detail = (
        f"Superseded by a newer request: {describe_trigger(given.decision)} by "
        f"@{given.decision.sender_login} (job {given.job_id}) replaces it."
    )
    try:
        body = render_roles.stopped_before_start(job, detail, svc.settings.model)
        given.repo.update_comment(job.tracking_comment_id, body)
    except Exception:
        log.exception("job %s: could not mark job %s superseded", given.job_id, superseded)
