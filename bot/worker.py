"""The composition root: one job, in labelled phases, in one try/except/finally.

Every collaborator (GitHub clients, the git workspace, the sandbox, the toolbox, the
model client, the agent loop) is built here and nowhere else. Each phase records its
name before it starts, so a failure is always reported with the phase it happened in,
and `finish` always runs: the tracking comment is rewritten with the outcome and the
ledger row holds the final state, whatever went wrong.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from agents import workspace
from agents.brief import IssueThread, ThreadComment, build_implement_brief, system_prompt
from agents.executor import Executor, Limits, RunResult
from agents.model import ModelClient, ModelRef, get_provider, resolve_model
from agents.redact import Redactor, find_secrets
from agents.roles import CLAUDE_DIR, COPILOT_DIR, Role, RoleSet, discover_roles
from agents.sandbox import make_sandbox
from agents.tools import CommandRecord, Toolbox
from bot import render
from bot.github import GitHubApp, RepoClient, RepoInfo
from bot.ledger import Job, Ledger, open_ledger
from bot.settings import Settings
from handlers.decisions import Reply, StartJob, decision_from_dict
from handlers.guards import filter_to_trigger_time, has_write

log = logging.getLogger("rolecall.worker")

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


class JobStopped(Exception):
    """Ends a job early with a reason a maintainer can act on.

    `state` is the ledger state the job ends in: "failed" for something that went wrong,
    "no_changes" when the agent changed nothing, "refused" when the requester may not
    start work.
    """

    def __init__(self, reason: str, *, state: str = "failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state


@dataclass
class Context:
    """What the phases hand each other while one job runs."""

    job: Job
    decision: StartJob
    repo: RepoClient
    redact: Redactor
    phase: str = "acknowledge"
    info: RepoInfo | None = None
    base_sha: str = ""
    title: str = ""
    branch: str = ""
    mirror: Path | None = None
    worktree: Path | None = None
    role: Role | None = None
    model: ModelRef | None = None
    brief: str = ""
    result: RunResult | None = None
    commands: list[CommandRecord] = field(default_factory=list)
    pr_url: str | None = None


def run_job(job_id: int, settings: Settings) -> None:
    """The queue's task: claim the job (only one runner wins) and run it to an end."""
    ledger = open_ledger(settings)
    job = ledger.claim_job(job_id)
    if job is None:
        return  # finished already, or another worker holds it
    decision = decision_from_dict(job.decision_json)
    app = _github_app(settings)
    redact = _redactor(settings)
    if job.repo_full_name is None or job.installation_id is None:
        ledger.update_job(job_id, state="failed", outcome="the job names no repository")
        return
    repo = app.repo(job.installation_id, job.repo_full_name, redact)
    if isinstance(decision, Reply):
        _post_reply(ledger, job, decision, repo)
    elif isinstance(decision, StartJob):
        Worker(settings, ledger, app).run(Context(job, decision, repo, redact))
    else:
        ledger.update_job(job_id, state="failed", outcome=f"nothing to run for {decision!r}")


def _post_reply(ledger: Ledger, job: Job, reply: Reply, repo: RepoClient) -> None:
    assert job.id is not None and job.issue_number is not None
    try:
        repo.comment(job.issue_number, reply.body)
    except Exception as exc:
        log.exception("job %s: posting the reply failed", job.id)
        ledger.update_job(job.id, state="failed", outcome=f"posting the reply failed: {exc}")
        return
    ledger.update_job(job.id, state="succeeded", outcome=reply.reason)


