"""The stand-in's world: the state every part of `GitHubStandIn` shares, and building it.

`StandInWorld` holds what `GitHubStandIn.__init__` creates (the state, the service, the
HTTP front and server) and the lookups the other parts share; its methods build the
world a test starts from: users, organizations, repositories with real git history,
the App's installations and tokens, permissions and forks. Acting in it as people is
`standins.github.people`, reading it back as GitHub's JSON is `standins.github.views`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import app_manifests, gitrepo
from .records import LEVELS, Installation, Level, Repo, User, UserType, utcnow
from .server import Front, Server
from .service import Service
from .state import State


class StandInWorld:
    """What `GitHubStandIn` is made of, and the methods that build the world in it."""

    root: Path
    _state: State
    _svc: Service
    _front: Front
    _server: Server | None

    @property
    def api_url(self) -> str:
        if self._server is None:
            raise RuntimeError("GitHubStandIn is not started; call start() first")
        return self._server.url

    # lookups every part shares -----------------------------------------------------

    def _person(self, login: str) -> User:
        kind: UserType = "Bot" if login.endswith("[bot]") else "User"
        return self._state.ensure_user(login, kind)

    def _repo(self, full_name: str) -> Repo:
        return self._state.repo(full_name)

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

    @staticmethod
    def _signature(user: User) -> gitrepo.Signature:
        return gitrepo.Signature(
            user.login, f"{user.id}+{user.login}@users.noreply.github.com", utcnow()
        )

    # building the world ------------------------------------------------------------

    def add_user(self, login: str, type: UserType = "User") -> dict[str, Any]:
        user = self._state.ensure_user(login, type)
        with self._state.lock:
            return self._svc.shapes.user(user)

    def add_org(self, login: str) -> dict[str, Any]:
        return self.add_user(login, "Organization")

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

    def install_app(self, account: str) -> int:
        """The App installed on `account` (a user or organization, all its repositories), as
        its owner installs it from the App's page; returns the installation's id. An App
        registered from a manifest starts with no installation."""
        return app_manifests.install(self._state, self._state.user(account))

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
            self._svc.token_lifetime if expires_in is None else expires_in,
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
