"""Who sandboxed commands run as on the host when Rolecall itself runs as root.

Root in the init namespace owns what root owns; an agent running as root (even with no
capabilities, in its own user namespace) is one kernel bug away from all of it. So a
root Rolecall hands each worktree to an unprivileged user and starts bubblewrap as that
user. bubblewrap resolves what it binds by path, so that user must be able to enter
every directory above it: `unreachable_by` says which one it cannot.
"""

from __future__ import annotations

import pwd
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path


class SandboxUserError(Exception):
    """The sandbox user does not exist, is root, or cannot reach a path."""


@dataclass(frozen=True)
class SandboxUser:
    """The unprivileged host user sandboxed commands run as when Rolecall runs as root.

    Inside its namespace the agent is still uid 0 to itself, but to the host kernel it
    is this user: what it writes is this user's, and root's files are not its own.
    """

    name: str
    uid: int
    gid: int

    @classmethod
    def named(cls, name: str) -> SandboxUser:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise SandboxUserError(
                f"no user {name!r} on this machine for the sandbox; create it "
                "(useradd --system) or set ROLECALL_SANDBOX_USER to one that exists"
            ) from None
        if entry.pw_uid == 0:
            raise SandboxUserError(f"the sandbox user {name!r} is root; name an unprivileged one")
        return cls(name, entry.pw_uid, entry.pw_gid)

    @property
    def ids(self) -> tuple[int, int]:
        return self.uid, self.gid


def switch_user_argv(user: SandboxUser) -> list[str] | None:
    """argv prefix that runs the rest as `user` (`setpriv`), or None without setpriv.

    Python changes the user of a child only by forking (it cannot `vfork` then), which
    copies the page tables of a worker holding a hundred MiB or more: about 10 ms a
    command here. `setpriv` does it after a `vfork`/`exec`: real, effective and saved
    ids all become `user`'s, supplementary groups are dropped, and the capabilities go
    with the uid 0, as with `Popen(user=..., group=..., extra_groups=[])`.
    """
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if setpriv is None:
        return None
    return [setpriv, f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--"]


def unreachable_by(path: Path, user: SandboxUser) -> Path | None:
    """The first directory on the way to `path` that `user` may not enter, if any.

    bubblewrap, started as `user`, resolves each directory it binds by its path, so
    every parent must be searchable by that user (mode bits, as root sees them).
    """
    for directory in [*reversed(Path(path).absolute().parents), Path(path).absolute()]:
        try:
            info = directory.stat()
        except OSError:
            return directory
        if info.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return directory
    return None
