"""Resource limits for sandboxed commands: rlimits always, a cgroup when one is writable.

Two mechanisms, because neither works everywhere:

- **rlimits**, set by a tiny shell prologue *inside* the sandbox before the agent's
  command runs (so no `preexec_fn` in a threaded worker). With every capability
  dropped the command cannot raise them again. `RLIMIT_AS` bounds each process's
  memory, `RLIMIT_FSIZE` the size of any one file it writes, `RLIMIT_CORE` is 0.
  `RLIMIT_NPROC` stops fork bombs only when Rolecall runs as a non-root user: the
  kernel counts processes per user *namespace*, so inside bubblewrap's fresh user
  namespace the count is per sandbox. For host root (uid 0, `INIT_USER`) the kernel
  ignores `RLIMIT_NPROC` altogether — measured on this machine: 300 forks succeed
  under `ulimit -u 50`.
- **cgroup v1** `pids` and `memory` controllers, when the hierarchy below our own
  cgroup is writable (root on a cgroup v1 host, as here). `pids.max` is what stops a
  fork bomb when running as root; `memory.limit_in_bytes` bounds the sandbox's total
  memory (including its `/tmp` tmpfs). Each command gets a fresh cgroup, removed after.
  The launcher joins it by writing `0` to its `tasks` file, which moves only the writing
  thread: the kernel then skips the system-wide lock a `cgroup.procs` write takes, whose
  RCU grace period cost about 10 ms a command here (see `cgroup_launcher`).
  cgroup v2 is not used: its "no processes in inner nodes" rule needs delegation set up
  by the operator, so on a v2 host running as root only the rlimits and the timeout
  apply (see `process_limit_mechanism`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GIB = 1024**3
_MEASURE_TIMEOUT = 120.0
MIB = 1024**2
# Polling an emptying cgroup: first pause, longest pause, and how long removal may take.
_POLL_FIRST = 0.0005
_POLL_MAX = 0.01
_REMOVE_WAIT = 1.0


@dataclass(frozen=True)
class ResourceLimits:
    """Limits for one sandboxed command (and everything it starts).

    `address_space_bytes` is per process (`RLIMIT_AS`): runtimes that reserve large
    virtual ranges (JVM, V8) need it generous. `memory_bytes` is the total for the
    whole command and is enforced only through a cgroup. `output_bytes` is how much
    output is read before the command is stopped as runaway.
    """

    address_space_bytes: int = 8 * GIB
    memory_bytes: int = 8 * GIB
    max_processes: int = 1024
    file_size_bytes: int = 1 * GIB
    tmp_bytes: int = 1 * GIB
    output_bytes: int = 16 * MIB
    use_cgroup: bool = True
    # How much a command may grow the worktree (disk actually allocated, and number of
    # entries) beyond its size when the sandbox first ran a command, or beyond its size
    # when the command started if that is larger: `WorktreeWatch` stops it past that.
    worktree_growth_bytes: int = 1 * GIB
    worktree_growth_entries: int = 100_000


@dataclass(frozen=True)
class DiskUsage:
    """What a directory tree holds on disk: allocated bytes and entries (files, dirs, links)."""

    bytes: int
    entries: int


def disk_usage(root: Path) -> DiskUsage:
    """Allocated size (`st_blocks`, so sparse files count for what they really use) and
    number of entries below `root`, never following symlinks or leaving its filesystem.

    GNU find walks from directory descriptors, so a tree nested far past PATH_MAX (which
    a path-based walk cannot even open) is counted like any other; it prints one number
    per entry and no names, so no name the agent chose is ever parsed.
    """
    done = subprocess.run(
        ["find", str(root), "-xdev", "-mindepth", "1", "-printf", "%b\\n"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=_MEASURE_TIMEOUT,
        check=False,
    )
    blocks = done.stdout.split()
    return DiskUsage(sum(int(b) for b in blocks) * 512, len(blocks))


class WorktreeWatch:
    """Watches a worktree while one command runs; `exceeded` is set once it is too big.

    RLIMIT_FSIZE caps one file, not how many a command writes, and the worktree is on
    the host's disk (a tmpfs cannot be laid over it without copying the repository), so
    the tree is measured on a thread while the command runs and once after it: past the
    limit, the command is killed. The interval grows with the time a measurement takes,
    so a large repository does not keep a core busy; between two looks a command can
    write at most what the disk takes in that interval, which bounds the overshoot.
    """

    def __init__(self, root: Path, allowed: DiskUsage) -> None:
        self.root = root
        self.allowed = allowed
        self.exceeded = threading.Event()
        self.seen = DiskUsage(0, 0)
        # True for a worktree the kernel caps: `seen` is then never measured.
        self.unmeasured = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rolecall-disk", daemon=True)

    @classmethod
    def unneeded(cls, root: Path) -> WorktreeWatch:
        """For a worktree the kernel caps (a tmpfs of its own): nothing to measure."""
        watch = cls(root, DiskUsage(0, 0))
        watch.unmeasured = True
        watch._stop.set()
        return watch

    def start(self) -> WorktreeWatch:
        self._thread.start()
        return self

    def _check(self) -> None:
        self.seen = disk_usage(self.root)
        if self.seen.bytes > self.allowed.bytes or self.seen.entries > self.allowed.entries:
            self.exceeded.set()

    def _watch(self) -> None:
        interval = 0.1
        while not self._stop.wait(interval) and not self.exceeded.is_set():
            started = time.monotonic()
            self._check()
            interval = max(0.1, 3 * (time.monotonic() - started))

    def stop(self) -> bool:
        """Stop watching, measure once more; whether the limit was passed at any point."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self._check()
        return self.exceeded.is_set()

    def describe(self) -> str:
        return (
            f"the working tree grew past its limit ({self.allowed.bytes // MIB} MiB, "
            f"{self.allowed.entries} entries; it holds {self.seen.bytes // MIB} MiB, "
            f"{self.seen.entries} entries)"
        )


