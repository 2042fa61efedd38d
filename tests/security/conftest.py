"""Shared pieces of the trust-boundary suite (SECURITY.md maps each promise to a test here).

Tests that need bubblewrap ask for the `bwrap` fixture, which fails (never skips) with
the install command when it is missing. The end-to-end tests share one `World`: both
stand-ins and one `rolecall serve` process for the whole session, because starting them
takes seconds and these tests each need only a fresh issue. `World.fresh()` waits until
every earlier job has finished and resets the model, so one test's jobs never run
during another's; assertions look only at the test's own issues and at the records made
since the test began.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.sandbox.bubblewrap import BWRAP_MISSING, BwrapSandbox, SandboxUser
from bot.store.ledger import Ledger
from standins.model import text
from standins.scenario import REPO, Stage
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall, wait_for
from tests.helpers import enterable_dir

# People with each level of access to the sample repository.
LEVELS = {
    "nadia": "none",
    "mallory": "read",
    "trudy": "triage",
    "alice": "write",
    "maya": "maintain",
    "adam": "admin",
}
ALLOWED_BOT = "renovate[bot]"
OTHER_BOT = "dependabot[bot]"
JOBS_PER_THREAD = 3
WORKFLOW = ".github/workflows/ci.yml"
WORKFLOW_TEXT = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"


@pytest.fixture
def bwrap() -> None:
    """Fail with the fix, never skip, when bubblewrap is missing."""
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (the security tests need it and are never skipped)")


# Rolecall's own user, and (when the suite runs as root, as CI does) the unprivileged
# user a root Rolecall drops sandboxed commands to: every sandbox attack runs as both.
SANDBOX_USERS: list[SandboxUser | None] = [None]
if os.geteuid() == 0:
    SANDBOX_USERS.append(SandboxUser.named("nobody"))


@pytest.fixture(
    params=SANDBOX_USERS, ids=lambda user: f"as-{user.name}" if user else "as-service-user"
)
def sandbox_user(request: pytest.FixtureRequest) -> SandboxUser | None:
    user: SandboxUser | None = request.param
    return user


@pytest.fixture
def sandbox_tmp(sandbox_user: SandboxUser | None, tmp_path: Path) -> Path:
    """A directory for worktrees that the sandbox's host user can reach."""
    return enterable_dir("sandbox") if sandbox_user is not None else tmp_path


@pytest.fixture
def bwrap_as(sandbox_user: SandboxUser | None) -> Callable[..., BwrapSandbox]:
    """`BwrapSandbox`, run as this test's sandbox user."""
    return functools.partial(BwrapSandbox, run_as=sandbox_user)


