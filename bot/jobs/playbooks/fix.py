"""Addressing review feedback on a pull request, thread by thread, on the PR's own branch.

Triggered by a review on a pull request Rolecall opened (one job per review, however
many inline comments it holds) or by `/fix` on any same-repository PR (every open
thread). The agent works on the PR head as it is now; its commits are pushed to the PR
branch without ever overwriting someone else's (`workspace.push` rebases once and pushes
with a lease); then Rolecall replies in each thread with what changed or why nothing
did, resolves the threads whose lines its commit really changed (handlers.touched_lines: the
agent saying "changed" is not enough), and the tracking comment becomes the summary.
Everything the agent wrote is posted inert (bot.render.inert).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agents import workspace
from agents.answers import parse_thread_answers
from agents.review_brief import (
    PullRequestText,
    ReviewFeedback,
    build_fix_brief,
)
from agents.roles.loader import Role
from agents.workspace import PushRejected, PushResult
from agents.workspace.history import changed_files, file_diff
from bot.github import PullInfo
from bot.jobs.checkout import default_branch_instructions, fresh_checkout
from bot.jobs.ci_gate import granted_paths, with_ci_marker
from bot.jobs.context import (
    Checkout,
    Delivery,
    Given,
    JobSkipped,
    JobStopped,
    LoadedSetup,
    Screened,
    Services,
    Target,
    Work,
)
from bot.jobs.playbooks.feedback import gather_feedback
from bot.jobs.playbooks.pull import bind_open_pull
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import fetch_mirror
from bot.jobs.trust import head_move_refusal, outgoing_refusal
from bot.render import pulls, replies, tracking
from bot.render.inert import Neutralizer
from handlers.guards import has_write
from handlers.protected_paths import granted_changes, granted_note
from handlers.touched_lines import FileChange, ThreadSpan, file_change, thread_span, touches

# How a fix was asked for, in its commit message.
_ASKED_WITH = {"review": "review", "review_comment": "a mention in a review comment"}


def skip_when_the_review_is_taken(svc: Services, given: Given) -> None:
    """One fix per review: an inline comment's mention runs only if no earlier job has its
    review, i.e. the review's own job (a review of a PR Rolecall opened) or the mention in
    another of its comments. Either already reads every open thread, this one included."""
    review_id, job_id = given.decision.review_id, given.job_id
    for job in svc.ledger.jobs_for_issue(
        given.decision.repo_full_name, given.decision.issue_number
    ):
        earlier = job.id is not None and job.id < job_id
        same_review = job.decision_json.get("review_id") == review_id
        if same_review and earlier and job.kind == "fix" and job.state != "skipped":
            raise JobSkipped(
                f"job {job.id} already takes review {review_id}, this comment included"
            )


class Fix:
    def screen(self, svc: Services, given: Given) -> Screened:
        """Before anything is posted: a fork's PR gets one reply and nothing else; a review
        asks for work only if it holds feedback, otherwise the job ends silently."""
        number, sender = given.decision.issue_number, given.decision.sender_login
        pull = given.repo.pull(number)
        if pull.is_from_fork:  # Rolecall cannot push there, whoever asks
            raise JobStopped(replies.fork_refusal(sender, number), state="refused")
        if given.decision.trigger == "review_comment":
            skip_when_the_review_is_taken(svc, given)
        if given.decision.trigger != "review":
            return Screened()
        if pull.author.casefold() != svc.app.bot_login().casefold():
            raise JobSkipped(f"PR #{number} was opened by @{pull.author}, not by Rolecall")
        if not has_write(given.repo.permission(sender)):
            raise JobSkipped(f"@{sender} cannot write here; a review by them starts nothing")
        feedback = gather_feedback(given, svc.app.bot_login())
        if feedback.is_empty:
            raise JobSkipped("the review holds no feedback beyond thanks, on no open thread")
        return Screened(feedback=feedback)

    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target:
        """An open PR whose branch is in this repository; the role that opened it runs."""
        pull, base = bind_open_pull(given)
        number, sender = given.decision.issue_number, given.decision.sender_login
        if pull.is_from_fork:
            raise JobStopped(replies.fork_refusal(sender, number), state="refused")
        if pull.head_ref.casefold() == base.info.default_branch.casefold():
            raise JobStopped(
                f"pull request #{number} proposes the default branch itself, and Rolecall "
                "never pushes to the default branch",
                state="refused",
            )
        role_name = _opener_role(svc, given, pull)
        feedback = screened.feedback or gather_feedback(given, svc.app.bot_login())
        if feedback.is_empty:
            raise JobStopped(
                f"pull request #{number} has no open review threads and no notes came with "
                "/fix, so there is nothing to address",
                state="no_changes",
            )
        return Target(base, pull.title, pull.head_ref, role_name, pull, feedback, screened)

    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout:
        """The PR branch as it is now, if whoever moved it since can write (bot.jobs.trust)."""
        assert target.pull is not None
        info, branch, repo = target.base.info, target.branch, given.repo
        mirror = fetch_mirror(svc, given, info)
        head_sha = workspace.fetch_branch(mirror, info.clone_url, repo.token(), branch)
        # A review binds the commit it reviewed; /fix binds the head it was authorized at.
        bound = given.decision.head_sha or target.pull.head_sha
        refusal = head_move_refusal(
            repo.rest,
            repo.owner,
            repo.name,
            branch=branch,
            bound_sha=bound,
            current_sha=head_sha,
            permission=repo.permission,
            trusted_logins=[svc.app.bot_login()],
        )
        if refusal is not None:
            raise JobStopped(refusal)
        return fresh_checkout(svc, given, mirror, head_sha, branch, existing=True)

    def brief(
        self, given: Given, target: Target, checkout: Checkout, loaded: LoadedSetup, role: Role
    ) -> str:
        assert target.pull is not None and target.feedback is not None
        return build_fix_brief(
            given.repo.full_name,
            _pull_text(given, target.pull),
            target.feedback,
            default_branch_instructions(checkout.mirror, target.base.sha),
            target.branch,
            moved_from=_reviewed_sha_if_moved(given, checkout.head_sha),
        )

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        """Commit and push (never over anyone's work), reply per thread, and resolve the
        threads whose lines the pushed commit changed."""
        target, head_sha = work.target, work.checkout.head_sha
        pull, feedback = target.pull, target.feedback
        assert pull is not None and feedback is not None
        words = agent_words(given, target.base.info)
        changes, notice = self._commit(svc, given, work, words)
        pushed = self._push(given, work) if changes is not None else None
        commit = pushed.sha if pushed else None
        moved = _reviewed_sha_if_moved(given, head_sha)
        notes = [replies.moved_note(moved, head_sha)] if moved else []
        refs = [thread.ref for thread in feedback.threads]
        answers, summary = parse_thread_answers(work.run.result.summary, refs)
        comments = given.repo.review_comments(given.decision.issue_number)
        already = _replied(given, feedback, comments)
        roots = {int(c.id): c for c in comments}
        outcomes = []
        for thread in feedback.threads:
            answer = answers.get(thread.ref)
            span = _span(thread.reply_to, thread.path, roots)
            outcome = replies.ThreadOutcome(
                ref=thread.ref,
                path=thread.path,
                line=thread.line,
                changed=answer.changed if answer else None,
                answer=words.markdown(answer.reply if answer else ""),
                touched=touches(span, changes) if pushed and changes is not None else None,
            )
            reply_id = already.get(thread.ref) or given.repo.reply_to_review_comment(
                pull.number,
                thread.reply_to,
                replies.thread_reply(outcome, job_id=given.job_id, commit=commit, notes=notes),
            )
            fixed = bool(outcome.changed and outcome.touched)
            if fixed:
                given.repo.resolve_thread(thread.node_id)
            url = f"{pull.html_url}#discussion_r{reply_id}"
            outcomes.append(replace(outcome, reply_url=url, resolved=fixed))
        if pushed and pushed.rebased:
            notes.append(
                "Someone pushed to the branch while Rolecall worked: its commits were "
                "rebased onto theirs, and nothing of theirs was overwritten."
            )
        report = replies.fix_report(
            outcomes,
            summary=words.markdown(summary),
            branch=target.branch,
            commit=commit,
            notes=notes,
            notice=notice,
        )
        given.record.save(pr_url=pull.html_url)
        return Delivery(
            pr_url=pull.html_url,
            success_note=f"addressed {len(outcomes)} review thread(s)"
            + (f", pushed {commit[:12]}" if commit else ", no changes needed"),
            report=report,
            pushed_sha=commit,
            check_summary=report,
        )

    def keep_partial(
        self, svc: Services, given: Given, work: Work, stop: JobStopped
    ) -> Delivery | None:
        """A run that stopped early: its commits pushed to the PR branch, no thread answered."""
        pull = work.target.pull
        assert pull is not None
        words = agent_words(given, work.target.base.info)
        changes, _ = self._commit(svc, given, work, words)
        if changes is None:
            return None
        pushed = self._push(given, work)
        said = (
            f"Its work so far was pushed to `{work.target.branch}` as {pushed.sha[:12]}; "
            "no review thread was answered."
        )
        return Delivery(
            pr_url=pull.html_url, report=said, pushed_sha=pushed.sha, check_summary=said
        )

    @staticmethod
    def _commit(
        svc: Services, given: Given, work: Work, words: Neutralizer
    ) -> tuple[dict[str, FileChange] | None, str]:
        """Commit what the agent left; how it changed each file from the PR head (or None),
        and what a reviewer must not miss about the commit.

        Read before the push, while the branch holds only the PR head and our commit: a
        push that has to replay onto someone else's commits moves HEAD onto theirs.
        """
        worktree, head_sha = work.checkout.worktree, work.checkout.head_sha
        decision = given.decision
        bot = svc.app.bot_login()
        asked = _ASKED_WITH.get(decision.trigger, "/fix")
        config = work.briefing.loaded.setup.config
        role = work.briefing.role.name
        _, left_out = workspace.commit_all(
            worktree,
            with_ci_marker(
                f"fix: address review feedback on #{decision.issue_number}\n\n"
                f"Requested by {decision.sender_login} ({asked}).",
                config,
            ),
            bot,
            f"{bot}@users.noreply.github.com",
        )
        if not workspace.commits_since(worktree, head_sha):
            return None, ""
        granted = granted_paths(config, role)
        refusal = outgoing_refusal(worktree, head_sha, given.redact, role=role, granted=granted)
        if refusal is not None:
            raise JobStopped(words.plain(refusal))
        changed = changed_files(worktree, head_sha)
        notice = words.markdown(
            "\n\n".join(
                note
                for note in (
                    granted_note(granted_changes(changed, granted), role),
                    pulls.left_out_note(left_out),
                )
                if note
            )
        )
        changes = {
            path: file_change(file_diff(worktree, head_sha, path))
            for path in changed_files(worktree, head_sha)
        }
        return changes, notice

    @staticmethod
    def _push(given: Given, work: Work) -> PushResult:
        """Push the job's commit to the PR branch, never over anyone else's commits."""
        info, branch = work.target.base.info, work.target.branch
        try:
            pushed = workspace.push(
                work.checkout.worktree,
                info.clone_url,
                given.repo.token(),
                branch,
                default_branch=info.default_branch,
                expected_remote_sha=work.checkout.head_sha,
                pr_branch=branch,
            )
        except PushRejected as exc:
            raise JobStopped(
                f"Rolecall could not push to `{branch}`: {exc}. Nobody's commits were "
                "overwritten; ask again with /fix once the branch is quiet."
            ) from exc
        return pushed


# --- helpers ----------------------------------------------------------------------------------


def _opener_role(svc: Services, given: Given, pull: PullInfo) -> str:
    """The role of the Rolecall job that opened this PR (its body names the job), else ours.

    Only a job of this repository whose PR is this one counts, so a marker copied into
    another PR's description cannot pick the role.
    """
    marked = tracking.marked_job(pull.body)
    if marked is None:
        return given.decision.role
    opener = svc.ledger.get_job(marked)
    if (
        opener is None
        or opener.role is None
        or opener.repo_full_name != given.repo.full_name
        or opener.pr_url != pull.html_url
    ):
        return given.decision.role
    return opener.role


def _pull_text(given: Given, pull: PullInfo) -> PullRequestText:
    """The PR's title and body from the trigger's payload (trigger time), else as read."""
    decision = given.decision
    if decision.issue_title:
        return PullRequestText(pull.number, decision.issue_title, decision.issue_body, pull.author)
    return PullRequestText(pull.number, pull.title, pull.body, pull.author)


def _reviewed_sha_if_moved(given: Given, head_sha: str) -> str | None:
    reviewed = given.decision.head_sha
    return reviewed if reviewed and head_sha and reviewed != head_sha else None


def _replied(given: Given, feedback: ReviewFeedback, comments: list[Any]) -> dict[str, int]:
    """Threads this job already replied in (a resumed job must not reply twice)."""
    found: dict[str, int] = {}
    for comment in comments:
        for thread in feedback.threads:
            if replies.thread_marker(given.job_id, thread.ref) in (comment.body or ""):
                found.setdefault(thread.ref, int(comment.id))
    return found


def _span(root_id: int, path: str, comments: dict[int, Any]) -> ThreadSpan:
    """The lines a thread is about, from its first comment as GitHub has it now."""
    root = comments.get(root_id)
    return thread_span(root) if root is not None else ThreadSpan(path, None, None)
