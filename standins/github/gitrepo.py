"""Real git repositories on disk: the stand-in's source of truth for branches and diffs.

Everything the REST API says about commits (a branch's sha, a PR's head, "No commits
between", the files of a PR) is read from bare repositories with the git CLI, so a
push over smart HTTP changes what the API reports exactly as on GitHub. Git runs
with system and global config ignored, so the machine's settings cannot leak in.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR")


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "HOME": os.devnull,
        }
    )
    env.update(extra or {})
    return env


class GitError(RuntimeError):
    """A git command failed; the message carries git's own stderr."""


def git(
    repo: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    """Run git against a bare repository and return stdout (stripped of the last newline)."""
    proc = subprocess.run(
        ["git", "--git-dir", str(repo), "-c", "core.quotepath=false", *args],
        input=input,
        capture_output=True,
        env=_env(env),
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode(errors="replace").removesuffix("\n")


def init_bare(path: Path, default_branch: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path)],
        check=True,
        env=_env(),
        capture_output=True,
    )


def clone_bare(source: Path, path: Path) -> None:
    """A fork: a bare copy sharing nothing with its parent but history."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", "--no-local", str(source), str(path)],
        check=True,
        env=_env(),
        capture_output=True,
    )


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    when: datetime


def commit_files(
    repo: Path,
    branch: str,
    files: dict[str, str | bytes | None],
    message: str,
    author: Signature,
    parent: str | None,
) -> str:
    """Commit `files` (None deletes a path) on top of `parent` and move `branch` there.

    One `git fast-import` process writes blobs, tree, commit and ref at once, which
    keeps seeding a repository fast enough for tests that make many.
    """
    stamp = f"{author.name} <{author.email}> {int(author.when.timestamp())} +0000"
    msg = message.encode()
    out = bytearray()
    out += f"commit refs/heads/{branch}\n".encode()
    out += f"author {stamp}\ncommitter {stamp}\n".encode()
    out += f"data {len(msg)}\n".encode() + msg + b"\n"
    if parent:
        out += f"from {parent}\n".encode()
    for path, content in files.items():
        if content is None:
            out += f"D {path}\n".encode()
            continue
        data = content.encode() if isinstance(content, str) else content
        out += f"M 100644 inline {path}\n".encode()
        out += f"data {len(data)}\n".encode() + data + b"\n"
    out += b"\n"
    git(repo, "fast-import", "--quiet", "--date-format=raw", input=bytes(out))
    return git(repo, "rev-parse", f"refs/heads/{branch}")


def refs(repo: Path) -> dict[str, str]:
    """Every ref and the object it points at, to notice what a push changed."""
    text = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in text.splitlines() if line)


def branches(repo: Path) -> dict[str, str]:
    prefix = "refs/heads/"
    return {k[len(prefix) :]: v for k, v in refs(repo).items() if k.startswith(prefix)}


def rev_parse(repo: Path, ref: str) -> str | None:
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        return None


def merge_base(repo: Path, a: str, b: str) -> str | None:
    try:
        return git(repo, "merge-base", a, b)
    except GitError:
        return None


def count_commits(repo: Path, base: str, head: str) -> int:
    """Commits on head that base lacks: GitHub's "No commits between" test."""
    return int(git(repo, "rev-list", "--count", f"{base}..{head}"))


def diff(repo: Path, base: str, head: str) -> str:
    """The patch GitHub shows for a PR: merge-base of base and head, to head."""
    start = merge_base(repo, base, head) or base
    return git(repo, "diff", "--no-color", "--no-ext-diff", "-M", "--full-index", start, head)


def fetch(repo: Path, source: Path, src_ref: str, dst_ref: str) -> None:
    """Copy a ref (and its objects) between repositories, e.g. a fork's branch to refs/pull."""
    git(repo, "fetch", "--quiet", "--no-tags", str(source), f"+{src_ref}:{dst_ref}")


def fetch_objects(repo: Path, source: Path, src_ref: str) -> None:
    """Bring a ref's commits over without naming them (they land in FETCH_HEAD only)."""
    git(repo, "fetch", "--quiet", "--no-tags", str(source), src_ref)


def update_ref(repo: Path, ref: str, sha: str) -> None:
    git(repo, "update-ref", ref, sha)


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author_name: str
    author_email: str
    author_date: str
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


def commit_info(repo: Path, sha: str) -> CommitInfo:
    fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
    fields = git(repo, "show", "-s", f"--format={fmt}", sha).split("\x00")
    return CommitInfo(
        sha=fields[0],
        tree=fields[1],
        parents=fields[2].split(),
        author_name=fields[3],
        author_email=fields[4],
        author_date=fields[5],
        committer_name=fields[6],
        committer_email=fields[7],
        committer_date=fields[8],
        message=fields[9].rstrip("\n"),
    )


def object_type(repo: Path, sha: str) -> str | None:
    """ "commit", "tree", "blob" or "tag" for a full object id the repository holds, else None.

    Only full 40-hex ids count, as in GitHub's Git Data API (it takes no abbreviations).
    """
    if len(sha) != 40 or any(ch not in "0123456789abcdef" for ch in sha):
        return None
    try:
        return git(repo, "cat-file", "-t", sha)
    except GitError:
        return None


def commit_tree(
    repo: Path, tree: str, parents: list[str], message: str, author: Signature, committer: Signature
) -> str:
    """Write a commit object (`git commit-tree`) without moving any ref; its sha.

    The message is taken as given, byte for byte, as GitHub's API stores it.
    """
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": f"{int(author.when.timestamp())} +0000",
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": f"{int(committer.when.timestamp())} +0000",
    }
    return git(repo, *args, input=message.encode(), env=env)


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether moving a ref from `ancestor` to `descendant` is a fast-forward."""
    proc = subprocess.run(
        ["git", "--git-dir", str(repo), "merge-base", "--is-ancestor", ancestor, descendant],
        capture_output=True,
        env=_env(),
        check=False,
    )
    return proc.returncode == 0


def swap_ref(repo: Path, ref: str, new: str, old: str) -> None:
    """Move `ref` to `new` only if it still points at `old` (git's compare-and-swap)."""
    git(repo, "update-ref", ref, new, old)
