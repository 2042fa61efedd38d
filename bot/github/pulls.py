"""Pull request verbs of a repository client: the PR, its diff, its reviews and threads.

Review threads exist only in GraphQL (REST has no threads and cannot resolve one).
Everything posted passes through the job's `Redactor`; a PR is only ever opened as a
draft and a review only ever comments (invariant 5).
"""

from __future__ import annotations

from typing import Any

from githubkit.exception import RequestFailed

from bot.github.errors import GitHubError, error_message
from bot.github.records import (
    DiffFile,
    PullInfo,
    PullRequestRef,
    ReviewRef,
    ThreadState,
    pull_ref,
)
from bot.github.session import RepoSession

_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 100) { nodes { databaseId } } }
      }
    }
  }
}
"""
_RESOLVE_MUTATION = """
mutation($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } }
}
"""


class PullVerbs(RepoSession):
    """Pull requests: read them and their reviews, open drafts, comment and reply."""

    # -- reads ------------------------------------------------------------------------

    def pull(self, number: int) -> PullInfo:
        data = self.rest.pulls.get(self.owner, self.name, number).parsed_data
        head_repo = data.head.repo.full_name if data.head.repo is not None else None
        return PullInfo(
            number=int(data.number),
            state=str(data.state),
            title=str(data.title),
            body=data.body or "",
            author=data.user.login if data.user else "ghost",
            html_url=str(data.html_url),
            head_ref=str(data.head.ref),
            head_sha=str(data.head.sha),
            head_repo=head_repo,
            base_ref=str(data.base.ref),
            base_repo=str(data.base.repo.full_name),
        )

    def pull_files(self, number: int) -> list[DiffFile]:
        files = self._paginate(self.rest.pulls.list_files, self.owner, self.name, number)
        return [DiffFile(str(f.filename), str(f.status), f.patch or None) for f in files]

    def review_comments(self, number: int) -> list[Any]:
        """Every inline comment on the PR (githubkit models), oldest first."""
        method = self.rest.pulls.list_review_comments
        return list(self._paginate(method, self.owner, self.name, number))

    def review_threads(self, number: int) -> list[ThreadState]:
        """Every review thread of the PR with its resolved flag, through GraphQL."""
        threads: list[ThreadState] = []
        after: str | None = None
        while True:
            variables = {"owner": self.owner, "name": self.name, "number": number}
            data = self.graphql.request(_THREADS_QUERY, {**variables, "after": after})
            page = data["repository"]["pullRequest"]["reviewThreads"]
            for node in page["nodes"]:
                ids = tuple(int(c["databaseId"]) for c in node["comments"]["nodes"])
                threads.append(ThreadState(str(node["id"]), bool(node["isResolved"]), ids))
            if not page["pageInfo"]["hasNextPage"]:
                return threads
            after = page["pageInfo"]["endCursor"]

    def find_open_pull(self, head_branch: str) -> PullRequestRef | None:
        pulls = self.rest.pulls.list(
            self.owner, self.name, state="open", head=f"{self.owner}:{head_branch}"
        ).parsed_data
        return pull_ref(pulls[0]) if pulls else None

    # -- writes (all redacted) ----------------------------------------------------------

    def react_to_review_comment(self, comment_id: int, content: str = "eyes") -> None:
        self.rest.reactions.create_for_pull_request_review_comment(
            self.owner, self.name, comment_id, data={"content": content}
        )

    def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> int:
        """Answer in the thread of inline comment `comment_id`; the reply's id."""
        created = self.rest.pulls.create_reply_for_review_comment(
            self.owner, self.name, number, comment_id, data={"body": self._redact(body)}
        ).parsed_data
        return int(created.id)

    def resolve_thread(self, node_id: str) -> None:
        self.graphql.request(_RESOLVE_MUTATION, {"threadId": node_id})

    def comment_review(
        self, number: int, *, commit_id: str, body: str, comments: list[dict[str, Any]]
    ) -> ReviewRef:
        """Post a review that only comments: Rolecall never approves or requests changes."""
        data: dict[str, Any] = {
            "commit_id": commit_id,
            "body": self._redact(body),
            "event": "COMMENT",
            "comments": [{**c, "body": self._redact(str(c["body"]))} for c in comments],
        }
        review = self.rest.pulls.create_review(self.owner, self.name, number, data=data)
        return ReviewRef(int(review.parsed_data.id), str(review.parsed_data.html_url))

    def update_pull(self, number: int, *, title: str, body: str) -> None:
        """Rewrite a pull request's title and description (Rolecall's own PRs only)."""
        self.rest.pulls.update(
            self.owner,
            self.name,
            number,
            data={"title": self._redact(title), "body": self._redact(body)},
        )

    def open_draft_pull(self, *, title: str, body: str, head: str, base: str) -> PullRequestRef:
        """Open the PR as a draft, or return the one already open for `head` (a resumed job).

        Always a draft (invariant 5): a person decides when it is ready, and Rolecall has
        no verb to approve or merge.
        """
        existing = self.find_open_pull(head)
        if existing is not None:
            return existing
        try:
            created = self.rest.pulls.create(
                self.owner,
                self.name,
                data={
                    "title": self._redact(title),
                    "body": self._redact(body),
                    "head": head,
                    "base": base,
                    "draft": True,
                },
            ).parsed_data
        except RequestFailed as exc:
            if exc.response.status_code == 422:
                again = self.find_open_pull(head)
                if again is not None:
                    return again
                raise GitHubError(error_message(exc)) from exc
            raise
        return pull_ref(created)