def fake_github_token(prefix: str = "ghp_") -> str:
    """A token-shaped string, assembled at run time so no credential-shaped literal is
    committed; random, so a hit proves this test's value leaked."""
    return prefix + uuid.uuid4().hex[:20] + uuid.uuid4().hex[:16].upper()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class World:
    """Both stand-ins and a running Rolecall, shared by the end-to-end security tests."""

    stage: Stage
    rolecall: Rolecall
    request_mark: int = 0
    model_mark: int = 0
    issues: list[int] = field(default_factory=list)
    ledger: Ledger | None = None

    @property
    def github(self) -> Any:
        return self.stage.github

    @property
    def model(self) -> Any:
        return self.stage.model

    def jobs(self) -> list[dict[str, Any]]:
        """Every job in Rolecall's ledger, as `rolecall jobs --json` shows them.

        Read from the ledger file directly: the CLI takes a second to start, and a test
        polls this many times.
        """
        if self.ledger is None:
            data_dir = Path(self.rolecall.env["ROLECALL_DATA_DIR"])
            self.ledger = Ledger(f"sqlite:///{data_dir / 'rolecall.db'}")
        return [job.model_dump(mode="json") for job in self.ledger.list_jobs(limit=10_000)]

    def settle(self) -> list[dict[str, Any]]:
        """Every job, once none is queued or running."""

        def settled() -> tuple[list[dict[str, Any]]] | None:
            jobs = self.jobs()
            done = all(j["state"] not in ("queued", "running") for j in jobs)
            return (jobs,) if done else None  # a tuple: no jobs at all is settled too

        try:
            return wait_for(settled, "every job to finish", timeout=90)[0]
        except AssertionError:
            raise AssertionError(
                f"jobs never finished: {self.jobs()}\nlog:\n{self.rolecall.log()}"
            ) from None

    def fresh(self) -> World:
        """Wait for earlier jobs to end; reset the model; mark where this test begins."""
        self.settle()
        self.github.wait_for_deliveries()
        self.github.clear_faults()
        self.github.webhook_url = f"{self.rolecall.url}/api/github/webhooks"
        self.model.respond_with(lambda request: text("Nothing to change here."))
        self.request_mark = len(self.github.requests)
        self.model_mark = len(self.model.requests)
        return self

    def git(self, *args: str, repo: str = REPO) -> str:
        """Plain git on the GitHub stand-in's bare copy of `repo`: what GitHub holds
        (its output without the final newline)."""
        return subprocess.run(
            ["git", "--git-dir", str(self.github.repo_path(repo)), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def new_issue(self, title: str = "Add a mul() function", body: str = "Please.") -> int:
        number = int(self.github.open_issue(REPO, "alice", title, body))
        self.issues.append(number)
        return number

    def github_requests(self) -> list[Any]:
        return self.github.requests[self.request_mark :]

    def model_requests(self) -> list[Any]:
        return self.model.requests[self.model_mark :]

    def jobs_on(self, number: int) -> list[dict[str, Any]]:
        """The thread's jobs once all of them have finished, oldest first."""
        jobs = self.settle()
        return sorted(
            (j for j in jobs if j["issue_number"] == number and j["repo_full_name"] == REPO),
            key=lambda j: j["id"],
        )

    def bot_comments(self, number: int) -> list[dict[str, Any]]:
        return self.rolecall.bot_comments(number)

    def post_webhook(self, event: str, payload: dict[str, Any]) -> httpx.Response:
        """A signed delivery straight to Rolecall, as GitHub would send `payload`."""
        body = json.dumps(payload).encode()
        return httpx.post(
            f"{self.rolecall.url}/api/github/webhooks",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(self.github.webhook_secret, body),
            },
            timeout=30,
        )

    def comment_payload(self, actor: str, number: int, body: str) -> dict[str, Any]:
        """The webhook payload of a real comment by `actor`, without delivering it.

        The comment exists in the stand-in (so Rolecall can react to it) but its webhook
        goes nowhere; a test edits the payload (to forge what GitHub would never send)
        and posts it itself with `post_webhook`.
        """
        self.github.webhook_url = None
        try:
            created = self.github.comment(REPO, actor, number, body)
        finally:
            self.github.webhook_url = f"{self.rolecall.url}/api/github/webhooks"
        assert created.delivery is not None
        return json.loads(json.dumps(created.delivery.payload))


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (the security tests need it and are never skipped)")
    root = enterable_dir("security-world")
    with Stage(root / "stage") as stage:
        github = stage.github
        for login, level in LEVELS.items():
            github.add_user(login)
            github.set_permission(REPO, login, level)  # type: ignore[arg-type]
        for bot in (ALLOWED_BOT, OTHER_BOT):
            github.add_user(bot, "Bot")
            github.set_permission(REPO, bot, "write")
        github.push_commit(
            REPO, "alice", branch="main", files={WORKFLOW: WORKFLOW_TEXT}, message="Add CI"
        )
        rolecall = start_rolecall(
            stage,
            root / "data",
            ROLECALL_ALLOWED_BOTS=ALLOWED_BOT,
            ROLECALL_MAX_JOBS_PER_THREAD_PER_HOUR=str(JOBS_PER_THREAD),
            ROLECALL_COMMAND_TIMEOUT="30",
            ROLECALL_WORKERS="4",
        )
        try:
            # Rolecall learns its own login from GET /app; the handlers need it.
            wait_for(
                lambda: httpx.get(f"{rolecall.url}/healthz", timeout=5).json().get("bot_login"),
                "Rolecall to learn its bot login",
                timeout=60,
            )
            yield World(stage, rolecall)
        finally:
            stop_rolecall(rolecall)
        assert not github.server_errors, github.server_errors
        assert not stage.model.errors, stage.model.errors


@pytest.fixture
def world(world_session: World) -> World:
    return world_session.fresh()


def free_tcp_listener() -> socket.socket:
    """A listening socket on 127.0.0.1 that records nothing by itself (tests accept)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    return server
