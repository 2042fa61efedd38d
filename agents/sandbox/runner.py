"""Running one command for the agent: launch, read, cap, time out, kill.

The machinery both backends share (`ProcessRunner`), and the explicit unsafe "none"
backend (`UnsandboxedRunner`). Every command is one `bash -c` in the worktree, in a
fresh process tree that lives exactly as long as the command. Output is read
incrementally and capped head+tail; a command that writes more than
`ResourceLimits.output_bytes` is stopped, and so is one that grows the worktree past
the allowed growth (`WorktreeWatch`). What confines the command is the subclass's
command line (`agents.sandbox.bubblewrap`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from agents.sandbox.environment import SAFE_PATH, sandbox_environment
from agents.sandbox.execution import KILL_GRACE, Execution, status_value
from agents.sandbox.interface import CommandResult, SandboxError
from agents.sandbox.limits import (
    CommandCgroup,
    DiskUsage,
    ResourceLimits,
    WorktreeWatch,
    cgroup_bases,
    cgroup_launcher,
    disk_usage,
    wrap_command,
)
from agents.sandbox.user import SandboxUser, switch_user_argv
from agents.text.capping import DEFAULT_MAX_CHARS, StreamCap

_POLL = 0.05


class ProcessRunner:
    """The machinery both backends share: launch, read, cap, time out, kill."""

    _uses_status_fd = False
    # Whom commands run as on the host: None for Rolecall's own user.
    run_as: SandboxUser | None = None

    def __init__(
        self,
        worktree: Path,
        *,
        max_output_chars: int = DEFAULT_MAX_CHARS,
        env: Mapping[str, str] | None = None,
        limits: ResourceLimits | None = None,
    ) -> None:
        self.worktree = Path(worktree).absolute()
        if not self.worktree.is_dir():
            raise SandboxError(f"worktree {self.worktree} is not a directory")
        self.max_output_chars = max_output_chars
        self.env = sandbox_environment(env)
        self.limits = limits or ResourceLimits()
        # Where each command's cgroup is made (the lookup parses mountinfo: once here).
        self._cgroup_bases = cgroup_bases() if self.limits.use_cgroup else {}
        self._active: set[Execution] = set()
        self._active_lock = threading.Lock()
        self._disk_cap: DiskUsage | None = None
        # What the worktree held after the last command, as its watch last measured it.
        self._disk_seen: DiskUsage | None = None

    def _watch_worktree(self) -> WorktreeWatch:
        """Start watching the worktree for the command about to run.

        The cap is set when the first command runs (the checkout plus the allowed
        growth); a command that starts above it (an earlier one was stopped) may shrink
        the tree but not grow it further. A worktree on a tmpfs of its own is capped by
        the kernel (agents.workspace.volume) and is not walked at all.

        On disk the tree is walked once per command, after it (and while it runs, if it
        runs long): the walk before it is needed only for the first command (to set the
        cap) and after one that left the tree above the cap. Otherwise the command may
        grow the tree up to the cap, never more; what the file tools wrote in between
        counts against it as well.
        """
        if os.path.ismount(self.worktree):
            return WorktreeWatch.unneeded(self.worktree)
        cap, seen = self._disk_cap, self._disk_seen
        if cap is None or seen is None or seen.bytes > cap.bytes or seen.entries > cap.entries:
            now = disk_usage(self.worktree)
            if cap is None:
                cap = self._disk_cap = DiskUsage(
                    now.bytes + self.limits.worktree_growth_bytes,
                    now.entries + self.limits.worktree_growth_entries,
                )
            allowed = DiskUsage(max(cap.bytes, now.bytes), max(cap.entries, now.entries))
        else:
            allowed = cap
        return WorktreeWatch(self.worktree, allowed).start()

    def _launcher(self) -> tuple[list[str], SandboxUser | None]:
        """argv prefix that makes the command's process `run_as`, and whom Popen must
        make it instead (when there is no `setpriv`)."""
        if self.run_as is None:
            return [], None
        switch = switch_user_argv(self.run_as)
        return (switch, None) if switch is not None else ([], self.run_as)

    def _argv(self, command: str, fds: Mapping[str, int]) -> list[str]:
        raise NotImplementedError

    def _launch_env(self) -> dict[str, str]:
        return {"PATH": SAFE_PATH}

    def _launch_fds(self) -> dict[str, int]:
        """Descriptors the launcher is handed, by name; closed here once it started."""
        return {}

    def kill_all(self) -> None:
        """Kill every command this sandbox is running now (callable from any thread)."""
        with self._active_lock:
            running = list(self._active)
        for execution in running:
            execution.cancel()

    def run(self, command: str, *, timeout: float) -> CommandResult:
        """Run `command` with `bash -c` in the worktree, for at most `timeout` seconds."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        switch_user, owner = self._launcher()
        # The launcher joins the cgroup before it becomes `run_as`, or as `run_as`.
        cgroup = CommandCgroup.create(
            self.limits, owner=owner.ids if owner else None, bases=self._cgroup_bases
        )
        status_r = None
        fds: dict[str, int] = {}
        try:
            if self._uses_status_fd:
                status_r, fds["status"] = os.pipe()
            fds.update(self._launch_fds())
            argv = cgroup_launcher(cgroup) + switch_user + self._argv(command, fds)
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.worktree,
                env=self._launch_env(),
                start_new_session=True,
                close_fds=True,
                pass_fds=tuple(fds.values()),
                user=owner.uid if owner else None,
                group=owner.gid if owner else None,
                extra_groups=[] if owner else None,
            )
        except BaseException as exc:
            if cgroup is not None:
                cgroup.remove()
            if status_r is not None:
                os.close(status_r)
            if isinstance(exc, OSError):
                raise SandboxError(f"cannot start the command runner: {exc}") from exc
            raise
        finally:
            for fd in fds.values():
                os.close(fd)
        execution = Execution(proc, cgroup)
        with self._active_lock:
            self._active.add(execution)
        watch = self._watch_worktree()
        try:
            return self._collect(execution, status_r, timeout, watch)
        finally:
            watch.stop()
            if not watch.unmeasured:
                self._disk_seen = watch.seen
            with self._active_lock:
                self._active.discard(execution)
            if proc.stdout is not None:
                proc.stdout.close()
            if status_r is not None:
                os.close(status_r)
            if cgroup is not None:
                cgroup.remove()

    def _collect(
        self, execution: Execution, status_r: int | None, timeout: float, watch: WorktreeWatch
    ) -> CommandResult:
        proc = execution.proc
        assert proc.stdout is not None
        out_fd = proc.stdout.fileno()
        os.set_blocking(out_fd, False)
        stream = StreamCap(self.max_output_chars)
        status = bytearray()
        selector = selectors.DefaultSelector()
        selector.register(out_fd, selectors.EVENT_READ, "out")
        if status_r is not None:
            os.set_blocking(status_r, False)
            selector.register(status_r, selectors.EVENT_READ, "status")
        deadline = time.monotonic() + timeout
        timed_out = overflow = adopted = over_quota = False
        out_open = True
        try:
            while out_open:
                if execution.cancelled.is_set():
                    break
                if watch.exceeded.is_set():
                    over_quota = True
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                if stream.total_bytes > self.limits.output_bytes:
                    overflow = True
                    break
                if execution.exited() and not selector.select(0):
                    break
                for key, _ in selector.select(timeout=min(remaining, _POLL)):
                    try:
                        data = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if key.data == "status":
                        if not data:
                            selector.unregister(key.fd)
                            continue
                        status += data
                        pid = status_value(bytes(status), "child-pid")
                        if pid is not None and not adopted:
                            adopted = True
                            execution.adopt_sandbox_init(pid)
                    elif data:
                        stream.feed(data)
                    else:
                        out_open = False
            stopped_early = timed_out or overflow or over_quota or execution.cancelled.is_set()
            exit_code = execution.finish(kill=stopped_early or out_open)
            if status_r is not None:
                # The rest of bubblewrap's status; its writer is dead now, so this ends.
                with contextlib.suppress(BlockingIOError):
                    while chunk := os.read(status_r, 65536):
                        status += chunk
            # Whatever the dead tree left in the pipe, bounded by the output limit.
            self._drain(out_fd, stream)
        finally:
            selector.close()
        output, truncated = stream.render()
        if overflow:
            truncated = True
            output += (
                f"\n[output exceeded {self.limits.output_bytes // 1024**2} MiB;"
                " the command was stopped]"
            )
        if execution.cancelled.is_set():
            output += "\n[the command was cancelled]"
        over_quota = watch.stop() or over_quota
        if over_quota:
            output += (
                f"\n[{watch.describe()}; the command was stopped. Delete what it generated"
                " (e.g. build output, downloads) before going on]"
            )
        # bubblewrap reports an exit code only for a command that actually ran.
        ran = status_r is None or status_value(bytes(status), "exit-code") is not None
        if not ran and not stopped_early:
            raise SandboxError(
                f"bubblewrap could not set up the sandbox (exit {exit_code}): {output.strip()}"
                " — check that bubblewrap works here (`rolecall doctor`) and that unprivileged"
                " user namespaces are allowed"
            )
        return CommandResult(exit_code, output, timed_out, truncated, over_quota)

    def _drain(self, out_fd: int, stream: StreamCap) -> None:
        deadline = time.monotonic() + KILL_GRACE
        budget = self.limits.output_bytes
        while time.monotonic() < deadline and budget > 0:
            try:
                data = os.read(out_fd, 65536)
            except BlockingIOError:
                # A writer that escaped the kill (only possible without bubblewrap).
                time.sleep(0.01)
                continue
            if not data:
                return
            budget -= len(data)
            stream.feed(data)


class UnsandboxedRunner(ProcessRunner):
    """The explicit unsafe "none" backend: no confinement beyond a clean environment.

    The command sees the host filesystem and network as the worker's user. It still
    gets a cleared environment, the rlimits, its own session and process group (killed
    on timeout and after the command, so background jobs do not linger) and the cgroup
    when one is writable. A process that calls `setsid` escapes the group kill unless a
    cgroup is in use.
    """

    def _launch_env(self) -> dict[str, str]:
        return dict(self.env)

    def _argv(self, command: str, fds: Mapping[str, int]) -> list[str]:
        return wrap_command(command, self.limits)
