"""The composition root: one job, in labelled phases, in one try/except/finally.

Every collaborator (GitHub clients, the git workspace, the sandbox, the toolbox, the
model client, the agent loop) is built here. The phases every job shares live here too;
what differs by kind of job (the target, the checkout, the brief, the delivery) is a
playbook (`bot.playbooks`). Each phase records its name before it starts, so a failure
is reported with the phase it happened in, and `finish` always runs: the tracking
comment is rewritten with the outcome and the ledger row holds the final state.
"""

from __future__ import annotations

import atexit
import logging
import threading
from functools import partial

from agents import workspace
from agents.brief import system_prompt
from agents.executor import Executor, RunResult
from agents.model import ModelClient, Provider
from agents.netproxy import egress_for
from agents.redact import Redactor
from agents.sandbox import Sandbox, make_sandbox
from agents.tools import Toolbox
from bot import render
from bot.admission import admit
from bot.cancel import CancelWatcher, cancel_requested
from bot.control import COMMANDS, run_control
from bot.failures import explain_failure
from bot.github import GitHubApp, RepoClient
from bot.jobcontext import Context, JobParked, JobSkipped, JobStopped, Services
from bot.ledger import Job, open_ledger
from bot.loopbreaker import claim_the_answer
from bot.playbooks import PLAYBOOKS, Playbook
from bot.providers import provider_for
from bot.repo_setup import load_setup, role_for_job
from bot.role_settings import limits_for, model_for
from bot.settings import Settings
from bot.turns import hand_on
from handlers.decisions import Reply, StartJob, decision_from_dict
from handlers.guards import has_write

log = logging.getLogger("rolecall.worker")

# A job interrupted by restarts more often than this is failed instead of resumed.
MAX_ATTEMPTS = 2
RUNTIME_TOOLS = frozenset({"Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite"})


def run_job(job_id: int, settings: Settings) -> None:
    """The queue's task: claim the job (only one runner wins) and run it to an end."""
    ledger = open_ledger(settings)
    job = ledger.claim_job(job_id)
    if job is None:
        return  # finished already, or another worker holds it
    if job.repo_full_name is None or job.installation_id is None:
        ledger.update_job(job_id, state="failed", outcome="the job names no repository")
        return
    svc = Services(settings, ledger, _github_app(settings))
    redact = _redactor(settings)
    repo = svc.app.repo(job.installation_id, job.repo_full_name, redact)
    decision = decision_from_dict(job.decision_json)
    if isinstance(decision, Reply):
        if claim_the_answer(ledger, job):  # one reply per thread (bot.loopbreaker)
            _post_reply(svc, job, decision, repo)
        else:
            ledger.update_job(job_id, state="skipped", outcome="already replied on this thread")
    elif isinstance(decision, StartJob) and decision.kind in PLAYBOOKS:
        if admit(svc, job, decision, repo):  # writers only, within the loop breaker
            Worker(svc, PLAYBOOKS[decision.kind]).run(Context(job, decision, repo, redact))
    elif isinstance(decision, StartJob) and decision.kind in COMMANDS:  # /help, /cancel, …
        if admit(svc, job, decision, repo):
            run_control(svc, Context(job, decision, repo, redact))
    else:
        ledger.update_job(job_id, state="failed", outcome=f"no playbook for {decision!r}")


def _post_reply(svc: Services, job: Job, reply: Reply, repo: RepoClient) -> None:
    assert job.id is not None and job.issue_number is not None
    try:
        repo.comment(job.issue_number, reply.body)
    except Exception as exc:
        log.exception("job %s: posting the reply failed", job.id)
        svc.ledger.update_job(job.id, state="failed", outcome=f"posting the reply failed: {exc}")
        return
    svc.ledger.update_job(job.id, state="succeeded", outcome=reply.reason)


