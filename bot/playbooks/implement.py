"""Implementing an issue: a fresh branch from the default branch, delivered as a draft PR.

What the agent wrote (its summary, the commands it ran, the names of the files it made)
and the issue's title (anyone can open an issue) reach the PR, its title and its commit
inert (bot.inert); the PR body's `Fixes #N` is Rolecall's own, added by `render`.
"""

from __future__ import annotations

from agents import workspace
from agents.brief import IssueThread, ThreadComment, build_implement_brief
from bot import render
from bot.ci_gate import granted_paths, with_ci_marker
from bot.jobcontext import Context, JobStopped, Services
from bot.playbooks.role_jobs import post_answer, route_before_acknowledging
from bot.playbooks.words import agent_words
from bot.repo_setup import fetch_mirror
from bot.trust import outgoing_refusal
from bot.turns import wait_turn
from handlers.guards import filter_to_trigger_time, has_write
from handlers.protected_paths import granted_changes, granted_note

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


class Implement:
    def screen(self, svc: Services, ctx: Context) -> None:
        """A role command or label names a role here, or the job ends before any 👀."""
        route_before_acknowledging(svc, ctx)

    def check_target(self, svc: Services, ctx: Context) -> None:
        """The issue is still open; bind the default branch's SHA and name our branch."""
        issue = ctx.repo.issue(ctx.decision.issue_number)
        if issue.state != "open":
            raise JobStopped(f"issue #{ctx.decision.issue_number} is closed, so no work started")
        # Bound already when the role was routed: work from the SHA its roles came from.
        ctx.info = ctx.info or ctx.repo.info()
        ctx.base_sha = ctx.base_sha or ctx.repo.branch_sha(ctx.info.default_branch)
        ctx.title = ctx.decision.issue_title or str(issue.title)
        ctx.branch = workspace.branch_name(ctx.decision.issue_number, ctx.title)
        wait_turn(svc, ctx)  # one running and one pending job per issue

    def prepare(self, svc: Services, ctx: Context) -> None:
        """The cached mirror, fetched; a fresh checkout at the bound SHA on our branch."""
        assert ctx.info is not None
        ctx.mirror = fetch_mirror(svc, ctx)
        ctx.worktree = svc.settings.data_dir / "worktrees" / f"job-{ctx.job_id}"
        if ctx.worktree.exists():  # left by an interrupted attempt
            workspace.remove_worktree(ctx.worktree)
        ctx.worktree.parent.mkdir(parents=True, exist_ok=True)
        workspace.create_worktree(
            ctx.mirror,
            ctx.worktree,
            ctx.base_sha,
            ctx.branch,
            volume=svc.settings.worktree_volume(),
        )

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
            self._thread(ctx, include_untrusted=_opted_in_to_untrusted_comments(ctx)),
            ctx.decision.notes,
            instructions,
            ctx.branch,
            read_only=ctx.role is not None and not ctx.role.can_write,
        )

    def deliver(self, svc: Services, ctx: Context) -> None:
        """Commit, refuse secrets, push our branch, open (or find) the draft PR."""
        assert ctx.worktree is not None and ctx.info is not None and ctx.result is not None
        assert ctx.role is not None and ctx.model is not None
        if not ctx.role.can_write:
            return post_answer(svc, ctx)
        bot = svc.app.bot_login()
        words = agent_words(ctx)
        title = words.plain(render.pull_request_title(ctx.title))
        config = ctx.setup.config if ctx.setup is not None else None
        _, left_out = workspace.commit_all(
            ctx.worktree,
            with_ci_marker(
                f"feat: {title}\n\nRequested in #{ctx.decision.issue_number} by "
                f"{ctx.decision.sender_login}.",
                config,
            ),
            bot,
            f"{bot}@users.noreply.github.com",
        )
        if not workspace.commits_since(ctx.worktree, ctx.base_sha):
            raise JobStopped(
                "The agent finished without changing any files. Its final message:\n\n"
                + (words.markdown(ctx.result.summary).strip() or "(empty)"),
                state="no_changes",
            )
        granted = granted_paths(config, ctx.role.name)
        refusal = outgoing_refusal(
            ctx.worktree, ctx.base_sha, ctx.redact, role=ctx.role.name, granted=granted
        )
        if refusal is not None:
            raise JobStopped(words.plain(refusal))
        changed = workspace.changed_files(ctx.worktree, ctx.base_sha)
        notice = words.markdown(
            "\n\n".join(
                note
                for note in (
                    granted_note(granted_changes(changed, granted), ctx.role.name),
                    render.left_out_note(left_out),
                )
                if note
            )
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
            summary=words.markdown(ctx.result.summary),
            commands=[
                render.CommandRun(words.plain(c.command), c.exit_code, c.timed_out)
                for c in ctx.commands
            ],
            role=ctx.role.name,
            model=str(ctx.model),
            spend=render.spend_of(ctx.result),
            diff_stat=words.plain(workspace.diff_stat(ctx.worktree, ctx.base_sha)),
            job_id=ctx.job_id,
            notice=notice,
        )
        pull = ctx.repo.open_draft_pull(
            title=title,
            body=body,
            head=ctx.branch,
            base=ctx.info.default_branch,
        )
        ctx.pr_url = pull.html_url
        ctx.success_note = "pull request opened"
        svc.ledger.update_job(ctx.job_id, pr_url=pull.html_url)

    @staticmethod
    def _thread(ctx: Context, *, include_untrusted: bool = False) -> IssueThread:
        """The issue from the trigger's payload and the comments written before it.

        Only comments by people with write access (the live permission, looked up once
        per commenter for this job) are kept: anyone can comment on a public issue, and
        what they write must not steer the work a maintainer asked for (invariant 3).
        `include_untrusted` (a repository's opt-in) keeps the others, labelled as
        written without write access.
        """
        issue = ctx.repo.issue(ctx.decision.issue_number)
        comments = filter_to_trigger_time(
            ctx.repo.issue_comments(ctx.decision.issue_number), ctx.decision.trigger_at
        )
        can_write: dict[str, bool] = {}

        def trusted(login: str) -> bool:
            key = login.casefold()
            if key not in can_write:
                can_write[key] = login != "ghost" and has_write(ctx.repo.permission(login))
            return can_write[key]

        kept = []
        for c in comments:
            author = c.user.login if c.user else "ghost"
            writer = trusted(author)
            if writer or include_untrusted:
                kept.append(ThreadComment(author, c.body or "", c.created_at, trusted=writer))
        return IssueThread(
            title=ctx.title,
            body=ctx.decision.issue_body if ctx.decision.issue_title else issue.body,
            author=issue.user.login if issue.user else "ghost",
            comments=kept,
        )


def _opted_in_to_untrusted_comments(ctx: Context) -> bool:
    """The repository's `include_untrusted_comments` (default-branch config), else False."""
    config = ctx.setup.config if ctx.setup is not None else None
    return bool(config is not None and config.include_untrusted_comments)
