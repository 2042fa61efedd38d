"""What one sandboxed Bash call costs: `true` through the toolbox, against bare bubblewrap.

Five ways to run `true`, interleaved round by round on each worktree:

- **bare bwrap**: `bwrap --ro-bind / / true` as this process's user (the anchor, as
  measured in issue #12); **bare as user**: the same started as the sandbox user (as
  root: `ROLECALL_SANDBOX_USER`, through `setpriv`), which adds a user namespace;
- **bound**: bubblewrap with exactly the namespaces, mounts, seccomp filter and
  dropped capabilities the invariants require (Rolecall's own command line) running
  `/bin/true` itself, as the sandbox user: what no sandboxed call can go below;
- **rolecall argv**: Rolecall's own bubblewrap command line (`BwrapSandbox._argv`, its
  descriptors, its environment) running `true` through `bash -c` with the rlimits, run
  directly as the sandbox user, without the runner around it (no cgroup, no worktree
  measurement);
- **Toolbox Bash**: `Toolbox.call("Bash", {"command": "true"})` on a sandbox made by
  `make_sandbox`, as a job makes it (as root: run as `ROLECALL_SANDBOX_USER`, cgroup).

Worktrees: empty, 5,000 and 20,000 files (100 per directory), on disk and, when this
process may mount in a namespace of its own (root, or `unshare --user` allowed), on a
size-capped tmpfs as `agents.workspace.volume` mounts it for `rolecall serve`.

    .venv/bin/python bench/sandbox_call.py --runs 40
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# What a `rolecall serve` process has loaded when a job runs: starting a process costs
# more in a larger one (fork copies its page tables), so the bench is as large.
import agents.run  # noqa: F401
import bot.jobs.run_spec
import bot.queue
import bot.web  # noqa: F401
from agents.host import running_as_host_root
from agents.sandbox.bubblewrap import BwrapSandbox, make_sandbox
from agents.sandbox.limits import ResourceLimits, wrap_command
from agents.sandbox.user import SandboxUser
from agents.tools.toolbox import Toolbox
from agents.workspace.volume import PRIVATE_MOUNTS_ENV, WorktreeVolume

SIZES = (0, 5_000, 20_000)
BARE = ["bwrap", "--ro-bind", "/", "/", "true"]
_PER_DIR = 100


def fill(worktree: Path, files: int) -> None:
    """`files` small files, `_PER_DIR` to a directory."""
    for i in range(files):
        directory = worktree / f"d{i // _PER_DIR:04d}"
        if i % _PER_DIR == 0:
            directory.mkdir()
        (directory / f"f{i % _PER_DIR:03d}.txt").write_text(f"line {i}\n")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, check=False)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rss = "?"
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = f"{int(line.split()[1]) // 1024} MiB"
    return (
        f"{os.cpu_count()} cores, {model}; Linux {platform.release()}; "
        f"Python {platform.python_version()}; {bwrap.stdout.strip()}; load average {load}; "
        f"this process {rss} resident (a worker's imports)"
    )


class Subjects:
    """The ways of running `true` on one worktree."""

    def __init__(self, worktree: Path, run_as: SandboxUser | None) -> None:
        self.run_as = run_as
        limits = ResourceLimits()
        sandbox = make_sandbox("bwrap", worktree, allow_unsafe=False, limits=limits, run_as=run_as)
        assert isinstance(sandbox, BwrapSandbox)
        self.sandbox = sandbox
        self.toolbox = Toolbox(worktree, self.sandbox, ["Bash"])
        self.worktree = worktree

    def _as_user(self, argv: list[str]) -> list[str]:
        """`argv` started as the sandbox user through `setpriv`, so this (large) process
        still starts it with vfork: Python forks when asked to change the user itself."""
        owner = self.run_as
        if owner is None:
            return argv
        return [
            "setpriv", f"--reuid={owner.uid}", f"--regid={owner.gid}", "--clear-groups",
            "--", *argv,
        ]  # fmt: skip

    def bare(self) -> None:
        subprocess.run(BARE, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)

    def bare_as_user(self) -> None:
        subprocess.run(
            self._as_user(BARE), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True
        )

    def argv(self) -> None:
        self._rolecall_argv(bound=False)

    def bound(self) -> None:
        self._rolecall_argv(bound=True)

    def _rolecall_argv(self, *, bound: bool) -> None:
        """Rolecall's bubblewrap command line running `true`: through `bash -c` with the
        rlimits as the runner does, or (`bound`) `/bin/true` itself."""
        sandbox = self.sandbox
        status_r, status_w = os.pipe()
        fds = {"status": status_w, **sandbox._launch_fds()}
        argv = sandbox._argv("true", fds)
        if bound:
            command = wrap_command("true", sandbox.limits)
            assert argv[-len(command) :] == command, "the command is not where expected"
            argv = [*argv[: -len(command)], "/bin/true"]
        try:
            subprocess.run(
                self._as_user(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.worktree,
                env=sandbox._launch_env(),
                start_new_session=True,
                pass_fds=tuple(fds.values()),
                check=True,
            )
        finally:
            for fd in fds.values():
                os.close(fd)
            os.close(status_r)

    def toolbox_bash(self) -> None:
        result = self.toolbox.call("Bash", {"command": "true"})
        if result.is_error:
            raise SystemExit(f"Bash true failed: {result.content}")


def summary(samples: list[float]) -> tuple[float, float]:
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    return median * 1000, p95 * 1000


def in_private_mounts() -> bool:
    """Re-execute under `unshare` (as `rolecall serve` does) so tmpfs worktrees can be tried."""
    if os.environ.get(PRIVATE_MOUNTS_ENV) is not None:
        return os.environ[PRIVATE_MOUNTS_ENV] == "1"
    unshare = shutil.which("unshare")
    if unshare is None:
        os.environ[PRIVATE_MOUNTS_ENV] = "0"
        return False
    prefix = [unshare, "--mount", "--propagation", "private"]
    if not running_as_host_root():
        prefix[1:1] = ["--user", "--map-root-user"]
    if subprocess.run([*prefix, "--", "true"], capture_output=True, check=False).returncode:
        os.environ[PRIVATE_MOUNTS_ENV] = "0"
        return False
    os.environ[PRIVATE_MOUNTS_ENV] = "1"
    os.execv(unshare, [*prefix, "--", sys.executable, *sys.argv])  # noqa: S606


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-tmpfs", action="store_true", help="on-disk worktrees only")
    options = parser.parse_args()
    runs = max(2, min(options.runs, 1000))
    tmpfs = not options.no_tmpfs and in_private_mounts()
    run_as = SandboxUser.named(os.environ.get("ROLECALL_SANDBOX_USER", "nobody"))
    if not running_as_host_root():
        run_as = None  # type: ignore[assignment]
    base = Path(tempfile.mkdtemp(prefix="rolecall-bench-", dir="/var/tmp"))
    base.chmod(0o711)
    volume = WorktreeVolume(1024**3, 100_000)
    subjects: dict[str, Subjects] = {}
    mounted: list[Path] = []
    try:
        for where in ("disk", "tmpfs") if tmpfs else ("disk",):
            for size in SIZES:
                worktree = base / f"{where}-{size}"
                worktree.mkdir()
                if where == "tmpfs":
                    volume.mount(worktree)
                    mounted.append(worktree)
                fill(worktree, size)
                if where == "tmpfs":
                    volume.fit(worktree)
                subjects[f"{where} {size:>6,} files"] = Subjects(worktree, run_as)
        ways: dict[str, Callable[[Subjects], None]] = {
            "bare bwrap": Subjects.bare,
            "bare as user": Subjects.bare_as_user,
            "bound": Subjects.bound,
            "rolecall argv": Subjects.argv,
            "Toolbox Bash": Subjects.toolbox_bash,
        }
        times = {(tree, way): [] for tree in subjects for way in ways}  # type: dict[tuple[str, str], list[float]]
        for subject in subjects.values():  # warm-up: caches, the first cap measurement
            for run in ways.values():
                run(subject)
        for _ in range(runs):
            for tree, subject in subjects.items():
                for way, run in ways.items():
                    started = time.perf_counter()
                    run(subject)
                    times[(tree, way)].append(time.perf_counter() - started)
        user = run_as.name if run_as is not None else "Rolecall's own user"
        print(f"machine: {machine()}")
        print(f"{runs} interleaved runs of `true` each; the sandbox user is {user}")
        print(
            f"{'worktree':22} {'way':14} {'median':>9} {'p95':>9}"
            "  to bare  to bound (ratios of medians)"
        )
        for tree in subjects:
            anchor = statistics.median(times[(tree, "bare bwrap")])
            bound = statistics.median(times[(tree, "bound")])
            for way in ways:
                median, p95 = summary(times[(tree, way)])
                to_bare, to_bound = median / 1000 / anchor, median / 1000 / bound
                print(
                    f"{tree:22} {way:14} {median:6.1f} ms {p95:6.1f} ms"
                    f"  {to_bare:6.1f}x  {to_bound:7.2f}x"
                )
        everywhere = [t for tree in subjects for t in times[(tree, "bound")]]
        anchors = [t for tree in subjects for t in times[(tree, "bare bwrap")]]
        print(
            "the bound (the namespaces and mounts the invariants require, as the sandbox "
            f"user) is {statistics.median(everywhere) / statistics.median(anchors):.1f}x "
            "bare bwrap on its own"
        )
    finally:
        for worktree in mounted:
            subprocess.run(["umount", "--lazy", "--", str(worktree)], check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