def ulimit_prologue(limits: ResourceLimits) -> str:
    """Shell lines that set the rlimits for the rest of the shell and its children.

    `ulimit` without -S/-H sets both soft and hard limits. A failure means the
    inherited hard limit is already lower, which is fine, so errors are silenced.
    """
    kib = 1024
    return (
        f"ulimit -v {limits.address_space_bytes // kib} 2>/dev/null; "
        f"ulimit -u {limits.max_processes} 2>/dev/null; "
        f"ulimit -f {limits.file_size_bytes // kib} 2>/dev/null; "
        "ulimit -c 0 2>/dev/null; "
    )


def wrap_command(
    command: str, limits: ResourceLimits, prologue: str = "", args: Sequence[str] = ()
) -> list[str]:
    """argv that sets the rlimits, runs `prologue` (which may read `args` as $2, $3, …),
    then runs `command` with `bash -c`.

    Without a prologue, one shell does both: `bash -c "<ulimits>; <command>"` on one
    line, so the command's line numbers and `$0` are what `bash -c "<command>"` gives.
    bash parses and runs a line before it reads the next, and nothing in the command can
    reach back before the limits, which run first; a syntax error on the command's first
    line stops the whole line, limits and command alike (bash then quotes the line with
    the limits in it). A prologue with arguments gets a shell of its own, which then
    `exec`s a fresh `bash -c` for the command.
    """
    if not prologue and not args:
        return ["/bin/bash", "-c", ulimit_prologue(limits) + command]
    script = ulimit_prologue(limits) + prologue + 'exec /bin/bash -c "$1"'
    return ["/bin/bash", "-c", script, "bash", command, *args]


