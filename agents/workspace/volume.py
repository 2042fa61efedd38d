"""A job's worktree on a tmpfs of its own, capped by the kernel.

A watch that measures the worktree between two looks cannot stop a command that
writes faster than it looks. A tmpfs mounted on the worktree can: past its `size` and
`nr_inodes` every write fails with ENOSPC, whatever the agent does (many files, sparse
tricks, nested trees, hard links), and unmounting it frees everything at once.

Mounting needs a mount namespace of Rolecall's own, so a worktree never shows up in
(or outlives a crash of Rolecall in) the host's: `rolecall serve` and `rolecall worker`
re-execute themselves under `unshare` at start (bot.cli.main), as root in a private mount
namespace, as anyone else also in a user namespace that maps them to root there, and
set `PRIVATE_MOUNTS_ENV`. Without it (a library caller, a host that forbids user
namespaces) worktrees stay plain directories and the sandbox's watch is the limit.

The mount is sized in two steps: generously while Rolecall writes the checkout, then
shrunk (`remount`) to what the checkout uses plus the growth the job is allowed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agents.host import PRIVATE_MOUNTS_ENV
from agents.workspace.git import WorkspaceError

_MOUNT_TIMEOUT = 60.0
# While the checkout is written: no more than the tmpfs default (half of RAM).
_CHECKOUT_SHARE_OF_RAM = 2


@dataclass(frozen=True)
class WorktreeVolume:
    """How far a job's worktree may grow beyond its checkout, in bytes and entries."""

    growth_bytes: int
    growth_entries: int

    @classmethod
    def if_available(cls, growth_bytes: int, growth_entries: int) -> WorktreeVolume | None:
        """A volume when this process may mount in a namespace of its own, else None."""
        if os.environ.get(PRIVATE_MOUNTS_ENV) != "1":
            return None
        return cls(growth_bytes, growth_entries)

    def mount(self, worktree: Path) -> None:
        """Mount an empty tmpfs on the (empty) worktree directory."""
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        _mount(
            "-t", "tmpfs",
            "-o", f"size={pages // _CHECKOUT_SHARE_OF_RAM},mode=0755",
            "tmpfs", str(worktree),
        )  # fmt: skip

    def fit(self, worktree: Path) -> None:
        """Shrink the tmpfs to what it holds now plus the allowed growth."""
        stats = os.statvfs(worktree)
        used_bytes = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
        used_entries = stats.f_files - stats.f_ffree
        size = used_bytes + self.growth_bytes
        entries = used_entries + self.growth_entries
        _mount("-o", f"remount,size={size},nr_inodes={entries}", str(worktree))


def unmount(worktree: Path) -> None:
    """Unmount a worktree's tmpfs (lazily: a process still inside cannot keep it)."""
    _run(["umount", "--lazy", "--", str(worktree)])


def is_volume(worktree: Path) -> bool:
    return os.path.ismount(worktree)


def _mount(*args: str) -> None:
    _run(["mount", *args])


def _run(argv: list[str]) -> None:
    done = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_MOUNT_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise WorkspaceError(f"{argv[0]} of a worktree failed: {done.stderr.strip()[:300]}")
