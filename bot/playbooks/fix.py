"""Addressing review feedback on a pull request, thread by thread, on the PR's own branch.

Triggered by a review on a pull request Rolecall opened (one job per review, however
many inline comments it holds) or by `/fix` on any same-repository PR (every open
thread). The agent works on the PR head as it is now; its commits are pushed to the PR
branch without ever overwriting someone else's (`workspace.push` rebases once and pushes
with a lease); then Rolecall replies in each thread with what changed or why nothing
did, resolves the threads whose lines its commit really changed (bot.touched_lines: the
agent saying "changed" is not enough), and the tracking comment becomes the summary.
Everything the agent wrote is posted inert (bot.inert).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from agents import workspace
from agents.answers import parse_thread_answers
from agents.brief import (
    FeedbackComment,
    FeedbackThread,
    PullRequestText,
    ReviewFeedback,
    build_fix_brief,
)
from agents.workspace import PushRejected, PushResult
from agents.workspace.history import changed_files, file_diff
from bot import render
from bot.ci_gate import granted_paths, with_ci_marker
from bot.github import PullInfo, ThreadState
from bot.inert import Neutralizer
from bot.jobcontext import Context, JobSkipped, JobStopped, Services
from bot.playbooks.pull_jobs import (
    bind_open_pull,
    default_branch_instructions,
    fresh_checkout,
    sync_mirror,
)
from bot.playbooks.words import agent_words
from bot.touched_lines import FileChange, ThreadSpan, file_change, thread_span, touches
from bot.trust import head_move_refusal, outgoing_refusal
from handlers.guards import filter_to_trigger_time, has_write
from handlers.protected_paths import granted_changes, granted_note
from handlers.reviews import is_thanks

# GitHub stamps a review's inline comments (`updated_at`) when the review is submitted;
# the grace keeps a second's rounding between the two stamps from dropping them.
REVIEW_CLOCK_GRACE = timedelta(seconds=2)
_JOB_MARKER = re.compile(r"<!-- rolecall:job=(\d+) -->")


class Fix:
    def screen(self, svc: Services, ctx: Context) -> None:
        """Before anything is posted: a fork's PR gets one reply and nothing else; a review
        asks for work only if it holds feedback, otherwise the job ends silently."""
        number, sender = ctx.decision.issue_number, ctx.decision.sender_login
        pull = ctx.repo.pull(number)
        if pull.is_from_fork:  # Rolecall cannot push there, whoever asks
            raise JobStopped(render.fork_refusal(sender, number), state="refused")
        if ctx.decision.trigger != "review":
            return
        if pull.author.casefold() != svc.app.bot_login().casefold():
            raise JobSkipped(f"PR #{number} was opened by @{pull.author}, not by Rolecall")
        if not has_write(ctx.repo.permission(sender)):
            raise JobSkipped(f"@{sender} cannot write here; a review by them starts nothing")
        ctx.feedback = _feedback(ctx, svc.app.bot_login())
        if ctx.feedback.is_empty:
            raise JobSkipped("the review holds no feedback beyond thanks, on no open thread")

    def check_target(self, svc: Services, ctx: Context) -> None:
        """An open PR whose branch is in this repository; the role that opened it runs."""
        pull = bind_open_pull(ctx)
        assert ctx.info is not None
        number, sender = ctx.decision.issue_number, ctx.decision.sender_login
        if pull.is_from_fork:
            raise JobStopped(render.fork_refusal(sender, number), state="refused")
        if pull.head_ref.casefold() == ctx.info.default_branch.casefold():
            raise JobStopped(
                f"pull request #{number} proposes the default branch itself, and Rolecall "
                "never pushes to the default branch",
                state="refused",
            )
        ctx.branch = pull.head_ref
        ctx.decision = replace(ctx.decision, role=_opener_role(svc, ctx, pull))
        if ctx.feedback is None:
            ctx.feedback = _feedback(ctx, svc.app.bot_login())
        if ctx.feedback.is_empty:
            raise JobStopped(
                f"pull request #{number} has no open review threads and no notes came with "
                "/fix, so there is nothing to address",
                state="no_changes",
            )

    def prepare(self, svc: Services, ctx: Context) -> None:
        """The PR branch as it is now, if whoever moved it since can write (bot.trust)."""
        assert ctx.info is not None and ctx.pull is not None
        sync_mirror(svc, ctx)
        assert ctx.mirror is not None
        ctx.head_sha = workspace.fetch_branch(
            ctx.mirror, ctx.info.clone_url, ctx.repo.token(), ctx.branch
        )
        # A review binds the commit it reviewed; /fix binds the head it was authorized at.
        bound = ctx.decision.head_sha or ctx.pull.head_sha
        refusal = head_move_refusal(
            ctx.repo.rest,
            ctx.repo.owner,
            ctx.repo.name,
            branch=ctx.branch,
            bound_sha=bound,
            current_sha=ctx.head_sha,
            permission=ctx.repo.permission,
            trusted_logins=[svc.app.bot_login()],
        )
        if refusal is not None:
            raise JobStopped(refusal)
        fresh_checkout(svc, ctx, ctx.head_sha, ctx.branch, existing=True)

    def brief(self, svc: Services, ctx: Context) -> str:
        assert ctx.pull is not None and ctx.feedback is not None
        return build_fix_brief(
            ctx.repo.full_name,
            _pull_text(ctx, ctx.pull),
            ctx.feedback,
            default_branch_instructions(ctx),
            ctx.branch,
            moved_from=_reviewed_sha_if_moved(ctx),
        )

    def deliver(self, svc: Services, ctx: Context) -> None:
        """Commit and push (never over anyone's work), reply per thread, and resolve the
        threads whose lines the pushed commit changed."""
        assert ctx.worktree is not None and ctx.result is not None
        assert ctx.pull is not None and ctx.feedback is not None
        words = agent_words(ctx)
        changes = self._commit(svc, ctx, words)
        pushed = self._push(ctx) if changes is not None else None
        commit = pushed.sha if pushed else None
        moved = _reviewed_sha_if_moved(ctx)
        notes = [render.moved_note(moved, ctx.head_sha)] if moved else []
        refs = [thread.ref for thread in ctx.feedback.threads]
        answers, summary = parse_thread_answers(ctx.result.summary, refs)
        comments = ctx.repo.review_comments(ctx.decision.issue_number)
        already = _replied(ctx, comments)
        roots = {int(c.id): c for c in comments}
        outcomes = []
        for thread in ctx.feedback.threads:
            answer = answers.get(thread.ref)
            span = _span(thread.reply_to, thread.path, roots)
            outcome = render.ThreadOutcome(
                ref=thread.ref,
                path=thread.path,
                line=thread.line,
                changed=answer.changed if answer else None,
                answer=words.markdown(answer.reply if answer else ""),
                touched=touches(span, changes) if pushed and changes is not None else None,
            )
            reply_id = already.get(thread.ref) or ctx.repo.reply_to_review_comment(
                ctx.pull.number,
                thread.reply_to,
                render.thread_reply(outcome, job_id=ctx.job_id, commit=commit, notes=notes),
            )
            fixed = bool(outcome.changed and outcome.touched)
            if fixed:
                ctx.repo.resolve_thread(thread.node_id)
            url = f"{ctx.pull.html_url}#discussion_r{reply_id}"
            outcomes.append(replace(outcome, reply_url=url, resolved=fixed))
        if pushed and pushed.rebased:
            notes.append(
                "Someone pushed to the branch while Rolecall worked: its commits were "
                "rebased onto theirs, and nothing of theirs was overwritten."
            )
        ctx.report = render.fix_report(
            outcomes,
            summary=words.markdown(summary),
            branch=ctx.branch,
            commit=commit,
            notes=notes,
            notice=ctx.delivery_notice,
        )
        ctx.success_note = f"addressed {len(outcomes)} review thread(s)" + (
            f", pushed {commit[:12]}" if commit else ", no changes needed"
        )
        svc.ledger.update_job(ctx.job_id, pr_url=ctx.pull.html_url)

    @staticmethod
    def _commit(svc: Services, ctx: Context, words: Neutralizer) -> dict[str, FileChange] | None:
        """Commit what the agent left; how it changed each file from the PR head, or None.

        Read before the push, while the branch holds only the PR head and our commit: a
        push that has to replay onto someone else's commits moves HEAD onto theirs.
        """
        assert ctx.worktree is not None
        bot = svc.app.bot_login()
        asked = "review" if ctx.decision.trigger == "review" else "/fix"
        config = ctx.setup.config if ctx.setup is not None else None
        role = ctx.role.name if ctx.role is not None else ""
        _, left_out = workspace.commit_all(
            ctx.worktree,
            with_ci_marker(
                f"fix: address review feedback on #{ctx.decision.issue_number}\n\n"
                f"Requested by {ctx.decision.sender_login} ({asked}).",
                config,
            ),
            bot,
            f"{bot}@users.noreply.github.com",
        )
        if not workspace.commits_since(ctx.worktree, ctx.head_sha):
            return None
        granted = granted_paths(config, role)
        refusal = outgoing_refusal(
            ctx.worktree, ctx.head_sha, ctx.redact, role=role, granted=granted
        )
        if refusal is not None:
            raise JobStopped(words.plain(refusal))
        changed = changed_files(ctx.worktree, ctx.head_sha)
        ctx.delivery_notice = words.markdown(
            "\n\n".join(
                note
                for note in (
                    granted_note(granted_changes(changed, granted), role),
                    render.left_out_note(left_out),
                )
                if note
            )
        )
        return {
            path: file_change(file_diff(ctx.worktree, ctx.head_sha, path))
            for path in changed_files(ctx.worktree, ctx.head_sha)
        }

    @staticmethod
    def _push(ctx: Context) -> PushResult:
        """Push the job's commit to the PR branch, never over anyone else's commits."""
        assert ctx.worktree is not None and ctx.info is not None
        try:
            pushed = workspace.push(
                ctx.worktree,
                ctx.info.clone_url,
                ctx.repo.token(),
                ctx.branch,
                default_branch=ctx.info.default_branch,
                expected_remote_sha=ctx.head_sha,
                pr_branch=ctx.branch,
            )
        except PushRejected as exc:
            raise JobStopped(
                f"Rolecall could not push to `{ctx.branch}`: {exc}. Nobody's commits were "
                "overwritten; ask again with /fix once the branch is quiet."
            ) from exc
        return pushed


# --- gathering the feedback ------------------------------------------------------------------


def _feedback(ctx: Context, bot_login: str) -> ReviewFeedback:
    """The open threads to address, as they stood at trigger time, in writers' words.

    For a review: the unresolved threads this review wrote in, unless all it wrote there
    is thanks. For /fix: every unresolved thread with something besides thanks in it.
    Only comments by people with write access (and Rolecall's own replies) are kept, as
    for an issue thread: anyone can comment on a pull request, and a passer-by's words
    must not steer the work a maintainer asked for (invariant 3).
    """
    decision = ctx.decision
    number = decision.issue_number
    comments = {int(c.id): c for c in ctx.repo.review_comments(number)}
    writer = _writer_check(ctx, bot_login)
    threads: list[FeedbackThread] = []
    for state in ctx.repo.review_threads(number):
        items = _as_of_trigger(ctx, [comments[i] for i in state.comment_ids if i in comments])
        items = [c for c in items if writer(_author(c))]
        if state.is_resolved or not items or not _asks_for_something(ctx, items, bot_login):
            continue
        threads.append(_thread(f"T{len(threads) + 1}", state, items))
    body = decision.notes
    if decision.trigger == "review" and is_thanks(body):
        body = ""
    return ReviewFeedback(
        requester=decision.sender_login,
        body=body,
        threads=tuple(threads),
        from_review=decision.trigger == "review",
    )


def _as_of_trigger(ctx: Context, items: list[Any]) -> list[Any]:
    """Comments written before the trigger and not edited since (invariant 3).

    The triggering review's own comments carry its submission time, so they count up to
    that time (with `REVIEW_CLOCK_GRACE`); everything else must predate the trigger.
    """
    decision = ctx.decision
    earlier = {id(c) for c in filter_to_trigger_time(items, decision.trigger_at)}
    cutoff, review_id = decision.trigger_at + REVIEW_CLOCK_GRACE, decision.review_id
    kept = []
    for comment in items:
        own = review_id is not None and comment.pull_request_review_id == review_id
        if id(comment) in earlier or (
            own
            and _utc(comment.created_at) <= decision.trigger_at
            and _utc(comment.updated_at) <= cutoff
        ):
            kept.append(comment)
    return kept


def _asks_for_something(ctx: Context, items: list[Any], bot_login: str) -> bool:
    """Whether someone other than Rolecall wrote more than thanks (in this review, if any)."""
    decision = ctx.decision
    if decision.trigger == "review":
        items = [c for c in items if c.pull_request_review_id == decision.review_id]
    people = [c for c in items if _author(c).casefold() != bot_login.casefold()]
    return any(not is_thanks(c.body or "") for c in people)


def _writer_check(ctx: Context, bot_login: str) -> Callable[[str], bool]:
    """`login -> can write`, from the live permission, asked once per login per job."""
    known: dict[str, bool] = {bot_login.casefold(): True, "ghost": False}

    def can_write(login: str) -> bool:
        key = login.casefold()
        if key not in known:
            known[key] = has_write(ctx.repo.permission(login))
        return known[key]

    return can_write


def _author(comment: Any) -> str:
    return str(comment.user.login) if comment.user else "ghost"


def _thread(ref: str, state: ThreadState, items: list[Any]) -> FeedbackThread:
    root = items[0]
    line = root.line if isinstance(root.line, int) else None
    if line is None and isinstance(root.original_line, int):
        line = root.original_line
    return FeedbackThread(
        ref=ref,
        path=str(root.path),
        line=line,
        diff_hunk=str(root.diff_hunk or ""),
        comments=tuple(FeedbackComment(_author(c), c.body or "", c.created_at) for c in items),
        node_id=state.node_id,
        reply_to=int(root.id),
    )


# --- helpers ----------------------------------------------------------------------------------


def _opener_role(svc: Services, ctx: Context, pull: PullInfo) -> str:
    """The role of the Rolecall job that opened this PR (its body names the job), else ours.

    Only a job of this repository whose PR is this one counts, so a marker copied into
    another PR's description cannot pick the role.
    """
    found = _JOB_MARKER.search(pull.body)
    if found is None:
        return ctx.decision.role
    opener = svc.ledger.get_job(int(found.group(1)))
    if (
        opener is None
        or opener.role is None
        or opener.repo_full_name != ctx.repo.full_name
        or opener.pr_url != pull.html_url
    ):
        return ctx.decision.role
    return opener.role


def _pull_text(ctx: Context, pull: PullInfo) -> PullRequestText:
    """The PR's title and body from the trigger's payload (trigger time), else as read."""
    decision = ctx.decision
    if decision.issue_title:
        return PullRequestText(pull.number, decision.issue_title, decision.issue_body, pull.author)
    return PullRequestText(pull.number, pull.title, pull.body, pull.author)


def _reviewed_sha_if_moved(ctx: Context) -> str | None:
    reviewed = ctx.decision.head_sha
    return reviewed if reviewed and ctx.head_sha and reviewed != ctx.head_sha else None


def _replied(ctx: Context, comments: list[Any]) -> dict[str, int]:
    """Threads this job already replied in (a resumed job must not reply twice)."""
    replies: dict[str, int] = {}
    assert ctx.feedback is not None
    for comment in comments:
        for thread in ctx.feedback.threads:
            if render.thread_marker(ctx.job_id, thread.ref) in (comment.body or ""):
                replies.setdefault(thread.ref, int(comment.id))
    return replies


def _span(root_id: int, path: str, comments: dict[int, Any]) -> ThreadSpan:
    """The lines a thread is about, from its first comment as GitHub has it now."""
    root = comments.get(root_id)
    return thread_span(root) if root is not None else ThreadSpan(path, None, None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
