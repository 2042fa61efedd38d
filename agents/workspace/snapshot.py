"""What the agent produced, carried to the host as data and committed by Rolecall.

The worktree is attacker-written. It is read here by Python alone, never by git:
every directory is opened from its parent's descriptor with `O_NOFOLLOW`, every
file with `O_NOFOLLOW | O_NONBLOCK` and checked to be a regular file after opening,
symlinks are recorded as links (their target is data, never followed), and FIFOs,
sockets and devices are refused. `.git` (and the names git treats as `.git`) is
never read. Ignore rules come from the tree's `.gitignore` files, read the same way
and evaluated by `pathspec` (git's semantics), and apply only to untracked paths.

The result becomes one commit in the job's host-only git dir, written by `git
fast-import` from a stream on its stdin: Rolecall's identity, Rolecall's message,
on top of the commit the job started from. Commits, authors and messages the agent
made inside the sandbox are not carried over.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from agents.workspace.checkout import host_git_dir
from agents.workspace.git import (
    LOCAL_TIMEOUT,
    WorkspaceError,
    check_sha,
    run_git,
    run_git_bytes,
)
from agents.workspace.trees import (
    EXECUTABLE,
    GITLINK,
    REGULAR,
    SYMLINK,
    Entry,
    is_dot_git,
    tree_entries,
)

MAX_FILE_BYTES = 100 * 1024 * 1024  # GitHub refuses larger files in a push
MAX_ENTRIES = 500_000
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
# Files git itself refuses as symlinks (fsck: gitmodulesSymlink and friends).
_NO_SYMLINK = {".gitmodules", ".gitattributes", ".gitignore", ".mailmap"}


@dataclass
class Snapshot:
    """The worktree as data: what to write, what was refused and why."""

    entries: dict[bytes, Entry] = field(default_factory=dict)
    blobs: dict[bytes, bytes] = field(default_factory=dict)  # path -> new content
    refused: list[str] = field(default_factory=list)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class _Ignores:
    """`.gitignore` rules by directory; the deepest that matches decides."""

    def __init__(self) -> None:
        self._specs: dict[str, pathspec.GitIgnoreSpec] = {}

    def add(self, directory: str, text: str) -> None:
        self._specs[directory] = pathspec.GitIgnoreSpec.from_lines(text.splitlines())

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        parts = path.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            directory = "/".join(parts[:depth])
            spec = self._specs.get(directory)
            if spec is None:
                continue
            relative = "/".join(parts[depth:]) + ("/" if is_dir else "")
            verdict = spec.check_file(relative).include
            if verdict is not None:
                return verdict
        return False


def _read_file(dir_fd: int, name: str, expected: os.stat_result) -> bytes | None:
    """The bytes of a regular file, or None if it is not one once opened."""
    fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_ino != expected.st_ino:
            return None
        if st.st_size > MAX_FILE_BYTES:
            raise WorkspaceError(
                f"a file the agent wrote is {st.st_size} bytes, more than GitHub accepts"
            )
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def take_snapshot(worktree: Path, base: dict[bytes, Entry]) -> Snapshot:
    """Walk the worktree as untrusted data; `base` is the tree the job started from."""
    snap = Snapshot()
    tracked_dirs = {b"/".join(p.split(b"/")[:i]) for p in base for i in range(1, p.count(b"/") + 1)}
    ignores = _Ignores()
    root_fd = os.open(worktree, _OPEN_DIR)
    stack: list[tuple[int, bytes]] = [(root_fd, b"")]
    seen = 0
    try:
        while stack:
            dir_fd, prefix = stack.pop()
            try:
                for child_fd, child in _walk_dir(dir_fd, prefix, snap, base, tracked_dirs, ignores):
                    seen += 1
                    if seen > MAX_ENTRIES:
                        raise WorkspaceError(
                            f"the worktree holds more than {MAX_ENTRIES} entries; nothing "
                            "was committed"
                        )
                    stack.append((child_fd, child))
            finally:
                os.close(dir_fd)
    except BaseException:
        for fd, _ in stack:
            os.close(fd)
        raise
    for path, entry in base.items():  # submodules are kept as they were
        if entry.mode == GITLINK:
            snap.entries[path] = entry
    return snap


def _walk_dir(
    dir_fd: int,
    prefix: bytes,
    snap: Snapshot,
    base: dict[bytes, Entry],
    tracked_dirs: set[bytes],
    ignores: _Ignores,
) -> Iterator[tuple[int, bytes]]:
    """Record one directory's files; yield (fd, path) of each subdirectory to walk."""
    names = sorted(os.listdir(dir_fd))
    if ".gitignore" in names:
        st = os.stat(".gitignore", dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISREG(st.st_mode):
            data = _read_file(dir_fd, ".gitignore", st)
            if data is not None:
                ignores.add(os.fsdecode(prefix), data.decode("utf-8", "replace"))
    for name in names:
        if is_dot_git(name):
            if prefix:  # the agent's own .git at the top is expected; others are noted
                snap.refused.append(f"{os.fsdecode(prefix)}/{name} (a git directory)")
            continue
        path = prefix + b"/" + os.fsencode(name) if prefix else os.fsencode(name)
        shown = os.fsdecode(path)
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        tracked = path in base
        if stat.S_ISDIR(st.st_mode):
            if path in base and base[path].mode == GITLINK:
                continue
            if path not in tracked_dirs and ignores.ignored(shown, is_dir=True):
                continue
            yield os.open(name, _OPEN_DIR, dir_fd=dir_fd), path
            continue
        if not tracked and ignores.ignored(shown, is_dir=False):
            continue
        if stat.S_ISLNK(st.st_mode):
            if name in _NO_SYMLINK:
                snap.refused.append(f"{shown} (a symbolic link where git needs a file)")
                continue
            _record(snap, base, path, SYMLINK, os.fsencode(os.readlink(name, dir_fd=dir_fd)))
        elif stat.S_ISREG(st.st_mode):
            data = _read_file(dir_fd, name, st)
            if data is None:
                snap.refused.append(f"{shown} (changed while it was read)")
                continue
            mode = EXECUTABLE if st.st_mode & stat.S_IXUSR else REGULAR
            _record(snap, base, path, mode, data)
        else:
            snap.refused.append(f"{shown} (not a regular file or link)")


def _record(snap: Snapshot, base: dict[bytes, Entry], path: bytes, mode: str, data: bytes) -> None:
    oid = _blob_id(data)
    snap.entries[path] = Entry(mode, oid, path)
    old = base.get(path)
    if old is None or old.oid != oid:
        snap.blobs[path] = data


def _quote(path: bytes) -> bytes:
    """A path as fast-import reads it: C-style quoted, so any byte is safe."""
    out = bytearray(b'"')
    for byte in path:
        if byte in (0x22, 0x5C):
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


def _stream(
    ref: str, parent: str, message: str, identity: str, snap: Snapshot, base: dict[bytes, Entry]
) -> bytes:
    """The fast-import stream of one commit: new blobs, then the tree's changes."""
    out = bytearray()
    marks: dict[bytes, int] = {}
    for number, (path, data) in enumerate(sorted(snap.blobs.items()), start=1):
        marks[path] = number
        out += b"blob\nmark :%d\ndata %d\n" % (number, len(data)) + data + b"\n"
    stamp = f"{identity} {int(time.time())} +0000".encode()
    text = message.encode()
    out += f"commit {ref}\n".encode() + b"author " + stamp + b"\ncommitter " + stamp + b"\n"
    out += b"data %d\n" % len(text) + text + b"\n"
    out += f"from {parent}\n".encode()
    for path in sorted(base.keys() - snap.entries.keys()):
        out += b"D " + _quote(path) + b"\n"
    for path, entry in sorted(snap.entries.items()):
        old = base.get(path)
        if old is not None and old.mode == entry.mode and old.oid == entry.oid:
            continue
        ref_ = b":%d" % marks[path] if path in marks else entry.oid.encode()
        out += b"M " + entry.mode.encode() + b" " + ref_ + b" " + _quote(path) + b"\n"
    out += b"\ndone\n"
    return bytes(out)


def commit_all(
    worktree: Path, message: str, author_name: str, author_email: str
) -> tuple[str | None, list[str]]:
    """Commit the worktree's content as Rolecall on top of the job's branch.

    Returns the new commit's SHA (None when nothing differs from the branch) and
    the paths that were refused (special files, nested git directories), for the
    report. The message is Rolecall's; the agent's commits are not carried over.
    """
    if not message.strip():
        raise WorkspaceError("a commit needs a message")
    for value in (author_name, author_email):
        if not value.strip() or any(ch in value for ch in "<>\n\0"):
            raise WorkspaceError(f"not a usable commit identity: {value!r}")
    git_dir = host_git_dir(worktree)
    ref = run_git(["symbolic-ref", "HEAD"], git_dir=git_dir).strip()
    parent = check_sha(run_git(["rev-parse", "--verify", f"{ref}^{{commit}}"], git_dir=git_dir))
    base = tree_entries(git_dir, parent)
    snap = take_snapshot(Path(worktree), base)
    if snap.entries == base:
        return None, snap.refused
    stream = _stream(ref, parent, message, f"{author_name} <{author_email}>", snap, base)
    run_git_bytes(
        ["fast-import", "--quiet", "--done"], git_dir=git_dir, stdin=stream, timeout=LOCAL_TIMEOUT
    )
    sha = check_sha(run_git(["rev-parse", "--verify", f"{ref}^{{commit}}"], git_dir=git_dir))
    return sha, snap.refused
