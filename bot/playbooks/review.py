"""Reviewing a pull request on request: a read-only role, one review of comments.

`/review [focus]` runs the reviewer on the PR's diff against its base, from a checkout
of the PR head (fetched through `refs/pull/<n>/head`, so forks work too). The agent's
findings are checked against the lines GitHub's diff shows before anything is posted:
a finding on such a line becomes an inline comment, any other goes in the review's
body, so one misplaced line never costs the whole review. The review's event is always
COMMENT: Rolecall never approves and never requests changes (invariant 5). The summary
and every finding are posted inert (bot.inert).
"""

from __future__ import annotations

from githubkit.exception import RequestFailed

from agents import workspace
from agents.answers import parse_findings
from agents.brief import DiffText, PullRequestText, build_review_brief
from bot import render
from bot.github import ReviewRef
from bot.jobcontext import Context, JobStopped, Services
from bot.playbooks.pull_jobs import (
    bind_open_pull,
    default_branch_instructions,
    fresh_checkout,
    sync_mirror,
)
from bot.playbooks.words import agent_words


class Review:
    def screen(self, svc: Services, ctx: Context) -> None:
        """A `/review` command always asks for work."""

    def check_target(self, svc: Services, ctx: Context) -> None:
        bind_open_pull(ctx)

    def prepare(self, svc: Services, ctx: Context) -> None:
        """The PR head bound when the command was authorized, on a local branch.

        It is fetched through the base repository's `refs/pull/<n>/head`; if the head
        moved since it was bound and the bound commit is gone (a force push), the
        review stops rather than reviewing code nobody asked about.
        """
        assert ctx.info is not None and ctx.pull is not None
        sync_mirror(svc, ctx)
        assert ctx.mirror is not None
        number = ctx.decision.issue_number
        workspace.fetch_pull_head(ctx.mirror, ctx.info.clone_url, ctx.repo.token(), number)
        if not workspace.has_commit(ctx.mirror, ctx.pull.head_sha):
            raise JobStopped(
                f"the pull request's head moved from {ctx.pull.head_sha[:12]} after "
                "`/review` was accepted, and that commit is gone; comment `/review` again"
            )
        ctx.head_sha = ctx.pull.head_sha
        ctx.branch = f"rolecall/review-{number}"  # local to the worktree; never pushed
        fresh_checkout(svc, ctx, ctx.head_sha, ctx.branch, existing=False)

    def brief(self, svc: Services, ctx: Context) -> str:
        """The diff as GitHub shows it (what inline comments can anchor to), and the focus."""
        assert ctx.pull is not None
        ctx.diff_files = ctx.repo.pull_files(ctx.decision.issue_number)
        decision = ctx.decision
        pull = PullRequestText(
            ctx.pull.number,
            decision.issue_title or ctx.pull.title,
            decision.issue_body if decision.issue_title else ctx.pull.body,
            ctx.pull.author,
        )
        files = [DiffText(f.path, f.status, f.patch) for f in ctx.diff_files]
        return build_review_brief(
            ctx.repo.full_name, pull, files, decision.notes, default_branch_instructions(ctx)
        )

    def deliver(self, svc: Services, ctx: Context) -> None:
        """One review: inline comments on diff lines, everything else in its body."""
        assert ctx.result is not None and ctx.role is not None and ctx.model is not None
        assert ctx.pull is not None
        said, summary = parse_findings(ctx.result.summary)
        words = agent_words(ctx)
        findings = [
            render.ReviewFinding(ctx.redact(f.path), f.line, words.markdown(f.body)) for f in said
        ]
        diff_lines = {f.path: render.right_side_lines(f.patch) for f in ctx.diff_files}

        def plan(anchor: bool) -> render.PlannedReview:
            assert ctx.result is not None and ctx.role is not None
            return render.plan_review(
                words.markdown(summary),
                findings,
                diff_lines,
                focus=ctx.decision.notes,
                role=ctx.role.name,
                model=str(ctx.model),
                spend=render.spend_of(ctx.result),
                job_id=ctx.job_id,
                anchor=anchor,
            )

        planned = plan(anchor=True)
        try:
            posted = self._post(ctx, planned)
        except RequestFailed as exc:
            if exc.response.status_code != 422 or not planned.comments:
                raise
            # GitHub could not place a comment after all (the head moved meanwhile, or a
            # diff it will not show): the findings still reach people, in the body.
            planned = plan(anchor=False)
            posted = self._post(ctx, planned)
        ctx.report = render.review_report(posted.html_url, planned)
        ctx.success_note = f"review posted with {len(planned.comments)} inline comment(s)"
        svc.ledger.update_job(ctx.job_id, pr_url=ctx.pull.html_url)

    @staticmethod
    def _post(ctx: Context, planned: render.PlannedReview) -> ReviewRef:
        return ctx.repo.comment_review(
            ctx.decision.issue_number,
            commit_id=ctx.head_sha,
            body=planned.body,
            comments=planned.comments,
        )
