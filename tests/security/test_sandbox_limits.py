"""Limits hold while the worker stays healthy: each runaway is stopped, nothing survives.

Every hostile command is bounded on its own (a fork loop that stops at 1000 children, a
hog that stops at 2 GiB, a filler that stops at 400 MiB), so the tests stay safe even if
a limit did not hold. Small limits keep them fast.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.sandbox.bubblewrap import BwrapSandbox
from agents.sandbox.limits import MIB, ResourceLimits, disk_usage, process_limit_mechanism
from agents.tools.toolbox import Toolbox
from tests.helpers import host_processes_with

pytestmark = pytest.mark.usefixtures("bwrap")

SMALL = ResourceLimits(
    address_space_bytes=1024 * MIB,
    memory_bytes=256 * MIB,
    max_processes=64,
    file_size_bytes=64 * MIB,
    tmp_bytes=64 * MIB,
    output_bytes=4 * MIB,
    worktree_growth_bytes=32 * MIB,
    worktree_growth_entries=2000,
)


@pytest.fixture
def worktree(sandbox_tmp: Path) -> Path:
    path = sandbox_tmp / "work"
    path.mkdir()
    (path / "README.md").write_text("hello\n")
    return path


def marker() -> str:
    """A unique `sleep` argument, findable in /proc/*/cmdline."""
    return f"1000.{uuid.uuid4().int % 10**9:09d}"


def sleepers(mark: str) -> list[str]:
    """Host processes that are exactly `sleep <mark>` (not a parent naming it in its code)."""
    return [p for p in host_processes_with(mark) if p.split(": ", 1)[1] == f"sleep {mark} "]


def wait_until_gone(mark: str, limit: float = 10.0) -> list[str]:
    deadline = time.monotonic() + limit
    while (left := sleepers(mark)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_a_timeout_kills_the_whole_process_tree(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    sandbox = bwrap_as(worktree, limits=SMALL)
    mark = marker()
    tree = (
        f"sleep {mark} & (sleep {mark} &) ; setsid sleep {mark} & nohup sleep {mark} & sleep {mark}"
    )
    started = time.monotonic()
    result = sandbox.run(tree, timeout=1)
    assert result.timed_out and result.exit_code == 137
    assert time.monotonic() - started < 10
    assert host_processes_with(mark) == []


def test_no_process_of_a_job_outlives_it(
    worktree: Path, tmp_path: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    # Processes detached in every way a shell offers end with the command...
    sandbox = bwrap_as(worktree, limits=SMALL)
    mark = marker()
    detach = (
        f"(sleep {mark} &) ; setsid sleep {mark} & nohup sleep {mark} >/dev/null 2>&1 & "
        f"disown; python3 -c 'import os,time\nif os.fork() == 0:\n os.setsid()\n"
        f' if os.fork() == 0: os.execv("/usr/bin/sleep", ["sleep", "{mark}"])\' ; echo started'
    )
    assert "started" in sandbox.run(detach, timeout=10).output
    assert host_processes_with(mark) == []

    # ...and when the worker process itself dies mid-command, the sandbox dies with it.
    mark = marker()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path\n"
            "from agents.sandbox.bubblewrap import BwrapSandbox\n"
            f"BwrapSandbox(Path({str(worktree)!r})).run("
            f"'setsid sleep {mark} & sleep {mark}', timeout=60)",
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 20
    while len(sleepers(mark)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sleepers(mark)) == 2, "the command never started"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert wait_until_gone(mark) == []


def test_a_fork_bomb_is_stopped(worktree: Path, bwrap_as: Callable[..., BwrapSandbox]) -> None:
    assert process_limit_mechanism(SMALL) != "none", (
        "nothing limits processes here: root without a writable cgroup v1 pids hierarchy "
        "(RLIMIT_NPROC does not apply to root); run Rolecall as a non-root user"
    )
    sandbox = bwrap_as(worktree, limits=SMALL)
    mark = marker()
    spawner = (
        "python3 -c 'import os\n"
        "n = 0\n"
        "for _ in range(1000):\n"
        "    try: pid = os.fork()\n"
        '    except OSError as e: print("fork failed:", e); break\n'
        f'    if pid == 0: os.execv("/usr/bin/sleep", ["sleep", "{mark}"])\n'
        "    n += 1\n"
        'print("spawned", n)\''
    )
    result = sandbox.run(spawner, timeout=30)
    assert "fork failed" in result.output
    assert int(result.output.split("spawned")[1]) < SMALL.max_processes
    bomb = f"bomb_{mark.replace('.', '_')}"
    classic = sandbox.run(f"{bomb}() {{ {bomb} | {bomb} & }}; {bomb}; sleep 30", timeout=2)
    assert classic.timed_out
    assert host_processes_with(mark) == [] and host_processes_with(bomb) == []


def test_a_memory_hog_is_stopped(worktree: Path, bwrap_as: Callable[..., BwrapSandbox]) -> None:
    sandbox = bwrap_as(worktree, limits=SMALL)
    hog = (
        "python3 -c 'chunks = []\n"
        "for _ in range(40): chunks.append(bytearray(50 * 1024 * 1024))\n"
        'print("allocated", len(chunks))\''
    )
    result = sandbox.run(hog, timeout=30)
    assert result.exit_code != 0 and "allocated" not in result.output
    # /tmp is memory too: it is capped as well.
    tmp = sandbox.run("for i in 1 2 3; do head -c 30M /dev/zero > /tmp/f$i; done", timeout=30)
    assert "No space left" in tmp.output, tmp.output


def test_a_disk_filler_is_stopped(worktree: Path, bwrap_as: Callable[..., BwrapSandbox]) -> None:
    sandbox = bwrap_as(worktree, limits=SMALL)
    toolbox = Toolbox(worktree, sandbox, max_worktree_bytes=disk_usage(worktree).bytes + 32 * MIB)
    start = disk_usage(worktree)
    # Many files, each under RLIMIT_FSIZE: only the worktree watch can stop this one.
    filler = "for i in $(seq 1 400); do head -c 1048576 /dev/zero > fill-$i || exit 1; done"
    result = toolbox.call("Bash", {"command": filler})
    assert result.is_error and "grew past its limit" in result.content
    grown = disk_usage(worktree).bytes - start.bytes
    assert grown < 200 * MIB, f"the filler wrote {grown // MIB} MiB"
    # One big file stops at RLIMIT_FSIZE; a sea of empty files at the entry limit.
    big = toolbox.call("Bash", {"command": "rm -f fill-*; head -c 300M /dev/zero > big"})
    assert big.is_error and disk_usage(worktree).bytes - start.bytes <= 64 * MIB + MIB
    inodes = toolbox.call(
        "Bash", {"command": "rm -f big; mkdir e; cd e; for i in $(seq 1 20000); do : > $i; done"}
    )
    assert inodes.is_error and "grew past its limit" in inodes.content
    # Once over, a command may shrink the tree but not grow it further.
    cleanup = toolbox.call("Bash", {"command": "rm -rf e fill-* big; echo clean"})
    assert not cleanup.is_error, cleanup.content
    # The file tools have their own cap on the same tree.
    chunk = "x" * (8 * MIB)
    writes = [toolbox.call("Write", {"file_path": f"w{i}.txt", "content": chunk}) for i in range(6)]
    assert any(w.is_error and "size limit" in w.content for w in writes)
    assert disk_usage(worktree).bytes - start.bytes <= 33 * MIB


def test_preallocation_cannot_reserve_past_the_cap(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    """`fallocate` reserves gigabytes in one call, between two looks of the watch, and
    with --keep-size even RLIMIT_FSIZE does not see it: the kernel refuses it."""
    sandbox = bwrap_as(worktree, limits=SMALL)
    start = disk_usage(worktree)
    tricks = (
        "fallocate -l 6G a; fallocate -n -l 6G b; : > c; fallocate -n -l 6G c; "
        'python3 -c \'import os; f = os.open("d", os.O_CREAT | os.O_WRONLY); '
        "os.posix_fallocate(f, 0, 6 << 30)'"
    )
    result = sandbox.run(tricks, timeout=60)
    grown = disk_usage(worktree).bytes - start.bytes
    assert grown <= 64 * MIB + MIB, f"{grown // MIB} MiB reserved: {result.output}"
    assert "Operation not supported" in result.output


def test_a_tree_nested_past_path_max_is_counted_and_removed(
    sandbox_tmp: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    from agents.workspace import remove_worktree

    worktree = sandbox_tmp / "work"
    worktree.mkdir()
    sandbox = bwrap_as(worktree, limits=SMALL)
    nest = (
        "python3 -c 'import os\n"
        "for i in range(400):\n"
        '    os.mkdir("d" * 200); os.chdir("d" * 200)\n'
        'open("deep", "wb").write(os.urandom(48 << 20))\''
    )
    result = sandbox.run(nest, timeout=60)
    assert "grew past its limit" in result.output or result.over_quota, result.output
    usage = disk_usage(worktree)
    assert usage.entries >= 400, "the nested tree was not counted"
    remove_worktree(worktree)
    assert not worktree.exists()


def test_dev_and_dev_shm_cannot_fill_memory(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    """A tmpfs the size of half of RAM in /dev/shm (bubblewrap's default) or a file in
    /dev would take the host's memory; both are capped like /tmp."""
    sandbox = bwrap_as(worktree, limits=SMALL)
    result = sandbox.run(
        "for i in 1 2 3 4 5; do head -c 40M /dev/zero > /dev/shm/fill-$i; done; "
        "echo used=$(du -s -B1M /dev/shm | cut -f1) size=$(df --output=size -B1M /dev/shm "
        "| tail -1 | tr -d ' '); echo x > /dev/planted",
        timeout=60,
    )
    assert "No space left on device" in result.output, result.output
    sizes = dict(word.split("=") for word in result.output.split() if "=" in word)
    assert int(sizes["size"]) <= 64 and int(sizes["used"]) <= 64, result.output
    assert "/dev/planted: Read-only file system" in result.output, result.output


def test_an_endless_output_stream_is_stopped(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    sandbox = bwrap_as(worktree, limits=SMALL)
    for stream in ("yes", "cat /dev/urandom", "yes | tr y n 1>&2"):
        started = time.monotonic()
        result = sandbox.run(stream, timeout=60)
        assert not result.timed_out, stream  # stopped for its output, long before the timeout
        assert result.truncated and "output exceeded" in result.output, stream
        assert result.exit_code == 137
        assert len(result.output) < 100_000
        assert time.monotonic() - started < 30
