"""Who runs a job: how a process names itself in `Job.runner`, and whether it still runs.

A job's runner and its lease (`bot.store.claims.LEASE`) are how a restart or another
worker tells a job that is still being run from one whose worker is gone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot), or None if it does not exist.

    With the pid this names one process for good: a pid reused after a restart (pid 1
    in every container) has a different start time. Where /proc is missing the pid alone
    has to do, and "0" stands for the start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]


def this_runner() -> str:
    """How this process names itself in `Job.runner`: host, pid and start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def runner_is_alive(runner: str | None) -> bool | None:
    """Whether the process named by `Job.runner` still runs; None when it cannot be told.

    Only processes on this host can be checked; for another machine's worker the job's
    lease tells (see `Ledger.take_over`).
    """
    if runner is None:
        return False
    parts = runner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, start = parts
    if host != socket.gethostname():
        return None
    return _process_start(int(pid)) == start
