"""`rolecall serve` and `rolecall worker` run in a mount namespace of their own.

There each job's worktree can be a size-capped tmpfs (agents.workspace.volume): the
kernel stops an agent that fills it, and nothing mounted outlives the process or
shows in the host's namespace. Root needs only a private mount namespace; anyone else
also gets a user namespace in which they are root (and which holds nothing of the
host's: files they write stay theirs).

Where `unshare` is missing or the host forbids user namespaces, Rolecall says so once
and runs as before: worktrees stay directories on disk, and the sandbox's watch is the
size limit. `ROLECALL_WORKTREE_TMPFS=false` asks for that on purpose.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from agents.host import PRIVATE_MOUNTS_ENV, running_as_host_root

log = logging.getLogger("rolecall.namespace")


def enter_private_mounts(argv: list[str]) -> None:
    """Re-execute this command in its own mount namespace, unless it already runs in one.

    Called before anything starts a thread or opens a file worth keeping: `exec`
    replaces the process (same pid, so signals still reach it).
    """
    if os.environ.get(PRIVATE_MOUNTS_ENV) is not None:
        return  # already inside (1), or asked not to (0)
    if os.environ.get("ROLECALL_WORKTREE_TMPFS", "").lower() in ("0", "false", "no"):
        return
    unshare = shutil.which("unshare")
    if unshare is None:
        log.warning("no `unshare` here: worktrees stay on disk, watched instead of capped")
        return
    prefix = [unshare, "--mount", "--propagation", "private"]
    if not running_as_host_root():
        prefix[1:1] = ["--user", "--map-root-user"]
    probe = subprocess.run(
        [*prefix, "--", "true"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        log.warning(
            "cannot make a mount namespace (%s): worktrees stay on disk, watched instead of capped",
            probe.stderr.strip()[:200],
        )
        return
    os.environ[PRIVATE_MOUNTS_ENV] = "1"
    os.execv(unshare, [*prefix, "--", sys.executable, "-m", "bot.cli.main", *argv])  # noqa: S606
