"""A job's checkout holds the commit's tree exactly: contents, modes, links, submodules.

The files are written by Python from blobs read in parallel shares
(agents.workspace.materialize), never by a git process with a work tree; these tests
check the result against git's own listing of the tree, and that a tree with a path
git would treat as `.git` is refused before anything is written.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from agents import workspace as ws

ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}
SUBMODULE_SHA = "1234567890abcdef1234567890abcdef12345678"


def import_tree(repo: Path, files: dict[str, tuple[str, bytes]]) -> str:
    """One commit holding `files` (path -> (mode, content)), made with fast-import."""
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True, env=ENV)
    stream = bytearray(b"commit refs/heads/main\n")
    stream += b"committer Human <human@example.com> 1700000000 +0000\ndata 5\nfirst\n"
    for path, (mode, content) in files.items():
        if mode == "160000":
            stream += f"M 160000 {content.decode()} {path}\n".encode()
            continue
        stream += f"M {mode} inline {path}\ndata {len(content)}\n".encode() + content + b"\n"
    stream += b"\n"
    subprocess.run(
        ["git", f"--git-dir={repo}", "fast-import", "--quiet"], input=bytes(stream), check=True
    )
    done = subprocess.run(
        ["git", f"--git-dir={repo}", "rev-parse", "main"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    return done.stdout.strip()


def test_the_worktree_holds_the_tree_byte_for_byte(tmp_path: Path) -> None:
    files: dict[str, tuple[str, bytes]] = {
        f"src/pkg{i % 7}/deep/er/file_{i:04d}.txt": ("100644", f"file {i}\n".encode() * (i % 50))
        for i in range(1500)  # more blobs than one reader's share
    }
    files["same/a.txt"] = files["same/b.txt"] = ("100644", b"one blob, two paths\n")
    files["bin/run.sh"] = ("100755", b"#!/bin/sh\necho hi\n")
    files["data/blob.bin"] = ("100644", bytes(range(256)) * 500)
    files["link-out"] = ("120000", b"../../etc/passwd")
    files["docs/link-in"] = ("120000", b"../bin/run.sh")
    files["vendor/lib"] = ("160000", SUBMODULE_SHA.encode())
    mirror = tmp_path / "mirror.git"
    sha = import_tree(mirror, files)
    worktree = tmp_path / "work" / "job-1"

    ws.create_worktree(mirror, worktree, sha, "rolecall/issue-1-x")

    for path, (mode, content) in files.items():
        target = worktree / path
        if mode == "120000":
            assert target.is_symlink() and os.readlink(target) == content.decode()
        elif mode == "160000":
            assert target.is_dir() and not target.is_symlink() and not any(target.iterdir())
        else:
            assert not target.is_symlink() and target.read_bytes() == content, path
            executable = bool(target.stat().st_mode & stat.S_IXUSR)
            assert executable == (mode == "100755"), path
    written = {
        p.relative_to(worktree).as_posix()
        for p in worktree.rglob("*")
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(worktree).parts
    }
    assert written == {p for p, (mode, _) in files.items() if mode != "160000"}
    agent_git = worktree / ".git"
    assert (agent_git / "HEAD").read_text() == "ref: refs/heads/rolecall/issue-1-x\n"
    assert (agent_git / "refs" / "heads" / "rolecall" / "issue-1-x").read_text() == f"{sha}\n"
    assert (agent_git / "index").read_bytes().startswith(b"DIRC")
    assert not (ws.host_git_dir(worktree) / "agent-index").exists()


@pytest.mark.parametrize("unsafe", [".GIT/config", "a/.git/hooks/post-checkout", "GIT~1/x"])
def test_a_tree_with_a_path_read_as_dot_git_is_refused_before_anything_is_written(
    tmp_path: Path, unsafe: str
) -> None:
    files = {f"ok/file_{i}.txt": ("100644", b"fine\n") for i in range(10)}
    files[unsafe] = ("100644", b"[core]\n\tfsmonitor = touch /tmp/pwned\n")
    mirror = tmp_path / "mirror.git"
    sha = import_tree(mirror, files)
    worktree = tmp_path / "work" / "job-1"

    with pytest.raises(ws.WorkspaceError, match="unsafe path"):
        ws.create_worktree(mirror, worktree, sha, "rolecall/issue-1-x")

    assert not worktree.exists() or not any(worktree.iterdir())
    assert not ws.host_git_dir(worktree).exists()
