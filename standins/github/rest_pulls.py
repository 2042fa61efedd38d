"""REST: pull requests (create, get, list, update, files, commits).

Creation enforces GitHub's two 422s Rolecall must handle, both computed from the
real repositories: "A pull request already exists for owner:branch." and "No
commits between base and head".
"""

from __future__ import annotations

from . import diff, gitrepo, ops_pulls
from .exchange import Request, Response, body_field, int_param, paginate
from .records import Pull, Repo
from .router import Router
from .service import Service

router = Router()


def _pull(svc: Service, request: Request, params: dict[str, str], level: str) -> tuple[Repo, Pull]:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "pull_requests", level)
    return repo, svc.state.pull(repo, int_param(params["pull_number"]))


@router.add("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "pull_requests", "write")
    head = body_field(request, "head", str, required=True)
    base = body_field(request, "base", str, required=True)
    title = body_field(request, "title", str, required=True)
    pull, events = ops_pulls.open_pull(
        svc,
        repo,
        svc.bot(),
        head=head,
        base=base,
        title=title,
        body=body_field(request, "body", str),
        draft=bool(body_field(request, "draft", bool)),
        via_app=True,
    )
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(201, svc.shapes.pull(pull))


@router.add("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "pull_requests", "read")
    wanted_state = request.query.get("state", "open")
    head = request.query.get("head")
    base = request.query.get("base")
    with svc.state.lock:
        pulls = svc.state.repo_pulls(repo)
        if wanted_state != "all":
            pulls = [p for p in pulls if p.issue.state == wanted_state]
        if head:
            owner, _, ref = head.rpartition(":")
            pulls = [
                p
                for p in pulls
                if p.head_ref == ref
                and (not owner or p.head_repo.owner.login.lower() == owner.lower())
            ]
        if base:
            pulls = [p for p in pulls if p.base_ref == base]
        if request.query.get("direction", "desc") == "desc":
            pulls.reverse()
        items = [svc.shapes.pull(p, full=False) for p in pulls]
    return paginate(request, svc.base_url, items)


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, pull = _pull(svc, request, params, "read")
    with svc.state.lock:
        return Response(200, svc.shapes.pull(pull))


@router.add("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, pull = _pull(svc, request, params, "write")
    events = ops_pulls.update_pull(
        svc,
        pull,
        svc.bot(),
        title=body_field(request, "title", str),
        body=body_field(request, "body", str),
        state=body_field(request, "state", str),
        base=body_field(request, "base", str),
    )
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(200, svc.shapes.pull(pull))


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_files(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    patches = diff.parse(gitrepo.diff(repo.path, pull.base_sha, pull.head_sha))
    items = [svc.shapes.diff_entry(repo, pull, p) for p in patches]
    return paginate(request, svc.base_url, items)


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_commits(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    start = gitrepo.merge_base(repo.path, pull.base_sha, pull.head_sha) or pull.base_sha
    shas = gitrepo.git(repo.path, "rev-list", "--reverse", f"{start}..{pull.head_sha}").split()
    return paginate(request, svc.base_url, [svc.shapes.commit(repo, sha) for sha in shas])
