"""Rolecall's own commands: `/help`, `/status`, `/cancel` and `/retry`.

Each is a small job on the control queue (see bot.queue), so none waits behind the
agent jobs it is about. Like every command they need write access, checked live before
anything is shown (bot.jobs.admission), and are then acknowledged at once (👀); the loop
breaker never holds them back. `/cancel` only writes the ledger: the cancelled job's own
worker, in whichever process runs it, stops its agent and rewrites its tracking comment
(bot.jobs.cancel). `/retry` turns itself into a new run of the issue's last job. What people
without write access asked for is none of these commands' business: `/status` does not
list it and `/retry` never runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.jobs.context import Given, Services
from bot.jobs.failures import explain_failure
from bot.jobs.setup import load_setup
from bot.render import roles as render_roles
from bot.store import slots
from bot.store.ledger import UNFINISHED_STATES, Job
from bot.store.slots import CONTROL_KINDS
from handlers.command_names import CANCEL, HELP, RETRY, STATUS
from handlers.decisions import StartJob, decision_from_dict

log = logging.getLogger("rolecall.control")

# What a command did, for the ledger; None when the job became something else (/retry).
Outcome = str | None


def run_control(svc: Services, given: Given) -> None:
    """Acknowledge, do the command, record how it went (`bot.jobs.admission.admit` let it in)."""
    decision = given.decision
    try:
        given.react_to_trigger()
        outcome = CONTROL_JOBS[decision.kind](svc, given)
    except Exception as exc:
        log.exception("job %s: /%s failed", given.job_id, decision.kind)
        svc.ledger.update_job(given.job_id, state="failed", outcome=explain_failure(exc))
        return
    if outcome is not None:
        svc.ledger.update_job(given.job_id, state="succeeded", outcome=outcome)


def help_command(svc: Services, given: Given) -> Outcome:
    setup = load_setup(svc, given).setup
    for role in setup.roles.roles:  # a description may quote a credential (invariant 6)
        given.redact.add(*role.secrets)
    given.repo.comment(
        given.decision.issue_number, render_roles.help_reply(given.repo.full_name, setup)
    )
    return "listed the commands and roles"


def status_command(svc: Services, given: Given) -> Outcome:
    jobs = _issue_jobs(svc, given)
    running = next((j for j in jobs if j.state == "running"), None)
    pending_id = slots.pending_job(svc.ledger, given.repo.full_name, given.decision.issue_number)
    pending = next((j for j in jobs if j.id == pending_id), None)
    last = next((j for j in jobs if j.state not in (*UNFINISHED_STATES, "skipped")), None)
    body = render_roles.status_reply(given.decision.issue_number, running, pending, last)
    given.repo.comment(given.decision.issue_number, body)
    return "posted the status"


def cancel_command(svc: Services, given: Given) -> Outcome:
    who = given.decision.sender_login
    done = slots.cancel_issue(svc.ledger, given.repo.full_name, given.decision.issue_number, who)
    for job_id in done.dropped:
        job = svc.ledger.get_job(job_id)
        if job is not None and job.tracking_comment_id is not None:
            detail = f"Cancelled by @{who} before it started."
            body = render_roles.stopped_before_start(job, detail, svc.settings.model)
            given.repo.update_comment(job.tracking_comment_id, body)
    if not done.signalled and not done.dropped:
        given.repo.comment(
            given.decision.issue_number,
            f"@{who} nothing to cancel: no Rolecall job is running or waiting here.",
        )
        return "nothing to cancel"
    stopped = ", ".join(str(i) for i in [*done.signalled, *done.dropped])
    return f"cancel requested for job(s) {stopped}"


def retry_command(svc: Services, given: Given) -> Outcome:
    """Become a new run of the last job here, asked for by whoever said /retry."""
    last = next((j for j in _issue_jobs(svc, given) if j.state != "skipped"), None)
    original = decision_from_dict(last.decision_json) if last is not None else None
    if last is None or not isinstance(original, StartJob):
        given.repo.comment(
            given.decision.issue_number, "Nothing to retry: no job has run here yet."
        )
        return "nothing to retry"
    if last.state in UNFINISHED_STATES:
        given.repo.comment(
            given.decision.issue_number,
            f"Job {last.id} is still {last.state}, so it was not retried; `/cancel` stops it.",
        )
        return f"job {last.id} is still {last.state}"
    rerun = _rerun(original, given.decision, last)
    svc.ledger.update_job(
        given.job_id,
        kind=rerun.kind,
        role=rerun.role,
        notes=rerun.notes,
        decision_json=rerun.to_dict(),
        state="queued",
        outcome=f"retry of job {last.id}",
        attempts=0,  # a new run, not a resumed one (see bot.jobs.worker.MAX_ATTEMPTS)
    )
    svc.enqueue(given.job_id)
    return None


def _rerun(original: StartJob, retry: StartJob, last: Job) -> StartJob:
    """The original request again, asked by the /retry sender, with the thread as of now."""
    return replace(
        original,
        sender_login=retry.sender_login,
        comment_id=retry.comment_id,
        trigger_at=retry.trigger_at,
        issue_title=retry.issue_title or original.issue_title,
        issue_body=retry.issue_body or original.issue_body,
        notes=retry.notes or original.notes,
        reason=f"/retry of job {last.id} by @{retry.sender_login}: {original.role}",
    )


def _issue_jobs(svc: Services, given: Given) -> list[Job]:
    """The issue's work, newest first: agent jobs admitted for people with write access.

    Requests of people who cannot write (refused, or still being refused) and control
    commands are not work, however many there are.
    """
    number = given.decision.issue_number
    jobs = svc.ledger.jobs_for_issue(given.repo.full_name, number, limit=100, admitted_only=True)
    return [job for job in jobs if job.kind not in CONTROL_KINDS]


CONTROL_JOBS: dict[str, Callable[[Services, Given], Outcome]] = {
    HELP: help_command,
    STATUS: status_command,
    CANCEL: cancel_command,
    RETRY: retry_command,
}
