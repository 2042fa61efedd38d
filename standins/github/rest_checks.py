"""REST: check runs, which Rolecall uses to show a job's progress on a commit.

Only the App that owns a check run may update it, which is always this App here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import gitrepo
from .errors import ApiError, validation_failed
from .exchange import Request, Response, body_field, int_param, require_body
from .records import CheckRun, utcnow
from .router import Router
from .service import Service

router = Router()
_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)


def _time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(microsecond=0)
    except ValueError:
        raise validation_failed(
            {"resource": "CheckRun", "code": "invalid", "field": field}
        ) from None


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    """Fields shared by create and update; a conclusion completes the run, as on GitHub."""
    if "name" in body and isinstance(body["name"], str):
        run.name = body["name"]
    if body.get("status") is not None:
        if body["status"] not in _STATUSES:
            raise validation_failed({"resource": "CheckRun", "code": "invalid", "field": "status"})
        run.status = body["status"]
    if body.get("conclusion") is not None:
        if body["conclusion"] not in _CONCLUSIONS:
            raise validation_failed(
                {"resource": "CheckRun", "code": "invalid", "field": "conclusion"}
            )
        run.conclusion = body["conclusion"]
        run.status = "completed"
    if run.status == "completed" and run.conclusion is None:
        raise validation_failed(
            {"resource": "CheckRun", "code": "missing_field", "field": "conclusion"}
        )
    if "started_at" in body:
        run.started_at = _time(body["started_at"], "started_at")
    if "completed_at" in body:
        run.completed_at = _time(body["completed_at"], "completed_at")
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = utcnow()
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = utcnow()
    for key in ("external_id", "details_url"):
        if key in body:
            setattr(run, key, body[key])
    output = body.get("output")
    if isinstance(output, dict):
        run.output = {k: output.get(k) for k in ("title", "summary", "text")}


@router.add("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "write")
    name = body_field(request, "name", str, required=True)
    head_sha = body_field(request, "head_sha", str, required=True)
    if gitrepo.rev_parse(repo.path, head_sha) is None:
        raise ApiError(422, f"No commit found for SHA: {head_sha}")
    run = CheckRun(
        id=svc.state.new_id(),
        repo=repo,
        name=name,
        head_sha=head_sha,
        status="queued",
        conclusion=None,
        started_at=utcnow(),
        completed_at=None,
    )
    _apply(run, require_body(request))
    with svc.state.lock:
        svc.state.check_runs[run.id] = run
        return Response(201, svc.shapes.check_run(run))


@router.add("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "write")
    with svc.state.lock:
        run = svc.state.check_run(repo, int_param(params["check_run_id"]))
        _apply(run, require_body(request))
        return Response(200, svc.shapes.check_run(run))


@router.add("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "read")
    with svc.state.lock:
        run = svc.state.check_run(repo, int_param(params["check_run_id"]))
        return Response(200, svc.shapes.check_run(run))
