"""Records to GitHub's JSON, second half: pull requests, reviews, branches.

Split from `serialize` (and `serialize_checks`) only for size; `Serializer` is the one
class everything uses.
Pull-request numbers that GitHub computes from git (commits, additions, files) are
computed here from the real repositories, never stored, so they follow pushes.
"""

from __future__ import annotations

from . import diff, gitrepo
from .records import Pull, Repo, Review, ReviewComment, User, iso
from .serialize import JSON
from .serialize_checks import CheckShapes


def _git_date(value: str) -> str:
    """git's ISO dates (`+00:00`) in GitHub's `Z` form."""
    return value.replace("+00:00", "Z")


class Serializer(CheckShapes):
    """Every GitHub shape the stand-in answers with."""

    # pull requests -----------------------------------------------------------------

    def _ref(self, repo: Repo, ref: str, sha: str) -> JSON:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull_files(self, pull: Pull) -> list[diff.FilePatch]:
        repo = pull.issue.repo
        return diff.parse(gitrepo.diff(repo.path, pull.base_sha, pull.head_sha))

    def pull(self, pull: Pull, *, full: bool = True) -> JSON:
        """`full` adds what only `GET /pulls/{n}` and pull_request webhooks carry."""
        issue = pull.issue
        repo = issue.repo
        api = f"{self.base}/repos/{repo.full_name}/pulls/{issue.number}"
        issue_api = f"{self.base}/repos/{repo.full_name}/issues/{issue.number}"
        html = f"{self.base}/{repo.full_name}/pull/{issue.number}"
        statuses = f"{self.base}/repos/{repo.full_name}/statuses/{pull.head_sha}"
        out: JSON = {
            "url": api,
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.base}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": statuses,
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": [self.label(repo, label) for label in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": None,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(u) for u in issue.assignees],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._ref(pull.head_repo, pull.head_ref, pull.head_sha),
            "base": self._ref(repo, pull.base_ref, pull.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {
                    "href": f"{self.base}/repos/{repo.full_name}/pulls/comments{{/number}}"
                },
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self.author_association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            files = self.pull_files(pull)
            start = gitrepo.merge_base(repo.path, pull.base_sha, pull.head_sha) or pull.base_sha
            out.update(
                {
                    "merged": pull.merged_at is not None,
                    "mergeable": None,
                    "rebaseable": None,
                    "mergeable_state": "unknown",
                    "merged_by": None,
                    "comments": len(self.state.issue_comments(repo, issue.number)),
                    "review_comments": len(self.state.pull_review_comments(repo, issue.number)),
                    "maintainer_can_modify": False,
                    "commits": gitrepo.count_commits(repo.path, start, pull.head_sha),
                    "additions": sum(f.additions for f in files),
                    "deletions": sum(f.deletions for f in files),
                    "changed_files": len(files),
                }
            )
        return out

    def diff_entry(self, repo: Repo, pull: Pull, patch: diff.FilePatch) -> JSON:
        raw = f"{self.base}/{repo.full_name}/raw/{pull.head_sha}/{patch.filename}"
        out: JSON = {
            "sha": patch.blob_sha,
            "filename": patch.filename,
            "status": patch.status,
            "additions": patch.additions,
            "deletions": patch.deletions,
            "changes": patch.additions + patch.deletions,
            "blob_url": f"{self.base}/{repo.full_name}/blob/{pull.head_sha}/{patch.filename}",
            "raw_url": raw,
            "contents_url": (
                f"{self.base}/repos/{repo.full_name}/contents/{patch.filename}?ref={pull.head_sha}"
            ),
        }
        if patch.patch is not None:
            out["patch"] = patch.patch
        if patch.previous_filename:
            out["previous_filename"] = patch.previous_filename
        return out

    # reviews -----------------------------------------------------------------------

    def review(self, review: Review, *, webhook: bool = False) -> JSON:
        repo = review.repo
        html = f"{self.base}/{repo.full_name}/pull/{review.pull_number}"
        html = f"{html}#pullrequestreview-{review.id}"
        pr_api = f"{self.base}/repos/{repo.full_name}/pulls/{review.pull_number}"
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user(review.user),
            "body": review.body,
            # REST says COMMENTED, webhooks say commented: GitHub's own inconsistency.
            "state": review.state.lower() if webhook else review.state,
            "html_url": html,
            "pull_request_url": pr_api,
            "author_association": self.author_association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_api}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
        }

    def review_comment(self, comment: ReviewComment) -> JSON:
        repo = comment.repo
        api = f"{self.base}/repos/{repo.full_name}/pulls/comments/{comment.id}"
        pr_api = f"{self.base}/repos/{repo.full_name}/pulls/{comment.pull_number}"
        html = f"{self.base}/{repo.full_name}/pull/{comment.pull_number}"
        html = f"{html}#discussion_r{comment.id}"
        out: JSON = {
            "url": api,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": f"PRRC_{comment.id}",
            "diff_hunk": comment.diff_hunk,
            "path": comment.path,
            "position": comment.position,
            "original_position": comment.position,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "html_url": html,
            "pull_request_url": pr_api,
            "author_association": self.author_association(repo, comment.user),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "pull_request": {"href": pr_api},
            },
            "reactions": self.reaction_rollup(
                f"{api}/reactions", self.state.reactions_of("review_comment", comment.id)
            ),
            "start_line": comment.start_line,
            "original_start_line": comment.start_line,
            "start_side": comment.side if comment.start_line else None,
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "subject_type": "line",
        }
        if comment.in_reply_to_id is not None:
            out["in_reply_to_id"] = comment.in_reply_to_id
        return out

    # branches and commits ----------------------------------------------------------

    def _commit_user(self, email: str) -> JSON | None:
        login = email.split("@", 1)[0].split("+", 1)[-1]
        with self.state.lock:
            user: User | None = self.state.users.get(login.lower())
        return self.user(user) if user else None

    def commit(self, repo: Repo, sha: str) -> JSON:
        info = gitrepo.commit_info(repo.path, sha)
        api = f"{self.base}/repos/{repo.full_name}"
        return {
            "sha": info.sha,
            "node_id": f"C_{info.sha[:20]}",
            "url": f"{api}/commits/{info.sha}",
            "html_url": f"{self.base}/{repo.full_name}/commit/{info.sha}",
            "comments_url": f"{api}/commits/{info.sha}/comments",
            "commit": {
                "url": f"{api}/git/commits/{info.sha}",
                "author": {
                    "name": info.author_name,
                    "email": info.author_email,
                    "date": _git_date(info.author_date),
                },
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": _git_date(info.committer_date),
                },
                "message": info.message,
                "comment_count": 0,
                "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "author": self._commit_user(info.author_email),
            "committer": self._commit_user(info.committer_email),
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/commits/{p}",
                    "html_url": f"{self.base}/{repo.full_name}/commit/{p}",
                }
                for p in info.parents
            ],
        }

    def branch(self, repo: Repo, name: str, sha: str) -> JSON:
        api = f"{self.base}/repos/{repo.full_name}/branches/{name}"
        return {
            "name": name,
            "commit": self.commit(repo, sha),
            "_links": {"self": api, "html": f"{self.base}/{repo.full_name}/tree/{name}"},
            "protected": False,
            "protection": {
                "enabled": False,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": f"{api}/protection",
        }
