"""Implementing an issue: a fresh branch from the default branch, delivered as a draft PR.

What the agent wrote (its summary, the commands it ran, the names of the files it made)
and the issue's title (anyone can open an issue) reach the PR, its title and its commit
inert (bot.render.inert); the PR body's `Fixes #N` is Rolecall's own, added by `render`.
"""

from __future__ import annotations

from agents import workspace
from agents.brief import IssueThread, ThreadComment, build_implement_brief
from agents.roles.loader import Role
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
from bot.jobs.playbooks.branch_delivery import commit_work, push_work, show_pull
from bot.jobs.playbooks.role_jobs import post_answer, route_before_acknowledging
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import bind_default_branch, fetch_mirror
from bot.jobs.slots import model_shown, wait_turn
from bot.render import pulls
from bot.render.inert import Neutralizer
from handlers.config import RepoConfig
from handlers.guards import filter_to_trigger_time, has_write


class Implement:
    def screen(self, svc: Services, given: Given) -> Screened:
        """A role command or label names a role here, or the job ends before any 👀."""
        return route_before_acknowledging(svc, given)

    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target:
        """The issue is still open; bind the default branch's SHA and name our branch."""
        decision = given.decision
        issue = given.repo.issue(decision.issue_number)
        if issue.state != "open":
            raise JobStopped(f"issue #{decision.issue_number} is closed, so no work started")
        # Bound already when the role was routed: work from the SHA its roles came from.
        base = screened.loaded.base if screened.loaded else bind_default_branch(given.repo)
        title = decision.issue_title or str(issue.title)
        target = Target(
            base=base,
            title=title,
            branch=workspace.branch_name(decision.issue_number, title),
            role_name=decision.role,
            screened=screened,
        )
        # One running and one pending job per issue.
        role = screened.role.name if screened.role else decision.role
        config = screened.loaded.setup.config if screened.loaded else None
        wait_turn(svc, given, role, model_shown(svc, screened.role, config))
        return target

    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout:
        """The cached mirror, fetched; a fresh checkout at the bound SHA on our branch."""
        loaded = target.screened.loaded
        mirror = loaded.mirror if loaded else fetch_mirror(svc, given, target.base.info)
        return fresh_checkout(svc, given, mirror, target.base.sha, target.branch, existing=False)

    def brief(
        self, given: Given, target: Target, checkout: Checkout, loaded: LoadedSetup, role: Role
    ) -> str:
        """Instructions from the default branch; the issue thread as of the trigger; for
        `/continue`, the earlier run's issue and where that run stopped."""
        untrusted = _opted_in_to_untrusted_comments(loaded.setup.config)
        resumes = target.resumes
        number = resumes.issue_number if resumes else given.decision.issue_number
        return build_implement_brief(
            given.repo.full_name,
            number,
            self._thread(given, number, target.title, include_untrusted=untrusted),
            given.decision.notes,
            default_branch_instructions(checkout.mirror, target.base.sha),
            target.branch,
            read_only=not role.can_write,
            earlier_run=resumes.earlier if resumes else None,
        )

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        """Commit, refuse secrets, push our branch, open (or rewrite) the draft PR."""
        if not work.briefing.role.can_write:
            return post_answer(given, work)
        words = agent_words(given, work.target.base.info)
        notice = commit_work(svc, given, work, words, subject=self._subject(work, words))
        if notice is None:
            raise JobStopped(
                "The agent finished without changing any files. Its final message:\n\n"
                + (words.markdown(work.run.result.summary).strip() or "(empty)"),
                state="no_changes",
            )
        pushed = push_work(given, work)
        pull, body = show_pull(given, work, words, notice)
        given.record.save(pr_url=pull.html_url)
        return Delivery(
            pr_url=pull.html_url,
            success_note="pull request opened",
            pushed_sha=pushed,
            check_summary=body,
        )

    def keep_partial(
        self, svc: Services, given: Given, work: Work, stop: JobStopped
    ) -> Delivery | None:
        """A run that stopped early: its work pushed, shown as an incomplete draft PR.

        After `/cancel` the branch is pushed and no pull request is opened: whoever
        cancelled did not ask for one. Nothing is pushed that the trust gates refuse.
        """
        if not work.briefing.role.can_write:
            return None
        words = agent_words(given, work.target.base.info)
        notice = commit_work(svc, given, work, words, subject=self._subject(work, words))
        if notice is None:
            return None
        pushed = push_work(given, work)
        branch = work.target.branch
        if stop.state == "cancelled":
            said = f"Its work so far is on the branch `{branch}`."
            return Delivery(report=said, pushed_sha=pushed, check_summary=said)
        pull, body = show_pull(given, work, words, notice, stopped=stop.reason)
        given.record.save(pr_url=pull.html_url)
        return Delivery(
            pr_url=pull.html_url,
            report=f"Its work so far is on the incomplete draft pull request {pull.html_url}.",
            pushed_sha=pushed,
            check_summary=body,
        )

    @staticmethod
    def _subject(work: Work, words: Neutralizer) -> str:
        return f"feat: {words.plain(pulls.pull_request_title(work.target.title))}"

    @staticmethod
    def _thread(
        given: Given, number: int, title: str, *, include_untrusted: bool = False
    ) -> IssueThread:
        """The issue from the trigger's payload and the comments written before it.

        Only comments by people with write access (the live permission, looked up once
        per commenter for this job) are kept: anyone can comment on a public issue, and
        what they write must not steer the work a maintainer asked for (invariant 3).
        `include_untrusted` (a repository's opt-in) keeps the others, labelled as
        written without write access.
        """
        decision, repo = given.decision, given.repo
        issue = repo.issue(number)
        comments = filter_to_trigger_time(repo.issue_comments(number), decision.trigger_at)
        can_write: dict[str, bool] = {}

        def trusted(login: str) -> bool:
            key = login.casefold()
            if key not in can_write:
                can_write[key] = login != "ghost" and has_write(repo.permission(login))
            return can_write[key]

        kept = []
        for c in comments:
            author = c.user.login if c.user else "ghost"
            writer = trusted(author)
            if writer or include_untrusted:
                kept.append(ThreadComment(author, c.body or "", c.created_at, trusted=writer))
        return IssueThread(
            title=title,
            # The payload's text is the trigger-time one, when the trigger was on this issue.
            body=decision.issue_body
            if decision.issue_title and number == decision.issue_number
            else issue.body,
            author=issue.user.login if issue.user else "ghost",
            comments=kept,
        )


def _opted_in_to_untrusted_comments(config: RepoConfig | None) -> bool:
    """The repository's `include_untrusted_comments` (default-branch config), else False."""
    return bool(config is not None and config.include_untrusted_comments)
