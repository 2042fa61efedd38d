"""`rolecall serve` as a real process on a real port, wired to both stand-ins.

The tests drive it the way GitHub would (people act in the GitHub stand-in, which
sends signed webhooks) and assert on what GitHub ended up holding and what the model
was sent. `wait_for` polls with a generous deadline: it waits for an outcome, it does
not time one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from standins.scenario import REPO, Stage
from tests.helpers import enterable_dir

T = TypeVar("T")
FINAL_MARKS = ("✅", "❌", "ℹ️", "⏹️")


def rolecall_executable() -> str:
    found = Path(sys.executable).with_name("rolecall")
    return str(found) if found.exists() else (shutil.which("rolecall") or "rolecall")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@dataclass
class Rolecall:
    """A running `rolecall serve`, and the stage it works against."""

    stage: Stage
    env: dict[str, str]
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def github(self) -> Any:
        return self.stage.github

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [rolecall_executable(), *args],
            env=self.env,
            cwd=self.env["ROLECALL_DATA_DIR"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def jobs(self) -> list[dict[str, Any]]:
        result = self.cli("jobs", "--json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def bot_comments(self, number: int) -> list[dict[str, Any]]:
        return [
            c
            for c in self.github.comments(REPO, number)
            if c["user"]["login"] == self.github.bot_login
        ]

    def wait_for_outcome(self, number: int) -> dict[str, Any]:
        """The tracking comment once it states how the job ended."""

        def finished() -> dict[str, Any] | None:
            for comment in self.bot_comments(number):
                if comment["body"].lstrip().startswith(FINAL_MARKS):
                    return comment
            return None

        return wait_for(finished, f"the job on #{number} to finish; log:\n{self.log()}")

    def wait_for_jobs_to_settle(self) -> list[dict[str, Any]]:
        def settled() -> list[dict[str, Any]] | None:
            jobs = self.jobs()
            return jobs if all(j["state"] not in ("queued", "running") for j in jobs) else None

        return wait_for(settled, "every job to finish")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


def start_rolecall(
    stage: Stage,
    data_dir: Path,
    *,
    wrapper: Sequence[str] = (),
    unset: Sequence[str] = (),
    **overrides: str,
) -> Rolecall:
    """`rolecall serve` on a free port, pointed at `stage`; `wrapper` runs before it
    (e.g. `unshare --user --map-root-user`, to be an unprivileged user's Rolecall), and
    the variables in `unset` are left out (e.g. the App's, to start unconfigured)."""
    port = free_port()
    data_dir = _enterable(data_dir)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "LANG": "C.UTF-8",
        "ROLECALL_WORKERS": "2",
        **stage.rolecall_env(data_dir),
        **overrides,
    }
    for name in unset:
        env.pop(name, None)
    log_path = data_dir / "serve.log"
    process = subprocess.Popen(
        [*wrapper, rolecall_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=data_dir,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    rolecall = Rolecall(stage, env, url, process, log_path)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"rolecall serve exited early:\n{rolecall.log()}")
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, "rolecall serve to answer /healthz", timeout=60)
    stage.github.webhook_url = f"{url}/api/github/webhooks"
    return rolecall


def _enterable(data_dir: Path) -> Path:
    """Where the data really lives: `data_dir` becomes a link to a directory the
    sandbox's unprivileged user can reach (tests.helpers.enterable_dir)."""
    if data_dir.is_symlink():  # started before (a restart test): the same directory
        return data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    real = enterable_dir("data")
    if data_dir.is_dir():
        for entry in data_dir.iterdir():
            entry.rename(real / entry.name)
        data_dir.rmdir()
    data_dir.symlink_to(real, target_is_directory=True)
    return real


def stop_rolecall(rolecall: Rolecall) -> None:
    rolecall.process.terminate()
    try:
        rolecall.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rolecall.process.kill()
        rolecall.process.wait()


def file_at(rolecall: Rolecall, rev: str, path: str) -> str:
    """`path` as the GitHub stand-in's bare copy of the sample repo holds it at `rev`.

    What a branch or commit really contains, read with host git, not through the API
    under test.
    """
    repo = rolecall.github.repo_path(REPO)
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"{rev}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    with Stage(tmp_path / "stage") as stage:
        yield stage
        assert not stage.github.server_errors, stage.github.server_errors
        assert not stage.model.errors, stage.model.errors


@pytest.fixture
def rolecall(stage: Stage, tmp_path: Path) -> Iterator[Rolecall]:
    running = start_rolecall(stage, tmp_path / "data")
    yield running
    stop_rolecall(running)
