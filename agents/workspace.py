"""Host-side git for a job: the mirror cache, the job's worktree, commits and pushes.

Every git process Rolecall runs goes through `run_git`, which is where the
invariants of DESIGN.md are kept for git:

- Invariant 1: the installation token reaches git only through the environment of
  the one fetch/push/clone process that needs it (`http.extraHeader` via
  `GIT_CONFIG_COUNT`). It is never in argv (readable in /proc/*/cmdline), never in a
  `.git/config`, never in a file, and it is redacted from every error we raise.
- Invariant 4: git never runs anything the repository controls. System and global
  config are ignored, hooks point at /dev/null, fsmonitor, filters, credential
  helpers, pagers and editors are neutralised on the command line, transports other
  than http(s) are refused, and before git touches a worktree its `.git/config` is
  rewritten to the content Rolecall wrote (the sandbox keeps the agent away from
  `.git`; this is the second line of defence, so nothing the agent might have put
  there, hooks, `include.path`, `url.*.insteadOf`, filters, is ever honoured).
- Invariant 5: `push` only updates `rolecall/…` branches or the PR branch the caller
  names, never the default branch, and never with a plain force: a rejected push is
  rebased once onto what was pushed meanwhile and retried with a lease on exactly
  that commit, so nobody else's commit can be lost.

Layout on disk: `<data_dir>/mirrors/<owner>/<name>.git` is a bare clone shared by all
jobs on that repository (fetched, never re-cloned, under an flock). A job's worktree
is `git clone --shared` of the mirror: its objects come through `alternates`, so the
sandbox can bind the mirror read-only and git inside it still works. Mirrors never
auto-gc, because a pruned object would break every worktree borrowing it.
"""

from __future__ import annotations

import base64
import fcntl
import logging
import os
import re
import shutil
import signal
import subprocess
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agents.redact import Redactor

__all__ = [
    "GitError",
    "PushRejected",
    "PushResult",
    "WorkspaceError",
    "branch_name",
    "branch_sha",
    "changed_files",
    "commit_all",
    "commit_messages",
    "commits_since",
    "create_worktree",
    "diff",
    "diff_stat",
    "fetch_branch",
    "fetch_pull_head",
    "head_sha",
    "list_default_branch_files",
    "mirror_path",
    "push",
    "read_default_branch_file",
    "remove_worktree",
    "run_git",
    "sync_mirror",
]

log = logging.getLogger(__name__)

LOCAL_TIMEOUT = 120.0
NETWORK_TIMEOUT = 900.0
CLONE_TIMEOUT = 3600.0
MAX_FILE_BYTES = 1024 * 1024
SLUG_MAX = 40

# Config given on every command line. `-c` is read after the repository's own config,
# so these win over anything a repository (or an agent) put there. They also reach
# the git subprocesses git starts itself (remote helpers), via GIT_CONFIG_PARAMETERS.
_HARDENING: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.sshCommand", "false"),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("core.askPass", ""),
    ("core.attributesFile", "/dev/null"),
    ("core.excludesFile", "/dev/null"),
    ("sequence.editor", "false"),
    ("credential.helper", ""),  # an empty value empties the list of helpers
    ("protocol.allow", "never"),
    ("protocol.http.allow", "always"),
    ("protocol.https.allow", "always"),
    ("filter.lfs.clean", ""),
    ("filter.lfs.smudge", ""),
    ("filter.lfs.process", ""),
    ("filter.lfs.required", "false"),
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("push.gpgSign", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("http.followRedirects", "false"),
    ("color.ui", "false"),
)

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

_FIXED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",  # set but empty: git then skips core.askPass and SSH_ASKPASS
    "SSH_ASKPASS": "",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",  # refs/replace/* from upstream must not rewrite what we read
    "GIT_LITERAL_PATHSPECS": "1",  # a path is a path, never `:(glob)` magic
    "GIT_PAGER": "cat",
    "GIT_EDITOR": "false",
    "GIT_SEQUENCE_EDITOR": "false",
    "LC_ALL": "C",
    "LANG": "C",
}

