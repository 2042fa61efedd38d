"""Reading trees and blobs out of a host-only repository as plain data."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agents.workspace.git import WorkspaceError, check_sha, run_git_bytes

GITLINK = "160000"
SYMLINK = "120000"
EXECUTABLE = "100755"
REGULAR = "100644"


@dataclass(frozen=True)
class Entry:
    """One path of a commit's tree: its mode, object id and path (bytes, as git has it)."""

    mode: str
    oid: str
    path: bytes


def tree_entries(git_dir: Path, sha: str) -> dict[bytes, Entry]:
    """Every blob, symlink and submodule of `sha`'s tree, by path (recursive)."""
    sha = check_sha(sha)
    out = run_git_bytes(["ls-tree", "-r", "-z", "--full-tree", sha], git_dir=git_dir)
    entries: dict[bytes, Entry] = {}
    for record in filter(None, out.split(b"\0")):
        meta, _, path = record.partition(b"\t")
        mode, _kind, oid = meta.decode().split()
        entries[path] = Entry(mode, oid, path)
    return entries


def read_blobs(git_dir: Path, oids: list[str]) -> Iterator[tuple[str, bytes]]:
    """(oid, content) for each blob id, in order, through one `cat-file --batch`."""
    if not oids:
        return
    out = run_git_bytes(
        ["cat-file", "--batch"], git_dir=git_dir, stdin="".join(f"{o}\n" for o in oids)
    )
    at = 0
    for oid in oids:
        newline = out.index(b"\n", at)
        header = out[at:newline].split()
        if len(header) != 3 or header[1] != b"blob":
            raise WorkspaceError(f"object {oid} is not a blob in the repository")
        size = int(header[2])
        start = newline + 1
        yield oid, out[start : start + size]
        at = start + size + 1


def is_dot_git(name: str) -> bool:
    """`.git` as git would read it on any file system (case, trailing dots, 8.3, HFS)."""
    visible = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    folded = visible.casefold().rstrip(". ")
    return folded in (".git", "git~1")
