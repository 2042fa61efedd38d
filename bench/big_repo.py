"""A large repository with a long history, built in seconds with `git fast-import`.

The job-start benchmark needs a repository the size of a real project: 20,000 commits
and 5,000 files at the tip, in a few hundred directories, with sizes spread the way
source trees spread them (most files a few KB, a long tail, a few binary assets that
do not compress). Every commit edits a handful of lines in one to four files, so the
pack holds deltas the way a real history does. Deterministic for a given seed.

One `fast-import` process writes it all: the stream is generated as it is read.
"""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

# fmt: off
_WORDS = (
    "self", "value", "result", "items", "index", "count", "name", "path", "data", "config",
    "request", "response", "client", "server", "handler", "error", "message", "token",
    "buffer", "stream", "offset", "length", "parent", "child", "node", "tree", "entry",
    "record", "state", "status", "event", "queue", "worker", "job", "task", "commit", "branch",
    "update", "create", "delete", "read", "write", "open", "close", "start", "stop", "check",
    "verify",
)
# fmt: on
_KEYWORDS = ("def", "return", "if", "for", "while", "with", "raise", "assert", "import")
_EXTENSIONS = (".py", ".py", ".py", ".ts", ".md", ".json", ".yml", ".txt", ".c", ".h")


def _corpus(rng: random.Random, lines: int) -> list[bytes]:
    """Code-like lines: indentation, keywords, identifiers, calls (compresses like code)."""
    out = []
    for _ in range(lines):
        depth = rng.choice((0, 1, 1, 2, 2, 2, 3))
        words = [rng.choice(_WORDS) for _ in range(rng.randint(2, 7))]
        head = rng.choice(_KEYWORDS) if rng.random() < 0.4 else words.pop()
        line = f"{'    ' * depth}{head} {'_'.join(words[:2])}({', '.join(words[2:])})"
        if rng.random() < 0.2:
            line += f"  # {' '.join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9)))}"
        out.append(line.encode() + b"\n")
    return out


class _Files:
    """The tip's files as lists of lines (text) or bytes (binary assets), by path."""

    def __init__(self, rng: random.Random, count: int, corpus: list[bytes]) -> None:
        self.rng = rng
        self.corpus = corpus
        self.text: dict[str, list[bytes]] = {}
        self.binary: dict[str, bytes] = {}
        assets = max(1, count // 250)
        for i in range(count - assets):
            directory = f"src/pkg{i % 40:02d}/sub{(i // 40) % 8}"
            name = f"{directory}/module_{i:05d}{rng.choice(_EXTENSIONS)}"
            # Log-normal bytes: median ~3.3 KB, mean ~7 KB, a tail into hundreds of KB.
            size = min(int(rng.lognormvariate(8.1, 1.2)), 400_000)
            self.text[name] = self._lines(max(1, size // 45))
        for i in range(assets):
            self.binary[f"assets/image_{i:03d}.bin"] = os.urandom(rng.randint(20_000, 400_000))

    def _lines(self, n: int) -> list[bytes]:
        start = self.rng.randrange(len(self.corpus))
        return [self.corpus[(start + k * 7) % len(self.corpus)] for k in range(n)]

    def edit(self, path: str) -> bytes:
        """Change a few lines of a text file (replace, insert or delete); its new content."""
        lines = self.text[path]
        at = self.rng.randrange(len(lines))
        kind = self.rng.random()
        new = [self.rng.choice(self.corpus) for _ in range(self.rng.randint(1, 6))]
        if kind < 0.5:
            lines[at : at + len(new)] = new
        elif kind < 0.85 or len(lines) < 10:
            lines[at:at] = new
        else:
            del lines[at : at + self.rng.randint(1, 5)]
        return b"".join(lines)


def _blob(path: str, data: bytes) -> bytes:
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def _stream(
    commits: int, files: int, seed: int, branch: str, extra: dict[str, bytes]
) -> Iterator[bytes]:
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    tree = _Files(rng, files - len(extra), _corpus(rng, 60_000))
    paths = sorted(tree.text)
    when = 1_500_000_000
    for n in range(commits):
        when += rng.randint(60, 20_000)
        who = f"Dev {rng.randrange(60):02d} <dev{rng.randrange(60):02d}@example.com>"
        if n == 0:
            message = b"Initial import\n"
            changes = [_blob(p, b"".join(lines)) for p, lines in tree.text.items()]
            changes += [_blob(p, data) for p, data in tree.binary.items()]
            changes += [_blob(p, data) for p, data in extra.items()]
        else:
            touched = {rng.choice(paths) for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))}
            message = f"Change {n}: {' '.join(rng.choice(_WORDS) for _ in range(6))}\n".encode()
            changes = [_blob(p, tree.edit(p)) for p in sorted(touched)]
        head = f"commit refs/heads/{branch}\nauthor {who} {when} +0000\n"
        head += f"committer {who} {when} +0000\ndata {len(message)}\n"
        yield head.encode() + message
        if n == 0:
            yield b"deleteall\n"
        yield b"".join(changes) + b"\n"


def build(
    git_dir: Path,
    *,
    commits: int = 20_000,
    files: int = 5_000,
    seed: int = 12,
    branch: str = "main",
    extra: dict[str, bytes] | None = None,
) -> str:
    """Replace `branch` of the bare repository `git_dir` with the generated history.

    `extra` files are added in the first commit (e.g. AGENTS.md). Returns the tip SHA.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": os.devnull,
    }
    proc = subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "fast-import", "--quiet", "--force"],
        stdin=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    for chunk in _stream(commits, files, seed, branch, dict(extra or {})):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    tip = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", f"refs/heads/{branch}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return tip.stdout.strip()


def pack_bytes(git_dir: Path) -> int:
    """The size of the repository's packs, in bytes."""
    return sum(p.stat().st_size for p in (git_dir / "objects" / "pack").glob("*.pack"))
