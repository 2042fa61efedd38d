"""REST: check runs, which Rolecall uses to show a job's progress and outcome on a commit.

The endpoints and rules of GitHub's Checks API as an App meets them: `checks: write` to
create or update a run and `checks: read` to read one; `name` and a full `head_sha` the
repository holds; a `conclusion` whenever the run is completed (giving one completes
it); `output` with a `title` and a `summary` of at most 65535 characters (and bytes);
and the `check_run` webhooks (`created`, `completed`) an App subscribed to them gets.
Only the App that owns a check run may update it, which is always this App here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from . import gitrepo
from .errors import ApiError, validation_failed
from .exchange import Request, Response, int_param, paginate, require_body
from .records import CheckRun, Repo, utcnow
from .router import Router
from .service import Event, Service

router = Router()
_DOCS = "https://docs.github.com/rest/checks/runs"
# What an App may set; `waiting`, `requested` and `pending` are GitHub Actions' alone.
_STATUSES = ("queued", "in_progress", "completed")
# What an App may conclude with; only GitHub itself marks a run `stale`.
_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
)
_MAX_TEXT = 65535
_MAX_ANNOTATIONS = 50
_MAX_ACTIONS = 3
_ANNOTATION_LEVELS = ("notice", "warning", "failure")
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{4,39}")


def _invalid(detail: str) -> ApiError:
    """GitHub's answer when a body breaks the endpoint's JSON schema."""
    return ApiError(422, f"Invalid request.\n\n{detail}", documentation_url=_DOCS)


def _no_commit(ref: str) -> ApiError:
    return ApiError(422, f"No commit found for SHA: {ref}", documentation_url=_DOCS)


def _typed(body: dict[str, Any], name: str, kind: type, where: str = "properties") -> Any:
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise _invalid(f"For '{where}/{name}', {value!r} is not a {kind.__name__}.")
    return value


def _time(body: dict[str, Any], field: str) -> datetime | None:
    value = _typed(body, field, str)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"For 'properties/{field}', {value!r} is not a date-time.") from None
    if moment.tzinfo is None:
        raise _invalid(f"For 'properties/{field}', {value!r} is not a date-time.")
    return moment.replace(microsecond=0)


def _text(output: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = _typed(output, field, str, "properties/output/properties")
    if value is None:
        if required:
            raise _invalid(f'"{field}" wasn\'t supplied.')
        return None
    if len(value) > _MAX_TEXT:
        raise _invalid(f"Only {_MAX_TEXT} characters are allowed; {len(value)} were supplied.")
    if len(value.encode()) > _MAX_TEXT:
        raise validation_failed(
            {
                "resource": "CheckRun",
                "code": "custom",
                "field": field,
                "message": f"{field} exceeds a maximum bytesize of {_MAX_TEXT}",
            }
        )
    return value


def _annotations(output: dict[str, Any]) -> int:
    """How many annotations the request adds (they are checked, not kept)."""
    raw = _typed(output, "annotations", list, "properties/output/properties")
    if raw is None:
        return 0
    if len(raw) > _MAX_ANNOTATIONS:
        raise _invalid(f"Only {_MAX_ANNOTATIONS} annotations are allowed per request.")
    for item in raw:
        if not isinstance(item, dict):
            raise _invalid(f"For 'items', {item!r} is not an object.")
        for key in ("path", "start_line", "end_line", "annotation_level", "message"):
            if item.get(key) is None:
                raise _invalid(f'"{key}" wasn\'t supplied.')
        if item["annotation_level"] not in _ANNOTATION_LEVELS:
            raise _invalid(
                f"For 'properties/annotation_level', {item['annotation_level']!r} "
                "is not a possible value."
            )
    return len(raw)


def _actions(body: dict[str, Any]) -> None:
    raw = _typed(body, "actions", list)
    if raw is None:
        return
    if len(raw) > _MAX_ACTIONS:
        raise _invalid(f"Only {_MAX_ACTIONS} actions are allowed.")
    for item in raw:
        if not isinstance(item, dict):
            raise _invalid(f"For 'items', {item!r} is not an object.")
        for key, limit in (("label", 20), ("description", 40), ("identifier", 20)):
            value = item.get(key)
            if not isinstance(value, str):
                raise _invalid(f'"{key}" wasn\'t supplied.')
            if len(value) > limit:
                raise _invalid(f"Only {limit} characters are allowed; {len(value)} were supplied.")


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    """The fields create and update share, checked before anything changes.

    A conclusion completes the run; completing it (by status or `completed_at`) needs
    a conclusion in the same request, as GitHub's schema says.
    """
    name = _typed(body, "name", str)
    if name is not None and not name.strip():
        raise validation_failed({"resource": "CheckRun", "code": "missing_field", "field": "name"})
    status = _typed(body, "status", str)
    if status is not None and status not in _STATUSES:
        raise _invalid(f"For 'properties/status', {status!r} is not a possible value.")
    conclusion = _typed(body, "conclusion", str)
    if conclusion is not None and conclusion not in _CONCLUSIONS:
        raise _invalid(f"For 'properties/conclusion', {conclusion!r} is not a possible value.")
    started_at = _time(body, "started_at")
    completed_at = _time(body, "completed_at")
    if conclusion is None and (status == "completed" or completed_at is not None):
        raise _invalid('No subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.')
    details_url = _typed(body, "details_url", str)
    external_id = _typed(body, "external_id", str)
    output = _typed(body, "output", dict)
    texts: dict[str, str | None] | None = None
    added = 0
    if output is not None:
        texts = {
            "title": _text(output, "title", required=True),
            "summary": _text(output, "summary", required=True),
            "text": _text(output, "text", required=False),
        }
        added = _annotations(output)
    _actions(body)

    if name is not None:
        run.name = name
    if conclusion is not None:
        run.status, run.conclusion = "completed", conclusion
        run.completed_at = completed_at or run.completed_at or utcnow()
    elif status is not None:
        # Back to queued or in progress: the earlier conclusion no longer holds.
        run.status, run.conclusion, run.completed_at = status, None, None
    if started_at is not None:
        run.started_at = started_at
    if details_url is not None:
        run.details_url = details_url
    if external_id is not None:
        run.external_id = external_id
    if texts is not None:
        run.output = texts
        run.annotations_count += added


def _events(svc: Service, run: CheckRun, *actions: str) -> list[Event]:
    """The `check_run` webhooks for these actions (built only when the App subscribes)."""
    if not actions or "check_run" not in svc.state.app.events:
        return []
    shape = svc.shapes.check_run_event(run)
    return [
        svc.envelope("check_run", run.repo, svc.bot(), action, check_run=shape)
        for action in actions
    ]


def _head_sha(repo: Repo, body: dict[str, Any]) -> str:
    head_sha = _typed(body, "head_sha", str)
    if head_sha is None:
        raise _invalid('"head_sha" wasn\'t supplied.')
    # Full ids only; a branch name or an abbreviation is no commit here.
    if not _FULL_SHA.fullmatch(head_sha) or gitrepo.rev_parse(repo.path, head_sha) is None:
        raise _no_commit(head_sha)
    return head_sha.lower()


@router.add("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "write")
    body = require_body(request)
    if _typed(body, "name", str) is None:
        raise _invalid('"name" wasn\'t supplied.')
    head_sha = _head_sha(repo, body)
    with svc.state.lock:
        run = CheckRun(
            id=svc.state.new_id(),
            repo=repo,
            name="",
            head_sha=head_sha,
            status="queued",
            conclusion=None,
            started_at=utcnow(),
            completed_at=None,
        )
        _apply(run, body)
        run.suite_id = svc.state.check_suite_id(repo, head_sha)
        svc.state.check_runs[run.id] = run
        completed = ("completed",) if run.status == "completed" else ()
        events = _events(svc, run, "created", *completed)
        shape = svc.shapes.check_run(run)
    svc.deliver(events, wait=False)
    return Response(201, shape)


@router.add("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "write")
    body = require_body(request)
    with svc.state.lock:
        run = svc.state.check_run(repo, int_param(params["check_run_id"]))
        was_completed = run.status == "completed"
        _apply(run, body)
        completed = run.status == "completed" and not was_completed
        events = _events(svc, run, "completed") if completed else []
        shape = svc.shapes.check_run(run)
    svc.deliver(events, wait=False)
    return Response(200, shape)


@router.add("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "read")
    with svc.state.lock:
        run = svc.state.check_run(repo, int_param(params["check_run_id"]))
        return Response(200, svc.shapes.check_run(run))


def _commit_of(repo: Repo, ref: str) -> str:
    """A SHA, branch or tag name to the commit it names, as `commits/{ref}` reads it."""
    candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    if _FULL_SHA.fullmatch(ref) or _SHORT_SHA.fullmatch(ref):
        candidates.insert(0, ref)
    if ref.startswith("refs/"):
        candidates.insert(0, ref)
    for candidate in candidates:
        if candidate.startswith("-"):
            continue
        sha = gitrepo.rev_parse(repo.path, candidate)
        if sha is not None:
            return sha
    raise _no_commit(ref)


@router.add("GET", "/repos/{owner}/{repo}/commits/{ref*}/check-runs")
def list_check_runs_for_ref(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """Newest first; `filter=latest` (the default) keeps the newest run of each name."""
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "checks", "read")
    sha = _commit_of(repo, params["ref"])
    query = request.query
    which = query.get("filter", "latest")
    if which not in ("latest", "all"):
        raise _invalid(f"For 'filter', {which!r} is not a possible value.")
    status = query.get("status")
    if status is not None and status not in _STATUSES:
        raise _invalid(f"For 'status', {status!r} is not a possible value.")
    app_id = query.get("app_id")
    if app_id is not None and app_id != str(svc.state.app.id):
        runs: list[CheckRun] = []
    else:
        with svc.state.lock:
            runs = sorted(svc.state.commit_check_runs(repo, sha), key=lambda r: -r.id)
    if which == "latest":
        newest: dict[str, CheckRun] = {}
        for run in runs:
            newest.setdefault(run.name, run)
        runs = list(newest.values())
    if "check_name" in query:
        runs = [r for r in runs if r.name == query["check_name"]]
    if status is not None:
        runs = [r for r in runs if r.status == status]
    with svc.state.lock:
        shapes = [svc.shapes.check_run(r) for r in runs]
    page = paginate(request, svc.base_url, shapes)
    page.body = {"total_count": len(shapes), "check_runs": page.body}
    return page