class Worker:
    """Runs a StartJob through acknowledge → authorize → prepare → brief → execute → deliver."""

    def __init__(self, settings: Settings, ledger: Ledger, app: GitHubApp) -> None:
        self.settings = settings
        self.ledger = ledger
        self.app = app

    def run(self, ctx: Context) -> None:
        stopped: JobStopped | None = None
        try:
            for phase in (
                self.acknowledge,
                self.authorize,
                self.prepare,
                self.write_brief,
                self.execute,
                self.deliver,
            ):
                ctx.phase = phase.__name__.replace("write_", "")
                self._save(ctx, phase=ctx.phase)
                if ctx.job.tracking_comment_id is not None:
                    self._track(ctx)  # the checklist shows the phase now under way
                phase(ctx)
        except JobStopped as stop:
            stopped = stop
        except Exception as exc:
            log.exception("job %s failed in %s", ctx.job.id, ctx.phase)
            stopped = JobStopped(_explain(exc))
        finally:
            self.finish(ctx, stopped)

    # -- phases -----------------------------------------------------------------------

    def acknowledge(self, ctx: Context) -> None:
        """👀 on the trigger and the tracking comment, before anything slow."""
        if ctx.decision.comment_id is not None:
            ctx.repo.react(ctx.decision.comment_id, "eyes")
        self._track(ctx)

    def authorize(self, ctx: Context) -> None:
        """Live permission of whoever asked, and the issue still open; binds the base SHA."""
        permission = ctx.repo.permission(ctx.decision.sender_login)
        if not has_write(permission):
            raise JobStopped(
                render.permission_refusal(ctx.decision.sender_login, f"/{ctx.decision.kind}"),
                state="refused",
            )
        issue = ctx.repo.issue(ctx.decision.issue_number)
        if issue.state != "open":
            raise JobStopped(f"issue #{ctx.decision.issue_number} is closed, so no work started")
        ctx.info = ctx.repo.info()
        ctx.base_sha = ctx.repo.branch_sha(ctx.info.default_branch)
        ctx.title = ctx.decision.issue_title or str(issue.title)
        ctx.branch = workspace.branch_name(ctx.decision.issue_number, ctx.title)

    def prepare(self, ctx: Context) -> None:
        """The cached mirror, fetched; a fresh checkout at the bound SHA on our branch."""
        assert ctx.info is not None and ctx.job.id is not None
        ctx.mirror = workspace.sync_mirror(
            self.settings.data_dir,
            ctx.repo.owner,
            ctx.repo.name,
            ctx.info.clone_url,
            ctx.repo.token(),
        )
        ctx.worktree = self.settings.data_dir / "worktrees" / f"job-{ctx.job.id}"
        if ctx.worktree.exists():  # left by an interrupted attempt
            workspace.remove_worktree(ctx.worktree)
        ctx.worktree.parent.mkdir(parents=True, exist_ok=True)
        workspace.create_worktree(ctx.mirror, ctx.worktree, ctx.base_sha, ctx.branch)

    def write_brief(self, ctx: Context) -> None:
        """The role and instructions from the default branch; the thread as of the trigger."""
        assert ctx.mirror is not None
        roles = self._roles(ctx.mirror, ctx.base_sha)
        role = roles.get(ctx.decision.role)
        if role is None:
            raise JobStopped(
                f"no role named `{ctx.decision.role}` in this repository; "
                f"available: {', '.join(roles.names())}"
            )
        ctx.role = role
        ctx.redact.add(*role.secrets)
        ctx.model = resolve_model(role.model, default=self.settings.model, aliases={})
        self._save(ctx, role=role.name, model=str(ctx.model))
        instructions = {
            name: text
            for name in INSTRUCTION_FILES
            if (text := workspace.read_default_branch_file(ctx.mirror, ctx.base_sha, name))
        }
        ctx.brief = build_implement_brief(
            ctx.repo.full_name,
            ctx.decision.issue_number,
            self._thread(ctx),
            ctx.decision.notes,
            instructions,
            ctx.branch,
        )

    def execute(self, ctx: Context) -> None:
        """The agent loop, with tools confined to the checkout and commands in bubblewrap."""
        assert ctx.worktree is not None and ctx.mirror is not None
        assert ctx.role is not None and ctx.model is not None and ctx.job.id is not None
        sandbox = make_sandbox(
            self.settings.sandbox,
            ctx.worktree,
            allow_unsafe=self.settings.allow_unsafe_sandbox,
            read_only_paths=[ctx.mirror],
        )
        toolbox_tools = sorted(ctx.role.tools & _RUNTIME_TOOLS)
        toolbox = Toolbox(
            ctx.worktree, sandbox, toolbox_tools, command_timeout=self.settings.command_timeout
        )
        transcript = self.settings.data_dir / "transcripts" / f"job-{ctx.job.id}.jsonl"
        transcript.parent.mkdir(parents=True, exist_ok=True)
        self._save(ctx, transcript_path=str(transcript))
        provider = get_provider(
            ctx.model.provider,
            base_url=self.settings.anthropic_base_url
            if ctx.model.provider == "anthropic"
            else None,
            api_key=_secret(self.settings.anthropic_api_key)
            if ctx.model.provider == "anthropic"
            else None,
        )
        client = ModelClient.for_provider(provider)
        try:
            limits = Limits(
                max_turns=ctx.role.max_turns or self.settings.max_turns,
                max_seconds=self.settings.max_minutes * 60,
                max_cost_usd=self.settings.max_cost_usd,
            )
            executor = Executor(client, ctx.model, toolbox, limits, transcript, redact=ctx.redact)
            system = system_prompt(ctx.role.instructions, ctx.repo.full_name, toolbox_tools)
            ctx.result = executor.run(system, ctx.brief)
        finally:
            client.close()
        ctx.commands = toolbox.commands
        result = ctx.result
        self._save(
            ctx,
            turns=result.turns,
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cache_read_tokens=result.usage.cache_read_input_tokens,
            cache_write_tokens=result.usage.cache_creation_input_tokens,
            cost_usd=float(result.cost_usd) if result.cost_usd is not None else None,
        )
        if result.stop != "completed":
            raise JobStopped(_stop_reason(result))

    def deliver(self, ctx: Context) -> None:
        """Commit, refuse secrets, push our branch, open (or find) the draft PR."""
        assert ctx.worktree is not None and ctx.info is not None and ctx.result is not None
        assert ctx.role is not None and ctx.model is not None and ctx.job.id is not None
        title = ctx.title
        workspace.commit_all(
            ctx.worktree,
            f"feat: {render.pull_request_title(title)}\n\nRequested in #"
            f"{ctx.decision.issue_number} by @{ctx.decision.sender_login}.",
            self.app.bot_login(),
            f"{self.app.bot_login()}@users.noreply.github.com",
        )
        if not workspace.commits_since(ctx.worktree, ctx.base_sha):
            raise JobStopped(
                "The agent finished without changing any files. Its final message:\n\n"
                + (ctx.result.summary.strip() or "(empty)"),
                state="no_changes",
            )
        leaked = find_secrets(workspace.diff(ctx.worktree, ctx.base_sha))
        if leaked:
            raise JobStopped(
                f"the change contains {len(leaked)} credential-shaped string(s), so it was "
                "not pushed; nothing left this machine"
            )
        workspace.push(
            ctx.worktree,
            ctx.info.clone_url,
            ctx.repo.token(),
            ctx.branch,
            default_branch=ctx.info.default_branch,
        )
        body = render.pull_request_body(
            issue_number=ctx.decision.issue_number,
            summary=ctx.result.summary,
            commands=[render.CommandRun(c.command, c.exit_code, c.timed_out) for c in ctx.commands],
            role=ctx.role.name,
            model=str(ctx.model),
            spend=_spend(ctx.result),
            diff_stat=workspace.diff_stat(ctx.worktree, ctx.base_sha),
            job_id=ctx.job.id,
        )
        pull = ctx.repo.open_draft_pull(
            title=render.pull_request_title(title),
            body=body,
            head=ctx.branch,
            base=ctx.info.default_branch,
        )
        ctx.pr_url = pull.html_url
        self._save(ctx, pr_url=pull.html_url)

    def finish(self, ctx: Context, stopped: JobStopped | None) -> None:
        """Always: the tracking comment tells the outcome; the ledger holds the end state."""
        state = "succeeded" if stopped is None else stopped.state
        detail = "" if stopped is None else stopped.reason
        try:
            self._track(ctx, outcome=state, detail=detail)
        except Exception:
            log.exception("job %s: could not rewrite the tracking comment", ctx.job.id)
        self._save(ctx, state=state, outcome=ctx.redact(detail) or "pull request opened")
        if ctx.worktree is not None and ctx.worktree.exists():
            workspace.remove_worktree(ctx.worktree)

    # -- helpers ----------------------------------------------------------------------

    def _track(self, ctx: Context, *, outcome: str | None = None, detail: str = "") -> None:
        """Create the tracking comment once, then edit it; refusals replace it."""
        assert ctx.job.id is not None
        if outcome == "refused":
            body = detail
        else:
            body = render.tracking_comment(
                render.Tracking(
                    job_id=ctx.job.id,
                    role=ctx.role.name if ctx.role else ctx.decision.role,
                    model=str(ctx.model) if ctx.model else self.settings.model,
                    phase=ctx.phase,
                    outcome=outcome,
                    detail=detail,
                    pr_url=ctx.pr_url,
                    spend=_spend(ctx.result) if ctx.result else None,
                )
            )
        if ctx.job.tracking_comment_id is None:
            comment_id = ctx.repo.comment(ctx.decision.issue_number, body)
            ctx.job = self._save(ctx, tracking_comment_id=comment_id)
        else:
            ctx.repo.update_comment(ctx.job.tracking_comment_id, body)

    def _roles(self, mirror: Path, sha: str) -> RoleSet:
        files: dict[str, str] = {}
        for directory in (COPILOT_DIR, CLAUDE_DIR):
            for path in workspace.list_default_branch_files(mirror, sha, directory):
                text = workspace.read_default_branch_file(mirror, sha, path)
                if text is not None:
                    files[path] = text
        return discover_roles(files)

    def _thread(self, ctx: Context) -> IssueThread:
        """The issue from the trigger's payload and the comments written before it."""
        issue = ctx.repo.issue(ctx.decision.issue_number)
        comments = filter_to_trigger_time(
            ctx.repo.issue_comments(ctx.decision.issue_number), ctx.decision.trigger_at
        )
        return IssueThread(
            title=ctx.title,
            body=ctx.decision.issue_body if ctx.decision.issue_title else issue.body,
            author=issue.user.login if issue.user else "ghost",
            comments=[
                ThreadComment(
                    author=c.user.login if c.user else "ghost",
                    body=c.body or "",
                    created_at=c.created_at,
                    trusted=False,
                )
                for c in comments
            ],
        )

    def _save(self, ctx: Context, **fields: object) -> Job:
        assert ctx.job.id is not None
        ctx.job = self.ledger.update_job(ctx.job.id, **fields)
        return ctx.job


