"""Path confinement for the file tools, which run on the host and not in the sandbox.

The model names files; those names are untrusted. Resolving a name with `realpath` and
then opening it leaves a window in which a directory can be swapped for a symlink, so
nothing here checks and then uses: every open walks from an fd on the worktree root,
one component at a time, with `O_NOFOLLOW` and `dir_fd=`. A symlink anywhere on the way,
including the final name, is refused, whatever it points at. `..` is resolved lexically
first and a path that then leaves the worktree is refused before any syscall.

Writes are refused inside any `.git` directory (hooks and config must not be planted by
the agent, invariant 4), for files that are hard-linked elsewhere, and for anything that
is not a regular file. Sizes are capped per write and for the worktree as a whole.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NoReturn

MAX_WRITE_BYTES = 10 * 1024**2
# Directories whose files Rolecall never changes. Workflows run with the repository's
# secrets: a change to one is refused here, up front, and again at delivery
# (`bot.jobs.trust.check_outgoing`) in case Bash wrote it.
PROTECTED_DIRECTORIES = (".github/workflows",)
DEFAULT_WORKTREE_GROWTH = 1024**3

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PathRefused(Exception):
    """A path the file tools will not touch; the message is written for the model."""


class Worktree:
    """The one directory the file tools may read and write.

    `max_bytes` caps the total size of the worktree after a write; None means "its size
    when first measured plus `DEFAULT_WORKTREE_GROWTH`", so a large repository can still
    be edited but not grown without bound.
    """

    def __init__(
        self, root: Path, *, max_bytes: int | None = None, owner: tuple[int, int] | None = None
    ) -> None:
        given = Path(root).absolute()
        self.root = given.resolve(strict=True)
        if not self.root.is_dir():
            raise NotADirectoryError(str(self.root))
        # Both spellings name the worktree: the one the caller used (also the path the
        # sandbox binds it at) and the one without symlinks.
        self._prefixes = sorted({str(self.root), os.path.normpath(str(given))}, key=len)
        self.max_bytes = max_bytes
        # The sandbox's host user (uid, gid), when commands run as another user than
        # Rolecall: what the file tools create is given to it, so Bash can change it too.
        self.owner = owner
        self._size: int | None = None

    # -- names -----------------------------------------------------------------------

    def relative(self, file_path: str) -> str:
        """`file_path` (absolute or relative to the worktree) as a normalized relative
        POSIX path, "" for the worktree itself; refused when it leaves the worktree."""
        if not file_path:
            raise PathRefused("the path is empty")
        if "\x00" in file_path:
            raise PathRefused("the path contains a NUL character")
        base = str(self.root)
        joined = file_path if os.path.isabs(file_path) else posixpath.join(base, file_path)
        normalized = posixpath.normpath(joined)
        if normalized.startswith("//"):
            normalized = "/" + normalized.lstrip("/")
        for prefix in self._prefixes:
            if normalized == prefix:
                return ""
            if normalized.startswith(prefix + "/"):
                return normalized[len(prefix) + 1 :]
        raise PathRefused(
            f"{file_path} is outside the worktree {self.root}; "
            "the file tools only work on files inside it"
        )

    def display(self, rel: str) -> str:
        """The absolute path the model should use for `rel` (same inside the sandbox)."""
        return str(self.root / rel) if rel else str(self.root)

    # -- opening -----------------------------------------------------------------------

    def _refuse(
        self, dir_fd: int, name: str, rel_so_far: str, exc: OSError, *, final: bool
    ) -> NoReturn:
        """Turn a failed open into a message that says what is in the way."""
        try:
            info: os.stat_result | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            info = None
        where = self.display(rel_so_far)
        if info is not None and stat.S_ISLNK(info.st_mode):
            raise PathRefused(
                f"{where} is a symbolic link; the file tools do not follow symlinks "
                "(use Bash to inspect it)"
            ) from exc
        if exc.errno == errno.ENOENT or info is None:
            raise FileNotFoundError(errno.ENOENT, self._missing(rel_so_far)) from exc
        if not final and not stat.S_ISDIR(info.st_mode):
            raise PathRefused(f"{where} is not a directory") from exc
        if final and not stat.S_ISREG(info.st_mode):
            raise PathRefused(f"{where} is not a regular file") from exc
        raise PathRefused(f"cannot open {where}: {exc.strerror}") from exc

    def _give(self, fd: int) -> None:
        if self.owner is not None:
            os.fchown(fd, *self.owner)

    @contextmanager
    def directory(self, rel: str, *, create: bool = False) -> Iterator[int]:
        """An fd on directory `rel`, reached without following any symlink."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            done: list[str] = []
            for name in [p for p in rel.split("/") if p]:
                done.append(name)
                try:
                    next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError as exc:
                    if not create:
                        self._refuse(fd, name, "/".join(done), exc, final=False)
                    try:
                        with suppress(FileExistsError):
                            os.mkdir(name, 0o755, dir_fd=fd)
                        next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                        self._give(next_fd)
                    except OSError as exc2:
                        self._refuse(fd, name, "/".join(done), exc2, final=False)
                except OSError as exc:
                    self._refuse(fd, name, "/".join(done), exc, final=False)
                os.close(fd)
                fd = next_fd
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def open_file(self, rel: str, flags: int, *, create_parents: bool = False) -> Iterator[int]:
        """An fd on the regular file `rel`; symlinks, FIFOs, devices are refused.

        `O_NONBLOCK` keeps a FIFO planted by a sandboxed command from hanging us;
        `O_TRUNC` is not honored (truncate after checking, via `truncate`).
        """
        if not rel:
            raise IsADirectoryError(errno.EISDIR, self._is_dir(rel))
        parent, _, name = rel.rpartition("/")
        flags = (flags & ~os.O_TRUNC) | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        with self.directory(parent, create=create_parents) as dir_fd:
            try:
                fd = os.open(name, flags, 0o644, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno == errno.EISDIR:
                    raise IsADirectoryError(errno.EISDIR, self._is_dir(rel)) from exc
                self._refuse(dir_fd, name, rel, exc, final=True)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, self._is_dir(rel))
            if not stat.S_ISREG(info.st_mode):
                raise PathRefused(f"{self.display(rel)} is not a regular file")
            if flags & os.O_CREAT:
                self._give(fd)
            os.set_blocking(fd, True)
            yield fd
        finally:
            os.close(fd)

    def _missing(self, rel: str) -> str:
        return f"{self.display(rel)} does not exist (the working tree is {self.root})"

    def _is_dir(self, rel: str) -> str:
        return f"{self.display(rel)} is a directory, not a file; list it with Glob or Bash `ls`"

    def lstat(self, rel: str) -> os.stat_result:
        """`lstat` of `rel` through the confined walk (the worktree itself for "")."""
        if not rel:
            return os.stat(self.root)
        parent, _, name = rel.rpartition("/")
        with self.directory(parent) as dir_fd:
            try:
                return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError as exc:
                raise FileNotFoundError(errno.ENOENT, self._missing(rel)) from exc

    # -- reading and writing -----------------------------------------------------------

    def read_bytes(self, rel: str, *, limit: int) -> bytes:
        """The file's content; PathRefused when it is larger than `limit`."""
        with self.open_file(rel, os.O_RDONLY) as fd:
            size = os.fstat(fd).st_size
            if size > limit:
                raise PathRefused(
                    f"{self.display(rel)} is {size} bytes, more than the {limit} this tool handles"
                )
            return _read_all(fd, limit + 1)

    def check_writable(self, rel: str) -> None:
        if not rel:
            raise PathRefused("cannot write to the worktree directory itself")
        if ".git" in rel.split("/"):
            raise PathRefused(
                f"{self.display(rel)} is inside .git; the file tools do not write there "
                "(use git commands through Bash)"
            )
        if any(rel == p or rel.startswith(p + "/") for p in PROTECTED_DIRECTORIES):
            raise PathRefused(
                f"{self.display(rel)} is a GitHub Actions workflow; Rolecall never changes "
                "workflows (that takes the `workflows` permission, which it does not have), "
                "and a change there would stop the whole delivery. Describe the workflow "
                "change in your final message instead"
            )

    def write_bytes(self, rel: str, data: bytes, *, edit_of: int | None = None) -> bool:
        """Write `data` as the whole content of `rel`; True when the file was created.

        `edit_of` is the size the caller read before editing, so a concurrent change
        in size is noticed rather than clobbered silently.
        """
        self.check_writable(rel)
        if len(data) > MAX_WRITE_BYTES:
            raise PathRefused(
                f"refusing to write {len(data)} bytes; the limit per write is {MAX_WRITE_BYTES}"
            )
        try:
            old_size = self.lstat(rel).st_size
            existed = True
        except FileNotFoundError:
            old_size, existed = 0, False
        self._check_room(len(data) - old_size)  # before creating anything
        with self.open_file(rel, os.O_RDWR | os.O_CREAT, create_parents=True) as fd:
            info = os.fstat(fd)
            if info.st_nlink > 1:
                raise PathRefused(f"{self.display(rel)} has other hard links; not writing it")
            if edit_of is not None and info.st_size != edit_of:
                raise PathRefused(f"{self.display(rel)} changed while it was being edited")
            self._check_room(len(data) - info.st_size)
            assert self._size is not None
            self._size += len(data) - info.st_size
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        return not existed

    # -- size accounting ---------------------------------------------------------------

    def measure(self) -> int:
        """Total size of regular files in the worktree (symlinks not followed)."""
        total = 0
        for dirpath, _dirnames, filenames in os.walk(self.root, followlinks=False):
            for name in filenames:
                try:
                    info = os.stat(os.path.join(dirpath, name), follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
        return total

    def invalidate_size(self) -> None:
        """Forget the measured size (a shell command may have changed anything)."""
        self._size = None

    def _check_room(self, growth: int) -> None:
        if self._size is None:
            self._size = self.measure()
            if self.max_bytes is None:
                self.max_bytes = self._size + DEFAULT_WORKTREE_GROWTH
        assert self.max_bytes is not None
        if growth > 0 and self._size + growth > self.max_bytes:
            raise PathRefused(
                f"the worktree would grow past its size limit ({self.max_bytes} bytes); "
                "remove generated files or write less"
            )


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1024**2))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
