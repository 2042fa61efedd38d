"""The cheap per-call path of the sandbox keeps what the slower one promised.

One shell sets the rlimits and runs the command; a root Rolecall hands the command to
the sandbox user through `setpriv` (or, without it, through Popen); on disk the
worktree is walked before a command only when the cap is unknown or already passed.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest

from agents.host import running_as_host_root
from agents.sandbox import runner
from agents.sandbox.bubblewrap import BWRAP_MISSING, BwrapSandbox
from agents.sandbox.limits import (
    DiskUsage,
    ResourceLimits,
    cgroup_bases,
    disk_usage,
    process_limit_mechanism,
)
from agents.sandbox.user import SandboxUser
from tests.helpers import enterable_dir, host_processes_with

pytestmark = pytest.mark.bwrap

MIB = 1024**2
USERS: list[SandboxUser | None] = [None]
if running_as_host_root():
    USERS.append(SandboxUser.named("nobody"))


@pytest.fixture(autouse=True)
def bwrap_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (sandbox tests need it and are never skipped)")


@pytest.fixture(params=USERS, ids=lambda user: f"as-{user.name}" if user else "as-service-user")
def user(request: pytest.FixtureRequest) -> SandboxUser | None:
    chosen: SandboxUser | None = request.param
    return chosen


@pytest.fixture
def worktree(user: SandboxUser | None, tmp_path: Path) -> Path:
    base = enterable_dir("call-path") if user is not None else tmp_path
    tree = base / "work"
    tree.mkdir()
    (tree / "README.md").write_text("hello\n")
    return tree


def test_one_shell_sets_the_limits_and_keeps_line_numbers(
    worktree: Path, user: SandboxUser | None
) -> None:
    limits = ResourceLimits(file_size_bytes=64 * MIB, address_space_bytes=4 * 1024**3)
    sandbox = BwrapSandbox(worktree, limits=limits, run_as=user)
    result = sandbox.run(
        'echo "$0 $LINENO"; ulimit -f; ulimit -v; ulimit -c\necho $LINENO', timeout=30
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["/bin/bash", "1", str(64 * 1024), str(4 * 1024**2), "0", "2"]
    # A syntax error stops the command and the limits alike; what ran before it ran.
    broken = sandbox.run("echo before\nthen", timeout=30)
    assert broken.exit_code == 2 and broken.output.startswith("before\n"), broken.output
    assert "line 2" in broken.output


@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "popen"])
def test_a_root_rolecall_runs_commands_as_the_sandbox_user(
    monkeypatch: pytest.MonkeyPatch, setpriv: bool
) -> None:
    if not running_as_host_root():
        pytest.skip("only a root Rolecall hands commands to another user")  # as in CI: root
    nobody = SandboxUser.named("nobody")
    worktree = enterable_dir("call-path-user") / "work"
    worktree.mkdir()
    if not setpriv:
        monkeypatch.setattr(runner, "switch_user_argv", lambda _user: None)
    sandbox = BwrapSandbox(worktree, run_as=nobody)
    result = sandbox.run("touch made && echo ok", timeout=30)
    assert result.output.strip() == "ok", result.output
    made = (worktree / "made").stat()
    assert (made.st_uid, made.st_gid) == (nobody.uid, nobody.gid)
    # Every process of the command is in the command's own cgroup, from the start.
    limits = ResourceLimits(max_processes=64)
    assert process_limit_mechanism(limits) == "cgroup-pids"
    sandbox = BwrapSandbox(worktree, run_as=nobody, limits=limits)
    marker = f"1000.{uuid.uuid4().int % 10**9:09d}"
    running = threading.Thread(
        target=sandbox.run, args=(f"sleep {marker}",), kwargs={"timeout": 30}
    )
    running.start()
    try:
        deadline = time.monotonic() + 10
        # The command itself, not its launcher (whose command line names it too).
        while not (found := [p for p in host_processes_with(marker) if ": sleep " in p]):
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.01)
        pid = found[0].split(":")[0]
        groups = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        pids_group = next(line for line in groups if ":pids:" in line)
        assert "/rolecall-" in pids_group, groups
        # The same command's cgroup in every hierarchy Rolecall limits it with.
        name = pids_group.rsplit("/", 1)[1]
        if "memory" in cgroup_bases():
            memory_group = next(line for line in groups if ":memory:" in line)
            assert memory_group.endswith(f"/{name}"), groups
        status = Path(f"/proc/{pid}/status").read_text()
        assert f"Uid:\t{nobody.uid}\t{nobody.uid}\t{nobody.uid}" in status
        assert "CapEff:\t0000000000000000" in status
    finally:
        sandbox.kill_all()
        running.join()
    assert host_processes_with(marker) == []


def test_on_disk_the_tree_is_walked_before_a_command_only_when_needed(
    worktree: Path, user: SandboxUser | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[Path] = []

    def counted(root: Path) -> DiskUsage:
        # The looks before and after a command; a command that runs long (a loaded
        # machine) is also looked at while it runs, on the watch's own thread.
        if threading.current_thread().name != "rolecall-disk":
            walks.append(root)
        return disk_usage(root)

    monkeypatch.setattr(runner, "disk_usage", counted)
    monkeypatch.setattr("agents.sandbox.limits.disk_usage", counted)
    limits = ResourceLimits(worktree_growth_bytes=8 * MIB, worktree_growth_entries=50)
    sandbox = BwrapSandbox(worktree, limits=limits, run_as=user)
    assert not os.path.ismount(worktree)
    assert sandbox.run("true", timeout=30).exit_code == 0
    assert len(walks) == 2  # the cap, and the look after
    for _ in range(3):
        assert sandbox.run("true", timeout=30).exit_code == 0
    assert len(walks) == 2 + 3  # only the look after each
    over = sandbox.run("mkdir many && cd many && for i in $(seq 1 80); do : > $i; done", timeout=30)
    assert over.over_quota
    # Above the cap: measured before, may shrink, may not grow.
    walks.clear()
    assert not sandbox.run("rm -rf many/1*", timeout=30).over_quota
    assert len(walks) == 2
    assert sandbox.run("mkdir more && : > more/a", timeout=30).over_quota