class Worker:
    """Runs a StartJob through acknowledge → authorize → prepare → brief → execute → deliver."""

    def __init__(self, svc: Services, playbook: Playbook) -> None:
        self.svc = svc
        self.settings = svc.settings
        self.playbook = playbook

    def run(self, ctx: Context) -> None:
        stopped: JobStopped | None = None
        # /cancel also kills host git (a fetch, a push) with its process group.
        git_cancel = threading.Event()
        try:
            with (
                workspace.cancel_scope(git_cancel),
                CancelWatcher(self.svc.ledger, ctx.job_id, git_cancel.set),
            ):
                self._phases(ctx)
        except JobStopped as stop:
            stopped = stop
        except workspace.GitCancelled:
            who = cancel_requested(self.svc.ledger, ctx.job_id) or "someone"
            stopped = JobStopped(f"Cancelled by @{who}.", state="cancelled")
        except Exception as exc:
            log.exception("job %s failed in %s", ctx.job.id, ctx.phase)
            stopped = JobStopped(explain_failure(exc))
        finally:
            self.finish(ctx, stopped)
            if not isinstance(stopped, JobParked):
                hand_on(self.svc, ctx)  # the job waiting on this issue, if any, goes next

    def _phases(self, ctx: Context) -> None:
        """Each phase in turn, its name recorded (and shown) before it starts."""
        if ctx.job.attempts > MAX_ATTEMPTS:
            raise JobStopped(
                f"The job was interrupted by a restart {ctx.job.attempts - 1} times, so "
                "Rolecall stopped retrying it. Comment `/retry` to run it again."
            )
        for phase in (
            self.screen,
            self.acknowledge,
            self.authorize,
            self.prepare,
            self.write_brief,
            self.execute,
            self.deliver,
        ):
            ctx.phase = phase.__name__.removeprefix("write_")
            if (who := cancel_requested(self.svc.ledger, ctx.job_id)) is not None:
                raise JobStopped(f"Cancelled by @{who}.", state="cancelled")
            self._save(ctx, phase=ctx.phase)
            if ctx.job.tracking_comment_id is not None:
                self._track(ctx)  # the checklist shows the phase now under way
            phase(ctx)

    # -- phases -----------------------------------------------------------------------

    def screen(self, ctx: Context) -> None:
        """Whether there is anything to do at all, before anything is posted (see Fix)."""
        self.playbook.screen(self.svc, ctx)

    def acknowledge(self, ctx: Context) -> None:
        """👀 on the trigger and the tracking comment, before anything slow."""
        if ctx.decision.comment_id is not None:
            ctx.repo.react(ctx.decision.comment_id, "eyes")
        self._track(ctx)

    def authorize(self, ctx: Context) -> None:
        """Live permission of whoever asked; then the playbook checks and binds its target."""
        permission = ctx.repo.permission(ctx.decision.sender_login)
        if not has_write(permission):
            raise JobStopped(
                render.permission_refusal(ctx.decision.sender_login, _asked_with(ctx.decision)),
                state="refused",
            )
        self.playbook.check_target(self.svc, ctx)

    def prepare(self, ctx: Context) -> None:
        self.playbook.prepare(self.svc, ctx)

    def write_brief(self, ctx: Context) -> None:
        """The role and config from the default branch, then the playbook's task text."""
        assert ctx.mirror is not None
        setup = load_setup(self.svc, ctx)
        ctx.role = role = role_for_job(ctx, setup)
        ctx.redact.add(*role.secrets)
        ctx.model = model_for(role, setup.config, self.settings)
        self._save(ctx, role=role.name, model=str(ctx.model))
        ctx.brief = self.playbook.brief(self.svc, ctx)

    def execute(self, ctx: Context) -> None:
        """The agent loop, with tools confined to the checkout and commands in bubblewrap."""
        assert ctx.worktree is not None and ctx.mirror is not None
        assert ctx.role is not None and ctx.model is not None
        # No network, unless the role is granted the allow-list proxy (agents.netproxy).
        egress = egress_for(
            self.settings.network_allowlist, self.settings.network_roles_set(), ctx.role.name
        )
        try:
            sandbox = make_sandbox(
                self.settings.sandbox,
                ctx.worktree,
                allow_unsafe=self.settings.allow_unsafe_sandbox,
                mirror=ctx.mirror,
                egress_dir=egress.directory if egress is not None else None,
                run_as=self.settings.sandbox_run_as(),
                limits=self.settings.sandbox_limits(),
            )
        except BaseException:
            if egress is not None:
                egress.stop()
            raise
        tools = sorted(ctx.role.tools & RUNTIME_TOOLS)
        toolbox = Toolbox(
            ctx.worktree, sandbox, tools, command_timeout=self.settings.command_timeout
        )
        transcript = self.settings.data_dir / "transcripts" / f"job-{ctx.job_id}.jsonl"
        transcript.parent.mkdir(parents=True, exist_ok=True)
        self._save(ctx, transcript_path=str(transcript))
        limits = limits_for(ctx.role, ctx.setup.config if ctx.setup else None, self.settings)
        cancel = threading.Event()
        client = ModelClient.for_provider(self._provider(ctx))
        try:
            if egress is not None:
                egress.start()
            executor = Executor(
                client, ctx.model, toolbox, limits, transcript, redact=ctx.redact, cancel=cancel
            )
            system = system_prompt(ctx.role.instructions, ctx.repo.full_name, tools)
            # /cancel, from any process: stop the loop and kill what runs in the sandbox.
            stop = partial(_stop_agent, cancel, sandbox)
            with CancelWatcher(self.svc.ledger, ctx.job_id, stop) as watcher:
                ctx.result = result = executor.run(system, ctx.brief)
        finally:
            client.close()
            if egress is not None:
                egress.stop()
        ctx.commands = toolbox.commands
        self._save(
            ctx,
            turns=result.turns,
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cache_read_tokens=result.usage.cache_read_input_tokens,
            cache_write_tokens=result.usage.cache_creation_input_tokens,
            cost_usd=float(result.cost_usd) if result.cost_usd is not None else None,
        )
        if result.stop == "cancelled" and watcher.requested_by:
            raise JobStopped(f"Cancelled by @{watcher.requested_by}.", state="cancelled")
        if result.stop != "completed":
            raise JobStopped(_stop_reason(result), state=_stop_state(result))

    def deliver(self, ctx: Context) -> None:
        self.playbook.deliver(self.svc, ctx)

    def finish(self, ctx: Context, stopped: JobStopped | None) -> None:
        """Always: the tracking comment tells the outcome; the ledger holds the end state."""
        state = "succeeded" if stopped is None else stopped.state
        detail = "" if stopped is None else stopped.reason
        if isinstance(stopped, JobParked):  # queued behind the issue's job (bot.turns)
            return
        if isinstance(stopped, JobSkipped):  # nothing was posted, and nothing will be
            self._save(ctx, state=state, outcome=ctx.redact(detail))
            return
        if (
            ctx.phase == "screen"
            and ctx.job.tracking_comment_id is None
            and not claim_the_answer(self.svc.ledger, ctx.job)
        ):  # refused before acknowledging: one explanation per thread (bot.loopbreaker)
            self._save(ctx, state=state, outcome=ctx.redact(detail))
            return
        try:
            self._track(ctx, outcome=state, detail=detail)
        except Exception:
            log.exception("job %s: could not rewrite the tracking comment", ctx.job.id)
        self._save(ctx, state=state, outcome=ctx.redact(detail) or ctx.success_note or state)
        if ctx.worktree is not None and ctx.worktree.exists():
            workspace.remove_worktree(ctx.worktree)

    # -- helpers ----------------------------------------------------------------------

    def _track(self, ctx: Context, *, outcome: str | None = None, detail: str = "") -> None:
        """Create the tracking comment once, then edit it; a refusal replaces it."""
        if outcome == "refused" or (outcome is not None and ctx.phase == "screen"):
            body = detail  # a refusal, or an answer before anything was acknowledged
        else:
            body = render.tracking_comment(
                render.Tracking(
                    job_id=ctx.job_id,
                    role=ctx.role.name if ctx.role else ctx.decision.role,
                    model=str(ctx.model) if ctx.model else self.settings.model,
                    phase=ctx.phase,
                    outcome=outcome,
                    detail=detail,
                    pr_url=ctx.pr_url,
                    spend=render.spend_of(ctx.result) if ctx.result else None,
                    kind=_tracking_kind(ctx),
                    report=ctx.report,
                )
            )
        if ctx.job.tracking_comment_id is None:
            comment_id = ctx.repo.comment(ctx.decision.issue_number, body)
            self._save(ctx, tracking_comment_id=comment_id)
        else:
            ctx.repo.update_comment(ctx.job.tracking_comment_id, body)

    def _provider(self, ctx: Context) -> Provider:
        assert ctx.model is not None
        return provider_for(self.settings, ctx.model.provider)

    def _save(self, ctx: Context, **fields: object) -> Job:
        ctx.job = self.svc.ledger.update_job(ctx.job_id, **fields)
        return ctx.job


