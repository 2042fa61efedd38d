"""No privilege in the sandbox: setuid does not elevate, no sudo, no links or devices to
system files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.sandbox.bubblewrap import BwrapSandbox

pytestmark = pytest.mark.usefixtures("bwrap")


@pytest.fixture
def worktree(sandbox_tmp: Path) -> Path:
    path = sandbox_tmp / "work"
    path.mkdir()
    return path


def status_field(status: str, name: str) -> str:
    return next(
        line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith(name)
    )


def test_setuid_does_not_elevate_and_there_is_no_sudo(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    # A setuid copy of `id` owned by another user, in the worktree. Only root can make
    # one for another user; as anybody else it is owned by us, which shows less.
    owner = 4242 if os.geteuid() == 0 else os.geteuid()
    setuid_id = worktree / "id-setuid"
    shutil.copy("/usr/bin/id", setuid_id)
    if os.geteuid() == 0:
        os.chown(setuid_id, owner, owner)
    setuid_id.chmod(0o4755)
    sandbox = bwrap_as(worktree)

    status = sandbox.run("cat /proc/self/status", timeout=20).output
    assert status_field(status, "NoNewPrivs") == "1"
    for caps in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
        assert int(status_field(status, caps), 16) == 0, caps

    plain = sandbox.run("id -u", timeout=20).output.strip()
    elevated = sandbox.run(f"{setuid_id} -u", timeout=20)
    assert elevated.output.strip() == plain, "the setuid bit changed who we are"
    assert elevated.output.strip() != str(owner) or owner == os.geteuid()

    # Changing user needs a privilege nobody in here has (su is setuid root on the host).
    switch = sandbox.run(
        "sudo -n -u nobody id -u; echo rc=$?; su -s /bin/sh -c 'id -u' nobody; echo rc=$?",
        timeout=20,
    )
    assert "rc=0" not in switch.output and "65534" not in switch.output, switch.output
    # Whatever uid we have, no capability makes it mean anything: root's files stay shut.
    assert sandbox.run("cat /etc/shadow; touch /etc/rolecall-was-here", timeout=20).exit_code != 0
    assert not Path("/etc/rolecall-was-here").exists()


def test_hardlinks_and_device_nodes_to_system_files_fail(
    worktree: Path, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    sandbox = bwrap_as(worktree)
    attempts = {
        "hardlink to a system file": "ln /etc/passwd passwd-link",
        "hardlink to a binary": "ln /usr/bin/id id-link",
        "device node of a disk": "mknod disk b 8 0",
        "device node of memory": "mknod mem c 1 1",
        "fifo is fine but not a device": "mknod null c 1 3",
    }
    for what, command in attempts.items():
        result = sandbox.run(command, timeout=20)
        assert result.exit_code != 0, f"{what} succeeded: {result.output}"
    assert sorted(p.name for p in worktree.iterdir()) == []
    # What /dev offers is bubblewrap's minimal set, no disks.
    devices = sandbox.run("ls /dev", timeout=20).output.split()
    assert not [d for d in devices if d.startswith(("sd", "nvme", "vd", "mem", "kmem"))]
