"""One running command, and how its whole process tree is killed.

The command's PID namespace dies with its pid 1, so killing pid 1 (through a pidfd,
immune to pid reuse) kills the whole tree; bubblewrap runs in its own session, whose
process group is killed as well, and the cgroup when there is one. bubblewrap reports
the pid 1 and, later, the exit code on its `--json-status-fd` (`status_value`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

from agents.sandbox.limits import CommandCgroup

# How long to wait for a killed tree to disappear before escalating.
KILL_GRACE = 3.0


class Execution:
    """One running command and the means to kill its whole tree."""

    def __init__(self, proc: subprocess.Popen[bytes], cgroup: CommandCgroup | None) -> None:
        self.proc = proc
        self.cgroup = cgroup
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._pidfd: int | None = None
        self._reaped = False

    def adopt_sandbox_init(self, pid: int) -> None:
        """Hold a pidfd on the sandbox's pid 1 (a child of bubblewrap) for killing it."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return
        try:
            proc_stat = Path(f"/proc/{pid}/stat").read_text()
            ppid = int(proc_stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            ppid = -1
        if ppid != self.proc.pid:  # already gone and the pid reused: not ours
            os.close(pidfd)
            return
        with self._lock:
            self._pidfd = pidfd
        if self.cancelled.is_set():
            self.signal_tree()

    def exited(self) -> bool:
        """Whether the launcher has exited, without reaping it (its pgid stays reserved)."""
        if self._reaped:
            return True
        try:
            info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _wait_exit(self, timeout: float) -> None:
        """Wait up to `timeout` s for the launcher to exit, without reaping it.

        A pidfd becomes readable when the process exits, so this wakes at once; where
        there is none, the launcher is polled every 5 ms.
        """
        deadline = time.monotonic() + timeout
        try:
            pidfd = os.pidfd_open(self.proc.pid)
        except OSError:
            pidfd = None
        try:
            while not self.exited():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if pidfd is None:
                    time.sleep(min(0.005, remaining))
                else:
                    _wait_readable(pidfd, remaining)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _wait_init_gone(self, timeout: float) -> None:
        """Wait up to `timeout` s for the sandbox's pid 1 to exit, if it was adopted."""
        with self._lock:
            pidfd = self._pidfd
        if pidfd is not None:  # only `finish`, on this thread, closes it
            _wait_readable(pidfd, timeout)

    def signal_tree(self) -> None:
        """SIGKILL the sandbox's pid 1 and the launcher's process group (thread-safe)."""
        with self._lock:
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError, OSError):
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            if not self._reaped:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)

    def cancel(self) -> None:
        self.cancelled.set()
        self.signal_tree()

    def finish(self, *, kill: bool) -> int:
        """Make sure nothing of the command survives, reap it and return its exit code."""
        if kill:
            with self._lock:
                pidfd = self._pidfd
            if pidfd is not None:
                with contextlib.suppress(ProcessLookupError, OSError):
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                # bubblewrap exits once its pid 1 is gone, and pid 1 is gone only after
                # the kernel has killed and reaped the rest of its PID namespace.
                self._wait_exit(KILL_GRACE)
        # Even after a normal exit: background processes of the unsandboxed runner.
        self.signal_tree()
        if self.cgroup is not None:
            # The output ends before its writers have left the cgroup: bubblewrap closes
            # it on its way out, and exits as soon as its pid 1 reports the command's exit
            # code, while pid 1 may still be tearing down the sandbox's namespaces. So the
            # cgroup is looked at once both are gone (their pidfds say when), not polled.
            self._wait_init_gone(KILL_GRACE)
            self._wait_exit(KILL_GRACE)
            self.cgroup.kill()
        code = self.proc.wait()
        with self._lock:
            self._reaped = True
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return 128 - code if code < 0 else code


def _wait_readable(fd: int, timeout: float) -> None:
    """Wait up to `timeout` s for `fd` (a pidfd: readable once its process exited).

    `poll`, not `select`: a busy worker's descriptors may be numbered past select's 1024.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.poll(max(0, math.ceil(timeout * 1000)))


def status_value(status: bytes, key: str) -> int | None:
    """An integer from bubblewrap's `--json-status-fd` stream of JSON documents.

    The first document names the sandbox's pid 1 as seen from the host ("child-pid");
    a later one carries "exit-code" once the command itself has exited.
    """
    decoder = json.JSONDecoder()
    text = status.decode(errors="replace")
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return None
        try:
            document, position = decoder.raw_decode(text, position)
        except ValueError:
            return None  # incomplete: more is on its way
        value = document.get(key) if isinstance(document, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