def _cgroup_v1_dir(controller: str) -> Path | None:
    """Our own cgroup directory in the v1 hierarchy that carries `controller`."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
        own = Path("/proc/self/cgroup").read_text()
    except OSError:
        return None
    mount_point = mount_root = None
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        tail_fields = tail.split()
        if len(tail_fields) < 3 or tail_fields[0] != "cgroup":
            continue
        if controller in tail_fields[2].split(","):
            parts = fields.split()
            mount_root, mount_point = parts[3], parts[4]
            break
    if mount_point is None or mount_root is None:
        return None
    for line in own.splitlines():
        _hid, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            relative = os.path.relpath(path, mount_root)
            if relative.startswith(".."):
                return None
            return Path(mount_point) / relative
    return None


# The v1 controllers a command's cgroup uses.
_CONTROLLERS = ("pids", "memory")


def cgroup_bases() -> dict[str, Path]:
    """Where this process's cgroup is, per controller Rolecall uses (those it finds).

    Read once per sandbox (it parses /proc/self/mountinfo), not once per command.
    """
    found = {controller: _cgroup_v1_dir(controller) for controller in _CONTROLLERS}
    return {controller: base for controller, base in found.items() if base is not None}


class CommandCgroup:
    """A throw-away v1 cgroup (pids and/or memory) for one command.

    `create()` returns None when no controller is writable; the command then runs with
    rlimits only. The launcher joins every `join_files` before it execs bubblewrap
    (`cgroup_launcher`), so every process of the command is inside from the start.
    """

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    @classmethod
    def create(
        cls,
        limits: ResourceLimits,
        *,
        owner: tuple[int, int] | None = None,
        bases: dict[str, Path] | None = None,
    ) -> CommandCgroup | None:
        """A fresh cgroup per controller; `owner` (uid, gid) may move itself into it.

        `bases` is what `cgroup_bases()` returned (looked up here when not given).
        """
        if not limits.use_cgroup:
            return None
        if bases is None:
            bases = cgroup_bases()
        name = f"rolecall-{uuid.uuid4().hex[:12]}"
        settings = {
            "pids": {"pids.max": str(limits.max_processes)},
            "memory": {"memory.limit_in_bytes": str(limits.memory_bytes)},
        }
        dirs: list[Path] = []
        for controller, files in settings.items():
            base = bases.get(controller)
            if base is None:
                continue
            path = base / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                for file, value in files.items():
                    (path / file).write_text(value)
                if owner is not None:  # the launcher, running as owner, joins it itself
                    os.chown(path / "tasks", *owner)
            except OSError as exc:
                log.warning("cgroup %s: cannot set limits (%s); not using it", path, exc)
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            dirs.append(path)
        return cls(dirs) if dirs else None

    @property
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    @property
    def join_files(self) -> list[Path]:
        """What the launcher writes `0` to: the v1 `tasks` files (see `cgroup_launcher`)."""
        return [d / "tasks" for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for file in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in file.read_text().split())
        return found

    def kill(self, *, wait: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty; False if it never empties.

        A v1 cgroup announces nothing when it empties, so it is polled: killed processes
        leave within a millisecond or two, so the first looks come after 0.5, 1, 2 ms
        and the interval grows to at most `_POLL_MAX`.
        """
        deadline = time.monotonic() + wait
        pause = _POLL_FIRST
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(2 * pause, _POLL_MAX)

    def remove(self) -> None:
        """Kill what is left and delete the cgroup directories."""
        self.kill()
        for path in self.dirs:
            deadline = time.monotonic() + _REMOVE_WAIT
            pause = _POLL_FIRST
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        log.warning("cgroup %s could not be removed", path)
                        break
                    time.sleep(pause)
                    pause = min(2 * pause, _POLL_MAX)


def cgroup_launcher(cgroup: CommandCgroup | None) -> list[str]:
    """argv prefix that moves the launcher into `cgroup` and then execs the rest.

    The launcher (`sh`, one thread) writes `0`, "the writing thread", to each `tasks`
    file: for a thread moving itself the kernel skips `cgroup_threadgroup_rwsem`, whose
    write side waits for an RCU grace period (about 10 ms here, every command) when a
    pid is written to `cgroup.procs`. A single-threaded process that moves its only
    thread has moved whole, before it starts anything, so its children are born inside.
    """
    if cgroup is None:
        return []
    files = [str(f) for f in cgroup.join_files]
    script = "".join(f'echo 0 > "${i}" && ' for i in range(1, len(files) + 1))
    script += f'shift {len(files)} && exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *files]


def process_limit_mechanism(limits: ResourceLimits) -> str:
    """What stops a fork bomb here: "cgroup-pids", "rlimit-nproc" or "none"."""
    cgroup = CommandCgroup.create(limits)
    try:
        if cgroup is not None and any((d / "pids.max").exists() for d in cgroup.dirs):
            return "cgroup-pids"
    finally:
        if cgroup is not None:
            cgroup.remove()
    return "rlimit-nproc" if os.getuid() != 0 else "none"
