"""agents/workspace.py against real git over real smart HTTP.

The "GitHub" here is a stdlib HTTP server on 127.0.0.1 that checks basic auth
`x-access-token:<token>` and hands the request to `git http-backend`. A "human" with
plain git pushes to the same bare repository on disk to play the other people.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agents import workspace as ws
from standins.git_http import read_request_body, serve_git

OWNER, NAME = "acme", "widget"
BOT = ("rolecall[bot]", "rolecall@users.noreply.example")
REAL_GIT = shutil.which("git") or "git"

# The human's git: no config of the machine, a fixed identity.
HUMAN_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Human",
    "GIT_AUTHOR_EMAIL": "human@example.com",
    "GIT_COMMITTER_NAME": "Human",
    "GIT_COMMITTER_EMAIL": "human@example.com",
}


def git(cwd: Path, *args: str, strip: bool = True) -> str:
    """Plain git, as a person would run it (not through the code under test)."""
    done = subprocess.run(
        [REAL_GIT, *args], cwd=cwd, env=HUMAN_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() if strip else done.stdout


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def scan_proc_cmdlines(needle: bytes) -> list[str]:
    """Command lines of every live process on the machine that contain `needle`."""
    hits = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if needle in cmdline:
                hits.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return hits


@dataclass
class GitServer:
    """Smart HTTP for the repositories under `root`, one valid token."""

    root: Path
    token: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    auth_seen: list[str] = field(default_factory=list)
    proc_hits: list[str] = field(default_factory=list)
    scan_proc: bool = False
    before_request: Callable[[str, str], None] | None = None
    port: int = 0

    def url(self, owner: str = OWNER, name: str = NAME) -> str:
        return f"http://127.0.0.1:{self.port}/{owner}/{name}.git"

    def receive_pack_requests(self) -> int:
        return sum("git-receive-pack" in path for _, path in self.requests)


@contextmanager
def running(server: GitServer) -> Iterator[GitServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.handle_git()

        def do_POST(self) -> None:
            self.handle_git()

        def handle_git(self) -> None:
            server.requests.append((self.command, self.path))
            auth = self.headers.get("Authorization", "")
            server.auth_seen.append(auth)
            if server.scan_proc:
                server.proc_hits += scan_proc_cmdlines(server.token.encode())
            if server.before_request is not None:
                server.before_request(self.command, self.path)
            if auth != basic(server.token):
                read_request_body(self)
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="stand-in"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            serve_git(self, server.root, self.path, "x-access-token")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@dataclass
class Upstream:
    """The repository on "GitHub", and a person's clone of it."""

    bare: Path
    human: Path
    url: str

    def commit(self, files: dict[str, str], message: str, branch: str = "main") -> str:
        """The human commits `files` on top of `branch` as it is upstream, and pushes."""
        git(self.human, "fetch", "-q", "origin")
        exists = git(self.human, "branch", "-r", "--list", f"origin/{branch}")
        git(self.human, "checkout", "-q", "-B", branch, f"origin/{branch if exists else 'main'}")
        for path, text in files.items():
            target = self.human / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(self.human, "add", "-A")
        git(self.human, "commit", "-q", "-m", message)
        git(self.human, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return git(self.human, "rev-parse", "HEAD")

    def sha(self, branch: str) -> str:
        return git(self.bare, "rev-parse", f"refs/heads/{branch}")

    def show(self, branch: str, path: str) -> str:
        return git(self.bare, "show", f"refs/heads/{branch}:{path}", strip=False)

    def is_ancestor(self, old: str, new: str) -> bool:
        done = subprocess.run(
            [REAL_GIT, "merge-base", "--is-ancestor", old, new], cwd=self.bare, env=HUMAN_ENV
        )
        return done.returncode == 0


@pytest.fixture
def token() -> str:
    return "ghs_" + secrets.token_hex(18)


@pytest.fixture
def server(tmp_path: Path, token: str) -> Iterator[GitServer]:
    with running(GitServer(root=tmp_path / "github", token=token)) as started:
        yield started


@pytest.fixture
def upstream(tmp_path: Path, server: GitServer) -> Upstream:
    bare = server.root / OWNER / f"{NAME}.git"
    bare.parent.mkdir(parents=True)
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    human = tmp_path / "human"
    git(tmp_path, "init", "-q", "-b", "main", str(human))
    git(human, "remote", "add", "origin", str(bare))
    (human / "README.md").write_text("# widget\n")
    (human / "AGENTS.md").write_text("instructions v1\n")
    (human / ".claude" / "agents").mkdir(parents=True)
    (human / ".claude" / "agents" / "fixer.md").write_text("---\nname: fixer\n---\nFix.\n")
    os.symlink("../../README.md", human / ".claude" / "agents" / "link.md")
    (human / "app.py").write_text("print('hello')\n")
    git(human, "add", "-A")
    git(human, "commit", "-q", "-m", "initial")
    git(human, "push", "-q", "origin", "main")
    return Upstream(bare=bare, human=human, url=server.url())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def prepare(data_dir: Path, upstream: Upstream, token: str, branch: str) -> tuple[Path, str]:
    """What the worker does for an issue job: mirror, then a worktree at main's SHA."""
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    base = ws.branch_sha(mirror, "main")
    assert base is not None
    worktree = data_dir / "worktrees" / "job-1"
    ws.create_worktree(mirror, worktree, base, branch)
    return worktree, base


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits += [f"{path}: {n!r}" for n in needles if n in data]
    return hits


def make_script(path: Path, marker: Path) -> Path:
    """An executable that leaves `marker` behind if anything ever runs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{marker}'\ncat\n")
    path.chmod(0o755)
    return path


# --------------------------------------------------------------------------- names


def test_branch_name_is_a_short_ascii_slug() -> None:
    assert ws.branch_name(12, "Fix the crash in Überparser!!") == (
        "rolecall/issue-12-fix-the-crash-in-uberparser"
    )
    long = ws.branch_name(3, "A very long title " * 10)
    slug = long.removeprefix("rolecall/issue-3-")
    assert len(slug) <= 40 and not slug.endswith("-") and slug.startswith("a-very-long")
    assert ws.branch_name(5, "🚀 ✨") == "rolecall/issue-5"
    assert ws.branch_name(7, "--force; rm -rf / ..") == "rolecall/issue-7-force-rm-rf"
    with pytest.raises(ValueError):
        ws.branch_name(0, "zero")


def test_mirror_path_stays_inside_the_data_dir(data_dir: Path) -> None:
    assert ws.mirror_path(data_dir, "acme", ".github") == (
        data_dir.resolve() / "mirrors" / "acme" / ".github.git"
    )
    for owner, name in [("..", "x"), ("acme", ".."), ("a/b", "x"), ("acme", "")]:
        with pytest.raises(ws.WorkspaceError):
            ws.mirror_path(data_dir, owner, name)


# --------------------------------------------------------------------------- mirror


def test_mirror_is_created_once_then_fetched(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    assert mirror == data_dir.resolve() / "mirrors" / OWNER / f"{NAME}.git"
    assert ws.branch_sha(mirror, "main") == upstream.sha("main")
    inode = mirror.stat().st_ino
    (mirror / "rolecall-test-marker").write_text("still here\n")

    newer = upstream.commit({"app.py": "print('v2')\n"}, "v2")
    upstream.commit({"new.txt": "on a branch\n"}, "branch", branch="topic")
    assert ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token) == mirror

    assert mirror.stat().st_ino == inode
    assert (mirror / "rolecall-test-marker").exists(), "the mirror was re-cloned"
    assert ws.branch_sha(mirror, "main") == newer
    assert ws.branch_sha(mirror, "topic") == upstream.sha("topic")
    assert ws.branch_sha(mirror, "nope") is None
    assert not list(mirror.parent.glob(".*tmp-*")), "a temporary clone was left behind"


def test_concurrent_jobs_on_one_repository_share_a_sound_mirror(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            results.append(ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    git(results[0], "fsck", "--no-progress")
    assert ws.branch_sha(results[0], "main") == upstream.sha("main")


def test_worktree_is_at_the_pinned_sha_even_when_upstream_moved(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    pinned = upstream.sha("main")
    upstream.commit({"app.py": "print('moved on')\n"}, "moved on")
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    assert ws.branch_sha(mirror, "main") != pinned

    branch = ws.branch_name(4, "Say hello")
    worktree = data_dir / "worktrees" / "job-4"
    ws.create_worktree(mirror, worktree, pinned, branch)

    assert ws.head_sha(worktree) == pinned
    assert (worktree / ".git" / "HEAD").read_text() == f"ref: refs/heads/{branch}\n"
    assert (worktree / "app.py").read_text() == "print('hello')\n"
    assert os.readlink(worktree / ".claude" / "agents" / "link.md") == "../../README.md"
    # The agent's .git borrows objects from where the sandbox binds the mirror, and has
    # no remote at all, let alone a URL with a token.
    alternates = (worktree / ".git" / "objects" / "info" / "alternates").read_text()
    assert alternates.strip() == f"{ws.SANDBOX_MIRROR}/objects"
    config = (worktree / ".git" / "config").read_text()
    assert "remote" not in config and "http" not in config and token not in config
    # Rolecall's own git dir is beside the worktree, never inside it.
    assert ws.host_git_dir(worktree).parent == worktree.parent

    with pytest.raises(ws.WorkspaceError, match="not empty"):
        ws.create_worktree(mirror, worktree, pinned, branch)
    with pytest.raises(ws.WorkspaceError, match="not in the mirror"):
        ws.create_worktree(mirror, data_dir / "w2", "0" * 40, branch)
    with pytest.raises(ws.WorkspaceError, match="full commit SHA"):
        ws.create_worktree(mirror, data_dir / "w3", "main", branch)


# --------------------------------------------------------------------------- secrecy


def test_the_token_is_only_ever_in_the_git_process_environment(
    data_dir: Path,
    upstream: Upstream,
    server: GitServer,
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A `git` first on PATH that records the argv of every git Rolecall starts.
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    argv_log = tmp_path / "argv.log"
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{argv_log}"\nexec "{REAL_GIT}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    server.scan_proc = True  # while git talks to us, look at every process's argv

    worktree, _base = prepare(data_dir, upstream, token, "rolecall/issue-1-secret")
    (worktree / "app.py").write_text("print('changed')\n")
    assert ws.commit_all(worktree, "Change app", *BOT)
    ws.push(worktree, upstream.url, token, "rolecall/issue-1-secret", default_branch="main")

    assert upstream.show("rolecall/issue-1-secret", "app.py") == "print('changed')\n"
    assert basic(token) in server.auth_seen, "the token did not reach the server as a header"
    assert argv_log.read_text().count("\n") >= 5
    assert token not in argv_log.read_text()
    assert server.proc_hits == []
    needles = [token.encode(), basic(token).split()[1].encode()]
    assert files_containing(data_dir, needles) == []


def test_git_errors_never_carry_the_token(data_dir: Path, upstream: Upstream, token: str) -> None:
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    with pytest.raises(ws.GitError) as caught:
        # git echoes an unknown object name back in its error message.
        ws.run_git(["cat-file", "-t", token], git_dir=mirror, token=token)
    assert token not in str(caught.value) and token not in caught.value.stderr
    assert "[REDACTED]" in caught.value.stderr


def test_push_with_a_bad_token_fails_without_showing_it(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    worktree, _base = prepare(data_dir, upstream, token, "rolecall/issue-2-bad")
    (worktree / "x.txt").write_text("x\n")
    ws.commit_all(worktree, "x", *BOT)
    bad = "ghs_" + secrets.token_hex(18)
    with pytest.raises(ws.GitError) as caught:
        ws.push(worktree, upstream.url, bad, "rolecall/issue-2-bad", default_branch="main")
    assert bad not in str(caught.value) and token not in str(caught.value)
    assert "rolecall/issue-2-bad" not in git(upstream.bare, "branch", "--list")
    with pytest.raises(ws.GitError):
        ws.sync_mirror(data_dir / "other", OWNER, NAME, upstream.url, bad)
    assert not (data_dir / "other" / "mirrors" / OWNER / f"{NAME}.git").exists()


def test_clone_urls_with_credentials_are_refused(data_dir: Path, upstream: Upstream) -> None:
    with_creds = upstream.url.replace("http://", "http://x-access-token:ghs_abc@")
    with pytest.raises(ws.WorkspaceError, match="credentials"):
        ws.sync_mirror(data_dir, OWNER, NAME, with_creds, "t")
    with pytest.raises(ws.WorkspaceError, match="http"):
        ws.sync_mirror(data_dir, OWNER, NAME, "ext::sh -c touch% /tmp/pwned", "t")


# --------------------------------------------------------------------------- commits


def test_commit_all_makes_one_commit_of_rolecalls_own_from_the_files(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    worktree, base = prepare(data_dir, upstream, token, "rolecall/issue-3-commits")
    assert ws.commit_all(worktree, "nothing", *BOT) == (None, [])

    # The agent "committed" inside the sandbox as a maintainer, with a closing keyword:
    # its .git is its own, and none of that is carried over.
    (worktree / "agent.txt").write_text("by the agent\n")
    agent_git = worktree / ".git"
    (agent_git / "refs" / "heads" / "rolecall" / "issue-3-commits").write_text("f" * 40 + "\n")
    (agent_git / "COMMIT_EDITMSG").write_text("Fixes #99\n")
    # It left more work, some of it ignored.
    (worktree / ".gitignore").write_text("build/\n")
    (worktree / "build").mkdir()
    (worktree / "build" / "out.bin").write_text("artefact\n")
    (worktree / "app.py").write_text("print('fixed')\n")
    (worktree / "README.md").unlink()

    message = "Fix the greeting\n\n# Why\n\nBecause.\n"
    sha, refused = ws.commit_all(worktree, message, *BOT)
    assert refused == []
    assert sha == ws.head_sha(worktree)
    host = ws.host_git_dir(worktree)
    assert git(host, "rev-parse", f"{sha}~1") == base
    assert git(host, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha) == (
        "rolecall[bot] <rolecall@users.noreply.example>|"
        "rolecall[bot] <rolecall@users.noreply.example>"
    )
    assert git(host, "log", "-1", "--format=%B", sha) == message.strip()
    assert ws.commits_since(worktree, base) == [(sha, "Fix the greeting")]
    assert ws.changed_files(worktree, base) == [".gitignore", "README.md", "agent.txt", "app.py"]
    stat_text = ws.diff_stat(worktree, base)
    assert "app.py" in stat_text and "4 files changed" in stat_text
    patch = ws.diff(worktree, base)
    assert "-print('hello')" in patch and "+print('fixed')" in patch
    assert "build/out.bin" not in patch
    assert ws.commit_all(worktree, "again", *BOT) == (None, [])
    with pytest.raises(ws.WorkspaceError):
        ws.commit_all(worktree, "x", "Mallory <evil@x>", "m@x")


# --------------------------------------------------------------------------- push


def test_push_refuses_the_default_branch_and_branches_not_ours(
    data_dir: Path, upstream: Upstream, server: GitServer, token: str
) -> None:
    worktree, _base = prepare(data_dir, upstream, token, "rolecall/issue-5-refuse")
    (worktree / "x.txt").write_text("x\n")
    ws.commit_all(worktree, "x", *BOT)
    before = len(server.requests)
    with pytest.raises(ws.WorkspaceError, match="default branch"):
        ws.push(worktree, upstream.url, token, "main", default_branch="main", pr_branch="main")
    with pytest.raises(ws.WorkspaceError, match="default branch"):
        ws.push(worktree, upstream.url, token, "rolecall/x", default_branch="rolecall/x")
    with pytest.raises(ws.WorkspaceError, match="default branch"):
        ws.push(worktree, upstream.url, token, "Main", default_branch="main", pr_branch="Main")
    with pytest.raises(ws.WorkspaceError, match="only to rolecall/"):
        ws.push(worktree, upstream.url, token, "feature", default_branch="main")
    with pytest.raises(ws.WorkspaceError, match="only to rolecall/"):
        ws.push(worktree, upstream.url, token, "feature", default_branch="main", pr_branch="f2")
    for bad in ["--force", "refs/heads/rolecall/x", "rolecall/a..b", "rolecall/x y"]:
        with pytest.raises(ws.WorkspaceError):
            ws.push(worktree, upstream.url, token, bad, default_branch="main", pr_branch=bad)
    assert len(server.requests) == before, "a refused push still talked to the server"
    assert git(upstream.bare, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_a_concurrent_push_is_rebased_onto_and_kept(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    branch = ws.branch_name(6, "Add feature")
    worktree, base = prepare(data_dir, upstream, token, branch)
    (worktree / "ours.txt").write_text("ours 1\n")
    ws.commit_all(worktree, "ours 1", *BOT)
    first = ws.push(worktree, upstream.url, token, branch, default_branch="main")
    assert first.created and not first.rebased and upstream.sha(branch) == first.sha

    theirs = upstream.commit({"theirs.txt": "a reviewer's fix\n"}, "theirs", branch=branch)
    (worktree / "ours2.txt").write_text("ours 2\n")
    ws.commit_all(worktree, "ours 2", *BOT)
    second = ws.push(
        worktree, upstream.url, token, branch, default_branch="main", expected_remote_sha=first.sha
    )

    assert second.rebased and not second.created
    assert upstream.sha(branch) == second.sha == ws.head_sha(worktree)
    assert upstream.is_ancestor(theirs, second.sha), "the other person's commit was lost"
    assert upstream.show(branch, "theirs.txt") == "a reviewer's fix\n"
    assert upstream.show(branch, "ours2.txt") == "ours 2\n"
    assert [s for _, s in ws.commits_since(worktree, base)] == ["ours 1", "theirs", "ours 2"]


def test_a_conflicting_concurrent_push_is_rejected_not_overwritten(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    branch = ws.branch_name(7, "Edit app")
    worktree, _base = prepare(data_dir, upstream, token, branch)
    (worktree / "app.py").write_text("print('ours')\n")
    ws.commit_all(worktree, "ours", *BOT)
    first = ws.push(worktree, upstream.url, token, branch, default_branch="main")
    theirs = upstream.commit({"app.py": "print('theirs')\n"}, "theirs", branch=branch)
    (worktree / "app.py").write_text("print('ours again')\n")
    ours, _ = ws.commit_all(worktree, "ours again", *BOT)

    with pytest.raises(ws.PushRejected, match="do not apply"):
        ws.push(
            worktree, upstream.url, token, branch, default_branch="main",
            expected_remote_sha=first.sha,
        )  # fmt: skip
    assert upstream.sha(branch) == theirs
    assert ws.head_sha(worktree) == ours, "the failed replay moved the job's branch"


def test_a_push_racing_our_retry_is_refused_by_the_lease(
    data_dir: Path, upstream: Upstream, server: GitServer, token: str
) -> None:
    branch = ws.branch_name(8, "Race")
    worktree, _base = prepare(data_dir, upstream, token, branch)
    (worktree / "ours.txt").write_text("ours\n")
    ws.commit_all(worktree, "ours", *BOT)
    first = ws.push(worktree, upstream.url, token, branch, default_branch="main")
    upstream.commit({"a.txt": "first interloper\n"}, "first", branch=branch)
    (worktree / "ours2.txt").write_text("ours 2\n")
    ws.commit_all(worktree, "ours 2", *BOT)

    # Someone pushes again just before our retry (the second receive-pack round).
    seen: list[str] = []
    last: list[str] = []

    def interlope(method: str, path: str) -> None:
        if method == "GET" and "service=git-receive-pack" in path:
            seen.append(path)
            if len(seen) == 2:
                last.append(upstream.commit({"b.txt": "second\n"}, "second", branch=branch))

    server.before_request = interlope
    with pytest.raises(ws.PushRejected, match="moved again"):
        ws.push(
            worktree, upstream.url, token, branch, default_branch="main",
            expected_remote_sha=first.sha,
        )  # fmt: skip
    assert upstream.sha(branch) == last[0], "the racing push was overwritten"


def test_pr_branch_job_pushes_to_the_named_pr_branch(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    head = upstream.commit({"feature.txt": "wip\n"}, "feature wip", branch="feature")
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    later = upstream.commit({"feature.txt": "wip 2\n"}, "feature wip 2", branch="feature")
    assert ws.fetch_branch(mirror, upstream.url, token, "feature") == later

    worktree = data_dir / "worktrees" / "pr"
    ws.create_worktree(mirror, worktree, head, "feature", existing_branch=True)
    assert ws.head_sha(worktree) == head
    (worktree / "review.txt").write_text("addressed\n")
    ws.commit_all(worktree, "Address review", *BOT)
    result = ws.push(
        worktree, upstream.url, token, "feature", default_branch="main",
        expected_remote_sha=head, pr_branch="feature",
    )  # fmt: skip
    assert result.rebased  # `later` arrived after the job's pinned head
    assert upstream.is_ancestor(later, upstream.sha("feature"))
    assert upstream.show("feature", "review.txt") == "addressed\n"

    with pytest.raises(ws.WorkspaceError, match="not in the mirror"):
        ws.create_worktree(mirror, data_dir / "w2", head, "gone", existing_branch=True)


def test_a_force_pushed_pr_branch_gets_only_our_commits_on_top(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    upstream.commit({"feature.txt": "one\n"}, "feature one", branch="feature")
    head = upstream.commit({"feature.txt": "two\n"}, "feature two", branch="feature")
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    worktree = data_dir / "worktrees" / "pr"
    ws.create_worktree(mirror, worktree, head, "feature", existing_branch=True)
    (worktree / "ours.txt").write_text("ours\n")
    ws.commit_all(worktree, "ours", *BOT)
    # Meanwhile the author drops "feature two" and force-pushes something else.
    git(upstream.human, "reset", "-q", "--hard", "HEAD~1")
    (upstream.human / "other.txt").write_text("rewritten\n")
    git(upstream.human, "add", "-A")
    git(upstream.human, "commit", "-q", "-m", "feature two, redone")
    git(upstream.human, "push", "-q", "--force", "origin", "HEAD:refs/heads/feature")
    rewritten = upstream.sha("feature")

    result = ws.push(
        worktree, upstream.url, token, "feature", default_branch="main",
        expected_remote_sha=head, pr_branch="feature",
    )  # fmt: skip
    assert result.rebased
    assert upstream.is_ancestor(rewritten, result.sha)
    assert not upstream.is_ancestor(head, result.sha), "a commit the author dropped came back"
    assert upstream.show("feature", "feature.txt") == "one\n"
    assert upstream.show("feature", "ours.txt") == "ours\n"


def test_the_agent_cannot_rewrite_the_branch_it_started_from(
    data_dir: Path, upstream: Upstream, server: GitServer, token: str
) -> None:
    first = upstream.commit({"feature.txt": "one\n"}, "feature one", branch="feature")
    head = upstream.commit({"feature.txt": "wip\n"}, "feature wip", branch="feature")
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    worktree = data_dir / "worktrees" / "pr"
    ws.create_worktree(mirror, worktree, head, "feature", existing_branch=True)
    # The agent "resets" its branch to the commit before (in its own .git) and edits.
    (worktree / ".git" / "refs" / "heads" / "feature").write_text(first + "\n")
    (worktree / "other.txt").write_text("x\n")
    sha, _ = ws.commit_all(worktree, "other", *BOT)
    pushed = ws.push(
        worktree, upstream.url, token, "feature", default_branch="main",
        expected_remote_sha=head, pr_branch="feature",
    )  # fmt: skip
    assert pushed.sha == sha == upstream.sha("feature")
    assert git(ws.host_git_dir(worktree), "rev-parse", f"{sha}~1") == head
    assert upstream.show("feature", "feature.txt") == "wip\n"

    # And the host's own branch is checked too: a job branch without the pinned head is
    # never pushed.
    ws.run_git(["update-ref", "refs/heads/feature", first], git_dir=ws.host_git_dir(worktree))
    before = server.receive_pack_requests()
    with pytest.raises(ws.WorkspaceError, match="rewrite"):
        ws.push(
            worktree, upstream.url, token, "feature", default_branch="main",
            expected_remote_sha=head, pr_branch="feature",
        )  # fmt: skip
    assert server.receive_pack_requests() == before


# --------------------------------------------------------------------------- hardening


def test_repository_hooks_never_run(
    data_dir: Path, upstream: Upstream, token: str, tmp_path: Path
) -> None:
    branch = "rolecall/issue-9-hooks"
    worktree, _base = prepare(data_dir, upstream, token, branch)
    marker = tmp_path / "hook-ran"
    hooks = ["pre-commit", "commit-msg", "post-commit", "pre-push", "reference-transaction"]
    hooks += ["post-checkout", "pre-rebase", "post-rewrite", "pre-auto-gc"]
    for hook in hooks:
        make_script(worktree / ".git" / "hooks" / hook, marker)
        make_script(tmp_path / "evil-hooks" / hook, marker)
    fsmonitor = make_script(tmp_path / "fsmonitor", marker)
    included = worktree / "included.cfg"  # a file the agent can write
    included.write_text(f"[core]\n\thooksPath = {tmp_path / 'evil-hooks'}\n")
    with (worktree / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\thooksPath = {tmp_path / 'evil-hooks'}\n\tfsmonitor = {fsmonitor}\n"
            f"[include]\n\tpath = {included}\n"
        )

    (worktree / "app.py").write_text("print('hooked?')\n")
    ws.commit_all(worktree, "commit with hooks planted", *BOT)
    ws.push(worktree, upstream.url, token, branch, default_branch="main")
    upstream.commit({"z.txt": "z\n"}, "someone else", branch=branch)
    (worktree / "y.txt").write_text("y\n")
    ws.commit_all(worktree, "second", *BOT)
    assert ws.push(worktree, upstream.url, token, branch, default_branch="main").rebased

    assert not marker.exists(), "a repository-controlled hook ran"


def test_repository_filters_and_diff_drivers_never_run(
    data_dir: Path, upstream: Upstream, token: str, tmp_path: Path
) -> None:
    branch = "rolecall/issue-10-filters"
    worktree, base = prepare(data_dir, upstream, token, branch)
    marker = tmp_path / "filter-ran"
    script = make_script(tmp_path / "driver", marker)
    with (worktree / ".git" / "config").open("a") as config:
        config.write(
            f'[filter "x"]\n\tclean = {script}\n\tsmudge = {script}\n\trequired = true\n'
            f'[filter "lfs"]\n\tclean = {script}\n\tprocess = {script}\n'
            f'[diff "x"]\n\ttextconv = {script}\n\tcommand = {script}\n'
            f"[diff]\n\texternal = {script}\n"
            f"[credential]\n\thelper = !{script}\n"
            f"[gpg]\n\tprogram = {script}\n[commit]\n\tgpgSign = true\n"
        )
    (worktree / ".gitattributes").write_text("*.txt filter=x diff=x\n*.bin filter=lfs\n")
    (worktree / "notes.txt").write_text("raw content\n")
    (worktree / "data.bin").write_text("raw bin\n")

    ws.commit_all(worktree, "filtered?", *BOT)
    assert "notes.txt" in ws.changed_files(worktree, base)
    assert "+raw content" in ws.diff(worktree, base)
    ws.diff_stat(worktree, base)
    ws.push(worktree, upstream.url, token, branch, default_branch="main")

    assert not marker.exists(), "a repository-controlled filter or driver ran"
    assert upstream.show(branch, "notes.txt") == "raw content\n"
    assert upstream.show(branch, "data.bin") == "raw bin\n"


def test_repository_config_cannot_redirect_the_push_or_its_token(
    data_dir: Path, upstream: Upstream, token: str, tmp_path: Path
) -> None:
    evil = GitServer(root=tmp_path / "evil", token="not-ours")
    with running(evil) as started:
        branch = "rolecall/issue-11-redirect"
        worktree, _base = prepare(data_dir, upstream, token, branch)
        evil_base = f"http://127.0.0.1:{started.port}/"
        real_base = upstream.url.split(OWNER)[0]
        with (worktree / ".git" / "config").open("a") as config:
            config.write(
                f'[url "{evil_base}"]\n\tinsteadOf = {real_base}\n\tpushInsteadOf = {real_base}\n'
                f"[http]\n\tproxy = {evil_base}\n"
                f'[remote "{upstream.url}"]\n\tpushurl = {evil_base}acme/widget.git\n'
            )
        (worktree / "x.txt").write_text("x\n")
        ws.commit_all(worktree, "x", *BOT)
        ws.push(worktree, upstream.url, token, branch, default_branch="main")
        assert upstream.show(branch, "x.txt") == "x\n"
        assert started.requests == [], "the token was sent to a server the repository chose"


def test_a_tampered_git_directory_is_never_read(
    data_dir: Path, upstream: Upstream, token: str, tmp_path: Path
) -> None:
    branch = "rolecall/issue-12-tamper"
    worktree, base = prepare(data_dir, upstream, token, branch)
    elsewhere = tmp_path / "elsewhere"
    git(tmp_path, "init", "-q", "-b", "main", str(elsewhere))
    (elsewhere / "secret.txt").write_text("another repository's file\n")
    git(elsewhere, "add", "-A")
    git(elsewhere, "commit", "-q", "-m", "private history")
    (worktree / ".git" / "commondir").write_text(f"{elsewhere / '.git'}\n")
    shutil.rmtree(worktree / ".git")
    (worktree / ".git").write_text(f"gitdir: {elsewhere / '.git'}\n")
    (worktree / "x.txt").write_text("x\n")

    sha, _ = ws.commit_all(worktree, "x", *BOT)
    assert sha == ws.head_sha(worktree)
    assert ws.changed_files(worktree, base) == ["x.txt"]
    ws.push(worktree, upstream.url, token, branch, default_branch="main")
    pushed = git(upstream.bare, "log", "--format=%s", f"refs/heads/{branch}")
    assert "private history" not in pushed
    assert git(elsewhere, "log", "--format=%s") == "private history"


# --------------------------------------------------------------------------- reading


def test_read_default_branch_file_reads_the_default_branch_version(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    upstream.commit(
        {"AGENTS.md": "instructions v2 from a PR\n", ".github/rolecall.yml": "x: 1\n"},
        "PR changes the rules",
        branch="feature",
    )
    mirror = ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
    main = ws.branch_sha(mirror, "main")
    assert main is not None

    assert ws.read_default_branch_file(mirror, main, "AGENTS.md") == "instructions v1\n"
    assert ws.read_default_branch_file(mirror, main, ".github/rolecall.yml") is None
    assert ws.read_default_branch_file(mirror, main, ".claude/agents/fixer.md") == (
        "---\nname: fixer\n---\nFix.\n"
    )
    assert ws.read_default_branch_file(mirror, main, ".claude/agents") is None  # a directory
    assert ws.read_default_branch_file(mirror, main, ".claude/agents/link.md") is None
    assert ws.read_default_branch_file(mirror, main, "*.md") is None  # no globbing
    with pytest.raises(ws.WorkspaceError):
        ws.read_default_branch_file(mirror, main, "../secrets")
    with pytest.raises(ws.WorkspaceError, match="more than"):
        ws.read_default_branch_file(mirror, main, "AGENTS.md", max_bytes=4)

    assert ws.list_default_branch_files(mirror, main, ".claude/agents") == [
        ".claude/agents/fixer.md"
    ]
    assert ws.list_default_branch_files(mirror, main, ".claude/agents/") == [
        ".claude/agents/fixer.md"
    ]
    assert ws.list_default_branch_files(mirror, main, ".github/agents") == []
    assert ws.list_default_branch_files(mirror, main, "") == ["AGENTS.md", "README.md", "app.py"]


# --------------------------------------------------------------------------- cleanup


def test_remove_worktree_removes_it_all_and_leaves_the_mirror(
    data_dir: Path, upstream: Upstream, token: str
) -> None:
    worktree, _base = prepare(data_dir, upstream, token, "rolecall/issue-13-clean")
    mirror = ws.mirror_path(data_dir, OWNER, NAME)
    locked = worktree / "locked"
    locked.mkdir()
    (locked / "f.txt").write_text("x\n")
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    os.symlink(mirror, worktree / "link-to-mirror")

    ws.remove_worktree(worktree)
    assert not worktree.exists()
    assert ws.branch_sha(mirror, "main") == upstream.sha("main")
    ws.remove_worktree(worktree)  # already gone: fine


def test_an_embedded_repository_the_agent_made_runs_nothing(
    data_dir: Path, upstream: Upstream, token: str, tmp_path: Path
) -> None:
    branch = "rolecall/issue-14-embedded"
    worktree, base = prepare(data_dir, upstream, token, branch)
    marker = tmp_path / "embedded-ran"
    script = make_script(tmp_path / "driver", marker)
    sub = worktree / "vendor" / "lib"
    git(tmp_path, "init", "-q", str(sub))
    (sub / "f.txt").write_text("one\n")
    git(sub, "add", "f.txt")
    git(sub, "commit", "-q", "-m", "one")
    for hook in ["pre-commit", "post-commit", "post-checkout", "reference-transaction"]:
        make_script(sub / ".git" / "hooks" / hook, marker)
    with (sub / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\tfsmonitor = {script}\n\thooksPath = {tmp_path / 'nope'}\n"
            f'[filter "x"]\n\tclean = {script}\n\tprocess = {script}\n'
        )
    (sub / ".gitattributes").write_text("*.txt filter=x\n")
    (sub / "f.txt").write_text("dirty\n")  # so status inside it would have work to do
    (worktree / "app.py").write_text("print('with vendor')\n")

    _, refused = ws.commit_all(worktree, "vendor", *BOT)
    # The nested repository's files are committed as files; its .git is left behind.
    assert refused == ["vendor/lib/.git (a git directory)"]
    assert ws.changed_files(worktree, base) == [
        "app.py",
        "vendor/lib/.gitattributes",
        "vendor/lib/f.txt",
    ]
    ws.diff(worktree, base)
    ws.diff_stat(worktree, base)
    ws.push(worktree, upstream.url, token, branch, default_branch="main")
    upstream.commit({"z.txt": "z\n"}, "someone else", branch=branch)
    (worktree / "y.txt").write_text("y\n")
    ws.commit_all(worktree, "second", *BOT)
    assert ws.push(worktree, upstream.url, token, branch, default_branch="main").rebased
    assert not marker.exists(), marker.read_text()


# --------------------------------------------------------------------------- time limits


def _git_processes_for(url: str) -> list[str]:
    return [line for line in scan_proc_cmdlines(url.encode()) if "pytest" not in line]


def test_cancel_kills_a_hung_fetch_and_every_process_it_started(
    data_dir: Path, upstream: Upstream, server: GitServer, token: str
) -> None:
    """A server that never answers cannot hold a job: /cancel kills git's process group."""
    release = threading.Event()
    server.before_request = lambda _method, _path: (release.wait(30), None)[1]
    cancel = threading.Event()
    raised: list[BaseException] = []

    def fetch() -> None:
        with ws.cancel_scope(cancel):
            try:
                ws.sync_mirror(data_dir, OWNER, NAME, upstream.url, token)
            except BaseException as exc:
                raised.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    for _ in range(100):  # until git is really waiting on the server
        if server.requests:
            break
        worker.join(0.05)
    assert server.requests, "git never reached the server"
    cancel.set()
    worker.join(10)
    release.set()
    assert not worker.is_alive(), "the cancelled fetch is still running"
    assert raised and isinstance(raised[0], ws.GitCancelled), raised
    assert _git_processes_for(upstream.url) == []


def test_every_host_git_command_has_a_time_limit(
    data_dir: Path, upstream: Upstream, server: GitServer, token: str
) -> None:
    release = threading.Event()
    server.before_request = lambda _method, _path: (release.wait(30), None)[1]
    try:
        with pytest.raises(ws.GitError, match="timed out") as raised:
            ws.run_git(["ls-remote", "--", upstream.url], token=token, timeout=1.0)
    finally:
        release.set()
    assert token not in str(raised.value) + raised.value.detail
    assert _git_processes_for(upstream.url) == []
