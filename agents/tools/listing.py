"""Which files Glob and Grep see: the worktree's files minus `.git` and git-ignored ones.

Listing respects `.gitignore` by asking git (`ls-files --cached --others
--exclude-standard`) with everything repository-controlled that could run a program
switched off (`agents.git_hardening`): no fsmonitor, no hooks, no system or global
config, and `GIT_DIR` / `GIT_COMMON_DIR` pinned so a `.git/commondir` planted by the
agent cannot point git at a config of its choosing. Without a `.git` directory it walks
the tree instead. Runs in the Grep child process too, so it stays standard library only.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agents.git_hardening import BASE_CONFIG, BASE_ENV, config_args
from agents.tools.fs_guard import Worktree

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def git_environment(root: Path) -> dict[str, str]:
    """An environment for host-side git that ignores everything the agent could plant."""
    git_dir = str(root / ".git")
    return {
        **BASE_ENV,
        "PATH": SAFE_PATH,
        "HOME": "/nonexistent",
        "GIT_DIR": git_dir,
        "GIT_COMMON_DIR": git_dir,
        "GIT_WORK_TREE": str(root),
        "GIT_OPTIONAL_LOCKS": "0",
    }


# The common hardening, and the listing's own: no untracked cache, paths unquoted.
SAFE_GIT_OPTIONS = tuple(
    config_args((*BASE_CONFIG, ("core.untrackedCache", "false"), ("core.quotePath", "false")))
)


def _git_listing(root: Path, base_rel: str) -> list[str] | None:
    git_dir = root / ".git"
    try:
        if not stat.S_ISDIR(os.lstat(git_dir).st_mode):
            return None
    except OSError:
        return None
    argv = ["git", *SAFE_GIT_OPTIONS, "ls-files", "-z", "--cached", "--others",
            "--exclude-standard", "--", base_rel or "."]  # fmt: skip
    try:
        done = subprocess.run(
            argv, cwd=root, env=git_environment(root), capture_output=True, timeout=60,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = {os.fsdecode(n) for n in done.stdout.split(b"\0") if n}
    return sorted(names)


def _walk_listing(root: Path, base_rel: str) -> list[str]:
    found: list[str] = []
    start = root / base_rel if base_rel else root
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(found)


@dataclass(frozen=True)
class ListedFile:
    rel: str
    mtime: float


def list_files(worktree: Worktree, base_rel: str) -> list[ListedFile]:
    """Regular files under directory `base_rel`: not in `.git`, not git-ignored, no symlinks."""
    root = worktree.root
    names = _git_listing(root, base_rel)
    if names is None:
        names = _walk_listing(root, base_rel)
    files: list[ListedFile] = []
    prefix = base_rel + "/" if base_rel else ""
    for rel in names:
        if not rel.startswith(prefix) or ".git" in rel.split("/"):
            continue
        try:
            info = os.lstat(root / rel)
        except OSError:
            continue  # tracked but deleted
        if stat.S_ISREG(info.st_mode):
            files.append(ListedFile(rel, info.st_mtime))
    return files


def newest_first(files: Iterable[ListedFile]) -> list[ListedFile]:
    return sorted(files, key=lambda f: (-f.mtime, f.rel))