_MIRROR_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_FETCH = ("fetch", "--quiet", "--no-recurse-submodules")
_DIFF = ("diff", "--no-ext-diff", "--no-textconv")  # never an external or textconv program
_SHA_RE = re.compile(r"[0-9a-f]{40}")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_NON_FAST_FORWARD = ("(fetch first)", "(non-fast-forward)")


class WorkspaceError(Exception):
    """A workspace operation was refused or failed; the message never holds a token."""


class GitError(WorkspaceError):
    """A git command exited non-zero. `stderr`/`stdout` are already redacted."""

    def __init__(self, command: str, returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        detail = (stderr.strip() or stdout.strip())[-2000:]
        super().__init__(f"git {command} failed (exit {returncode}): {detail}")


class PushRejected(WorkspaceError):
    """The remote would not take our commits even after one rebase onto its branch."""


@dataclass(frozen=True)
class PushResult:
    """What the remote branch holds after a successful `push`."""

    branch: str
    sha: str
    created: bool  # the branch did not exist on the remote before
    rebased: bool  # someone pushed meanwhile; our commits were replayed on top of theirs


# --------------------------------------------------------------------------- runner


def _auth_header(token: str) -> str:
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    return f"Authorization: Basic {basic}"


def run_git(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    work_tree: Path | None = None,
    token: str | None = None,
    allow_file_protocol: bool = False,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """Run one hardened git command and return its stdout.

    The argv never carries a secret: `token` travels only in this process's
    environment as an `http.extraHeader`. `git_dir`/`work_tree` are passed
    explicitly so git never discovers a repository on its own (a `.git` file or
    `core.worktree` cannot redirect it). `allow_file_protocol` exists for exactly one
    caller, the clone of a worktree from our own mirror. Raises `GitError` with the
    token redacted from stderr and stdout.
    """
    argv = ["git"]
    if git_dir is not None:
        argv.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        argv.append(f"--work-tree={work_tree}")
    for key, value in _HARDENING:
        argv += ["-c", f"{key}={value}"]
    argv += ["-c", f"protocol.file.allow={'always' if allow_file_protocol else 'never'}"]
    argv += list(args)

    full_env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    full_env.update(_FIXED_ENV)
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
    redact = Redactor(secrets)

    label = " ".join(args)[:200]
    log.debug("git %s", redact(label))
    cwd = work_tree or git_dir or Path("/")
    # A session of its own, so a timeout can kill git and the helpers it started.
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=full_env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise GitError(redact(label), -1, f"timed out after {timeout:.0f}s") from None
    stdout = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise GitError(
            redact(label), proc.returncode, redact(err.decode("utf-8", "replace")), redact(stdout)
        )
    return stdout


# --------------------------------------------------------------------------- checks


def _check_sha(sha: str) -> str:
    """A full commit id; anything else could be an option or a moving ref, not a pin."""
    sha = sha.strip().lower()
    if not _SHA_RE.fullmatch(sha):
        raise WorkspaceError(f"not a full commit SHA: {sha[:80]!r}")
    return sha


def _check_branch(branch: str) -> str:
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


def _check_url(url: str) -> str:
    """An http(s) remote without credentials in it: credentials go in the environment."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WorkspaceError("the clone URL must be an http(s) URL")
    if parts.username or parts.password:
        raise WorkspaceError("the clone URL must not embed credentials; pass the token instead")
    return url


def _check_repo_path(path: str) -> str:
    """A path inside the repository, relative and without `..`."""
    clean = path.strip("/")
    parts = clean.split("/")
    if not clean or "\0" in clean or any(p in ("", ".", "..") for p in parts):
        raise WorkspaceError(f"not a path inside the repository: {path[:200]!r}")
    return clean


def _check_segment(value: str, what: str) -> str:
    if not _SEGMENT_RE.fullmatch(value) or value in (".", ".."):
        raise WorkspaceError(f"not a usable repository {what}: {value[:100]!r}")
    return value


# --------------------------------------------------------------------------- names


def branch_name(issue_number: int, title: str) -> str:
    """`rolecall/issue-<n>-<slug>`: readable in the PR list, always a valid ref name."""
    if isinstance(issue_number, bool) or issue_number < 1:
        raise ValueError(f"issue number must be positive, got {issue_number!r}")
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    return f"rolecall/issue-{issue_number}-{slug}" if slug else f"rolecall/issue-{issue_number}"


def mirror_path(data_dir: Path, owner: str, name: str) -> Path:
    """Where the mirror of `owner/name` lives; the names are checked to stay in the dir."""
    owner = _check_segment(owner, "owner")
    name = _check_segment(name, "name")
    return Path(data_dir).resolve() / "mirrors" / owner / f"{name}.git"


# --------------------------------------------------------------------------- mirror


@contextmanager
def _mirror_lock(mirror: Path, *, exclusive: bool) -> Iterator[None]:
    """flock beside the mirror: one writer (fetch) at a time, readers (clone) share."""
    lock_path = mirror.parent / f"{mirror.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _is_repo(git_dir: Path) -> bool:
    return (git_dir / "HEAD").is_file() and (git_dir / "objects").is_dir()


def sync_mirror(
    data_dir: Path,
    owner: str,
    name: str,
    clone_url: str,
    token: str,
    *,
    timeout: float = CLONE_TIMEOUT,
) -> Path:
    """Create the repository's mirror on first use, fetch it on later uses; return its path.

    Held under an exclusive lock so two jobs on one repository never write it at once.
    A new mirror is cloned beside its final place and renamed in, so a crash never
    leaves a half-cloned mirror where the next job would trust it.
    """
    _check_url(clone_url)
    mirror = mirror_path(data_dir, owner, name)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with _mirror_lock(mirror, exclusive=True):
        if _is_repo(mirror):
            run_git(
                [*_FETCH, "--prune", "--", clone_url, *_MIRROR_REFSPECS],
                git_dir=mirror,
                token=token,
                timeout=timeout,
            )
            return mirror
        for stale in mirror.parent.glob(f".{mirror.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = mirror.parent / f".{mirror.name}.tmp-{uuid.uuid4().hex}"
        try:
            run_git(
                ["clone", "--bare", "--quiet", "--template=", "--", clone_url, str(tmp)],
                token=token,
                timeout=timeout,
            )
            # Written into the mirror too, for anyone who runs git in it by hand.
            run_git(["config", "gc.auto", "0"], git_dir=tmp)
            if mirror.exists():
                shutil.rmtree(mirror)  # not a repository: a leftover we cannot use
            tmp.rename(mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("created mirror %s", mirror)
    return mirror


def fetch_branch(
    mirror: Path, clone_url: str, token: str, branch: str, *, timeout: float = NETWORK_TIMEOUT
) -> str:
    """Fetch one branch (a PR head) into the mirror and return the SHA it now points at."""
    _check_url(clone_url)
    branch = _check_branch(branch)
    with _mirror_lock(mirror, exclusive=True):
        run_git(
            [*_FETCH, "--no-tags", "--", clone_url, f"+refs/heads/{branch}:refs/heads/{branch}"],
            git_dir=mirror,
            token=token,
            timeout=timeout,
        )
    sha = branch_sha(mirror, branch)
    if sha is None:
        raise WorkspaceError(f"branch {branch!r} was fetched but is not in the mirror")
    return sha


def fetch_pull_head(
    mirror: Path, clone_url: str, token: str, number: int, *, timeout: float = NETWORK_TIMEOUT
) -> str:
    """Fetch a pull request's head (`refs/pull/<n>/head`) into the mirror; return its SHA.

    GitHub keeps that ref in the base repository for every PR, from a fork or not, so a
    read-only job (a review) can check out a fork's PR without access to the fork.
    """
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise WorkspaceError(f"not a pull request number: {number!r}")
    _check_url(clone_url)
    ref = f"refs/pull/{number}/head"
    with _mirror_lock(mirror, exclusive=True):
        run_git(
            [*_FETCH, "--no-tags", "--", clone_url, f"+{ref}:{ref}"],
            git_dir=mirror,
            token=token,
            timeout=timeout,
        )
        out = run_git(["rev-parse", "--verify", f"{ref}^{{commit}}"], git_dir=mirror)
    return _check_sha(out)


def branch_sha(mirror: Path, branch: str) -> str | None:
    """The SHA `branch` points at in the mirror, or None if there is no such branch."""
    branch = _check_branch(branch)
    try:
        out = run_git(
            ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
            git_dir=mirror,
        )
    except GitError as err:
        if err.returncode == 1:
            return None
        raise
    return out.strip()


def has_commit(git_dir: Path, sha: str) -> bool:
    """Whether the repository (a mirror) holds commit `sha`."""
    try:
        run_git(["cat-file", "-e", f"{sha}^{{commit}}"], git_dir=git_dir)
    except GitError:
        return False
    return True


def read_default_branch_file(
    mirror: Path, sha: str, path: str, *, max_bytes: int = MAX_FILE_BYTES
) -> str | None:
    """The text of `path` at `sha` (the default branch's head), read without a checkout.

    Repository configuration and instructions are read from the default branch only,
    so a pull request cannot change the rules it is judged by. Returns None if the path
    is missing, a directory, a symlink or a submodule (a symlink could point anywhere).
    """
    sha = _check_sha(sha)
    path = _check_repo_path(path)
    listing = run_git(["ls-tree", "-z", "-l", sha, "--", path], git_dir=mirror)
    for entry in filter(None, listing.split("\0")):
        meta, _, entry_path = entry.partition("\t")
        mode, kind, oid, size = meta.split()
        if entry_path != path:
            continue
        if kind != "blob" or mode not in ("100644", "100755"):
            return None
        if int(size) > max_bytes:
            raise WorkspaceError(f"{path} is {size} bytes, more than the {max_bytes} we read")
        return run_git(["cat-file", "blob", oid], git_dir=mirror)
    return None


def list_default_branch_files(mirror: Path, sha: str, directory: str) -> list[str]:
    """Repository paths of the regular files directly inside `directory` at `sha`.

    Not recursive, symlinks and submodules left out (see `read_default_branch_file`).
    An empty string or "." lists the repository root. A missing directory gives [].
    """
    sha = _check_sha(sha)
    args = ["ls-tree", "-z", sha]
    if directory.strip("/") not in ("", "."):
        args += ["--", _check_repo_path(directory) + "/"]
    files = []
    for entry in filter(None, run_git(args, git_dir=mirror).split("\0")):
        meta, _, entry_path = entry.partition("\t")
        mode, kind, _oid = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            files.append(entry_path)
    return sorted(files)


# --------------------------------------------------------------------------- worktree


def _quote_config(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _worktree_config(mirror: Path | None) -> bytes:
    """The whole `.git/config` of a job worktree: no credential, no URL but the mirror's."""
    lines = [
        "[core]",
        "\trepositoryformatversion = 0",
        "\tfilemode = true",
        "\tbare = false",
        "\tlogallrefupdates = true",
        "\thooksPath = /dev/null",
        "\tfsmonitor = false",
    ]
    if mirror is not None:
        lines += [
            '[remote "origin"]',
            f"\turl = {_quote_config(str(mirror))}",
            "\tfetch = +refs/heads/*:refs/remotes/origin/*",
        ]
    return ("\n".join(lines) + "\n").encode()


def _mirror_of(git_dir: Path) -> Path | None:
    """The mirror a worktree borrows objects from, read from its alternates file."""
    alternates = git_dir / "objects" / "info" / "alternates"
    try:
        first = alternates.read_text(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    objects = Path(first)
    if not objects.is_absolute() or objects.name != "objects" or not objects.is_dir():
        return None
    return objects.parent


def _sanitize_worktree(worktree: Path) -> Path:
    """Check a worktree's shape and restore Rolecall's `.git/config`; return the git dir.

    The sandbox stops the agent from writing `.git`; this is the defence behind it.
    A `.git` that is a file or symlink, or a `commondir`, would send git to another
    repository and its config, so those are refused. The config is rewritten rather
    than filtered: no list of dangerous keys is ever complete.
    """
    if worktree.is_symlink() or not worktree.is_dir():
        raise WorkspaceError(f"{worktree} is not a worktree directory")
    git_dir = worktree / ".git"
    if git_dir.is_symlink() or not git_dir.is_dir():
        raise WorkspaceError(f"{git_dir} is not a directory; the worktree was tampered with")
    for redirect in ("commondir", "gitdir"):
        if os.path.lexists(git_dir / redirect):
            raise WorkspaceError(f"{git_dir / redirect} exists; the worktree was tampered with")
    wanted = _worktree_config(_mirror_of(git_dir))
    config = git_dir / "config"
    current = None
    if config.is_file() and not config.is_symlink():
        current = config.read_bytes()
    if current != wanted:
        if current is not None:
            log.warning("restored %s: it differed from what Rolecall wrote", config)
        tmp = git_dir / f"config.rolecall-{uuid.uuid4().hex}"
        tmp.write_bytes(wanted)
        os.replace(tmp, config)
    return git_dir


def _wt_git(
    worktree: Path,
    args: Sequence[str],
    *,
    token: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = LOCAL_TIMEOUT,
) -> str:
    """`run_git` inside a job worktree, after `_sanitize_worktree`."""
    worktree = Path(worktree).resolve()
    git_dir = _sanitize_worktree(worktree)
    return run_git(
        args,
        git_dir=git_dir,
        work_tree=worktree,
        token=token,
        env=env,
        stdin=stdin,
        timeout=timeout,
    )


def create_worktree(
    mirror: Path, worktree: Path, sha: str, branch: str, *, existing_branch: bool = False
) -> None:
    """A fresh checkout of `sha` from the mirror, on local branch `branch`.

    For an issue job `branch` is new (see `branch_name`); for a PR job pass
    `existing_branch=True` and the PR head SHA the job was triggered at, after
    `fetch_branch`. The SHA is pinned: the worktree starts there even if the branch
    moved since. `worktree` must not exist yet (or be an empty directory).
    """
    sha = _check_sha(sha)
    branch = _check_branch(branch)
    mirror = Path(mirror).resolve()
    worktree = Path(worktree).resolve()
    if worktree.exists() and (not worktree.is_dir() or any(worktree.iterdir())):
        raise WorkspaceError(f"{worktree} already exists and is not empty")
    worktree.parent.mkdir(parents=True, exist_ok=True)
    with _mirror_lock(mirror, exclusive=False):
        if not has_commit(mirror, sha):
            raise WorkspaceError(f"commit {sha} is not in the mirror; sync it first")
        if existing_branch and branch_sha(mirror, branch) is None:
            raise WorkspaceError(f"branch {branch!r} is not in the mirror; fetch_branch first")
        clone = ["clone", "--quiet", "--shared", "--no-checkout", "--template="]
        run_git([*clone, "--", str(mirror), str(worktree)], allow_file_protocol=True)
    # Replace the config git clone wrote with Rolecall's own before any git runs in it,
    # so a later difference can only mean someone changed it.
    (worktree / ".git" / "config").write_bytes(_worktree_config(mirror))
    checkout = ["checkout", "--quiet", "--no-track", "--no-recurse-submodules"]
    try:
        _wt_git(worktree, [*checkout, "-B", branch, sha, "--"])
    except WorkspaceError:
        remove_worktree(worktree)  # half a worktree is worse than none
        raise


def remove_worktree(worktree: Path) -> None:
    """Delete a job's worktree, even where the agent made directories read-only.

    Never follows symlinks out of it; the mirror is not inside it, so it is untouched.
    """
    worktree = Path(worktree)
    if worktree.is_symlink():
        worktree.unlink()
        return
    if not worktree.exists():
        return
    worktree.chmod(0o700)
    for root, dirs, _files in os.walk(worktree):
        for name in dirs:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(0o700)
    shutil.rmtree(worktree)


def head_sha(worktree: Path) -> str:
    """The commit the worktree's HEAD points at."""
    return _wt_git(worktree, ["rev-parse", "--verify", "HEAD^{commit}"]).strip()


def commit_all(worktree: Path, message: str, author_name: str, author_email: str) -> str | None:
    """Stage everything not ignored and commit it as Rolecall; the new SHA, or None.

    Commits the agent made itself are left as they are; this only adds one on top
    when the working tree still differs from HEAD. `--no-verify` and the hardening
    mean no hook runs; the message is passed on stdin with whitespace-only cleanup so
    Markdown headings (`# …`) survive.
    """
    if not message.strip():
        raise WorkspaceError("a commit needs a message")
    for value in (author_name, author_email):
        if not value.strip() or any(ch in value for ch in "<>\n\0"):
            raise WorkspaceError(f"not a usable commit identity: {value!r}")
    _wt_git(worktree, ["add", "--all"])
    staged = _wt_git(worktree, [*_DIFF, "--cached", "--name-only", "-z"])
    if not staged.strip("\0"):
        return None
    identity = {
        "GIT_AUTHOR_NAME": author_name,
        "GIT_AUTHOR_EMAIL": author_email,
        "GIT_COMMITTER_NAME": author_name,
        "GIT_COMMITTER_EMAIL": author_email,
    }
    _wt_git(
        worktree,
        ["commit", "--quiet", "--no-verify", "--no-gpg-sign", "--cleanup=whitespace", "--file=-"],
        env=identity,
        stdin=message,
    )
    return head_sha(worktree)


def changed_files(worktree: Path, base_sha: str) -> list[str]:
    """Paths that differ between `base_sha` and HEAD (committed work; commit first)."""
    base_sha = _check_sha(base_sha)
    out = _wt_git(worktree, [*_DIFF, "--name-only", "-z", "--no-renames", base_sha, "HEAD", "--"])
    return [name for name in out.split("\0") if name]


def diff_stat(worktree: Path, base_sha: str) -> str:
    """`git diff --stat` from `base_sha` to HEAD, for the PR body and the tracking comment."""
    base_sha = _check_sha(base_sha)
    return _wt_git(worktree, [*_DIFF, "--stat=120", base_sha, "HEAD", "--"])


def diff(worktree: Path, base_sha: str) -> str:
    """The patch from `base_sha` to HEAD; never through an external diff or textconv."""
    base_sha = _check_sha(base_sha)
    return _wt_git(worktree, [*_DIFF, "--submodule=short", base_sha, "HEAD", "--"])


def commits_since(worktree: Path, base_sha: str) -> list[tuple[str, str]]:
    """(sha, subject) of each commit in `base_sha..HEAD`, oldest first."""
    base_sha = _check_sha(base_sha)
    out = _wt_git(
        worktree,
        ["log", "--no-show-signature", "--reverse", "--format=%H %s", f"{base_sha}..HEAD", "--"],
    )
    commits = []
    for line in out.splitlines():
        sha, _, subject = line.partition(" ")
        commits.append((sha, subject))
    return commits


def commit_messages(worktree: Path, base_sha: str) -> str:
    """The full messages (and author lines) of `base_sha..HEAD`: they leave with a push too."""
    base_sha = _check_sha(base_sha)
    log_format = "--format=%an <%ae>%n%cn <%ce>%n%B"
    return _wt_git(worktree, ["log", "--no-show-signature", log_format, f"{base_sha}..HEAD", "--"])


# --------------------------------------------------------------------------- push


def _check_push_target(branch: str, default_branch: str, pr_branch: str | None) -> None:
    """Invariant 5: our own branches, or the one PR branch the caller names; never default."""
    # GitHub treats branch names that differ only in case as one; so do we here.
    if branch.casefold() == default_branch.casefold():
        raise WorkspaceError(f"refusing to push to the default branch {branch!r}")
    if not branch.startswith("rolecall/") and branch != pr_branch:
        raise WorkspaceError(
            f"refusing to push to {branch!r}: Rolecall pushes only to rolecall/… branches "
            "or to the branch of the pull request it was asked to work on"
        )


def _raise_unless_behind(err: GitError, branch: str) -> None:
    """Return if the push failed only because the remote branch has commits we lack.

    That case is worth one rebase. A ref the remote itself refused (a protected branch,
    a pre-receive hook) is `PushRejected`; anything else (auth, network) stays `GitError`.
    """
    refused = [line for line in err.stdout.splitlines() if line.startswith("!")]
    if any(reason in line for line in refused for reason in _NON_FAST_FORWARD):
        return
    if refused:
        reasons = "; ".join(line.split("\t")[-1] for line in refused)
        raise PushRejected(f"the remote refused the push to {branch!r}: {reasons}") from err
    raise err


def _git_push(
    worktree: Path,
    clone_url: str,
    token: str,
    sha: str,
    branch: str,
    lease: str | None,
    timeout: float,
) -> str:
    args = ["push", "--porcelain", "--no-verify", "--recurse-submodules=no"]
    if lease is not None:
        args.append(f"--force-with-lease=refs/heads/{branch}:{lease}")
    args += ["--", clone_url, f"{sha}:refs/heads/{branch}"]
    return _wt_git(worktree, args, token=token, timeout=timeout)


def push(
    worktree: Path,
    clone_url: str,
    token: str,
    branch: str,
    *,
    default_branch: str,
    expected_remote_sha: str | None = None,
    pr_branch: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
) -> PushResult:
    """Push HEAD to `branch` on the remote, never forcing.

    `default_branch` is always refused. A branch outside `rolecall/` is refused unless
    it equals `pr_branch`, the same-repository PR branch the job works on.
    `expected_remote_sha` is the remote branch's SHA our work started from (the PR
    head, or what we pushed last); HEAD must contain it, and if someone pushed on top
    meanwhile, only the commits after it are replayed onto theirs. On a non-fast-forward
    rejection: fetch the branch, rebase once, and push with a lease on exactly the
    fetched SHA, so a third push in between is refused instead of overwritten. If that
    fails too, `PushRejected`. Authentication and network failures are `GitError`.
    """
    branch = _check_branch(branch)
    _check_push_target(branch, default_branch, pr_branch)
    _check_url(clone_url)
    if expected_remote_sha is not None:
        expected_remote_sha = _check_sha(expected_remote_sha)
        try:
            _wt_git(worktree, ["merge-base", "--is-ancestor", expected_remote_sha, "HEAD"])
        except GitError:
            raise WorkspaceError(
                f"HEAD does not contain {expected_remote_sha}, the commit {branch!r} was at; "
                "pushing would rewrite its history"
            ) from None
    sha = head_sha(worktree)
    try:
        out = _git_push(worktree, clone_url, token, sha, branch, None, timeout)
    except GitError as err:
        _raise_unless_behind(err, branch)
    else:
        return PushResult(branch, sha, created="[new branch]" in out, rebased=False)

    fetched = _fetch_remote_branch(worktree, clone_url, token, branch, timeout)
    _rebase(worktree, onto=fetched, since=expected_remote_sha, branch=branch)
    sha = head_sha(worktree)
    try:
        _git_push(worktree, clone_url, token, sha, branch, fetched, timeout)
    except GitError as err:
        raise PushRejected(
            f"{branch!r} moved again while we rebased onto {fetched[:12]}; nothing was "
            f"overwritten, our commits are still in the worktree ({err})"
        ) from err
    return PushResult(branch, sha, created=False, rebased=True)


def _fetch_remote_branch(
    worktree: Path, clone_url: str, token: str, branch: str, timeout: float
) -> str:
    """Fetch `branch` into `refs/remotes/origin/<branch>` of the worktree; return its SHA."""
    tracking = f"refs/remotes/origin/{branch}"
    _wt_git(
        worktree,
        [
            *_FETCH,
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            clone_url,
            f"+refs/heads/{branch}:{tracking}",
        ],
        token=token,
        timeout=timeout,
    )
    return _wt_git(worktree, ["rev-parse", "--verify", f"{tracking}^{{commit}}"]).strip()


def _rebase(worktree: Path, *, onto: str, since: str | None, branch: str) -> None:
    """Replay our commits onto `onto`; on any conflict leave the worktree as it was.

    With `since`, only `since..HEAD` is replayed, so commits someone removed from the
    branch (a force-push of theirs) are not brought back. The replayed commits keep
    their authors; the committer is whoever committed HEAD (normally Rolecall).
    """
    who = _wt_git(worktree, ["show", "-s", "--no-show-signature", "--format=%cn%x00%ce", "HEAD"])
    name, _, email = who.strip().partition("\0")
    env = {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    args = ["rebase", "--quiet", "--no-autostash", "--no-autosquash", "--no-verify"]
    args += ["--onto", onto, since] if since is not None else [onto]
    try:
        _wt_git(worktree, args, env=env)
    except GitError as err:
        with suppress(GitError):
            _wt_git(worktree, ["rebase", "--abort"])
        raise PushRejected(
            f"someone pushed to {branch!r} meanwhile and our commits do not apply on top "
            f"of {onto[:12]}; nothing was pushed ({err})"
        ) from err
