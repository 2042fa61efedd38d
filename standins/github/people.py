"""People acting in the stand-in's world, each action emitting the webhooks GitHub would.

Comments, labels, pushes, pull requests and reviews, as a person does them; each returns
what it created along with the deliveries it caused, so a test can wait on or inspect
exactly those.
"""

from __future__ import annotations

from typing import Any, Literal

from . import gitrepo, ops, ops_pulls, ops_reviews
from .service import Event
from .webhooks import Delivery
from .world import StandInWorld

ReviewState = Literal["changes_requested", "commented", "approved"]
_REVIEW_EVENTS = {
    "changes_requested": "REQUEST_CHANGES",
    "commented": "COMMENT",
    "approved": "APPROVE",
}


class _CarriesDeliveries:
    """What an action returns besides its value: the webhooks it caused."""

    deliveries: list[Delivery]

    @property
    def delivery(self) -> Delivery | None:
        return self.deliveries[0] if self.deliveries else None


class Created(_CarriesDeliveries, int):
    """An id or number that also carries the webhooks its creation caused."""

    def __new__(cls, value: int, deliveries: list[Delivery]) -> Created:
        obj = super().__new__(cls, value)
        obj.deliveries = deliveries
        return obj


class CreatedSha(_CarriesDeliveries, str):
    """A commit sha that also carries the webhooks the push caused (synchronize)."""

    def __new__(cls, value: str, deliveries: list[Delivery]) -> CreatedSha:
        obj = super().__new__(cls, value)
        obj.deliveries = deliveries
        return obj


class People(StandInWorld):
    """`GitHubStandIn`'s methods for what people do."""

    def _send(self, events: list[Event]) -> list[Delivery]:
        return self._svc.deliver(events, wait=True)

    def open_issue(
        self, repo: str, actor: str, title: str, body: str = "", *, labels: list[str] | None = None
    ) -> Created:
        issue, events = ops.open_issue(
            self._svc, self._repo(repo), self._person(actor), title, body, labels=labels
        )
        return Created(issue.number, self._send(events))

    def comment(self, repo: str, actor: str, number: int, body: str) -> Created:
        comment, events = ops.add_comment(
            self._svc, self._repo(repo), self._person(actor), int(number), body
        )
        return Created(comment.id, self._send(events))

    def edit_comment(self, repo: str, actor: str, comment_id: int, body: str) -> Delivery | None:
        comment = self._state.comment(self._repo(repo), int(comment_id))
        sent = self._send(ops.edit_comment(self._svc, comment, self._person(actor), body))
        return sent[0] if sent else None

    def delete_comment(self, repo: str, actor: str, comment_id: int) -> Delivery | None:
        comment = self._state.comment(self._repo(repo), int(comment_id))
        sent = self._send(ops.delete_comment(self._svc, comment, self._person(actor)))
        return sent[0] if sent else None

    def edit_issue(
        self,
        repo: str,
        actor: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> list[Delivery]:
        issue = self._state.issue(self._repo(repo), int(number))
        events = ops.update_issue(
            self._svc, issue, self._person(actor), title=title, body=body, state=state
        )
        return self._send(events)

    def label(self, repo: str, actor: str, number: int, name: str) -> Delivery | None:
        issue = self._state.issue(self._repo(repo), int(number))
        sent = self._send(ops.add_labels(self._svc, issue, self._person(actor), [name]))
        return sent[0] if sent else None

    def unlabel(self, repo: str, actor: str, number: int, name: str) -> Delivery | None:
        issue = self._state.issue(self._repo(repo), int(number))
        sent = self._send(ops.remove_label(self._svc, issue, self._person(actor), name))
        return sent[0] if sent else None

    def react(
        self,
        repo: str,
        actor: str,
        content: str,
        *,
        issue: int | None = None,
        comment: int | None = None,
        review_comment: int | None = None,
    ) -> int:
        kind, subject = self._reaction_subject(repo, issue, comment, review_comment)
        reaction, _ = ops.react(self._svc, self._person(actor), kind, subject, content)
        return reaction.id

    def push_commit(
        self,
        repo: str,
        actor: str,
        *,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str = "Update files",
        base: str | None = None,
    ) -> CreatedSha:
        """A person pushes one commit to `branch` (created from `base`/default if new)."""
        target = self._repo(repo)
        person = self._person(actor)
        with self._svc.git_lock(target):
            before = gitrepo.refs(target.path)
            parent = before.get(f"refs/heads/{branch}") or gitrepo.rev_parse(
                target.path, f"refs/heads/{base or target.default_branch}"
            )
            sha = gitrepo.commit_files(
                target.path, branch, files, message, self._signature(person), parent
            )
            after = gitrepo.refs(target.path)
            events = ops_pulls.refs_changed(self._svc, target, before, after, person)
        return CreatedSha(sha, self._send(events))

    def open_pr(
        self,
        repo: str,
        actor: str,
        *,
        head: str,
        base: str | None = None,
        title: str = "",
        body: str = "",
        draft: bool = False,
        from_fork: bool = False,
    ) -> Created:
        """Open a PR; `from_fork` puts the head branch in `actor`'s fork, as an outsider's."""
        target = self._repo(repo)
        head_spec = head
        if from_fork and ":" not in head:
            fork_name = self.fork(repo, actor)
            fork = self._repo(fork_name)
            if gitrepo.rev_parse(fork.path, f"refs/heads/{head}") is None:
                gitrepo.fetch(fork.path, target.path, f"refs/heads/{head}", f"refs/heads/{head}")
            head_spec = f"{fork.owner.login}:{head}"
        pull, events = ops_pulls.open_pull(
            self._svc,
            target,
            self._person(actor),
            head=head_spec,
            base=base or target.default_branch,
            title=title or head,
            body=body,
            draft=draft,
        )
        return Created(pull.issue.number, self._send(events))

    def close_pr(self, repo: str, actor: str, number: int) -> list[Delivery]:
        pull = self._state.pull(self._repo(repo), int(number))
        events = ops_pulls.update_pull(self._svc, pull, self._person(actor), state="closed")
        return self._send(events)

    def submit_review(
        self,
        repo: str,
        actor: str,
        pr: int,
        *,
        state: ReviewState,
        body: str = "",
        comments: list[dict[str, Any]] | None = None,
    ) -> Created:
        """Review as a person; inline comments take path, line (+ side, start_line), body."""
        pull = self._state.pull(self._repo(repo), int(pr))
        review, events = ops_reviews.submit_review(
            self._svc,
            pull,
            self._person(actor),
            event=_REVIEW_EVENTS[state],
            body=body,
            comments=comments,
        )
        return Created(review.id, self._send(events))

    def reply_review_comment(
        self, repo: str, actor: str, pr: int, comment_id: int, body: str
    ) -> Created:
        pull = self._state.pull(self._repo(repo), int(pr))
        person = self._person(actor)
        comment, events = ops_reviews.reply(self._svc, pull, person, int(comment_id), body)
        return Created(comment.id, self._send(events))

    def resolve_thread(self, thread_id: str, actor: str, *, resolved: bool = True) -> None:
        thread = self._state.thread_by_node_id(thread_id)
        if thread is None:
            raise KeyError(thread_id)
        ops_reviews.resolve_thread(self._svc, thread, self._person(actor), resolved)
