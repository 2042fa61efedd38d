"""The review feedback a fix job addresses: open threads, as of the trigger, in writers' words.

For a review: the unresolved threads this review wrote in, unless all it wrote there is
thanks. For /fix: every unresolved thread with something besides thanks in it. Only
comments by people with write access (and Rolecall's own replies) are kept, and only
what was written before the trigger (invariant 3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.review_brief import FeedbackComment, FeedbackThread, ReviewFeedback
from bot.github import ThreadState
from bot.jobs.context import Given
from handlers.guards import filter_to_trigger_time, has_write
from handlers.reviews import is_thanks

# GitHub stamps a review's inline comments (`updated_at`) when the review is submitted;
# the grace keeps a second's rounding between the two stamps from dropping them.
REVIEW_CLOCK_GRACE = timedelta(seconds=2)


def gather_feedback(given: Given, bot_login: str) -> ReviewFeedback:
    """The open threads to address, as they stood at trigger time, in writers' words.

    For a review: the unresolved threads this review wrote in, unless all it wrote there
    is thanks. For /fix: every unresolved thread with something besides thanks in it.
    Only comments by people with write access (and Rolecall's own replies) are kept, as
    for an issue thread: anyone can comment on a pull request, and a passer-by's words
    must not steer the work a maintainer asked for (invariant 3).
    """
    decision = given.decision
    number = decision.issue_number
    comments = {int(c.id): c for c in given.repo.review_comments(number)}
    writer = _writer_check(given, bot_login)
    threads: list[FeedbackThread] = []
    for state in given.repo.review_threads(number):
        items = _as_of_trigger(given, [comments[i] for i in state.comment_ids if i in comments])
        items = [c for c in items if writer(_author(c))]
        if state.is_resolved or not items or not _asks_for_something(given, items, bot_login):
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


def _as_of_trigger(given: Given, items: list[Any]) -> list[Any]:
    """Comments written before the trigger and not edited since (invariant 3).

    The triggering review's own comments carry its submission time, so they count up to
    that time (with `REVIEW_CLOCK_GRACE`); everything else must predate the trigger.
    """
    decision = given.decision
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


def _asks_for_something(given: Given, items: list[Any], bot_login: str) -> bool:
    """Whether someone other than Rolecall wrote more than thanks (in this review, if any)."""
    decision = given.decision
    if decision.trigger == "review":
        items = [c for c in items if c.pull_request_review_id == decision.review_id]
    people = [c for c in items if _author(c).casefold() != bot_login.casefold()]
    return any(not is_thanks(c.body or "") for c in people)


def _writer_check(given: Given, bot_login: str) -> Callable[[str], bool]:
    """`login -> can write`, from the live permission, asked once per login per job."""
    known: dict[str, bool] = {bot_login.casefold(): True, "ghost": False}

    def can_write(login: str) -> bool:
        key = login.casefold()
        if key not in known:
            known[key] = has_write(given.repo.permission(login))
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


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
