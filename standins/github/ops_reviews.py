"""What changes GitHub (review side): reviews, their inline comments, replies, threads.

Same contract as `ops`: mutate under the state lock, return the events, let the
caller send them. Comments are anchored to the diff computed from the real repositories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import diff, gitrepo
from .errors import not_found, validation_failed
from .ops_pulls import unprocessable
from .records import Pull, Review, ReviewComment, ReviewThread, User, utcnow
from .service import Event, Service

# reviews ---------------------------------------------------------------------------

_REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def _anchor(files: dict[str, diff.FilePatch], spec: dict[str, Any]) -> dict[str, Any]:
    """Where an inline comment lands in the diff, or GitHub's 422 if it is not in it."""
    path = spec.get("path")
    patch = files.get(path) if isinstance(path, str) else None
    if patch is None:
        raise unprocessable("Path could not be resolved")
    side = spec.get("side") or "RIGHT"
    if spec.get("line") is not None:
        entry = patch.find(int(spec["line"]), side)
    elif spec.get("position") is not None:
        entry = patch.at_position(int(spec["position"]))
        if entry is not None:
            side = "LEFT" if entry.side == "LEFT" else "RIGHT"
    else:
        raise unprocessable("Line could not be resolved")
    if entry is None:
        raise unprocessable("Line could not be resolved")
    start_line = spec.get("start_line")
    if (
        start_line is not None
        and patch.find(int(start_line), spec.get("start_side") or side) is None
    ):
        raise unprocessable("Start line could not be resolved")
    line = entry.new if side == "RIGHT" else entry.old
    return {
        "path": patch.filename,
        "line": line,
        "side": side,
        "start_line": int(start_line) if start_line is not None else None,
        "position": entry.position,
        "diff_hunk": patch.hunk_through(entry),
    }


def submit_review(
    svc: Service,
    pull: Pull,
    actor: User,
    *,
    event: str,
    body: str | None,
    comments: list[dict[str, Any]] | None = None,
    commit_id: str | None = None,
) -> tuple[Review, list[Event]]:
    state = svc.state
    repo = pull.issue.repo
    if event not in _REVIEW_STATES:
        raise unprocessable(
            "The stand-in accepts only submitted reviews: event must be APPROVE, "
            "REQUEST_CHANGES or COMMENT"
        )
    comments = comments or []
    if event in ("APPROVE", "REQUEST_CHANGES") and actor is pull.issue.user:
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise unprocessable(f"Can not {verb} your own pull request")
    if event == "REQUEST_CHANGES" and not body:
        raise unprocessable("Body is required when using REQUEST_CHANGES")
    if event == "COMMENT" and not body and not comments:
        raise unprocessable("Body is required when using COMMENT without comments")
    with state.lock:
        commit = commit_id or pull.head_sha
        files = {f.filename: f for f in diff.parse(gitrepo.diff(repo.path, pull.base_sha, commit))}
        anchors = [(_anchor(files, spec), spec) for spec in comments]
        for _, spec in anchors:
            if not isinstance(spec.get("body"), str) or not spec["body"]:
                raise validation_failed(
                    {
                        "resource": "PullRequestReviewComment",
                        "code": "missing_field",
                        "field": "body",
                    }
                )
        now = utcnow()
        review = Review(
            id=state.new_id(),
            repo=repo,
            pull_number=pull.issue.number,
            user=actor,
            body=body or "",
            state=_REVIEW_STATES[event],  # type: ignore[arg-type]
            commit_id=commit,
            submitted_at=now,
        )
        state.reviews[review.id] = review
        created = [
            _new_thread_comment(svc, pull, review, actor, a, s["body"], commit, now)
            for a, s in anchors
        ]
        pr_shape = svc.shapes.pull(pull, full=False)
        events = [
            svc.envelope(
                "pull_request_review",
                repo,
                actor,
                "submitted",
                review=svc.shapes.review(review, webhook=True),
                pull_request=pr_shape,
            )
        ]
        events += [
            svc.envelope(
                "pull_request_review_comment",
                repo,
                actor,
                "created",
                comment=svc.shapes.review_comment(c),
                pull_request=pr_shape,
            )
            for c in created
        ]
        return review, events


def _new_thread_comment(
    svc: Service,
    pull: Pull,
    review: Review,
    actor: User,
    anchor: dict[str, Any],
    body: str,
    commit: str,
    now: datetime,
) -> ReviewComment:
    """A review's comment is stamped with the review's time: on GitHub they are written
    (pending) before the review is submitted, never after it."""
    state = svc.state
    thread = ReviewThread(
        id=state.new_id(),
        repo=review.repo,
        pull_number=pull.issue.number,
        path=anchor["path"],
        line=anchor["line"],
    )
    comment = ReviewComment(
        id=state.new_id(),
        repo=review.repo,
        pull_number=pull.issue.number,
        review_id=review.id,
        thread_id=thread.id,
        user=actor,
        body=body,
        path=anchor["path"],
        line=anchor["line"],
        side=anchor["side"],
        start_line=anchor["start_line"],
        position=anchor["position"],
        diff_hunk=anchor["diff_hunk"],
        commit_id=commit,
        created_at=now,
        updated_at=now,
    )
    thread.comment_ids.append(comment.id)
    state.threads[thread.id] = thread
    state.review_comments[comment.id] = comment
    return comment


def reply(
    svc: Service, pull: Pull, actor: User, comment_id: int, body: str
) -> tuple[ReviewComment, list[Event]]:
    """A reply joins the thread of the comment replied to, as on GitHub.

    GitHub files every standalone review comment under a one-comment COMMENTED
    review and announces both, so a reply emits a review comment and a review.
    """
    state = svc.state
    repo = pull.issue.repo
    with state.lock:
        target = state.review_comment(repo, comment_id)
        if target.pull_number != pull.issue.number:
            raise not_found()
        root = state.review_comments[state.threads[target.thread_id].comment_ids[0]]
        now = utcnow()
        review = Review(
            id=state.new_id(),
            repo=repo,
            pull_number=pull.issue.number,
            user=actor,
            body="",
            state="COMMENTED",
            commit_id=pull.head_sha,
            submitted_at=now,
        )
        state.reviews[review.id] = review
        comment = ReviewComment(
            id=state.new_id(),
            repo=repo,
            pull_number=pull.issue.number,
            review_id=review.id,
            thread_id=root.thread_id,
            user=actor,
            body=body,
            path=root.path,
            line=root.line,
            side=root.side,
            start_line=root.start_line,
            position=root.position,
            diff_hunk=root.diff_hunk,
            commit_id=root.commit_id,
            created_at=now,
            updated_at=now,
            in_reply_to_id=root.id,
        )
        state.review_comments[comment.id] = comment
        state.threads[root.thread_id].comment_ids.append(comment.id)
        pr_shape = svc.shapes.pull(pull, full=False)
        events = [
            svc.envelope(
                "pull_request_review_comment",
                repo,
                actor,
                "created",
                comment=svc.shapes.review_comment(comment),
                pull_request=pr_shape,
            ),
            svc.envelope(
                "pull_request_review",
                repo,
                actor,
                "submitted",
                review=svc.shapes.review(review, webhook=True),
                pull_request=pr_shape,
            ),
        ]
        return comment, events


def resolve_thread(svc: Service, thread: ReviewThread, actor: User, resolved: bool) -> None:
    with svc.state.lock:
        thread.resolved_by = actor if resolved else None


# pushes ----------------------------------------------------------------------------
