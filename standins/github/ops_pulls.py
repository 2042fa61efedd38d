"""What changes GitHub (pull-request side): PRs, reviews, threads, and pushes.

Same contract as `ops`: mutate under the state lock, return the events, let the
caller send them. Everything diff-related is computed from the real repositories.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import diff, gitrepo, rest_activity
from .errors import ApiError, not_found, validation_failed
from .ops import issue_or_pull_event, open_issue, update_issue
from .records import Pull, Repo, Review, ReviewComment, ReviewThread, User, utcnow
from .service import Event, Service

REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
PULL_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"


def _unprocessable(message: str, docs: str = REVIEW_DOCS) -> ApiError:
    """GitHub's 422 whose `errors` are plain strings (review line errors look like this)."""
    return ApiError(422, "Unprocessable Entity", errors=[message], documentation_url=docs)


# pull requests ---------------------------------------------------------------------


def _head_repo(svc: Service, repo: Repo, owner: str | None) -> Repo:
    if owner is None or owner.lower() == repo.owner.login.lower():
        return repo
    with svc.state.lock:
        for candidate in svc.state.repos.values():
            if candidate.fork_of is repo and candidate.owner.login.lower() == owner.lower():
                return candidate
    raise validation_failed({"resource": "PullRequest", "field": "head", "code": "invalid"})


def sync_pull_ref(svc: Service, pull: Pull) -> None:
    """GitHub keeps `refs/pull/N/head` in the base repository; forks' commits come along."""
    base_repo = pull.issue.repo
    ref = f"refs/pull/{pull.issue.number}/head"
    if pull.head_repo is base_repo:
        gitrepo.update_ref(base_repo.path, ref, pull.head_sha)
    else:
        gitrepo.fetch(base_repo.path, pull.head_repo.path, f"refs/heads/{pull.head_ref}", ref)


def open_pull(
    svc: Service,
    repo: Repo,
    actor: User,
    *,
    head: str,
    base: str,
    title: str,
    body: str | None,
    draft: bool = False,
    via_app: bool = False,
) -> tuple[Pull, list[Event]]:
    state = svc.state
    owner, _, ref = head.rpartition(":")
    with state.lock:
        head_repo = _head_repo(svc, repo, owner or None)
        base_sha = gitrepo.rev_parse(repo.path, f"refs/heads/{base}")
        if base_sha is None:
            raise validation_failed({"resource": "PullRequest", "field": "base", "code": "invalid"})
        head_sha = gitrepo.rev_parse(head_repo.path, f"refs/heads/{ref}")
        if head_sha is None:
            raise validation_failed({"resource": "PullRequest", "field": "head", "code": "invalid"})
        label = f"{head_repo.owner.login}:{ref}"
        for other in state.repo_pulls(repo):
            same_head = other.head_repo is head_repo and other.head_ref == ref
            if same_head and other.base_ref == base and other.issue.state == "open":
                raise ApiError(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {label}.",
                        }
                    ],
                    documentation_url=PULL_DOCS,
                )
        if head_repo is not repo:
            gitrepo.fetch_objects(repo.path, head_repo.path, f"refs/heads/{ref}")
        if gitrepo.count_commits(repo.path, base_sha, head_sha) == 0:
            raise ApiError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {head}",
                    }
                ],
                documentation_url=PULL_DOCS,
            )
        issue, _ = open_issue(svc, repo, actor, title, body, via_app=via_app)
        pull = Pull(
            id=state.new_id(),
            issue=issue,
            head_repo=head_repo,
            head_ref=ref,
            head_sha=head_sha,
            base_ref=base,
            base_sha=base_sha,
            draft=draft,
        )
        state.pulls[(repo.id, issue.number)] = pull
        sync_pull_ref(svc, pull)
        event = svc.envelope(
            "pull_request",
            repo,
            actor,
            "opened",
            number=issue.number,
            pull_request=svc.shapes.pull(pull),
        )
        return pull, [event]


def update_pull(
    svc: Service,
    pull: Pull,
    actor: User,
    *,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
    base: str | None = None,
) -> list[Event]:
    with svc.state.lock:
        events: list[Event] = []
        if base is not None and base != pull.base_ref:
            base_sha = gitrepo.rev_parse(pull.issue.repo.path, f"refs/heads/{base}")
            if base_sha is None:
                raise validation_failed(
                    {"resource": "PullRequest", "field": "base", "code": "invalid"}
                )
            old = pull.base_ref
            pull.base_ref, pull.base_sha = base, base_sha
            events.append(
                issue_or_pull_event(
                    svc, pull.issue, actor, "edited", changes={"base": {"ref": {"from": old}}}
                )
            )
        events += update_issue(svc, pull.issue, actor, title=title, body=body, state=state)
        return events


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
        raise _unprocessable("Path could not be resolved")
    side = spec.get("side") or "RIGHT"
    if spec.get("line") is not None:
        entry = patch.find(int(spec["line"]), side)
    elif spec.get("position") is not None:
        entry = patch.at_position(int(spec["position"]))
        if entry is not None:
            side = "LEFT" if entry.side == "LEFT" else "RIGHT"
    else:
        raise _unprocessable("Line could not be resolved")
    if entry is None:
        raise _unprocessable("Line could not be resolved")
    start_line = spec.get("start_line")
    if (
        start_line is not None
        and patch.find(int(start_line), spec.get("start_side") or side) is None
    ):
        raise _unprocessable("Start line could not be resolved")
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
        raise _unprocessable(
            "The stand-in accepts only submitted reviews: event must be APPROVE, "
            "REQUEST_CHANGES or COMMENT"
        )
    comments = comments or []
    if event in ("APPROVE", "REQUEST_CHANGES") and actor is pull.issue.user:
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise _unprocessable(f"Can not {verb} your own pull request")
    if event == "REQUEST_CHANGES" and not body:
        raise _unprocessable("Body is required when using REQUEST_CHANGES")
    if event == "COMMENT" and not body and not comments:
        raise _unprocessable("Body is required when using COMMENT without comments")
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


def refs_changed(
    svc: Service, repo: Repo, before: dict[str, str], after: dict[str, str], pusher: User
) -> list[Event]:
    """After a push: move PR heads/bases that follow the pushed branches.

    A pull request whose head branch moved gets `pull_request.synchronize`, whoever
    pushed (a person, or the App over git), as on GitHub.
    """
    events: list[Event] = []
    rest_activity.record_ref_changes(svc, repo, before, after, pusher)
    with svc.state.lock:
        repo.pushed_at = utcnow()
        for pull in list(svc.state.pulls.values()):
            if pull.issue.state != "open":
                continue
            if pull.head_repo is repo:
                new = after.get(f"refs/heads/{pull.head_ref}")
                old = before.get(f"refs/heads/{pull.head_ref}")
                if new and new != old and new != pull.head_sha:
                    previous = pull.head_sha
                    pull.head_sha = new
                    pull.issue.updated_at = utcnow()
                    sync_pull_ref(svc, pull)
                    events.append(
                        svc.envelope(
                            "pull_request",
                            pull.issue.repo,
                            pusher,
                            "synchronize",
                            number=pull.issue.number,
                            before=previous,
                            after=new,
                            pull_request=svc.shapes.pull(pull),
                        )
                    )
            if pull.issue.repo is repo:
                base = after.get(f"refs/heads/{pull.base_ref}")
                if base and base != pull.base_sha:
                    pull.base_sha = base
    return events
