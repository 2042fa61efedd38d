"""What changes GitHub (pull-request side): pull requests and the pushes that move them.

Same contract as `ops`: mutate under the state lock, return the events, let the
caller send them. Everything diff-related is computed from the real repositories.
"""

from __future__ import annotations

from . import gitrepo, rest_activity
from .errors import ApiError, validation_failed
from .ops import issue_or_pull_event, open_issue, update_issue
from .records import Pull, Repo, User, utcnow
from .service import Event, Service

REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
PULL_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"


def unprocessable(message: str, docs: str = REVIEW_DOCS) -> ApiError:
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
