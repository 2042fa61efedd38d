"""Issue verbs of a repository client: read an issue and its comments, comment, react.

Everything posted passes through the job's `Redactor`.
"""

from __future__ import annotations

from typing import Any

from bot.github.session import RepoSession


class IssueVerbs(RepoSession):
    """Issues and their comments (pull requests are issues here too)."""

    def issue(self, number: int) -> Any:
        return self.rest.issues.get(self.owner, self.name, number).parsed_data

    def issue_comments(self, number: int) -> list[Any]:
        return list(self._paginate(self.rest.issues.list_comments, self.owner, self.name, number))

    def react(self, comment_id: int, content: str = "eyes") -> None:
        self.rest.reactions.create_for_issue_comment(
            self.owner, self.name, comment_id, data={"content": content}
        )

    def comment(self, issue_number: int, body: str) -> int:
        created = self.rest.issues.create_comment(
            self.owner, self.name, issue_number, data={"body": self._redact(body)}
        ).parsed_data
        return int(created.id)

    def update_comment(self, comment_id: int, body: str) -> None:
        self.rest.issues.update_comment(
            self.owner, self.name, comment_id, data={"body": self._redact(body)}
        )
