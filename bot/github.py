"""GitHub clients: the App (JWT) and one repository (installation token), with the few verbs
Rolecall uses.

Every token is minted for the one repository and the permissions a job needs, so a
job can touch nothing else; the App keeps it for later jobs on that repository with
those permissions until it is close to expiry. Everything posted passes through the
job's `Redactor`. Calls go over one pooled keep-alive connection pool per installation
(and one for the App itself), kept for the life of the process (`PooledTransport`).
githubkit has no default timeout; every client here sets one, and turns off its HTTP
cache, with which the timeout is silently ignored (hishel 1.x).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from githubkit import AppAuthStrategy, GitHub, GitHubCore
from githubkit.auth.base import BaseAuthStrategy
from githubkit.exception import RequestFailed

from agents.redact import Redactor

log = logging.getLogger("rolecall.github")

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# A token is replaced this long before GitHub's `expires_at` (an hour after minting), so
# a call or a git push never starts with one about to lapse.
REFRESH_MARGIN = timedelta(minutes=5)
# Idle connections are kept this long; httpcore drops one the server closed before use.
KEEPALIVE_EXPIRY = 30.0
# What a job needs, and no more (see app.yml for why each is there).
JOB_PERMISSIONS: dict[str, str] = {
    "contents": "write",
    "issues": "write",
    "pull_requests": "write",
    "metadata": "read",
}
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


class GitHubError(Exception):
    """A GitHub call failed in a way the tracking comment should explain."""


class NotFastForward(GitHubError):
    """GitHub refused to move a branch: the new commit does not descend from its head."""


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    default_branch: str
    clone_url: str
    id: int  # stays with the repository through renames and transfers; a name does not


@dataclass(frozen=True)
class PullRequestRef:
    number: int
    html_url: str
    head_ref: str
    draft: bool


@dataclass(frozen=True)
class PullInfo:
    """A pull request as a PR job needs it: its branches, its author, where it lives."""

    number: int
    state: str
    title: str
    body: str
    author: str
    html_url: str
    head_ref: str
    head_sha: str
    head_repo: str | None  # full name; None when the fork was deleted
    base_ref: str
    base_repo: str

    @property
    def is_from_fork(self) -> bool:
        return self.head_repo is None or self.head_repo.casefold() != self.base_repo.casefold()


@dataclass(frozen=True)
class DiffFile:
    """One changed file of a pull request, as GitHub's `/pulls/{n}/files` shows it."""

    path: str
    status: str
    patch: str | None  # None for binary files and diffs GitHub will not show


@dataclass(frozen=True)
class ThreadState:
    """A review thread as GraphQL knows it (REST has no threads and cannot resolve)."""

    node_id: str
    is_resolved: bool
    comment_ids: tuple[int, ...]  # database ids, oldest first


@dataclass(frozen=True)
class GitCommitInfo:
    """A commit object as the Git Data API shows it: what `/ci` needs to copy it."""

    sha: str
    tree_sha: str
    parents: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class BranchPush:
    """One update of a branch in the repository's activity log: who moved it, and when."""

    before: str
    after: str
    actor: str | None  # None when GitHub no longer knows the account
    at: datetime


@dataclass(frozen=True)
class ReviewRef:
    id: int
    html_url: str


