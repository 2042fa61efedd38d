"""What the command line must know of the host before anything heavy loads.

`rolecall serve` re-executes itself in a mount namespace of its own as its very first
step (bot.cli.namespace); what that step reads lives here, with nothing to import, so
the process that only re-executes pays for no more than Python's own start.
"""

from __future__ import annotations

import os
from pathlib import Path

# Set in the re-executed process: "1" inside a private mount namespace, "0" asked not to.
PRIVATE_MOUNTS_ENV = "ROLECALL_PRIVATE_MOUNTS"


def running_as_host_root() -> bool:
    """Whether this process is root on the host, not only in a user namespace of its own.

    `rolecall serve` run by an unprivileged user re-executes itself as root of its own
    user namespace (agents.workspace.volume): there it may mount, but it holds nothing
    of the host's and has no other user to drop to.
    """
    if os.geteuid() != 0:
        return False
    try:
        mapping = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return True
    return mapping[:3] == ["0", "0", "4294967295"]
