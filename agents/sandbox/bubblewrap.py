"""Where the agent's shell commands run: bubblewrap by default, an explicit unsafe "none".

Every command is one `bash -c` in the worktree, in a fresh sandbox that lives exactly as
long as the command: background processes die with it, nothing carries over but files
in the worktree. Failures (non-zero exit, timeout, runaway output) are data in the
`CommandResult`, never exceptions; `SandboxError` is only for a sandbox that cannot be
set up at all, which is an operator's problem, not the model's.

What bubblewrap confines (each point has a test in tests/agents/test_sandbox.py):

- Filesystem: a read-only `/usr`, `/etc` (minus shadow files and SSH host keys) and the
  `/bin`, `/lib*` links; a private `/tmp` tmpfs, a minimal `/dev` and a new `/proc`; the
  rest of the root read-only and empty. The worktree is bound writable at its own
  path, the job's mirror read-only at `SANDBOX_MIRROR` (where the agent's
  `.git/objects/info/alternates` points), `read_only_paths` read-only at theirs.
- Git: the worktree's `.git` is the agent's, all of it: hooks, config, links, FIFOs.
  Rolecall's host-side git never reads it (agents.workspace keeps its own git dir
  outside the sandbox and reads the worktree back as data), so nothing there is
  protected here. The mirror is read-only and holds one repository's objects.
- Namespaces: `--unshare-all` (user, pid, net, ipc, uts, cgroup); the network is only a
  loopback interface unless `network=True`; with `egress_dir`, the one way out is the
  host's allow-list proxy (`agents.sandbox.netproxy`), reached through a Unix socket bound
  read-only and a forwarder on the sandbox's own loopback; nested user namespaces are
  disabled;
  `--cap-drop ALL`, `no_new_privs`, `--new-session` (no TIOCSTI into our terminal),
  `--die-with-parent`.
- Environment: cleared; only PATH, HOME=/tmp, LANG, TERM and the caller's extras, which
  are refused when they look like credentials. bubblewrap itself is started with an
  empty environment too, because its pid-1 `/proc/1/environ` shows bubblewrap's.
- Killing: the command's PID namespace dies with its pid 1, so killing pid 1 (through a
  pidfd, immune to pid reuse) kills the whole tree; bubblewrap runs in its own session,
  whose process group is killed as well, and the cgroup when there is one.
- Resources: see `agents.sandbox.limits` (rlimits always; cgroup pids/memory when
  writable). Output is read incrementally and capped head+tail; a command that writes
  more than `ResourceLimits.output_bytes` is stopped. The worktree is watched while a
  command runs (`WorktreeWatch`): one that grows it past the allowed growth is stopped.
- System calls: a seccomp filter (agents.sandbox.seccomp) refuses `fallocate`, which would
  reserve disk past the worktree watch and RLIMIT_FSIZE in one call.

Not enforced: a hard disk quota (the worktree watch looks every 0.1 s or so, so a command
can overshoot by what the disk writes in that time, and `RLIMIT_FSIZE` caps each file);
CPU share (only the timeout bounds it); a fork bomb when running as
root without a writable cgroup v1 `pids` hierarchy, e.g. root on a cgroup v2 host
(`RLIMIT_NPROC` does not apply to root; the timeout and the PID namespace still end it).
Everything else in `/etc` is readable, so no credential may live there. With
`network=True` the host's loopback services and abstract Unix sockets are reachable,
because the network namespace is shared.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from agents.host import running_as_host_root
from agents.sandbox.forwarder import (
    SANDBOX_DIR,
    forwarder_prologue,
    proxy_environment,
    sandbox_python,
)
from agents.sandbox.interface import Sandbox, SandboxError
from agents.sandbox.limits import ResourceLimits, wrap_command
from agents.sandbox.runner import ProcessRunner, UnsandboxedRunner
from agents.sandbox.seccomp import filter_program
from agents.sandbox.user import SandboxUser, unreachable_by
from agents.text.capping import DEFAULT_MAX_CHARS
from agents.workspace.checkout import SANDBOX_MIRROR

SECCOMP_PROGRAM = filter_program()
BWRAP_MISSING = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"

# Host files that stay hidden even though /etc is visible.
_HIDDEN_ETC = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")


class BwrapSandbox(ProcessRunner):
    """Commands in a bubblewrap sandbox that sees the system read-only and the worktree.

    See the module docstring for what is confined and how.
    """

    _uses_status_fd = True

    def __init__(
        self,
        worktree: Path,
        *,
        read_only_paths: Sequence[Path] = (),
        mirror: Path | None = None,
        network: bool = False,
        egress_dir: Path | None = None,
        max_output_chars: int = DEFAULT_MAX_CHARS,
        env: Mapping[str, str] | None = None,
        limits: ResourceLimits | None = None,
        run_as: SandboxUser | None = None,
    ) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxError(BWRAP_MISSING)
        self.bwrap = bwrap
        super().__init__(worktree, max_output_chars=max_output_chars, env=env, limits=limits)
        # The egress proxy (agents.sandbox.netproxy): its directory is bound read-only, and a
        # forwarder inside relays the proxy port on the sandbox's own loopback to it.
        self.egress_dir = Path(egress_dir).absolute() if egress_dir is not None else None
        self._forwarder: tuple[str, list[str]] = ("", [])
        if self.egress_dir is not None:
            python = sandbox_python()
            if python is None:
                raise SandboxError(
                    "the network allow-list needs python3 under /usr for its in-sandbox "
                    "forwarder; install python3 or leave ROLECALL_NETWORK_ALLOWLIST empty"
                )
            self._forwarder = forwarder_prologue(python)
            self.env.update(proxy_environment())
        self.read_only_paths = [Path(p).absolute() for p in read_only_paths]
        for path in self.read_only_paths:
            if not path.exists():
                raise SandboxError(f"read-only path {path} does not exist")
        self.mirror = Path(mirror).absolute() if mirror is not None else None
        if self.mirror is not None and not self.mirror.is_dir():
            raise SandboxError(f"mirror {self.mirror} does not exist")
        self.network = network
        if run_as is not None:
            self._hand_over(run_as)
        self.run_as = run_as

    def _hand_over(self, user: SandboxUser) -> None:
        """Run as `user`: the worktree becomes theirs (links changed, never followed)."""
        if not running_as_host_root():
            raise SandboxError(
                f"only root can run the sandbox as {user.name}; Rolecall runs as "
                f"{pwd.getpwuid(os.geteuid()).pw_name}, which already is unprivileged"
            )
        if self.egress_dir is not None:  # the proxy's own private directory
            self.egress_dir.chmod(0o711)
        bound = [self.worktree, self.mirror, self.egress_dir, *self.read_only_paths]
        for path in bound:
            if path is not None and (blocked := unreachable_by(path, user)) is not None:
                raise SandboxError(
                    f"the sandbox user {user.name} cannot reach {path}: {blocked} is not "
                    f"searchable by it. Run `chmod o+x {blocked}`, move ROLECALL_DATA_DIR "
                    "under a directory others may enter, or run Rolecall as an "
                    "unprivileged user"
                )
        done = subprocess.run(
            ["chown", "-R", "-P", "-h", f"{user.uid}:{user.gid}", "--", str(self.worktree)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SandboxError(f"cannot hand the worktree to {user.name}: chown failed")
        if self.egress_dir is not None:  # the proxy's socket: connecting needs write access
            for entry in self.egress_dir.iterdir():
                if entry.is_socket():
                    os.chown(entry, user.uid, user.gid, follow_symlinks=False)

    def _launch_fds(self) -> dict[str, int]:
        """The seccomp filter, and every directory bound in, opened by Rolecall.

        Binding an open descriptor (`--bind-fd`) rather than a path means bubblewrap,
        which may run as an unprivileged user, needs no access to the data directory's
        parents, and nothing can swap a path between this check and the mount.
        """
        fds: dict[str, int] = {}
        try:
            fds["seccomp"] = _seccomp_fd()
            binds = {"worktree": self.worktree, "mirror": self.mirror, "egress": self.egress_dir}
            binds |= {f"ro{i}": path for i, path in enumerate(self.read_only_paths)}
            for name, path in binds.items():
                if path is None:
                    continue
                try:
                    fds[name] = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError as exc:
                    raise SandboxError(
                        f"bubblewrap could not set up the sandbox: cannot bind {path} "
                        f"({exc.strerror})"
                    ) from exc
        except BaseException:
            for fd in fds.values():
                os.close(fd)
            raise
        return fds

    def _system_binds(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            path = Path(name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), name]
            elif path.is_dir():
                args += ["--ro-bind", name, name]
        args += ["--ro-bind", "/etc", "/etc"]
        for hidden in _HIDDEN_ETC:
            if os.path.isfile(hidden) and not os.path.islink(hidden):
                args += ["--ro-bind", "/dev/null", hidden]
        ssh = Path("/etc/ssh")
        if ssh.is_dir():
            for key in sorted(ssh.glob("ssh_host_*_key")):
                if key.is_file() and not key.is_symlink():
                    args += ["--ro-bind", "/dev/null", str(key)]
        if self.network:
            resolv = Path("/etc/resolv.conf")
            if resolv.is_symlink():  # e.g. into /run/systemd/resolve, which is not bound
                target = resolv.resolve().parent
                if target.is_dir():
                    args += ["--ro-bind", str(target), str(target)]
        return args

    def _argv(self, command: str, fds: Mapping[str, int]) -> list[str]:
        args = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            *(["--share-net"] if self.network else []),
            "--die-with-parent",
            "--new-session",
            "--cap-drop", "ALL",
            *self._system_binds(),
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",  # noqa: S108 - private
            # /dev and /dev/shm hold only what bubblewrap made: nothing to fill but the
            # capped /dev/shm (otherwise half of RAM).
            "--dev", "/dev",
            "--remount-ro", "/dev",
            "--size", str(self.limits.tmp_bytes), "--tmpfs", "/dev/shm",  # noqa: S108
            "--proc", "/proc",
        ]  # fmt: skip
        for i, path in enumerate(self.read_only_paths):
            args += ["--ro-bind-fd", str(fds[f"ro{i}"]), str(path)]
        if "egress" in fds:
            args += ["--ro-bind-fd", str(fds["egress"]), SANDBOX_DIR]
        if "mirror" in fds:
            args += ["--ro-bind-fd", str(fds["mirror"]), SANDBOX_MIRROR]
        args += ["--bind-fd", str(fds["worktree"]), str(self.worktree)]
        args += ["--remount-ro", "/", "--chdir", str(self.worktree), "--clearenv"]
        for name, value in self.env.items():
            args += ["--setenv", name, value]
        if "status" in fds:
            args += ["--json-status-fd", str(fds["status"])]
        args += ["--seccomp", str(fds["seccomp"])]
        prologue, prologue_args = self._forwarder
        return [*args, "--", *wrap_command(command, self.limits, prologue, prologue_args)]


def _seccomp_fd() -> int:
    """A fresh descriptor holding the filter, read from its start by bubblewrap."""
    fd = os.memfd_create("rolecall-seccomp", os.MFD_CLOEXEC)
    os.write(fd, SECCOMP_PROGRAM)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def make_sandbox(
    kind: Literal["bwrap", "none"],
    worktree: Path,
    *,
    allow_unsafe: bool,
    read_only_paths: Sequence[Path] = (),
    mirror: Path | None = None,
    network: bool = False,
    egress_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    limits: ResourceLimits | None = None,
    run_as: SandboxUser | None = None,
) -> Sandbox:
    """The sandbox the settings ask for; "none" only when explicitly allowed.

    `egress_dir` is a running `agents.sandbox.netproxy.EgressProxy`'s directory: the only
    network the sandbox then has is what that proxy admits.
    """
    if kind == "bwrap":
        return BwrapSandbox(
            worktree,
            read_only_paths=read_only_paths,
            mirror=mirror,
            network=network,
            egress_dir=egress_dir,
            env=env,
            limits=limits,
            run_as=run_as,
        )
    if kind == "none":
        if not allow_unsafe:
            raise SandboxError(
                "ROLECALL_SANDBOX=none runs agent commands unconfined on this host, with"
                " its files and network; set ROLECALL_ALLOW_UNSAFE_SANDBOX=true only on a"
                " disposable machine, or install bubblewrap and use ROLECALL_SANDBOX=bwrap"
            )
        return UnsandboxedRunner(worktree, env=env, limits=limits)
    raise SandboxError(f"unknown sandbox kind {kind!r}: use 'bwrap' or 'none'")
