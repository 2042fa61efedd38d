"""Where the agent's shell commands run: bubblewrap by default, an explicit unsafe "none".

Every command is one `bash -c` in the worktree, in a fresh sandbox that lives exactly as
long as the command: background processes die with it, nothing carries over but files
in the worktree. Failures (non-zero exit, timeout, runaway output) are data in the
`CommandResult`, never exceptions; `SandboxError` is only for a sandbox that cannot be
set up at all, which is an operator's problem, not the model's.

What bubblewrap confines (each point has a test in tests/agents/test_sandbox.py):

- Filesystem: a read-only `/usr`, `/etc` (minus shadow files and SSH host keys) and the
  `/bin`, `/lib*` links; a private `/tmp` tmpfs, a minimal `/dev` and a new `/proc`; the
  rest of the root read-only and empty. The worktree is bound writable at its own
  path, the job's mirror read-only at `SANDBOX_MIRROR` (where the agent's
  `.git/objects/info/alternates` points), `read_only_paths` read-only at theirs.
- Git: the worktree's `.git` is the agent's, all of it: hooks, config, links, FIFOs.
  Rolecall's host-side git never reads it (agents.workspace keeps its own git dir
  outside the sandbox and reads the worktree back as data), so nothing there is
  protected here. The mirror is read-only and holds one repository's objects.
- Namespaces: `--unshare-all` (user, pid, net, ipc, uts, cgroup); the network is only a
  loopback interface unless `network=True`; with `egress_dir`, the one way out is the
  host's allow-list proxy (`agents.netproxy`), reached through a Unix socket bound
  read-only and a forwarder on the sandbox's own loopback; nested user namespaces are
  disabled;
  `--cap-drop ALL`, `no_new_privs`, `--new-session` (no TIOCSTI into our terminal),
  `--die-with-parent`.
- Environment: cleared; only PATH, HOME=/tmp, LANG, TERM and the caller's extras, which
  are refused when they look like credentials. bubblewrap itself is started with an
  empty environment too, because its pid-1 `/proc/1/environ` shows bubblewrap's.
- Killing: the command's PID namespace dies with its pid 1, so killing pid 1 (through a
  pidfd, immune to pid reuse) kills the whole tree; bubblewrap runs in its own session,
  whose process group is killed as well, and the cgroup when there is one.
- Resources: see `agents.sandbox_limits` (rlimits always; cgroup pids/memory when
  writable). Output is read incrementally and capped head+tail; a command that writes
  more than `ResourceLimits.output_bytes` is stopped. The worktree is watched while a
  command runs (`WorktreeWatch`): one that grows it past the allowed growth is stopped.
- System calls: a seccomp filter (agents.seccomp) refuses `fallocate`, which would
  reserve disk past the worktree watch and RLIMIT_FSIZE in one call.

Not enforced: a hard disk quota (the worktree watch looks every 0.1 s or so, so a command
can overshoot by what the disk writes in that time, and `RLIMIT_FSIZE` caps each file);
CPU share (only the timeout bounds it); a fork bomb when running as
root without a writable cgroup v1 `pids` hierarchy, e.g. root on a cgroup v2 host
(`RLIMIT_NPROC` does not apply to root; the timeout and the PID namespace still end it).
Everything else in `/etc` is readable, so no credential may live there. With
`network=True` the host's loopback services and abstract Unix sockets are reachable,
because the network namespace is shared.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from agents.capping import DEFAULT_MAX_CHARS, StreamCap
from agents.netproxy import (
    SANDBOX_DIR,
    forwarder_prologue,
    proxy_environment,
    sandbox_python,
)
from agents.sandbox_limits import (
    CommandCgroup,
    DiskUsage,
    ResourceLimits,
    WorktreeWatch,
    cgroup_launcher,
    disk_usage,
    wrap_command,
)
from agents.sandbox_user import SandboxUser, running_as_host_root, unreachable_by
from agents.seccomp import filter_program
from agents.workspace.checkout import SANDBOX_MIRROR

log = logging.getLogger(__name__)
SECCOMP_PROGRAM = filter_program()

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENV: Mapping[str, str] = {
    "PATH": SAFE_PATH,
    "HOME": "/tmp",  # noqa: S108 - the sandbox's private tmpfs
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    # No bytecode caches: they litter the diff, and a same-size edit within the same
    # second would leave a stale .pyc that makes the fixed code still run the old one.
    "PYTHONDONTWRITEBYTECODE": "1",
}
BWRAP_MISSING = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"

# Host files that stay hidden even though /etc is visible.
_HIDDEN_ETC = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}|github_pat_|sk-ant-|-----BEGIN [A-Z ]*PRIVATE KEY"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# How long to wait for a killed tree to disappear before escalating.
_KILL_GRACE = 3.0
_POLL = 0.05


class SandboxError(Exception):
    """The sandbox cannot run commands at all (missing tool, refused configuration)."""


@dataclass(frozen=True)
class CommandResult:
    """What one command did.

    `exit_code` follows the shell convention: 128+N when killed by signal N (so a
    timeout is usually 137). `output` is stdout and stderr merged, capped head+tail.
    """

    exit_code: int
    output: str
    timed_out: bool
    truncated: bool
    # The command grew the worktree past `ResourceLimits.worktree_growth_*` and was stopped.
    over_quota: bool = False


class Sandbox(Protocol):
    """Runs shell commands for the agent, confined to a worktree."""

    # Whom commands run as (the file tools give what they create to the same user).
    run_as: SandboxUser | None

    def run(self, command: str, *, timeout: float) -> CommandResult: ...

    def kill_all(self) -> None: ...


def sandbox_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The complete environment of a sandboxed command: BASE_ENV plus `extra`.

    Refuses extras whose name or value looks like a credential: nothing secret may
    reach the agent (invariant 1), and a caller passing one is a bug worth stopping.
    """
    env = dict(BASE_ENV)
    for name, value in (extra or {}).items():
        if not _ENV_NAME.fullmatch(name):
            raise SandboxError(f"invalid environment variable name for the sandbox: {name!r}")
        if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value):
            raise SandboxError(
                f"refusing to pass {name} into the sandbox: it looks like a credential"
            )
        env[name] = value
    return env


