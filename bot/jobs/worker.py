"""One job, in labelled phases, in one try/except/finally.

The phases every job shares live here; what differs by kind of job (the target, the
checkout, the brief, the delivery) is a playbook (`bot.jobs.playbooks`), and the agent
run itself is one call into `agents.run`. Each phase records its name before it starts,
so a failure is reported with the phase it happened in, and `finish` always runs: the
tracking comment is rewritten with the outcome and the ledger row holds the final state.
Each phase returns what it produced; the worker alone keeps it (`Progress`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace

from agents import workspace
from agents.roles.loader import Role
from agents.run import AgentRun, RoleRun
from agents.text.redact import Redactor
from bot.github import RepoClient
from bot.jobs.admission import admit, asked_with
from bot.jobs.cancel import CancelWatcher, cancel_requested
from bot.jobs.checks import STOPPED_TITLE, JobChecks, JobConclusion
from bot.jobs.context import (
    Briefing,
    Checkout,
    Delivery,
    Given,
    JobParked,
    JobRecord,
    JobSkipped,
    JobStopped,
    Screened,
    Services,
    Target,
    Work,
)
from bot.jobs.control import CONTROL_JOBS, run_control
from bot.jobs.failures import explain_failure
from bot.jobs.loopbreaker import claim_the_answer
from bot.jobs.playbooks import PLAYBOOKS, Playbook
from bot.jobs.playbooks.words import agent_words
from bot.jobs.progress import LiveProgress
from bot.jobs.role_settings import model_for
from bot.jobs.run_spec import run_spec
from bot.jobs.setup import load_setup, role_for_job
from bot.jobs.slots import hand_on
from bot.jobs.stops import stop_of
from bot.observe import log_context
from bot.render import tracking
from bot.store.ledger import Job
from handlers.command_names import FIX, IMPLEMENT
from handlers.decisions import Reply, StartJob, decision_from_dict
from handlers.guards import has_write

log = logging.getLogger("rolecall.worker")

# A job interrupted by restarts more often than this is failed instead of resumed.
MAX_ATTEMPTS = 2


def run_job(svc: Services, job_id: int) -> None:
    """The queue's task: claim the job (only one runner wins) and run it to an end."""
    with log_context.bound(job_id=job_id):  # what this thread logs until the job ends
        _run_job(svc, job_id)


def _run_job(svc: Services, job_id: int) -> None:
    ledger = svc.ledger
    job = ledger.claim_job(job_id)
    if job is None:
        return  # finished already, or another worker holds it
    log_context.note(delivery_id=job.delivery_id, repository=job.repo_full_name)
    if job.repo_full_name is None or job.installation_id is None:
        ledger.update_job(job_id, state="failed", outcome="the job names no repository")
        return
    # Knows every secret this process holds, so none of them is ever posted or logged.
    redact = Redactor(svc.settings.known_secrets())
    repo = svc.app.repo(job.installation_id, job.repo_full_name, redact)
    decision = decision_from_dict(job.decision_json)
    if isinstance(decision, Reply):
        if claim_the_answer(ledger, job):  # one reply per thread (bot.jobs.loopbreaker)
            _post_reply(svc, job, decision, repo)
        else:
            ledger.update_job(job_id, state="skipped", outcome="already replied on this thread")
        return
    if not isinstance(decision, StartJob) or (
        decision.kind not in PLAYBOOKS and decision.kind not in CONTROL_JOBS
    ):
        ledger.update_job(job_id, state="failed", outcome=_unknown_work(decision))
        return
    if not admit(svc, job, decision, repo):  # writers only, within the loop breaker
        return
    given = Given(job_id, decision, repo, redact, JobRecord(ledger, job))
    if decision.kind in CONTROL_JOBS:  # /help, /status, /cancel, /retry
        run_control(svc, given)
    else:
        Worker(svc, PLAYBOOKS[decision.kind], given).run()


def _unknown_work(decision: object) -> str:
    """What the ledger says of a job no playbook runs (a row written by another version)."""
    kind = getattr(decision, "kind", None) or type(decision).__name__
    return f"Rolecall has no way to run a job of kind {kind!r}; nothing was done"


