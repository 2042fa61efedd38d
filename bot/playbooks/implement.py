"""Implementing an issue: a fresh branch from the default branch, delivered as a draft PR."""

from __future__ import annotations

from agents import workspace
from agents.brief import IssueThread, ThreadComment, build_implement_brief
from agents.redact import find_secrets
from bot import render
from bot.jobcontext import Context, JobStopped, Services
from handlers.guards import filter_to_trigger_time

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


class Implement:
    def check_target(self, svc: Services, ctx: Context) -> None:
        """The issue is still open; bind the default branch's SHA and name our branch."""
        issue = ctx.repo.issue(ctx.decision.issue_number)
        if issue.state != "open":
            raise JobStopped(f"issue #{ctx.decision.issue_number} is closed, so no work started")
        ctx.info = ctx.repo.info()
        ctx.base_sha = ctx.repo.branch_sha(ctx.info.default_branch)
        ctx.title = ctx.decision.issue_title or str(issue.title)
        ctx.branch = workspace.branch_name(ctx.decision.issue_number, ctx.title)

    def prepare(self, svc: Services, ctx: Context) -> None:
        """The cached mirror, fetched; a fresh checkout at the bound SHA on our branch."""
        assert ctx.info is not None
        ctx.mirror = workspace.sync_mirror(
            svc.settings.data_dir,
            ctx.repo.owner,
            ctx.repo.name,
            ctx.info.clone_url,
            ctx.repo.token(),
        )
        ctx.worktree = svc.settings.data_dir / "worktrees" / f"job-{ctx.job_id}"
        if ctx.worktree.exists():  # left by an interrupted attempt
            workspace.remove_worktree(ctx.worktree)
        ctx.worktree.parent.mkdir(parents=True, exist_ok=True)
        workspace.create_worktree(ctx.mirror, ctx.worktree, ctx.base_sha, ctx.branch)

    def brief(self, svc: Services, ctx: Context) -> str:
        """Instructions from the default branch; the issue thread as of the trigger."""
        assert ctx.mirror is not None
        instructions = {
            name: text
            for name in INSTRUCTION_FILES
            if (text := workspace.read_default_branch_file(ctx.mirror, ctx.base_sha, name))
        }
        return build_implement_brief(
            ctx.repo.full_name,
            ctx.decision.issue_number,
            self._thread(ctx),
            ctx.decision.notes,
            instructions,
            ctx.branch,
        )

    def deliver(self, svc: Services, ctx: Context) -> None:
        """Commit, refuse secrets, push our branch, open (or find) the draft PR."""
        assert ctx.worktree is not None and ctx.info is not None and ctx.result is not None
        assert ctx.role is not None and ctx.model is not None
        bot = svc.app.bot_login()
        workspace.commit_all(
            ctx.worktree,
            f"feat: {render.pull_request_title(ctx.title)}\n\nRequested in "
            f"#{ctx.decision.issue_number} by @{ctx.decision.sender_login}.",
            bot,
            f"{bot}@users.noreply.github.com",
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
            spend=render.spend_of(ctx.result),
            diff_stat=workspace.diff_stat(ctx.worktree, ctx.base_sha),
            job_id=ctx.job_id,
        )
        pull = ctx.repo.open_draft_pull(
            title=render.pull_request_title(ctx.title),
            body=body,
            head=ctx.branch,
            base=ctx.info.default_branch,
        )
        ctx.pr_url = pull.html_url
        ctx.success_note = "pull request opened"
        svc.ledger.update_job(ctx.job_id, pr_url=pull.html_url)

    @staticmethod
    def _thread(ctx: Context) -> IssueThread:
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
