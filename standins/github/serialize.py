"""Records to GitHub's JSON: users, the App, repositories, labels, issues, comments.

One function per GitHub shape, used by REST responses and webhook payloads alike,
so the two cannot disagree. Field sets follow GitHub's OpenAPI description (the
one githubkit's models are generated from); tests validate every shape with them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .records import (
    REACTIONS,
    Installation,
    Issue,
    IssueComment,
    Label,
    Reaction,
    Repo,
    User,
    iso,
)
from .state import State

JSON = dict[str, Any]


class Shapes:
    """Serializer bound to the server's base URL (API, web and git share one origin)."""

    def __init__(self, state: State, base_url: str) -> None:
        self.state = state
        self.base = base_url.rstrip("/")

    # people and the App ------------------------------------------------------------

    def user(self, user: User) -> JSON:
        api = f"{self.base}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": user.node_id,
            "avatar_url": f"{self.base}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.base}/{user.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def user_or_none(self, user: User | None) -> JSON | None:
        return self.user(user) if user else None

    def organization(self, org: User) -> JSON:
        api = f"{self.base}/orgs/{org.login}"
        return {
            "login": org.login,
            "id": org.id,
            "node_id": org.node_id,
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"{self.base}/avatars/u/{org.id}?v=4",
            "description": None,
        }

    def app(self) -> JSON:
        app = self.state.app
        created = (
            iso(self.state.installations[min(self.state.installations)].created_at)
            if (self.state.installations)
            else "2024-01-01T00:00:00Z"
        )
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": f"A_{app.id}",
            "client_id": app.client_id,
            "owner": self.user(app.owner),
            "name": app.name,
            "description": "Puts agent roles to work on issues and pull requests.",
            "external_url": f"{self.base}/apps/{app.slug}",
            "html_url": f"{self.base}/apps/{app.slug}",
            "created_at": created,
            "updated_at": created,
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "installations_count": len(self.state.installations),
        }

    def installation(self, inst: Installation) -> JSON:
        app = self.state.app
        return {
            "id": inst.id,
            "client_id": app.client_id,
            "account": self.user(inst.account),
            "repository_selection": "all",
            "access_tokens_url": f"{self.base}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.base}/installation/repositories",
            "html_url": f"{self.base}/settings/installations/{inst.id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "target_id": inst.account.id,
            "target_type": inst.account.type,
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def webhook_installation(self, inst_id: int) -> JSON:
        return {"id": inst_id, "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{inst_id}"}

    # repositories ------------------------------------------------------------------

    def repo(self, repo: Repo) -> JSON:
        """GitHub's full repository shape (REST `GET /repos`, webhooks, PR head/base)."""
        api = f"{self.base}/repos/{repo.full_name}"
        html = f"{self.base}/{repo.full_name}"
        open_count = sum(
            1 for (rid, _), i in self.state.issues.items() if rid == repo.id and i.state == "open"
        )
        out: JSON = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork_of is not None,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.pushed_at),
            "pushed_at": iso(repo.pushed_at),
            "git_url": f"git://{self.base.split('://', 1)[-1]}/{repo.full_name}.git",
            "ssh_url": f"git@{self.base.split('://', 1)[-1]}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 1,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "custom_properties": {},
            "subscribers_count": 0,
            "network_count": 0,
        }
        if repo.owner.type == "Organization":
            out["organization"] = self.user(repo.owner)
        if repo.fork_of is not None:
            parent = self.repo(repo.fork_of)
            out["parent"] = parent
            out["source"] = parent
        return out

    # labels and reactions ----------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": f"LA_{label.id}",
            "url": f"{self.base}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
            "archived_at": None,
            "archived_by": None,
        }

    def reaction_rollup(self, url: str, reactions: list[Reaction]) -> JSON:
        counts = Counter(r.content for r in reactions)
        out: JSON = {"url": url, "total_count": len(reactions)}
        for content in REACTIONS:
            out[content] = counts.get(content, 0)
        return out

    def reaction(self, reaction: Reaction) -> JSON:
        return {
            "id": reaction.id,
            "node_id": f"REA_{reaction.id}",
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    # issues and comments -----------------------------------------------------------

    def author_association(self, repo: Repo, user: User) -> str:
        if user is repo.owner:
            return "OWNER"
        level = repo.permissions.get(user.login.lower(), "none")
        if level == "none":
            return "NONE"
        return "MEMBER" if repo.owner.type == "Organization" else "COLLABORATOR"

    def issue(self, issue: Issue) -> JSON:
        repo = issue.repo
        api = f"{self.base}/repos/{repo.full_name}/issues/{issue.number}"
        pull = self.state.pull_or_none(repo, issue.number)
        kind = "pull" if pull else "issues"
        html = f"{self.base}/{repo.full_name}/{kind}/{issue.number}"
        out: JSON = {
            "url": api,
            "repository_url": f"{self.base}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": html,
            "timeline_url": f"{api}/timeline",
            "id": issue.id,
            "node_id": f"I_{issue.id}" if pull is None else f"PR_{pull.id}",
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, label) for label in issue.labels],
            "state": issue.state,
            "state_reason": issue.state_reason,
            "locked": issue.locked,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(u) for u in issue.assignees],
            "milestone": None,
            "comments": len(self.state.issue_comments(repo, issue.number)),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "closed_by": self.user_or_none(issue.closed_by),
            "author_association": self.author_association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self.reaction_rollup(
                f"{api}/reactions", self.state.reactions_of("issue", issue.id)
            ),
            "performed_via_github_app": self.app() if issue.via_app else None,
            "draft": False,  # GitHub sends it on plain issues too
        }
        if pull is not None:
            out["draft"] = pull.draft
            out["pull_request"] = {
                "url": f"{self.base}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(pull.merged_at),
            }
        return out

    def comment(self, comment: IssueComment) -> JSON:
        repo = comment.repo
        api = f"{self.base}/repos/{repo.full_name}/issues/comments/{comment.id}"
        kind = "pull" if self.state.pull_or_none(repo, comment.issue_number) else "issues"
        return {
            "url": api,
            "html_url": (
                f"{self.base}/{repo.full_name}/{kind}/{comment.issue_number}"
                f"#issuecomment-{comment.id}"
            ),
            "issue_url": f"{self.base}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": self.author_association(repo, comment.user),
            "body": comment.body,
            "reactions": self.reaction_rollup(
                f"{api}/reactions", self.state.reactions_of("comment", comment.id)
            ),
            "performed_via_github_app": self.app() if comment.via_app else None,
        }