class PooledTransport(httpx.BaseTransport):
    """One keep-alive connection pool that outlives the HTTP clients githubkit builds on it.

    Outside `with github:` githubkit builds an `httpx.Client` for every call and closes it
    afterwards: a new TCP (and TLS) connection and a reloaded CA bundle per call, about
    20x the cost of the call itself. `with github:` keeps a client, but in a ContextVar,
    so only for the thread that entered it, and huey runs jobs on several threads.
    Handed to githubkit as `transport=`, this pool is what every per-call client sends
    through; the client's `close` leaves it open, and `shutdown` (the process stopping)
    closes its connections. httpcore's pool is thread-safe.
    """

    def __init__(self) -> None:
        self._pool = httpx.HTTPTransport(
            limits=httpx.Limits(
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            )
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        """Called by each per-call client as it is closed: the pool stays open."""

    def shutdown(self) -> None:
        """Close every pooled connection (a later call would open a new one)."""
        self._pool.close()


@dataclass
class _TokenSlot:
    """One (installation, repository, permissions): its token, and a lock so one mints."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: InstallationToken | None = None

    def fresh(self, now: datetime) -> InstallationToken | None:
        if self.token is None or self.token.expires_at - now < REFRESH_MARGIN:
            return None
        return self.token


class _InstallationAuth(httpx.Auth):
    """Signs each request with the job's current token; once more with a new one when
    `retry_with` says the answer was about the token (see `RepoClient._retry_with`).

    GitHub answers 401 and 404 before doing anything, so sending the request again is
    safe.
    """

    def __init__(
        self,
        current: Callable[[], InstallationToken],
        retry_with: Callable[[InstallationToken, int], InstallationToken | None],
    ) -> None:
        self._current = current
        self._retry_with = retry_with

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        request.headers["Authorization"] = f"token {token.token}"
        response = yield request
        replacement = self._retry_with(token, response.status_code)
        if replacement is not None:
            request.headers["Authorization"] = f"token {replacement.token}"
            yield request


@dataclass(frozen=True)
class _InstallationAuthStrategy(BaseAuthStrategy):
    """githubkit's side of `_InstallationAuth`: asked for an auth flow per HTTP client."""

    current: Callable[[], InstallationToken]
    retry_with: Callable[[InstallationToken, int], InstallationToken | None]

    def get_auth_flow(self, github: GitHubCore[Any]) -> httpx.Auth:
        return _InstallationAuth(self.current, self.retry_with)


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


class GitHubApp:
    """The App itself: authenticates as the App, mints installation tokens and keeps them.

    One per process and App (`bot.worker`), shared by every job and thread: it holds the
    pooled connections (one pool for the App's JWT calls, one per installation) and the
    tokens, keyed by installation, repository and permissions, so a token is only ever
    reused for exactly what it was minted for. `close` (or leaving `with`) closes the
    connections.
    """

    def __init__(self, app_id: int, private_key_pem: str, api_url: str) -> None:
        self.api_url = api_url
        self._lock = threading.Lock()
        self._app_transport = PooledTransport()
        self._installation_transports: dict[int, PooledTransport] = {}
        self._tokens: dict[tuple[int, str, tuple[tuple[str, str], ...]], _TokenSlot] = {}
        self._client = GitHub(
            AppAuthStrategy(app_id, private_key_pem),
            base_url=api_url,
            timeout=TIMEOUT,
            http_cache=False,
            transport=self._app_transport,
        )
        self._bot_login: str | None = None

    def __enter__(self) -> GitHubApp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection; tokens are kept (they are still valid)."""
        with self._lock:
            transports = [self._app_transport, *self._installation_transports.values()]
        for transport in transports:
            transport.shutdown()

    def bot_login(self) -> str:
        """`<slug>[bot]`, the login GitHub shows for everything the App does."""
        if self._bot_login is None:
            app = self._client.rest.apps.get_authenticated().parsed_data
            if app is None or not app.slug:
                raise GitHubError("GET /app returned no slug; check APP_ID and PRIVATE_KEY")
            self._bot_login = f"{app.slug}[bot]"
        return self._bot_login

    def mint_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> InstallationToken:
        """A new token for one repository with exactly `permissions`."""
        # githubkit types `permissions` as a TypedDict of known names; ours is a plain dict.
        response = self._client.rest.apps.create_installation_access_token(  # type: ignore[call-overload]
            installation_id, repositories=[repo_name], permissions=permissions
        )
        data = response.parsed_data
        return InstallationToken(token=data.token, expires_at=_as_utc(data.expires_at))

    def installation_token(
        self, installation_id: int, repo_name: str, permissions: dict[str, str]
    ) -> InstallationToken:
        """A token for one repository and `permissions`, minted only when none is fresh.

        Jobs asking at once for the same key wait for one mint; other keys do not wait.
        """
        key = (installation_id, repo_name.casefold(), tuple(sorted(permissions.items())))
        now = datetime.now(UTC)
        with self._lock:
            slot = self._tokens.get(key)
            if slot is None:
                self._forget_expired(now)
                slot = self._tokens[key] = _TokenSlot()
        with slot.lock:
            token = slot.fresh(datetime.now(UTC))
            if token is None:
                token = slot.token = self.mint_token(installation_id, repo_name, permissions)
            return token

    def forget_token(self, token: InstallationToken) -> None:
        """GitHub refused `token` before its time: the next caller gets a new one."""
        with self._lock:
            slots = list(self._tokens.values())
        for slot in slots:
            with slot.lock:
                if slot.token is token:
                    slot.token = None

    def transport_for(self, installation_id: int) -> PooledTransport:
        """The installation's connection pool, shared by every job on it."""
        with self._lock:
            transport = self._installation_transports.get(installation_id)
            if transport is None:
                transport = self._installation_transports[installation_id] = PooledTransport()
            return transport

    def repo(
        self,
        installation_id: int,
        full_name: str,
        redact: Redactor,
        permissions: dict[str, str] | None = None,
    ) -> RepoClient:
        return RepoClient(self, installation_id, full_name, redact, permissions or JOB_PERMISSIONS)

    def _forget_expired(self, now: datetime) -> None:
        """Drop tokens past their expiry (and not being minted), so the cache stays small."""
        for key, slot in list(self._tokens.items()):
            token = slot.token
            if token is not None and token.expires_at <= now and not slot.lock.locked():
                del self._tokens[key]


class BotLoginLearner:
    """Learns the App's bot login (`<slug>[bot]`) in the background, retrying until it can.

    The webhook handlers need the login to tell "a pull request Rolecall opened" and to
    ignore Rolecall's own events. `rolecall serve` must come up even when GitHub cannot be
    reached, so the lookup never runs on the start-up path or the request path: a thread
    asks `GET /app`, and on failure waits (1 s, then longer, at most `max_delay`) and asks
    again, until it succeeds or `stop` is called. `on_learned` receives the login once.
    """

    def __init__(
        self,
        lookup: Callable[[], str],
        on_learned: Callable[[str], None],
        *,
        first_delay: float = 1.0,
        max_delay: float = 300.0,
    ) -> None:
        self._lookup = lookup
        self._on_learned = on_learned
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolecall-bot-login", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)  # a daemon: a lookup in flight is simply abandoned

    def _run(self) -> None:
        delay = self._first_delay
        while not self._stop.is_set():
            try:
                login = self._lookup()
            except Exception as exc:
                log.warning(
                    "could not learn the App's bot login from GET /app (%s); retrying in "
                    "%.0f s. Reviews of Rolecall's pull requests are recognised by their "
                    "rolecall/ branch until then; ROLECALL_BOT_LOGIN sets it explicitly",
                    _one_line(exc),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            log.info("the App's bot login is %s", login)
            self._on_learned(login)
            return


class RepoClient:
    """One repository for one job, through the App's shared token for it (see `GitHubApp`).

    Every token this client uses is added to the job's `Redactor` as it first sees it,
    also one another job minted.
    """

    def __init__(
        self,
        app: GitHubApp,
        installation_id: int,
        full_name: str,
        redact: Redactor,
        permissions: dict[str, str],
    ) -> None:
        self.owner, self.name = full_name.split("/", 1)
        self.full_name = full_name
        self._app = app
        self.installation_id = installation_id
        self._permissions = dict(permissions)
        self._redact = redact
        self._lock = threading.Lock()
        self._seen: InstallationToken | None = None
        self._token_answered = False  # GitHub has accepted a token of this job's
        # One githubkit client for the job: each request is signed with the token the
        # call's `rest`/`graphql` just made sure of, and sent through the installation's pool.
        self._client = GitHub(
            _InstallationAuthStrategy(self._current_token, self._retry_with),
            base_url=app.api_url,
            timeout=TIMEOUT,
            http_cache=False,
            transport=app.transport_for(installation_id),
        )

    # -- auth -------------------------------------------------------------------------

    def token(self) -> str:
        """A live installation token (also for git, which receives it via its environment)."""
        return self._live_token().token

    def _live_token(self) -> InstallationToken:
        """The App's token for this repository and permissions, known to the job's redactor.

        Asked before every call (`rest`, `graphql`), outside the request, so a failed
        mint raises as GitHub's answer (`RequestFailed`), as it always did.
        """
        token = self._app.installation_token(self.installation_id, self.name, self._permissions)
        with self._lock:
            if self._seen is not token:
                self._redact.add(token.token)
                self._seen = token
        return token

    def _current_token(self) -> InstallationToken:
        with self._lock:
            seen = self._seen
        return seen if seen is not None else self._live_token()

    def _replace_token(self, refused: InstallationToken) -> InstallationToken:
        self._app.forget_token(refused)
        return self._live_token()

    def _retry_with(self, token: InstallationToken, status: int) -> InstallationToken | None:
        """A new token to send the request again with, when the answer was about `token`.

        401: GitHub no longer takes it before its time (revoked, installation changed).
        404 on the job's first call: a cached token covers the repository that had this
        name when it was minted; renamed away and re-created, the name is another
        repository, which that token does not reach. Later 404s are about what was asked.
        """
        with self._lock:
            first, self._token_answered = not self._token_answered, True
        if status == 401 or (status == 404 and first):
            return self._replace_token(token)
        return None

    @property
    def rest(self) -> Any:
        self._live_token()
        return self._client.rest

    @property
    def graphql(self) -> Any:
        self._live_token()
        return self._client.graphql

    # -- reads ------------------------------------------------------------------------

    def info(self) -> RepoInfo:
        repo = self.rest.repos.get(self.owner, self.name).parsed_data
        return RepoInfo(repo.full_name, repo.default_branch, repo.clone_url, repo.id)

    def branch_sha(self, branch: str) -> str:
        return str(self.rest.repos.get_branch(self.owner, self.name, branch).parsed_data.commit.sha)

    def permission(self, login: str) -> str:
        """The live permission of `login`: admin, maintain, write, triage, read or none."""
        try:
            data = self.rest.repos.get_collaborator_permission_level(
                self.owner, self.name, login
            ).parsed_data
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return "none"
            raise
        return str(data.permission)

    def issue(self, number: int) -> Any:
        return self.rest.issues.get(self.owner, self.name, number).parsed_data

    def issue_comments(self, number: int) -> list[Any]:
        return list(self._paginate(self.rest.issues.list_comments, self.owner, self.name, number))

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

    def git_commit(self, sha: str) -> GitCommitInfo:
        """A commit object (tree, parents, message) through the Git Data API."""
        data = self.rest.git.get_commit(self.owner, self.name, sha).parsed_data
        return GitCommitInfo(
            sha=str(data.sha),
            tree_sha=str(data.tree.sha),
            parents=tuple(str(p.sha) for p in data.parents),
            message=str(data.message),
        )

    def last_push(self, branch: str, *, actor: str | None = None) -> BranchPush | None:
        """The newest update of `branch` in the activity log (by `actor`, if given).

        The log says who pushed and when, which a commit cannot (anyone can write any
        author and date into one).
        """
        options: dict[str, Any] = {
            "ref": f"refs/heads/{branch}",
            "per_page": 1,
            "direction": "desc",
        }
        if actor is not None:
            options["actor"] = actor
        items = self.rest.repos.list_activities(self.owner, self.name, **options).parsed_data
        if not items:
            return None
        item = items[0]
        return BranchPush(
            before=str(item.before),
            after=str(item.after),
            actor=item.actor.login if item.actor is not None else None,
            at=_as_utc(item.timestamp),
        )

    def find_open_pull(self, head_branch: str) -> PullRequestRef | None:
        pulls = self.rest.pulls.list(
            self.owner, self.name, state="open", head=f"{self.owner}:{head_branch}"
        ).parsed_data
        return _pull_ref(pulls[0]) if pulls else None

    # -- writes (all redacted) ----------------------------------------------------------

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

    def create_commit(self, *, message: str, tree_sha: str, parents: list[str]) -> str:
        """Write a commit object (moving no branch) as the App's bot; its sha."""
        data = self.rest.git.create_commit(
            self.owner,
            self.name,
            data={"message": self._redact(message), "tree": tree_sha, "parents": parents},
        ).parsed_data
        return str(data.sha)

    def fast_forward(self, branch: str, sha: str, *, default_branch: str) -> None:
        """Move `branch` to `sha`, a descendant of its head; never force (invariant 5).

        Refuses the default branch before asking; `NotFastForward` when GitHub finds the
        branch moved elsewhere meanwhile.
        """
        if branch.casefold() == default_branch.casefold():
            raise GitHubError(f"Rolecall never moves the default branch (`{default_branch}`)")
        try:
            self.rest.git.update_ref(
                self.owner, self.name, f"heads/{quote(branch, safe='/')}", sha=sha, force=False
            )
        except RequestFailed as exc:
            if exc.response.status_code == 422 and "fast forward" in _error_message(exc):
                raise NotFastForward(_error_message(exc)) from exc
            raise

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
                raise GitHubError(_error_message(exc)) from exc
            raise
        return _pull_ref(created)

    @staticmethod
    def _paginate(method: Any, *args: Any) -> Any:
        page = 1
        while True:
            items = method(*args, per_page=100, page=page).parsed_data
            yield from items
            if len(items) < 100:
                return
            page += 1


def _pull_ref(pull: Any) -> PullRequestRef:
    return PullRequestRef(
        number=int(pull.number),
        html_url=str(pull.html_url),
        head_ref=str(pull.head.ref),
        draft=bool(pull.draft),
    )


def _error_message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return f"GitHub answered {exc.response.status_code}"
    messages = [str(body.get("message", ""))]
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            messages.append(str(error["message"]))
    return f"GitHub answered {exc.response.status_code}: " + " ".join(m for m in messages if m)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _as_utc(value: datetime | str) -> datetime:
    """GitHub's `expires_at` (githubkit keeps it as the string GitHub sent) as aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