_RUNTIME_TOOLS = frozenset({"Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite"})

_APPS: dict[tuple[str, int], GitHubApp] = {}


def _github_app(settings: Settings) -> GitHubApp:
    """One App client per process and App, so the bot's login is looked up once."""
    pem = settings.private_key_pem()
    if settings.app_id is None or pem is None:
        raise RuntimeError("APP_ID and PRIVATE_KEY are needed to run jobs")
    key = (settings.github_api_url, settings.app_id)
    if key not in _APPS:
        _APPS[key] = GitHubApp(settings.app_id, pem, settings.github_api_url)
    return _APPS[key]


def _redactor(settings: Settings) -> Redactor:
    """Knows every secret this process holds, so none of them is ever posted or logged."""
    secrets = [
        _secret(settings.webhook_secret),
        _secret(settings.webhook_secret_previous),
        _secret(settings.anthropic_api_key),
        settings.private_key_pem(),
    ]
    return Redactor(s for s in secrets if s)


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else None


def _spend(result: RunResult) -> render.Spend:
    return render.Spend(
        turns=result.turns,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cache_read_tokens=result.usage.cache_read_input_tokens,
        cache_write_tokens=result.usage.cache_creation_input_tokens,
        cost_usd=result.cost_usd if isinstance(result.cost_usd, Decimal) else None,
    )


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


def _explain(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__
