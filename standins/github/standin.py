"""`GitHubStandIn`: a local GitHub for one App, and the people who use it.

Tests (and `rolecall demo`) build a world with it (users, repositories with real
git history, permissions), act in it as people would (comment, label, push,
review), each action emitting the webhook GitHub would send, and then assert on
what GitHub ends up holding, in GitHub's own JSON shapes.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import gitrepo, ops, ops_pulls
from .records import LEVELS, Installation, Level, Repo, User, UserType, utcnow
from .server import Front, RecordedRequest, Server
from .service import Event, Service
from .state import State
from .webhooks import Delivery

ReviewState = Literal["changes_requested", "commented", "approved"]
_REVIEW_EVENTS = {
    "changes_requested": "REQUEST_CHANGES",
    "commented": "COMMENT",
    "approved": "APPROVE",
}


class Created(int):
    """An id or number that also carries the webhooks its creation caused."""

    deliveries: list[Delivery]

    def __new__(cls, value: int, deliveries: list[Delivery]) -> Created:
        obj = super().__new__(cls, value)
        obj.deliveries = deliveries
        return obj

    @property
    def delivery(self) -> Delivery | None:
        return self.deliveries[0] if self.deliveries else None


class CreatedSha(str):
    """A commit sha that also carries the webhooks the push caused (synchronize)."""

    deliveries: list[Delivery]

    def __new__(cls, value: str, deliveries: list[Delivery]) -> CreatedSha:
        obj = super().__new__(cls, value)
        obj.deliveries = deliveries
        return obj

    @property
    def delivery(self) -> Delivery | None:
        return self.deliveries[0] if self.deliveries else None


class GitHubStandIn:
    """A GitHub (REST, GraphQL, git smart HTTP, webhooks) on 127.0.0.1 for one App."""

    def __init__(
        self, root: Path | str, *, app_slug: str = "rolecall", webhook_secret: str | None = None
    ) -> None:
        self.root = Path(root)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem: str = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        self.webhook_secret: str = (
            webhook_secret or f"whsec-{key.public_key().public_numbers().n % 10**12}"
        )
        self._state = State(self.root, app_slug)
        self._svc = Service(self._state, key.public_key(), self.webhook_secret, self.root)
        self._front = Front(self._svc)
        self._server: Server | None = None

    # lifecycle ---------------------------------------------------------------------

    def start(self) -> GitHubStandIn:
        self._server = Server(self._front)
        self._svc.set_base_url(self._server.url)
        self._svc.hooks.start()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; queued webhooks get their chance first (GitHub would send them)."""
        if self._server is None:
            return
        self._svc.hooks.wait_idle(timeout=self._svc.hooks.timeout)
        self._svc.hooks.stop()
        self._server.stop()
        self._server = None

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # identity and settings ---------------------------------------------------------

    @property
    def api_url(self) -> str:
        if self._server is None:
            raise RuntimeError("GitHubStandIn is not started; call start() first")
        return self._server.url

    @property
    def graphql_url(self) -> str:
        return f"{self.api_url}/graphql"

    @property
    def app_id(self) -> int:
        return self._state.app.id

    @property
    def app_slug(self) -> str:
        return self._state.app.slug

    @property
    def bot_login(self) -> str:
        return self._state.app.bot.login

    @property
    def app_permissions(self) -> dict[str, str]:
        """What installations grant; edit it to test a missing permission."""
        return self._state.app.permissions

    @property
    def app_events(self) -> list[str]:
        """Events the App subscribes to; only these are delivered."""
        return self._state.app.events

    @property
    def webhook_url(self) -> str | None:
        return self._svc.hooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._svc.hooks.url = url

    @property
    def webhook_timeout(self) -> float:
        """Seconds a delivery waits for the receiver (GitHub: 10)."""
        return self._svc.hooks.timeout

    @webhook_timeout.setter
    def webhook_timeout(self, seconds: float) -> None:
        self._svc.hooks.timeout = seconds

    @property
    def token_lifetime(self) -> float:
        return self._svc.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self._svc.token_lifetime = seconds

    # building the world ------------------------------------------------------------

    def add_user(self, login: str, type: UserType = "User") -> dict[str, Any]:
        user = self._state.ensure_user(login, type)
        with self._state.lock:
            return self._svc.shapes.user(user)

    def add_org(self, login: str) -> dict[str, Any]:
        return self.add_user(login, "Organization")

    def _person(self, login: str) -> User:
        kind: UserType = "Bot" if login.endswith("[bot]") else "User"
        return self._state.ensure_user(login, kind)

    def _repo(self, full_name: str) -> Repo:
        return self._state.repo(full_name)

    def create_repo(
        self,
        full_name: str,
        files: dict[str, str | bytes] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        install: bool = True,
    ) -> str:
        """A bare repository with one commit; the App is installed on its owner."""
        owner_login, _, name = full_name.partition("/")
        if not owner_login or not name or "/" in name:
            raise ValueError(f"repository names look like 'owner/name', not {full_name!r}")
        with self._state.lock:
            if full_name.lower() in self._state.repos:
                raise ValueError(f"{full_name} already exists")
        owner = self._state.ensure_user(owner_login)
        path = self.root / "repos" / owner.login / f"{name}.git"
        gitrepo.init_bare(path, default_branch)
        now = utcnow()
        repo = Repo(
            id=self._state.new_id(),
            owner=owner,
            name=name,
            path=path,
            default_branch=default_branch,
            private=private,
            created_at=now,
            pushed_at=now,
            description=description,
        )
        initial: dict[str, str | bytes | None] = dict(files or {"README.md": f"# {name}\n"})
        gitrepo.commit_files(
            path,
            default_branch,
            initial,
            "Initial commit",
            self._signature(owner),
            None,
        )
        with self._state.lock:
            self._state.repos[repo.full_name.lower()] = repo
            if install:
                repo.installation_id = self._install(owner).id
        return repo.full_name

    def rename_repo(self, full_name: str, new_name: str) -> str:
        """The owner renames a repository: its id, history and installation stay; the old
        name is free for a new repository (GitHub's redirect from it is not modelled)."""
        with self._state.lock:
            repo = self._state.repo(full_name)
            if f"{repo.owner.login}/{new_name}".lower() in self._state.repos:
                raise ValueError(f"{repo.owner.login}/{new_name} already exists")
            path = repo.path.with_name(f"{new_name}.git")
            repo.path.rename(path)
            del self._state.repos[repo.full_name.lower()]
            repo.name, repo.path = new_name, path
            self._state.repos[repo.full_name.lower()] = repo
            return repo.full_name

    def _install(self, account: User) -> Installation:
        for inst in self._state.installations.values():
            if inst.account is account:
                return inst
        inst = Installation(id=self._state.new_id(), account=account, created_at=utcnow())
        self._state.installations[inst.id] = inst
        return inst

    def installation_id(self, owner_or_repo: str) -> int:
        """The App's installation on an account (`octo`) or on a repository's owner."""
        owner = owner_or_repo.partition("/")[0].lower()
        with self._state.lock:
            for inst in self._state.installations.values():
                if inst.account.login.lower() == owner:
                    return inst.id
        raise KeyError(f"the App is not installed on {owner_or_repo}")

    def issue_token(
        self,
        owner_or_repo: str,
        *,
        expires_in: float | None = None,
        repositories: list[str] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> str:
        """An installation token without the JWT dance; `expires_in<=0` gives an expired one."""
        inst_id = self.installation_id(owner_or_repo)
        repo_ids = (
            frozenset(self._repo(f"{owner_or_repo.partition('/')[0]}/{n}").id for n in repositories)
            if repositories
            else None
        )
        token = self._svc.auth.issue(
            inst_id,
            self.token_lifetime if expires_in is None else expires_in,
            repo_ids=repo_ids,
            permissions=permissions,
        )
        return token.token

    def set_permission(self, repo: str, login: str, level: Level) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}")
        user = self._person(login)
        with self._state.lock:
            self._repo(repo).permissions[user.login.lower()] = level

    def fork(self, repo: str, login: str) -> str:
        """`login`'s fork of `repo` (created on first use; the App is not installed on it)."""
        parent = self._repo(repo)
        owner = self._person(login)
        full = f"{owner.login}/{parent.name}"
        with self._state.lock:
            existing = self._state.repos.get(full.lower())
        if existing is not None:
            return existing.full_name
        path = self.root / "repos" / owner.login / f"{parent.name}.git"
        gitrepo.clone_bare(parent.path, path)
        now = utcnow()
        fork = Repo(
            id=self._state.new_id(),
            owner=owner,
            name=parent.name,
            path=path,
            default_branch=parent.default_branch,
            private=parent.private,
            created_at=now,
            pushed_at=now,
            fork_of=parent,
        )
        with self._state.lock:
            self._state.repos[fork.full_name.lower()] = fork
        return fork.full_name

    # people acting -----------------------------------------------------------------

    def _send(self, events: list[Event]) -> list[Delivery]:
        return self._svc.deliver(events, wait=True)

    def open_issue(
        self, repo: str, actor: str, title: str, body: str = "", *, labels: list[str] | None = None
    ) -> Created:
        issue, events = ops.open_issue(
            self._svc, self._repo(repo), self._person(actor), title, body, labels=labels
        )
        return Created(issue.number, self._send(events))

    def comment(self, repo: str, actor: str, number: int, body: str) -> Created:
        comment, events = ops.add_comment(
            self._svc, self._repo(repo), self._person(actor), int(number), body
        )
        return Created(comment.id, self._send(events))

    def edit_comment(self, repo: str, actor: str, comment_id: int, body: str) -> Delivery | None:
        comment = self._state.comment(self._repo(repo), int(comment_id))
        sent = self._send(ops.edit_comment(self._svc, comment, self._person(actor), body))
        return sent[0] if sent else None

    def delete_comment(self, repo: str, actor: str, comment_id: int) -> Delivery | None:
        comment = self._state.comment(self._repo(repo), int(comment_id))
        sent = self._send(ops.delete_comment(self._svc, comment, self._person(actor)))
        return sent[0] if sent else None

    def edit_issue(
        self,
        repo: str,
        actor: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> list[Delivery]:
        issue = self._state.issue(self._repo(repo), int(number))
        events = ops.update_issue(
            self._svc, issue, self._person(actor), title=title, body=body, state=state
        )
        return self._send(events)

    def label(self, repo: str, actor: str, number: int, name: str) -> Delivery | None:
        issue = self._state.issue(self._repo(repo), int(number))
        sent = self._send(ops.add_labels(self._svc, issue, self._person(actor), [name]))
        return sent[0] if sent else None

    def unlabel(self, repo: str, actor: str, number: int, name: str) -> Delivery | None:
        issue = self._state.issue(self._repo(repo), int(number))
        sent = self._send(ops.remove_label(self._svc, issue, self._person(actor), name))
        return sent[0] if sent else None

    def react(
        self,
        repo: str,
        actor: str,
        content: str,
        *,
        issue: int | None = None,
        comment: int | None = None,
        review_comment: int | None = None,
    ) -> int:
        kind, subject = self._reaction_subject(repo, issue, comment, review_comment)
        reaction, _ = ops.react(self._svc, self._person(actor), kind, subject, content)
        return reaction.id

    def push_commit(
        self,
        repo: str,
        actor: str,
        *,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str = "Update files",
        base: str | None = None,
    ) -> CreatedSha:
        """A person pushes one commit to `branch` (created from `base`/default if new)."""
        target = self._repo(repo)
        person = self._person(actor)
        with self._svc.git_lock(target):
            before = gitrepo.refs(target.path)
            parent = before.get(f"refs/heads/{branch}") or gitrepo.rev_parse(
                target.path, f"refs/heads/{base or target.default_branch}"
            )
            sha = gitrepo.commit_files(
                target.path, branch, files, message, self._signature(person), parent
            )
            after = gitrepo.refs(target.path)
            events = ops_pulls.refs_changed(self._svc, target, before, after, person)
        return CreatedSha(sha, self._send(events))

    def open_pr(
        self,
        repo: str,
        actor: str,
        *,
        head: str,
        base: str | None = None,
        title: str = "",
        body: str = "",
        draft: bool = False,
        from_fork: bool = False,
    ) -> Created:
        """Open a PR; `from_fork` puts the head branch in `actor`'s fork, as an outsider's."""
        target = self._repo(repo)
        head_spec = head
        if from_fork and ":" not in head:
            fork_name = self.fork(repo, actor)
            fork = self._repo(fork_name)
            if gitrepo.rev_parse(fork.path, f"refs/heads/{head}") is None:
                gitrepo.fetch(fork.path, target.path, f"refs/heads/{head}", f"refs/heads/{head}")
            head_spec = f"{fork.owner.login}:{head}"
        pull, events = ops_pulls.open_pull(
            self._svc,
            target,
            self._person(actor),
            head=head_spec,
            base=base or target.default_branch,
            title=title or head,
            body=body,
            draft=draft,
        )
        return Created(pull.issue.number, self._send(events))

    def close_pr(self, repo: str, actor: str, number: int) -> list[Delivery]:
        pull = self._state.pull(self._repo(repo), int(number))
        events = ops_pulls.update_pull(self._svc, pull, self._person(actor), state="closed")
        return self._send(events)

    def submit_review(
        self,
        repo: str,
        actor: str,
        pr: int,
        *,
        state: ReviewState,
        body: str = "",
        comments: list[dict[str, Any]] | None = None,
    ) -> Created:
        """Review as a person; inline comments take path, line (+ side, start_line), body."""
        pull = self._state.pull(self._repo(repo), int(pr))
        review, events = ops_pulls.submit_review(
            self._svc,
            pull,
            self._person(actor),
            event=_REVIEW_EVENTS[state],
            body=body,
            comments=comments,
        )
        return Created(review.id, self._send(events))

    def reply_review_comment(
        self, repo: str, actor: str, pr: int, comment_id: int, body: str
    ) -> Created:
        pull = self._state.pull(self._repo(repo), int(pr))
        person = self._person(actor)
        comment, events = ops_pulls.reply(self._svc, pull, person, int(comment_id), body)
        return Created(comment.id, self._send(events))

    def resolve_thread(self, thread_id: str, actor: str, *, resolved: bool = True) -> None:
        thread = self._state.thread_by_node_id(thread_id)
        if thread is None:
            raise KeyError(thread_id)
        ops_pulls.resolve_thread(self._svc, thread, self._person(actor), resolved)

    # webhooks, faults, records -----------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        return self._svc.hooks.deliveries

    def redeliver(self, delivery_id: str) -> Delivery:
        return self._svc.hooks.redeliver(delivery_id)

    def wait_for_deliveries(self, timeout: float = 15.0) -> bool:
        """Wait until webhooks caused by the App's own API calls were attempted."""
        return self._svc.hooks.wait_idle(timeout)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next `times` matching requests fail (path matched with re.fullmatch)."""
        self._svc.faults.fail_next(
            method, path_regex, times=times, status=status, headers=headers, body=body
        )

    def stall_next(self, method: str, path_regex: str, *, seconds: float, times: int = 1) -> None:
        """The next `times` matching requests wait `seconds` before being answered."""
        self._svc.faults.stall_next(method, path_regex, seconds=seconds, times=times)

    def clear_faults(self) -> None:
        self._svc.faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._front.recorder.lock:
            return list(self._front.recorder.requests)

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of stand-in bugs (answered 500); a healthy test leaves this empty."""
        return list(self._front.recorder.errors)

    # what GitHub holds, in GitHub's JSON -------------------------------------------

    def issue(self, repo: str, number: int) -> dict[str, Any]:
        with self._state.lock:
            return self._svc.shapes.issue(self._state.issue(self._repo(repo), int(number)))

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.issue_comments(self._repo(repo), int(number))
            return [self._svc.shapes.comment(c) for c in found]

    def reactions(
        self,
        repo: str,
        *,
        issue: int | None = None,
        comment: int | None = None,
        review_comment: int | None = None,
    ) -> list[dict[str, Any]]:
        kind, subject = self._reaction_subject(repo, issue, comment, review_comment)
        with self._state.lock:
            return [self._svc.shapes.reaction(r) for r in self._state.reactions_of(kind, subject)]

    def _reaction_subject(
        self, repo: str, issue: int | None, comment: int | None, review_comment: int | None
    ) -> tuple[str, int]:
        target = self._repo(repo)
        if issue is not None:
            return "issue", self._state.issue(target, int(issue)).id
        if comment is not None:
            return "comment", self._state.comment(target, int(comment)).id
        if review_comment is not None:
            return "review_comment", self._state.review_comment(target, int(review_comment)).id
        raise ValueError("name one of issue=, comment=, review_comment=")

    def pulls(self, repo: str) -> list[dict[str, Any]]:
        with self._state.lock:
            return [self._svc.shapes.pull(p) for p in self._state.repo_pulls(self._repo(repo))]

    def pull(self, repo: str, number: int) -> dict[str, Any]:
        with self._state.lock:
            return self._svc.shapes.pull(self._state.pull(self._repo(repo), int(number)))

    def branches(self, repo: str) -> dict[str, str]:
        return gitrepo.branches(self._repo(repo).path)

    def review_comments(self, repo: str, pr: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.pull_review_comments(self._repo(repo), int(pr))
            return [self._svc.shapes.review_comment(c) for c in found]

    def reviews(self, repo: str, pr: int) -> list[dict[str, Any]]:
        with self._state.lock:
            found = self._state.pull_reviews(self._repo(repo), int(pr))
            return [self._svc.shapes.review(r) for r in found]

    def review_threads(self, repo: str, pr: int) -> list[dict[str, Any]]:
        """Threads as GraphQL sees them: node id, resolved flag, comment database ids."""
        with self._state.lock:
            return [
                {
                    "id": t.node_id,
                    "is_resolved": t.resolved_by is not None,
                    "resolved_by": t.resolved_by.login if t.resolved_by else None,
                    "path": t.path,
                    "line": t.line,
                    "comment_ids": list(t.comment_ids),
                }
                for t in self._state.pull_threads(self._repo(repo), int(pr))
            ]

    def check_runs(self, repo: str) -> list[dict[str, Any]]:
        target = self._repo(repo)
        with self._state.lock:
            runs = [r for r in self._state.check_runs.values() if r.repo is target]
            return [self._svc.shapes.check_run(r) for r in runs]

    def repo_path(self, repo: str) -> Path:
        return self._repo(repo).path

    def clone_url(self, repo: str) -> str:
        return f"{self.api_url}/{self._repo(repo).full_name}.git"

    # helpers -----------------------------------------------------------------------

    @staticmethod
    def _signature(user: User) -> gitrepo.Signature:
        return gitrepo.Signature(
            user.login, f"{user.id}+{user.login}@users.noreply.github.com", utcnow()
        )
