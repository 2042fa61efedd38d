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
from bot.jobs.ci_gate import granted_paths, with_ci_marker
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
from bot.jobs.playbooks.role_jobs import post_answer, route_before_acknowledging
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import bind_default_branch, fetch_mirror
from bot.jobs.slots import model_shown, wait_turn
from bot.jobs.trust import outgoing_refusal
from bot.render import pulls, tracking
from handlers.config import RepoConfig
from handlers.guards import filter_to_trigger_time, has_write
from handlers.protected_paths import granted_changes, granted_note


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
        """Instructions from the default branch; the issue thread as of the trigger."""
        untrusted = _opted_in_to_untrusted_comments(loaded.setup.config)
        return build_implement_brief(
            given.repo.full_name,
            given.decision.issue_number,
            self._thread(given, target.title, include_untrusted=untrusted),
            given.decision.notes,
            default_branch_instructions(checkout.mirror, target.base.sha),
            target.branch,
            read_only=not role.can_write,
        )

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        """Commit, refuse secrets, push our branch, open (or find) the draft PR."""
        role, decision = work.briefing.role, given.decision
        if not role.can_write:
            return post_answer(given, work)
        target, worktree = work.target, work.checkout.worktree
        info, base_sha = target.base.info, target.base.sha
        bot = svc.app.bot_login()
        words = agent_words(given, info)
        title = words.plain(pulls.pull_request_title(target.title))
        config = work.briefing.loaded.setup.config
        _, left_out = workspace.commit_all(
            worktree,
            with_ci_marker(
                f"feat: {title}\n\nRequested in #{decision.issue_number} by "
                f"{decision.sender_login}.",
                config,
            ),
            bot,
            f"{bot}@users.noreply.github.com",
        )
        summary = work.run.result.summary
        if not workspace.commits_since(worktree, base_sha):
            raise JobStopped(
                "The agent finished without changing any files. Its final message:\n\n"
                + (words.markdown(summary).strip() or "(empty)"),
                state="no_changes",
            )
        granted = granted_paths(config, role.name)
        refusal = outgoing_refusal(
            worktree, base_sha, given.redact, role=role.name, granted=granted
        )
        if refusal is not None:
            raise JobStopped(words.plain(refusal))
        changed = workspace.changed_files(worktree, base_sha)
        notice = words.markdown(
            "\n\n".join(
                note
                for note in (
                    granted_note(granted_changes(changed, granted), role.name),
                    pulls.left_out_note(left_out),
                )
                if note
            )
        )
        workspace.push(
            worktree,
            info.clone_url,
            given.repo.token(),
            target.branch,
            default_branch=info.default_branch,
        )
        body = pulls.pull_request_body(
            issue_number=decision.issue_number,
            summary=words.markdown(summary),
            commands=[
                pulls.CommandRun(words.plain(c.command), c.exit_code, c.timed_out)
                for c in work.run.commands
            ],
            role=role.name,
            model=str(work.briefing.model),
            spend=tracking.spend_of(work.run.result),
            diff_stat=words.plain(workspace.diff_stat(worktree, base_sha)),
            job_id=given.job_id,
            notice=notice,
        )
        pull = given.repo.open_draft_pull(
            title=title,
            body=body,
            head=target.branch,
            base=info.default_branch,
        )
        given.record.save(pr_url=pull.html_url)
        return Delivery(pr_url=pull.html_url, success_note="pull request opened")

    @staticmethod
    def _thread(given: Given, title: str, *, include_untrusted: bool = False) -> IssueThread:
        """The issue from the trigger's payload and the comments written before it.

        Only comments by people with write access (the live permission, looked up once
        per commenter for this job) are kept: anyone can comment on a public issue, and
        what they write must not steer the work a maintainer asked for (invariant 3).
        `include_untrusted` (a repository's opt-in) keeps the others, labelled as
        written without write access.
        """
        decision, repo = given.decision, given.repo
        issue = repo.issue(decision.issue_number)
        comments = filter_to_trigger_time(
            repo.issue_comments(decision.issue_number), decision.trigger_at
        )
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
            body=decision.issue_body if decision.issue_title else issue.body,
            author=issue.user.login if issue.user else "ghost",
            comments=kept,
        )


def _opted_in_to_untrusted_comments(config: RepoConfig | None) -> bool:
    """The repository's `include_untrusted_comments` (default-branch config), else False."""
    return bool(config is not None and config.include_untrusted_comments)
