"""The one way Rolecall runs git on the host: hardened, time-limited, cancellable.

Every host git process goes through `run_git`, where the invariants of DESIGN.md are
kept for git:

- Invariant 1: the installation token reaches git only through the environment of
  the one fetch/push/clone process that needs it (`http.extraHeader` via
  `GIT_CONFIG_COUNT`). It is never in argv (readable in /proc/*/cmdline), never in a
  config file, and it is redacted from every error we raise.
- Invariant 4: git runs only on host-only git directories (the mirror, a job's
  private git dir), always with `--git-dir` given so it never discovers a repository,
  never with a work tree the agent wrote, and never runs anything a repository
  controls: system and global config are ignored, hooks point at /dev/null, fsmonitor,
  filters, credential helpers, pagers and editors are neutralised on the command line,
  transports other than http(s) are refused (the settings: `agents.git_hardening`).
- Every command has a time limit and runs in a session of its own, so a timeout or a
  `/cancel` (`cancel_scope`) kills git and every helper it started.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import urlsplit

from agents.git_hardening import HARDENED_CONFIG, HARDENED_ENV, config_args
from agents.text.redact import Redactor

log = logging.getLogger("agents.workspace")

LOCAL_TIMEOUT = 120.0
NETWORK_TIMEOUT = 900.0
CLONE_TIMEOUT = 3600.0
_POLL = 0.1

# The only variables taken from Rolecall's own environment: how to find git, and how
# the operator reaches the network (proxy, CA bundle). Nothing else, so no GIT_DIR,
# GIT_TRACE or GIT_SSH of the host process can steer these commands.
_PASSTHROUGH = (
    "PATH",
    "TMPDIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
)

_SHA_RE = re.compile(r"[0-9a-f]{40}")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")

# The cancel event of the job this thread works for (see `cancel_scope`).
_CANCEL: ContextVar[threading.Event | None] = ContextVar("rolecall_git_cancel", default=None)


class WorkspaceError(Exception):
    """A workspace operation was refused or failed; the message never holds a token."""


class GitError(WorkspaceError):
    """A git command exited non-zero. `stderr`/`stdout` are already redacted.

    The message names the command and its exit code only: git's stderr can quote
    files, so it is kept on the exception (for the log and transcript) and never
    becomes text that is posted.
    """

    def __init__(self, command: str, returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        what = "timed out" if returncode == -1 else f"failed (exit {returncode})"
        if stderr.startswith("cancelled"):
            what = "was cancelled"
        super().__init__(f"git {command.split(' ', 1)[0]} {what}")

    @property
    def detail(self) -> str:
        """git's own words, redacted: for logs and transcripts, never for GitHub."""
        return (self.stderr.strip() or self.stdout.strip())[-2000:]


class GitCancelled(GitError):
    """The job was cancelled while git ran; its process group was killed."""


@contextmanager
def cancel_scope(event: threading.Event) -> Iterator[None]:
    """Within this block (in this thread), setting `event` kills the running git command."""
    token = _CANCEL.set(event)
    try:
        yield
    finally:
        _CANCEL.reset(token)


def _auth_header(token: str) -> str:
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"Authorization: Basic {basic}"


def git_command(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    token: str | None = None,
    allow_file_protocol: bool = False,
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str], Redactor]:
    """The hardened argv and environment of one git command, and its redactor.

    The argv never carries a secret: `token` travels only in the environment as an
    `http.extraHeader`. There is no work-tree parameter on purpose: host git never
    reads or writes a directory the agent could have written. `git_dir` is passed
    explicitly so git never discovers a repository on its own.
    """
    argv = ["git"]
    if git_dir is not None:
        argv.append(f"--git-dir={git_dir}")
    argv += config_args(HARDENED_CONFIG)
    argv += ["-c", f"protocol.file.allow={'always' if allow_file_protocol else 'never'}"]
    argv += list(args)
    full_env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    full_env.update(HARDENED_ENV)
    if env:
        full_env.update(env)
    secrets: list[str] = []
    if token is not None:
        header = _auth_header(token)
        full_env.update(
            {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": header,
            }
        )
        secrets = [token, header, header.split()[-1]]
    return argv, full_env, Redactor(secrets)