def _post_reply(svc: Services, job: Job, reply: Reply, repo: RepoClient) -> None:
    assert job.id is not None and job.issue_number is not None
    try:
        repo.comment(job.issue_number, reply.body)
    except Exception as exc:
        log.exception("job %s: posting the reply failed", job.id)
        svc.ledger.update_job(job.id, state="failed", outcome=explain_failure(exc))
        return
    svc.ledger.update_job(job.id, state="succeeded", outcome=reply.reason)


@dataclass(frozen=True)
class Progress:
    """What the phases have produced so far, for the tracking comment and the end."""

    phase: str = "acknowledge"
    screened: Screened = field(default_factory=Screened)
    role: Role | None = None
    target: Target | None = None
    checkout: Checkout | None = None
    briefing: Briefing | None = None
    run: AgentRun | None = None
    delivery: Delivery | None = None


class Worker:
    """Runs a StartJob through screen → acknowledge → authorize → prepare → brief →
    execute → deliver, and always `finish`."""

    def __init__(self, svc: Services, playbook: Playbook, given: Given) -> None:
        self.svc = svc
        self.settings = svc.settings
        self.playbook = playbook
        self.given = given
        self.progress = Progress()
        self.checks = JobChecks(given.repo, given.job_id)
        self.clock = svc.metrics.job_clock(given.decision.kind)

    def run(self) -> None:
        stopped: JobStopped | None = None
        # /cancel also kills host git (a fetch, a push) with its process group.
        git_cancel = threading.Event()
        try:
            with (
                workspace.cancel_scope(git_cancel),
                CancelWatcher(self.svc.ledger, self.given.job_id, git_cancel.set),
            ):
                self._phases()
        except JobStopped as stop:
            stopped = stop
        except workspace.GitCancelled:
            who = cancel_requested(self.svc.ledger, self.given.job_id) or "someone"
            stopped = JobStopped(f"Cancelled by @{who}.", state="cancelled")
        except Exception as exc:
            log.exception("job %s failed in %s", self.given.job_id, self.progress.phase)
            self.svc.metrics.job_error(self.progress.phase)
            stopped = JobStopped(explain_failure(exc))
        finally:
            self.finish(stopped)
            state = "succeeded" if stopped is None else stopped.state
            self.clock.ended(state, _role_shown(self.given, self.progress))
            if not isinstance(stopped, JobParked):
                hand_on(self.svc, self.given)  # the job waiting on this issue goes next

    def _phases(self) -> None:
        """Each phase in turn, its name recorded (and shown) before it starts."""
        given, playbook, svc = self.given, self.playbook, self.svc
        attempts = given.record.row.attempts
        if attempts > MAX_ATTEMPTS:
            raise JobStopped(
                f"The job was interrupted by a restart {attempts - 1} times, so "
                "Rolecall stopped retrying it. Comment `/retry` to run it again."
            )
        self._begin("screen")
        screened = playbook.screen(svc, given)
        self._keep(screened=screened, role=screened.role)
        self._begin("acknowledge")
        self.acknowledge()
        self._begin("authorize")
        target = self.authorize(screened)
        self._keep(target=target)
        given.record.save(branch=target.branch)  # what a later `/continue` resumes
        self._begin("prepare")
        checkout = playbook.prepare(svc, given, target)
        self._keep(checkout=checkout)
        if target.pull is not None and given.decision.kind == FIX:  # it works on a PR
            self.checks.working(checkout.head_sha, target.role_name)
        self._begin("brief")
        briefing = self.write_brief(target, checkout)
        self._keep(briefing=briefing)
        self._begin("execute")
        run = self.execute(target, checkout, briefing)
        self._begin("deliver")
        delivery = playbook.deliver(svc, given, Work(target, checkout, briefing, run))
        self._keep(delivery=delivery)
        title = delivery.success_note.capitalize() or "Done"
        self._check_ended("success", title, delivery.check_summary, delivery.pushed_sha)

    # -- phases -----------------------------------------------------------------------

    def acknowledge(self) -> None:
        """👀 on the trigger and the tracking comment, before anything slow."""
        self.given.react_to_trigger()
        self._track()

    def authorize(self, screened: Screened) -> Target:
        """Live permission of whoever asked; then the playbook checks and binds its target."""
        decision = self.given.decision
        if not has_write(self.given.repo.permission(decision.sender_login)):
            raise JobStopped(
                tracking.permission_refusal(decision.sender_login, asked_with(decision)),
                state="refused",
            )
        return self.playbook.check_target(self.svc, self.given, screened)

    def write_brief(self, target: Target, checkout: Checkout) -> Briefing:
        """The role and config from the default branch, then the playbook's task text."""
        given = self.given
        loaded = target.screened.loaded or load_setup(self.svc, given, target.base, checkout.mirror)
        role = role_for_job(given, loaded.setup, target.screened.role, target.role_name)
        self._keep(role=role)
        given.redact.add(*role.secrets)
        model = model_for(role, loaded.setup.config, self.settings)
        given.record.save(role=role.name, model=str(model))
        text = self.playbook.brief(given, target, checkout, loaded, role)
        return Briefing(loaded, role, model, text)

    def execute(self, target: Target, checkout: Checkout, briefing: Briefing) -> AgentRun:
        """The agent loop (agents.run); /cancel, from any process, stops it.

        A run that stops early keeps its work (the playbook's `keep_partial`).
        """
        given, settings = self.given, self.settings
        transcript = settings.data_dir / "transcripts" / f"job-{given.job_id}.jsonl"
        given.record.save(transcript_path=str(transcript))
        live = LiveProgress(self._show_live, agent_words(given, target.base.info))
        agent = RoleRun(run_spec(self.svc, given, checkout, briefing, transcript, live))
        with live, CancelWatcher(self.svc.ledger, given.job_id, agent.stop) as watcher:
            run = agent.run()
        self._keep(run=run)  # the tracking comment shows what it cost, however it ended
        self.svc.metrics.agent_ran(str(briefing.model), run)
        usage = run.result.usage
        given.record.save(
            turns=run.result.turns,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens,
            cache_write_tokens=usage.cache_creation_input_tokens,
            cost_usd=float(run.result.cost_usd) if run.result.cost_usd is not None else None,
            summary=given.redact(run.result.summary),  # what a later `/continue` is told
        )
        if (stop := stop_of(run.result, watcher.requested_by)) is not None:
            raise self._keep_partial(Work(target, checkout, briefing, run), stop)
        return run

    def _keep_partial(self, work: Work, stop: JobStopped) -> JobStopped:
        """Save what a stopped run did (a pushed branch, an incomplete draft PR); the stop,
        saying where the work is, or why it could not be kept."""
        try:
            # Outside the job's cancel scope: after /cancel the branch is still pushed.
            with workspace.cancel_scope(threading.Event()):
                delivery = self.playbook.keep_partial(self.svc, self.given, work, stop)
        except JobStopped as refused:  # a trust gate refused the commit: nothing pushed
            return JobStopped(
                f"{stop.reason}\n\nNothing was pushed: {refused.reason}", state=stop.state
            )
        except Exception as exc:
            log.exception("job %s: could not keep the work of a stopped run", self.given.job_id)
            return JobStopped(
                f"{stop.reason}\n\nIts work could not be saved: {explain_failure(exc)}",
                state=stop.state,
            )
        if delivery is None:
            return stop
        self._keep(delivery=delivery)
        said = f"**Stopped early:** {stop.reason}\n\n{delivery.check_summary}"
        self._check_ended("neutral", STOPPED_TITLE, said, delivery.pushed_sha)
        return JobStopped(f"{stop.reason}\n\n{delivery.report}", state=stop.state)

    def finish(self, stopped: JobStopped | None) -> None:
        """Always: the tracking comment tells the outcome; the ledger holds the end state."""
        given, record = self.given, self.given.record
        state = "succeeded" if stopped is None else stopped.state
        detail = "" if stopped is None else stopped.reason
        if isinstance(stopped, JobParked):  # queued behind the issue's job (bot.jobs.slots)
            return
        if isinstance(stopped, JobSkipped):  # nothing was posted, and nothing will be
            record.save(state=state, outcome=given.redact(detail))
            return
        if (
            self.progress.phase == "screen"
            and record.tracking_comment_id is None
            and not claim_the_answer(self.svc.ledger, record.row)
        ):  # refused before acknowledging: one explanation per thread (bot.jobs.loopbreaker)
            record.save(state=state, outcome=given.redact(detail))
            return
        if stopped is not None:
            self.checks.stopped(detail)
        try:
            self._track(outcome=state, detail=detail)
        except Exception:
            log.exception("job %s: could not rewrite the tracking comment", given.job_id)
        delivery = self.progress.delivery
        success = delivery.success_note if delivery is not None else ""
        record.save(state=state, outcome=given.redact(detail) or success or state)
        checkout = self.progress.checkout
        if checkout is not None and checkout.worktree.exists():
            workspace.remove_worktree(checkout.worktree)

    # -- helpers ----------------------------------------------------------------------

    def _begin(self, phase: str) -> None:
        """Record and show that `phase` starts, unless someone cancelled the job."""
        self._keep(phase=phase)
        self.clock.phase(phase)
        log_context.note(phase=phase)
        given = self.given
        if (who := cancel_requested(self.svc.ledger, given.job_id)) is not None:
            raise JobStopped(f"Cancelled by @{who}.", state="cancelled")
        given.record.save(phase=phase)
        self.svc.ledger.record_phase(given.job_id, phase)  # the dashboard's timeline
        if given.record.tracking_comment_id is not None:
            self._track()  # the checklist shows the phase now under way

    def _keep(self, **products: object) -> Progress:
        self.progress = replace(self.progress, **products)  # type: ignore[arg-type]
        return self.progress

    def _check_ended(
        self, conclusion: JobConclusion, title: str, summary: str, pushed_sha: str | None
    ) -> None:
        role = _role_shown(self.given, self.progress)
        self.checks.ended(conclusion, title, summary, role=role, pushed_sha=pushed_sha)

    def _show_live(self, line: str) -> None:
        """The agent's progress in the tracking comment, while it runs (bot.jobs.progress)."""
        if self.given.record.tracking_comment_id is not None:
            self._track(live=line)

    def _track(self, *, outcome: str | None = None, detail: str = "", live: str = "") -> None:
        """Create the tracking comment once, then edit it; a refusal replaces it."""
        given, progress = self.given, self.progress
        if outcome == "refused" or (outcome is not None and progress.phase == "screen"):
            body = detail  # a refusal, or an answer before anything was acknowledged
        else:
            body = tracking.tracking_comment(self._tracking(outcome, detail, live))
        comment_id = given.record.tracking_comment_id
        if comment_id is None:
            given.record.save(
                tracking_comment_id=given.repo.comment(given.decision.issue_number, body)
            )
        else:
            given.repo.update_comment(comment_id, body)

    def _tracking(self, outcome: str | None, detail: str, live: str) -> tracking.Tracking:
        given, progress = self.given, self.progress
        briefing, delivery, target = progress.briefing, progress.delivery, progress.target
        return tracking.Tracking(
            job_id=given.job_id,
            role=_role_shown(given, progress),
            model=str(briefing.model) if briefing else self.settings.model,
            phase=progress.phase,
            outcome=outcome,
            detail=detail,
            pr_url=(delivery.pr_url if delivery else None) or (target.pr_url if target else None),
            spend=tracking.spend_of(progress.run.result) if progress.run else None,
            kind=_tracking_kind(given.decision, progress.role),
            report=delivery.report if delivery else "",
            live=live,
        )


def _tracking_kind(decision: StartJob, role: Role | None) -> str:
    """A role that changes no files answers instead of opening a pull request."""
    if decision.kind == IMPLEMENT and role is not None and not role.can_write:
        return "answer"
    return decision.kind


def _role_shown(given: Given, progress: Progress) -> str:
    """The role as far as it is known: chosen, else bound with the target, else asked for."""
    if progress.role is not None:
        return progress.role.name
    return progress.target.role_name if progress.target else given.decision.role