_APPS: dict[tuple[str, int], GitHubApp] = {}
_APPS_LOCK = threading.Lock()


def _github_app(settings: Settings) -> GitHubApp:
    """One App client per process and App, shared by every job and worker thread.

    It holds what is worth keeping between jobs: the bot's login, the pooled keep-alive
    connections (one pool per installation) and the installation tokens, reused until
    close to expiry (`bot.github.GitHubApp`). Its connections are closed as the process
    exits, after `serve` or `worker` has stopped its workers.
    """
    pem = settings.private_key_pem()
    if settings.app_id is None or pem is None:
        raise RuntimeError("APP_ID and PRIVATE_KEY are needed to run jobs")
    key = (settings.github_api_url, settings.app_id)
    with _APPS_LOCK:
        if key not in _APPS:
            _APPS[key] = GitHubApp(settings.app_id, pem, settings.github_api_url)
        return _APPS[key]


def close_github_apps() -> None:
    """Close the pooled GitHub connections of every App client this process built."""
    with _APPS_LOCK:
        apps = list(_APPS.values())
        _APPS.clear()
    for app in apps:
        app.close()


# `serve` and `worker` return (their workers stopped) before the interpreter exits.
atexit.register(close_github_apps)


def _redactor(settings: Settings) -> Redactor:
    """Knows every secret this process holds, so none of them is ever posted or logged.

    The list is the one the log filter gets (`Settings.known_secrets`).
    """
    return Redactor(settings.known_secrets())


def _asked_with(decision: StartJob) -> str:
    """What the requester used: `/backend`, or the label `rolecall:backend`."""
    if decision.trigger == "label" and decision.label:
        return decision.label
    return f"/{decision.command or decision.kind}"


def _stop_agent(cancel: threading.Event, sandbox: Sandbox) -> None:
    cancel.set()
    sandbox.kill_all()


def _tracking_kind(ctx: Context) -> str:
    """A role that changes no files answers instead of opening a pull request."""
    if ctx.decision.kind == "implement" and ctx.role is not None and not ctx.role.can_write:
        return "answer"
    return ctx.decision.kind


def _stop_reason(result: RunResult) -> str:
    if result.stop == "turn_limit":
        return f"The agent stopped at the turn limit ({result.turns} turns) before finishing."
    if result.stop == "time_limit":
        return "The agent stopped at the time limit before finishing."
    if result.stop == "cost_limit":
        return "The agent stopped at the cost limit before finishing."
    if result.stop == "cancelled":
        return "The job was cancelled."
    return f"The model API failed: {result.detail}"


def _stop_state(result: RunResult) -> str:
    return "cancelled" if result.stop == "cancelled" else "failed"