def run_git_bytes(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    token: str | None = None,
    allow_file_protocol: bool = False,
    env: Mapping[str, str] | None = None,
    stdin: str | bytes | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> bytes:
    """Run one hardened git command (see `git_command`) and return its raw stdout.

    Raises `GitError` (token redacted) on a non-zero exit or a timeout, and
    `GitCancelled` when the job's `cancel_scope` event is set while it runs.
    """
    argv, full_env, redact = git_command(
        args, git_dir=git_dir, token=token, allow_file_protocol=allow_file_protocol, env=env
    )
    label = redact(" ".join(args)[:200])
    log.debug("git %s", label)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    out, err, code = _communicate(argv, full_env, git_dir, data, timeout, label)
    if code != 0:
        stdout = out.decode("utf-8", "replace")
        error = GitError(label, code, redact(err.decode("utf-8", "replace")), redact(stdout))
        log.info("%s: %s", error, error.detail)
        raise error
    return out


def run_git(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    token: str | None = None,
    allow_file_protocol: bool = False,
    env: Mapping[str, str] | None = None,
    stdin: str | bytes | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """`run_git_bytes`, decoded as UTF-8 (undecodable bytes replaced)."""
    out = run_git_bytes(
        args,
        git_dir=git_dir,
        token=token,
        allow_file_protocol=allow_file_protocol,
        env=env,
        stdin=stdin,
        timeout=timeout,
    )
    return out.decode("utf-8", "replace")


def _communicate(
    argv: list[str],
    env: dict[str, str],
    git_dir: Path | None,
    data: bytes | None,
    timeout: float,
    label: str,
) -> tuple[bytes, bytes, int]:
    """Run git in a session of its own; kill the whole group on timeout or cancel."""
    proc = subprocess.Popen(
        argv,
        cwd="/",
        env=env,
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    cancel = _CANCEL.get()
    result: list[tuple[bytes, bytes]] = []
    reader = threading.Thread(target=lambda: result.append(proc.communicate(data)), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while reader.is_alive() and time.monotonic() < deadline:
        if cancel is not None and cancel.is_set():
            break
        reader.join(min(_POLL, max(0.0, deadline - time.monotonic())))
    if reader.is_alive():
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        reader.join()
        if cancel is not None and cancel.is_set():
            raise GitCancelled(label, -1, "cancelled")
        raise GitError(label, -1, f"timed out after {timeout:.0f}s")
    out, err = result[0] if result else (b"", b"")
    return out, err, proc.returncode


# --------------------------------------------------------------------------- checks


def check_sha(sha: str) -> str:
    """A full commit id; anything else could be an option or a moving ref, not a pin."""
    sha = sha.strip().lower()
    if not _SHA_RE.fullmatch(sha):
        raise WorkspaceError(f"not a full commit SHA: {sha[:80]!r}")
    return sha


def check_branch(branch: str) -> str:
    """A short branch name git accepts, that cannot be mistaken for an option or a ref."""
    if (
        not branch
        or branch.startswith(("-", "refs/"))
        or branch == "HEAD"
        or any(ch.isspace() or ord(ch) < 32 for ch in branch)
    ):
        raise WorkspaceError(f"not a usable branch name: {branch[:120]!r}")
    try:
        run_git(["check-ref-format", f"refs/heads/{branch}"])
    except GitError:
        raise WorkspaceError(f"not a valid branch name: {branch[:120]!r}") from None
    return branch


def check_url(url: str) -> str:
    """An http(s) remote without credentials in it: credentials go in the environment."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WorkspaceError("the clone URL must be an http(s) URL")
    if parts.username or parts.password:
        raise WorkspaceError("the clone URL must not embed credentials; pass the token instead")
    return url


def check_repo_path(path: str) -> str:
    """A path inside the repository, relative and without `..`."""
    clean = path.strip("/")
    parts = clean.split("/")
    if not clean or "\0" in clean or any(p in ("", ".", "..") for p in parts):
        raise WorkspaceError(f"not a path inside the repository: {path[:200]!r}")
    return clean


def check_segment(value: str, what: str) -> str:
    """An owner or repository name that cannot climb out of the data dir."""
    if not _SEGMENT_RE.fullmatch(value) or value in (".", ".."):
        raise WorkspaceError(f"not a usable repository {what}: {value[:100]!r}")
    return value
