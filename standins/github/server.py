"""The HTTP front: one stdlib threading server for REST, GraphQL and git smart HTTP.

Every request is recorded (for assertions), may meet a fault a test asked for, and
is answered with GitHub's headers (`x-ratelimit-*`, `x-github-request-id`). Git
URLs (`/{owner}/{repo}.git/...`) are checked for an installation token in HTTP
basic auth and then handed to `git http-backend`; after a push, ref changes move
pull requests and emit `pull_request.synchronize`, as GitHub does.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .. import git_http
from . import (
    app_manifests,
    gitrepo,
    oauth,
    ops_pulls,
    rest_activity,
    rest_app,
    rest_checks,
    rest_git,
    rest_issues,
    rest_pulls,
    rest_reactions,
    rest_repos,
    rest_reviews,
    rest_user,
)
from .auth import Caller
from .errors import ApiError
from .exchange import Request, Response
from .faults import Failure
from .gql_schema import execute
from .router import Router
from .service import Service

_GIT_PATH = re.compile(r"^/(?P<owner>[^/]+)/(?P<name>[^/]+?)\.git(?P<rest>/.*)$")
_RATE_LIMIT = 5000


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it; `token_kind` says how it authenticated."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    status: int
    token_kind: str
    # Wall-clock time the request arrived, for timelines (`rolecall demo`).
    at: float = field(default_factory=time.time)
    # Which TCP connection carried it (numbered as the stand-in accepts them, from 1):
    # requests sharing a number came over one keep-alive connection, as a server's
    # access log would show by the client's address and port.
    connection: int = 0


@dataclass
class _Bucket:
    reset: int
    used: int = 0


@dataclass
class Recorder:
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)


def build_router() -> Router:
    router = Router()
    for module in (
        rest_activity,
        rest_app,
        rest_repos,
        rest_issues,
        rest_reactions,
        rest_pulls,
        rest_reviews,
        rest_checks,
        rest_git,
        rest_user,
        oauth,
        app_manifests,
    ):
        router.routes += module.router.routes
    return router


class Front:
    """Request handling independent of the socket plumbing, shared by all threads."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.router = build_router()
        self.recorder = Recorder()
        self.stopping = threading.Event()
        self.connections = itertools.count(1)  # next() is atomic: one number per accept
        self._buckets: dict[str, _Bucket] = {}
        self._bucket_lock = threading.Lock()

    def rate_headers(self, caller: Caller, resource: str) -> dict[str, str]:
        """GitHub's rate-limit headers, counted per credential; reported, not enforced."""
        key = caller.token.token if caller.token else caller.kind
        limit = _RATE_LIMIT if caller.kind in ("installation", "jwt", "user") else 60
        with self._bucket_lock:
            now = int(time.time())
            bucket = self._buckets.get(f"{resource}:{key}")
            if bucket is None or bucket.reset <= now:
                bucket = _Bucket(reset=now + 3600)
                self._buckets[f"{resource}:{key}"] = bucket
            bucket.used += 1
            return {
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": str(max(limit - bucket.used, 0)),
                "x-ratelimit-reset": str(bucket.reset),
                "x-ratelimit-used": str(bucket.used),
                "x-ratelimit-resource": resource,
            }

    def handle_api(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        caller: Caller,
        headers: dict[str, str],
    ) -> Response:
        request = Request(method, path, query, headers, body, caller)
        if path.rstrip("/") == "/graphql" and method == "POST":
            token = self.svc.auth.require_token(caller)
            return Response(200, execute(self.svc, token, body))
        handler, params = self.router.match(method, path)
        return handler(self.svc, request, params)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    front: Front  # set on the subclass made per server
    _pending: RecordedRequest | None = None
    connection_number = 0

    def setup(self) -> None:
        super().setup()
        self.connection_number = next(self.front.connections)
        # Headers and body go out in two writes; without NODELAY, Nagle plus delayed
        # ACKs add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorder is the log."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """Record a pending (git) request before any byte of the answer leaves."""
        if self._pending is not None:
            self.front.recorder.add(replace(self._pending, status=code))
            self._pending = None
        super().send_response(code, message)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # ---------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        front = self.front
        url = urlsplit(self.path)
        path = url.path
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        caller = front.svc.auth.identify(headers.get("authorization"))
        stall, failure = front.svc.faults.take(self.command, path)
        if stall:
            front.stopping.wait(stall)
        git_match = _GIT_PATH.match(path)
        if git_match and failure is None:
            self._git(git_match, url.query, headers)
            return
        body: Any = None
        status = 500
        try:
            raw = git_http.read_request_body(self)
            if failure is not None:
                response = self._fault(failure)
            else:
                body = self._form(raw) if _is_form(headers) else self._json(raw)
                response = front.handle_api(self.command, path, query, body, caller, headers)
        except ApiError as exc:
            response = Response(exc.status, exc.body(), dict(exc.headers))
        except Exception:
            front.recorder.errors.append(traceback.format_exc())
            response = Response(500, {"message": "Server Error", "status": "500"})
        status = response.status
        resource = "graphql" if path.rstrip("/") == "/graphql" else "core"
        out_headers = front.rate_headers(caller, resource)
        out_headers.update(response.headers)
        # Recorded before answering, so a client that got its answer sees the record.
        front.recorder.add(
            RecordedRequest(
                self.command,
                path,
                query,
                headers,
                body,
                status,
                "invalid" if caller.jwt_error else caller.kind,
                connection=self.connection_number,
            )
        )
        self._send_json(status, response.body, out_headers)

    @staticmethod
    def _json(raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None

    @staticmethod
    def _form(raw: bytes) -> dict[str, str]:
        """A form-encoded body (the OAuth web flow's), as its fields."""
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    @staticmethod
    def _fault(failure: Failure) -> Response:
        return Response(failure.status, failure.body, dict(failure.headers))

    def _send_json(self, status: int, body: Any, headers: dict[str, str]) -> None:
        page = isinstance(body, bytes)  # a page of the OAuth web flow (standins.github.oauth)
        if page:
            payload = body
        else:
            payload = b"" if status == 204 or body is None else json.dumps(body).encode()
        self.send_response(status)
        content_type = headers.pop("Content-Type", None) if page else None
        self.send_header("Content-Type", content_type or "application/json; charset=utf-8")
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Request-Id", uuid.uuid4().hex[:20].upper())
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _git(self, match: re.Match[str], query: str, headers: dict[str, str]) -> None:
        """Smart HTTP behind GitHub's basic auth; recorded as soon as the status is known."""
        front = self.front
        svc = front.svc
        token = svc.auth.basic_token(headers.get("authorization"))
        kind = "installation" if token else ("invalid" if "authorization" in headers else "none")
        self._pending = RecordedRequest(
            self.command,
            match.string,
            dict(parse_qsl(query)),
            headers,
            None,
            0,
            kind,
            connection=self.connection_number,
        )
        try:
            body = git_http.read_request_body(self)
            if token is None:
                self._plain(
                    401,
                    "Invalid username or token.\n",
                    {"WWW-Authenticate": 'Basic realm="GitHub"'},
                )
                return
            try:
                repo = svc.state.repo(f"{match['owner']}/{match['name']}")
            except ApiError:
                repo = None
            if repo is None or not svc.auth.can_see(token, repo):
                self._plain(404, "Repository not found.\n")
                return
            pushing = "git-receive-pack" in match["rest"] or "service=git-receive-pack" in query
            if not svc.auth.has(token, "contents", "write" if pushing else "read"):
                self._plain(403, "Write access to repository not granted.\n")
                return
            run = partial(
                git_http.run_http_backend,
                repo.path.parent.parent,
                method=self.command,
                path_info=f"/{repo.owner.login}/{repo.name}.git{match['rest']}",
                query=query,
                headers=headers,
                body=body,
                remote_user=svc.bot().login,
            )
            if pushing and self.command == "POST":
                # Move PRs before answering: once `git push` returns, the API agrees.
                with svc.git_lock(repo):
                    before = gitrepo.refs(repo.path)
                    answer = run()
                    after = gitrepo.refs(repo.path)
                    events = (
                        ops_pulls.refs_changed(svc, repo, before, after, svc.bot())
                        if before != after
                        else []
                    )
                svc.deliver(events, wait=False)
            else:
                answer = run()
            self._write(answer.status, answer.headers, answer.body)
        except Exception:
            front.recorder.errors.append(traceback.format_exc())
            if self._pending is not None:
                self._plain(500, "stand-in error\n")

    def _write(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _is_form(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (e.g. timed out on a stall) is not a stand-in bug."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Server:
    """The listening socket on 127.0.0.1 and a free port, served from a thread."""

    def __init__(self, front: Front) -> None:
        handler = type("GitHubHandler", (_Handler,), {"front": front})
        self.front = front
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # shutdown() waits up to one poll
            name="github-standin",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.front.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