class _Execution:
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
                deadline = time.monotonic() + _KILL_GRACE
                while not self.exited() and time.monotonic() < deadline:
                    time.sleep(0.005)
        # Even after a normal exit: background processes of the unsandboxed runner.
        self.signal_tree()
        if self.cgroup is not None:
            self.cgroup.kill()
        code = self.proc.wait()
        with self._lock:
            self._reaped = True
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return 128 - code if code < 0 else code


class _ProcessRunner:
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
        self._active: set[_Execution] = set()
        self._active_lock = threading.Lock()
        self._disk_cap: DiskUsage | None = None

    def _watch_worktree(self) -> WorktreeWatch:
        """Start watching the worktree for the command about to run.

        The cap is set when the first command runs (the checkout plus the allowed
        growth); a command that starts above it (an earlier one was stopped) may shrink
        the tree but not grow it further. A worktree on a tmpfs of its own is capped by
        the kernel (agents.workspace.volume) and is not walked at all.
        """
        if os.path.ismount(self.worktree):
            return WorktreeWatch.unneeded(self.worktree)
        now = disk_usage(self.worktree)
        if self._disk_cap is None:
            self._disk_cap = DiskUsage(
                now.bytes + self.limits.worktree_growth_bytes,
                now.entries + self.limits.worktree_growth_entries,
            )
        allowed = DiskUsage(
            max(self._disk_cap.bytes, now.bytes), max(self._disk_cap.entries, now.entries)
        )
        return WorktreeWatch(self.worktree, allowed).start()

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
        owner = self.run_as
        cgroup = CommandCgroup.create(self.limits, owner=owner.ids if owner else None)
        status_r = None
        fds: dict[str, int] = {}
        try:
            if self._uses_status_fd:
                status_r, fds["status"] = os.pipe()
            fds.update(self._launch_fds())
            argv = cgroup_launcher(cgroup) + self._argv(command, fds)
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
        execution = _Execution(proc, cgroup)
        with self._active_lock:
            self._active.add(execution)
        watch = self._watch_worktree()
        try:
            return self._collect(execution, status_r, timeout, watch)
        finally:
            watch.stop()
            with self._active_lock:
                self._active.discard(execution)
            if proc.stdout is not None:
                proc.stdout.close()
            if status_r is not None:
                os.close(status_r)
            if cgroup is not None:
                cgroup.remove()

    def _collect(
        self, execution: _Execution, status_r: int | None, timeout: float, watch: WorktreeWatch
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
                        pid = _status_value(bytes(status), "child-pid")
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
        ran = status_r is None or _status_value(bytes(status), "exit-code") is not None
        if not ran and not stopped_early:
            raise SandboxError(
                f"bubblewrap could not set up the sandbox (exit {exit_code}): {output.strip()}"
                " — check that bubblewrap works here (`rolecall doctor`) and that unprivileged"
                " user namespaces are allowed"
            )
        return CommandResult(exit_code, output, timed_out, truncated, over_quota)

    def _drain(self, out_fd: int, stream: StreamCap) -> None:
        deadline = time.monotonic() + _KILL_GRACE
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


def _status_value(status: bytes, key: str) -> int | None:
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


class BwrapSandbox(_ProcessRunner):
    """Commands in a bubblewrap sandbox that sees the system read-only and the worktree.

    See the module docstring for what is confined and how.
    """

    _uses_status_fd = True

    def __init__(
        self,
        worktree: Path,
        *,
        read_only_paths: Sequence[Path] = (),
        mirror: Path | None = None,
        network: bool = False,
        egress_dir: Path | None = None,
        max_output_chars: int = DEFAULT_MAX_CHARS,
        env: Mapping[str, str] | None = None,
        limits: ResourceLimits | None = None,
        run_as: SandboxUser | None = None,
    ) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError(BWRAP_MISSING)
        self.bwrap = bwrap
        super().__init__(worktree, max_output_chars=max_output_chars, env=env, limits=limits)
        # The egress proxy (agents.netproxy): its directory is bound read-only, and a
        # forwarder inside relays the proxy port on the sandbox's own loopback to it.
        self.egress_dir = Path(egress_dir).absolute() if egress_dir is not None else None
        self._forwarder: tuple[str, list[str]] = ("", [])
        if self.egress_dir is not None:
            python = sandbox_python()
            if python is None:
                raise SandboxError(
                    "the network allow-list needs python3 under /usr for its in-sandbox "
                    "forwarder; install python3 or leave ROLECALL_NETWORK_ALLOWLIST empty"
                )
            self._forwarder = forwarder_prologue(python)
            self.env.update(proxy_environment())
        self.read_only_paths = [Path(p).absolute() for p in read_only_paths]
        for path in self.read_only_paths:
            if not path.exists():
                raise SandboxError(f"read-only path {path} does not exist")
        self.mirror = Path(mirror).absolute() if mirror is not None else None
        if self.mirror is not None and not self.mirror.is_dir():
            raise SandboxError(f"mirror {self.mirror} does not exist")
        self.network = network
        if run_as is not None:
            self._hand_over(run_as)
        self.run_as = run_as

    def _hand_over(self, user: SandboxUser) -> None:
        """Run as `user`: the worktree becomes theirs (links changed, never followed)."""
        if not running_as_host_root():
            raise SandboxError(
                f"only root can run the sandbox as {user.name}; Rolecall runs as "
                f"{pwd.getpwuid(os.geteuid()).pw_name}, which already is unprivileged"
            )
        if self.egress_dir is not None:  # the proxy's own private directory
            self.egress_dir.chmod(0o711)
        bound = [self.worktree, self.mirror, self.egress_dir, *self.read_only_paths]
        for path in bound:
            if path is not None and (blocked := unreachable_by(path, user)) is not None:
                raise SandboxError(
                    f"the sandbox user {user.name} cannot reach {path}: {blocked} is not "
                    f"searchable by it. Run `chmod o+x {blocked}`, move ROLECALL_DATA_DIR "
                    "under a directory others may enter, or run Rolecall as an "
                    "unprivileged user"
                )
        done = subprocess.run(
            ["chown", "-R", "-P", "-h", f"{user.uid}:{user.gid}", "--", str(self.worktree)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SandboxError(f"cannot hand the worktree to {user.name}: chown failed")
        if self.egress_dir is not None:  # the proxy's socket: connecting needs write access
            for entry in self.egress_dir.iterdir():
                if entry.is_socket():
                    os.chown(entry, user.uid, user.gid, follow_symlinks=False)

    def _launch_fds(self) -> dict[str, int]:
        """The seccomp filter, and every directory bound in, opened by Rolecall.

        Binding an open descriptor (`--bind-fd`) rather than a path means bubblewrap,
        which may run as an unprivileged user, needs no access to the data directory's
        parents, and nothing can swap a path between this check and the mount.
        """
        fds: dict[str, int] = {}
        try:
            fds["seccomp"] = _seccomp_fd()
            binds = {"worktree": self.worktree, "mirror": self.mirror, "egress": self.egress_dir}
            binds |= {f"ro{i}": path for i, path in enumerate(self.read_only_paths)}
            for name, path in binds.items():
                if path is None:
                    continue
                try:
                    fds[name] = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError as exc:
                    raise SandboxError(
                        f"bubblewrap could not set up the sandbox: cannot bind {path} "
                        f"({exc.strerror})"
                    ) from exc
        except BaseException:
            for fd in fds.values():
                os.close(fd)
            raise
        return fds

    def _system_binds(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            path = Path(name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), name]
            elif path.is_dir():
                args += ["--ro-bind", name, name]
        args += ["--ro-bind", "/etc", "/etc"]
        for hidden in _HIDDEN_ETC:
            if os.path.isfile(hidden) and not os.path.islink(hidden):
                args += ["--ro-bind", "/dev/null", hidden]
        ssh = Path("/etc/ssh")
        if ssh.is_dir():
            for key in sorted(ssh.glob("ssh_host_*_key")):
                if key.is_file() and not key.is_symlink():
                    args += ["--ro-bind", "/dev/null", str(key)]
        if self.network:
            resolv = Path("/etc/resolv.conf")
            if resolv.is_symlink():  # e.g. into /run/systemd/resolve, which is not bound
                target = resolv.resolve().parent
                if target.is_dir():
                    args += ["--ro-bind", str(target), str(target)]
        return args

    def _argv(self, command: str, fds: Mapping[str, int]) -> list[str]:
        args = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            *(["--share-net"] if self.network else []),
            "--die-with-parent",
            "--new-session",
            "--cap-drop", "ALL",
            *self._system_binds(),
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",  # noqa: S108 - private
            # /dev and /dev/shm hold only what bubblewrap made: nothing to fill but the
            # capped /dev/shm (otherwise half of RAM).
            "--dev", "/dev",
            "--remount-ro", "/dev",
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/dev/shm",  # noqa: S108
            "--proc", "/proc",
        ]  # fmt: skip
        for i, path in enumerate(self.read_only_paths):
            args += ["--ro-bind-fd", str(fds[f"ro{i}"]), str(path)]
        if "egress" in fds:
            args += ["--ro-bind-fd", str(fds["egress"]), SANDBOX_DIR]
        if "mirror" in fds:
            args += ["--ro-bind-fd", str(fds["mirror"]), SANDBOX_MIRROR]
        args += ["--bind-fd", str(fds["worktree"]), str(self.worktree)]
        args += ["--remount-ro", "/", "--chdir", str(self.worktree), "--clearenv"]
        for name, value in self.env.items():
            args += ["--setenv", name, value]
        if "status" in fds:
            args += ["--json-status-fd", str(fds["status"])]
        args += ["--seccomp", str(fds["seccomp"])]
        prologue, prologue_args = self._forwarder
        return [*args, "--", *wrap_command(command, self.limits, prologue, prologue_args)]


def _seccomp_fd() -> int:
    """A fresh descriptor holding the filter, read from its start by bubblewrap."""
    fd = os.memfd_create("rolecall-seccomp", os.MFD_CLOEXEC)
    os.write(fd, SECCOMP_PROGRAM)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class UnsandboxedRunner(_ProcessRunner):
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


def make_sandbox(
    kind: Literal["bwrap", "none"],
    worktree: Path,
    *,
    allow_unsafe: bool,
    read_only_paths: Sequence[Path] = (),
    mirror: Path | None = None,
    network: bool = False,
    egress_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    limits: ResourceLimits | None = None,
    run_as: SandboxUser | None = None,
) -> Sandbox:
    """The sandbox the settings ask for; "none" only when explicitly allowed.

    `egress_dir` is a running `agents.netproxy.EgressProxy`'s directory: the only
    network the sandbox then has is what that proxy admits.
    """
    if kind == "bwrap":
        return BwrapSandbox(
            worktree,
            read_only_paths=read_only_paths,
            mirror=mirror,
            network=network,
            egress_dir=egress_dir,
            env=env,
            limits=limits,
            run_as=run_as,
        )
    if kind == "none":
        if not allow_unsafe:
            raise SandboxError(
                "ROLECALL_SANDBOX=none runs agent commands unconfined on this host, with"
                " its files and network; set ROLECALL_ALLOW_UNSAFE_SANDBOX=true only on a"
                " disposable machine, or install bubblewrap and use ROLECALL_SANDBOX=bwrap"
            )
        return UnsandboxedRunner(worktree, env=env, limits=limits)
    raise SandboxError(f"unknown sandbox kind {kind!r}: use 'bwrap' or 'none'")
