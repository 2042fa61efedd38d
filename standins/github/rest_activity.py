"""REST: repository activity (`GET /repos/{owner}/{repo}/activity`): who moved which branch.

GitHub records every branch update with the account that pushed it (`actor`), the SHA
before and after, and what kind of update it was. The commit metadata cannot say who
pushed (anyone can write any author into a commit), so this is where Rolecall learns who
moved a pull request's head after a command was authorized (`bot.jobs.trust`). Recorded for
pushes by people (`GitHubStandIn.push_commit`) and over git smart HTTP alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import gitrepo
from .exchange import Request, Response, paginate
from .records import Repo, User, iso, node_id, utcnow
from .router import Router
from .service import Service

router = Router()

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Activity:
    id: int
    repo_id: int
    ref: str
    before: str
    after: str
    activity_type: str
    actor: User
    timestamp: datetime


def record_ref_changes(
    svc: Service, repo: Repo, before: dict[str, str], after: dict[str, str], pusher: User
) -> None:
    """One activity per branch a push created, moved or deleted, as GitHub records them."""
    changes: list[tuple[str, str, str, str]] = []
    for ref in sorted(set(before) | set(after)):
        if not ref.startswith("refs/heads/"):
            continue
        old, new = before.get(ref), after.get(ref)
        if old == new:
            continue
        if old is None:
            kind = "branch_creation"
        elif new is None:
            kind = "branch_deletion"
        elif gitrepo.merge_base(repo.path, old, new) == old:
            kind = "push"
        else:
            kind = "force_push"
        changes.append((ref, old or ZERO_SHA, new or ZERO_SHA, kind))
    with svc.state.lock:
        for ref, old_sha, new_sha, kind in changes:
            svc.state.activities.append(
                Activity(svc.state.new_id(), repo.id, ref, old_sha, new_sha, kind, pusher, utcnow())
            )


def _shape(svc: Service, activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "node_id": node_id("RA", activity.id),
        "before": activity.before,
        "after": activity.after,
        "ref": activity.ref,
        "timestamp": iso(activity.timestamp),
        "activity_type": activity.activity_type,
        "actor": svc.shapes.user(activity.actor),
    }


@router.add("GET", "/repos/{owner}/{repo}/activity")
def list_activities(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "read")
    ref = request.query.get("ref")
    if ref and not ref.startswith("refs/"):
        ref = f"refs/heads/{ref}"
    kind = request.query.get("activity_type")
    actor = (request.query.get("actor") or "").lower()
    with svc.state.lock:
        found = [
            a
            for a in svc.state.activities
            if a.repo_id == repo.id
            and (not ref or a.ref == ref)
            and (not kind or a.activity_type == kind)
            and (not actor or a.actor.login.lower() == actor)
        ]
        if request.query.get("direction", "desc") != "asc":
            found.reverse()
        items = [_shape(svc, a) for a in found]
    return paginate(request, svc.base_url, items)
