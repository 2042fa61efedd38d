"""Host-side helpers more than one test package needs (import as `tests.helpers`)."""

from __future__ import annotations

import ctypes
import os
import subprocess
from pathlib import Path


def host_git(cwd: Path, *args: str) -> str:
    """Host git for building fixtures (not Rolecall's hardened runner).

    A fixed identity and no system or user config, so the fixture is the same on every
    machine.
    """
    done = subprocess.run(
        ["git", "-c", "user.name=Host", "-c", "user.email=host@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return done.stdout


def host_processes_with(marker: str) -> list[str]:
    """Command lines of host processes mentioning `marker` (our own excluded).

    How sandbox tests see from outside whether something a command started outlived it.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def swap_atomically(a: Path, b: Path) -> None:
    """Swap two names atomically (renameat2 RENAME_EXCHANGE): neither is ever missing.

    Confinement tests race a directory against a symlink pointing out; a plain rename
    would leave a moment with no name at all, and the race would test nothing.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, bytes(a), at_fdcwd, bytes(b), rename_exchange) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), str(a))


_ENTERABLE_BASE: list[Path] = []


def enterable_dir(name: str) -> Path:
    """A new directory that other users may enter, for what a sandbox binds.

    Running as root, Rolecall runs sandboxed commands as an unprivileged user
    (ROLECALL_SANDBOX_USER), and bubblewrap reaches what it binds by path; pytest's own
    temporary directories are private (0700, and pytest makes them so again at every
    start). So data directories live under one base of this session's, mode 0711,
    removed when the session ends.
    """
    import atexit
    import shutil
    import tempfile

    if not _ENTERABLE_BASE:
        base = Path(tempfile.mkdtemp(prefix="rolecall-tests-"))
        base.chmod(0o711)
        atexit.register(shutil.rmtree, base, True)
        _ENTERABLE_BASE.append(base)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ENTERABLE_BASE[0]))
    path.chmod(0o711)
    return path
