"""Reviewing a pull request on request: a read-only role, one review of comments.

`/review [focus]` runs the reviewer on the PR's diff against its base, from a checkout
of the PR head (fetched through `refs/pull/<n>/head`, so forks work too). The agent's
findings are checked against the lines GitHub's diff shows before anything is posted:
a finding on such a line becomes an inline comment, any other goes in the review's
body, so one misplaced line never costs the whole review. The review's event is always
COMMENT: Rolecall never approves and never requests changes (invariant 5). The summary
and every finding are posted inert (bot.render.inert).
"""

from __future__ import annotations

from githubkit.exception import RequestFailed

from agents import workspace
from agents.answers import parse_findings
from agents.review_brief import DiffText, PullRequestText, build_review_brief
from agents.roles.loader import Role
from bot.github import ReviewRef
from bot.jobs.checkout import default_branch_instructions, fresh_checkout
from bot.jobs.context import (
    Checkout,
    Delivery,
    Given,
    JobStopped,
    LoadedSetup,
    Screened,
    Services,
    Target,
    Work,
)
from bot.jobs.playbooks.pull import bind_open_pull
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import fetch_mirror
from bot.render import replies, tracking


class Review:
    def screen(self, svc: Services, given: Given) -> Screened:
        """A `/review` command always asks for work."""
        return Screened()

    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target:
        """The open PR, and the diff GitHub shows for it (what inline comments anchor to)."""
        pull, base = bind_open_pull(given)
        number = given.decision.issue_number
        return Target(
            base=base,
            title=pull.title,
            branch=f"rolecall/review-{number}",  # local to the worktree; never pushed
            role_name=given.decision.role,
            pull=pull,
            screened=screened,
            diff_files=tuple(given.repo.pull_files(number)),
        )

    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout:
        """The PR head bound when the command was authorized, on a local branch.

        It is fetched through the base repository's `refs/pull/<n>/head`; if the head
        moved since it was bound and the bound commit is gone (a force push), the
        review stops rather than reviewing code nobody asked about.
        """
        assert target.pull is not None
        info, head_sha = target.base.info, target.pull.head_sha
        mirror = fetch_mirror(svc, given, info)
        number = given.decision.issue_number
        workspace.fetch_pull_head(mirror, info.clone_url, given.repo.token(), number)
        if not workspace.has_commit(mirror, head_sha):
            raise JobStopped(
                f"the pull request's head moved from {head_sha[:12]} after "
                "`/review` was accepted, and that commit is gone; comment `/review` again"
            )
        return fresh_checkout(svc, given, mirror, head_sha, target.branch, existing=False)

    def brief(
        self, given: Given, target: Target, checkout: Checkout, loaded: LoadedSetup, role: Role
    ) -> str:
        """The diff as GitHub shows it, and the focus."""
        assert target.pull is not None
        decision, pull = given.decision, target.pull
        text = PullRequestText(
            pull.number,
            decision.issue_title or pull.title,
            decision.issue_body if decision.issue_title else pull.body,
            pull.author,
        )
        files = [DiffText(f.path, f.status, f.patch) for f in target.diff_files]
        return build_review_brief(
            given.repo.full_name,
            text,
            files,
            decision.notes,
            default_branch_instructions(checkout.mirror, target.base.sha),
        )

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        """One review: inline comments on diff lines, everything else in its body."""
        target, result = work.target, work.run.result
        assert target.pull is not None
        said, summary = parse_findings(result.summary)
        words = agent_words(given, target.base.info)
        findings = [
            replies.ReviewFinding(given.redact(f.path), f.line, words.markdown(f.body))
            for f in said
        ]
        diff_lines = {f.path: replies.right_side_lines(f.patch) for f in target.diff_files}

        def plan(anchor: bool) -> replies.PlannedReview:
            return replies.plan_review(
                words.markdown(summary),
                findings,
                diff_lines,
                focus=given.decision.notes,
                role=work.briefing.role.name,
                model=str(work.briefing.model),
                spend=tracking.spend_of(result),
                job_id=given.job_id,
                anchor=anchor,
            )

        planned = plan(anchor=True)
        try:
            posted = self._post(given, work.checkout.head_sha, planned)
        except RequestFailed as exc:
            if exc.response.status_code != 422 or not planned.comments:
                raise
            # GitHub could not place a comment after all (the head moved meanwhile, or a
            # diff it will not show): the findings still reach people, in the body.
            planned = plan(anchor=False)
            posted = self._post(given, work.checkout.head_sha, planned)
        given.record.save(pr_url=target.pull.html_url)
        return Delivery(
            pr_url=target.pull.html_url,
            success_note=f"review posted with {len(planned.comments)} inline comment(s)",
            report=replies.review_report(posted.html_url, planned),
        )

    def keep_partial(
        self, svc: Services, given: Given, work: Work, stop: JobStopped
    ) -> Delivery | None:
        """A review changes no files: there is nothing to keep."""
        return None

    @staticmethod
    def _post(given: Given, head_sha: str, planned: replies.PlannedReview) -> ReviewRef:
        return given.repo.comment_review(
            given.decision.issue_number,
            commit_id=head_sha,
            body=planned.body,
            comments=planned.comments,
        )
