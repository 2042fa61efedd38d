"""`RepoClient`: one repository for one job, with the few verbs Rolecall uses.

Its verbs are grouped by what they touch (`bot.github.issues`, `bot.github.pulls`,
`bot.github.git_data`, `bot.github.checks`) over one session (`bot.github.session`): one
token, one redactor, one githubkit client per job. Everything posted passes through the
job's `Redactor`.
"""

from __future__ import annotations

from githubkit.exception import RequestFailed

from bot.github.checks import CheckVerbs
from bot.github.git_data import GitDataVerbs
from bot.github.issues import IssueVerbs
from bot.github.pulls import PullVerbs
from bot.github.records import RepoInfo


class RepoClient(IssueVerbs, PullVerbs, GitDataVerbs, CheckVerbs):
    """One repository for one job, through the App's shared token for it (see `GitHubApp`).

    Every token this client uses is added to the job's `Redactor` as it first sees it,
    also one another job minted.
    """

    def info(self) -> RepoInfo:
        repo = self.rest.repos.get(self.owner, self.name).parsed_data
        return RepoInfo(repo.full_name, repo.default_branch, repo.clone_url, repo.id)

    def permission(self, login: str) -> str:
        """The live permission of `login`: admin, maintain, write, triage, read or none."""
        rest = self.rest  # minting the token may fail too: that 404 is no "none"
        try:
            data = rest.repos.get_collaborator_permission_level(
                self.owner, self.name, login
            ).parsed_data
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return "none"
            raise
        return str(data.permission)
