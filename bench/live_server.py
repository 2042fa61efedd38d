"""A real `rolecall serve` process on the stand-ins, for the benchmarks that need one.

Started the way the end-to-end tests start it (tests/e2e/conftest.py `start_rolecall`):
its own process, a free port, the stand-ins' settings in its environment, data in a
directory the sandbox user can enter. Also what the benchmarks read from outside:
when a job's tracking comment says it ended, and how much memory the process and its
children hold (/proc).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from standins.scenario import Stage

T = TypeVar("T")
FINAL_MARKS = ("✅", "❌", "ℹ️", "⏹️")


def machine() -> str:
    """CPU, cores, memory, kernel, Python: the line every benchmark prints first."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{os.cpu_count()} cores, {model}, {pages / 2**30:.0f} GiB; Linux {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 300) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def enterable_tmp(prefix: str) -> Path:
    """A temporary directory every user can enter (the sandbox runs as `nobody` as root)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


@dataclass
class Served:
    """A running `rolecall serve` and where it keeps its data and log."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def serve(stage: Stage, data_dir: Path, **overrides: str) -> Served:
    """`rolecall serve` on a free port, the stand-in's webhooks pointed at it."""
    rolecall = Path(sys.executable).with_name("rolecall")
    executable = str(rolecall) if rolecall.exists() else (shutil.which("rolecall") or "rolecall")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "LANG": "C.UTF-8",
        "ROLECALL_WORKERS": "2",
        **stage.rolecall_env(data_dir),
        **overrides,
    }
    log_path = data_dir / "serve.log"
    process = subprocess.Popen(
        [executable, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=data_dir,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    served = Served(process, data_dir, log_path, f"http://127.0.0.1:{port}")

    def healthy() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"rolecall serve exited early:\n{served.log()[-3000:]}")
        try:
            return httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, "rolecall serve to answer /healthz", timeout=60)
    stage.github.webhook_url = f"{served.url}/api/github/webhooks"
    return served


def final_comment(stage: Stage, repo: str, number: int) -> dict[str, Any] | None:
    """The job's tracking comment once it says how the job ended, else None."""
    for comment in stage.github.comments(repo, number):
        body = str(comment["body"]).lstrip()
        if comment["user"]["login"] == stage.github.bot_login and body.startswith(FINAL_MARKS):
            return dict(comment)
    return None


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
