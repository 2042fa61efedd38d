"""No credential anywhere a tool reaches; file tools stay inside the worktree.

The worktree is made the way a job makes it (a mirror synced from the GitHub stand-in
with a real installation token, then a checkout), and the worker's process environment
holds credentials, so "nothing secret" is checked against real values.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents import workspace
from agents.sandbox.bubblewrap import BwrapSandbox
from agents.tools.toolbox import Toolbox
from standins.github import GitHubStandIn
from tests.helpers import swap_atomically
from tests.security.conftest import fake_github_token

pytestmark = pytest.mark.usefixtures("bwrap")

REPO = "octo/files"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.create_repo(REPO, files={"README.md": "# files\n", "src/app.py": "x = 1\n"})
        yield stand_in


def test_no_credential_anywhere_a_tool_reaches(
    github: GitHubStandIn,
    tmp_path: Path,
    sandbox_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    token = github.issue_token(REPO)
    model_key = "sk-ant-api03-" + fake_github_token("")
    secrets = [token, model_key, github.webhook_secret, *github.private_key_pem.splitlines()[1:3]]
    # The worker's own environment and home hold credentials, as a careless host's might.
    home = tmp_path / "home"
    home.mkdir()
    (home / ".git-credentials").write_text(f"https://x-access-token:{token}@github.com\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("ANTHROPIC_API_KEY", model_key)
    monkeypatch.setenv("PRIVATE_KEY", github.private_key_pem)
    monkeypatch.setenv("WEBHOOK_SECRET", github.webhook_secret)

    data = sandbox_tmp / "data"
    mirror = workspace.sync_mirror(data, "octo", "files", github.clone_url(REPO), token)
    worktree = data / "worktrees" / "job-1"
    sha = workspace.branch_sha(mirror, "main")
    assert sha is not None
    workspace.create_worktree(mirror, worktree, sha, "rolecall/issue-1-x")
    toolbox = Toolbox(worktree, bwrap_as(worktree, read_only_paths=[mirror]))

    bash = [
        "env",
        "tr '\\0' '\\n' < /proc/self/environ",
        "tr '\\0' '\\n' < /proc/1/environ",
        "tr '\\0' '\\n' < /proc/$PPID/environ",
        "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
        "cat ~/.git-credentials $HOME/.git-credentials /root/.git-credentials",
        f"cat {home}/.git-credentials",
        "cat .git/config; git config --list --show-origin",
        f"cat {mirror}/config; grep -rIl x-access-token {mirror} . || true",
        "git remote -v; git credential fill </dev/null",
    ]
    path_tools = [
        ("Read", {"file_path": "/proc/self/environ"}),
        ("Read", {"file_path": "/proc/1/environ"}),
        ("Read", {"file_path": f"/proc/{os.getppid()}/environ"}),
        ("Read", {"file_path": f"/proc/{os.getpid()}/environ"}),
        ("Read", {"file_path": f"{home}/.git-credentials"}),
        ("Read", {"file_path": "~/.git-credentials"}),
        ("Read", {"file_path": f"{mirror}/config"}),
        ("Glob", {"pattern": "/proc/*/environ"}),
        ("Glob", {"pattern": "*", "path": "/proc/self"}),
        ("Grep", {"pattern": "ghs_|sk-ant|PRIVATE", "path": "/proc/self/environ"}),
        ("Grep", {"pattern": "ghs_|sk-ant|PRIVATE", "path": str(home)}),
        ("Grep", {"pattern": "ghs_|sk-ant|PRIVATE|x-access-token", "output_mode": "content"}),
    ]
    results = [toolbox.call("Bash", {"command": command}) for command in bash]
    results += [toolbox.call(name, args) for name, args in path_tools]
    config = toolbox.call("Read", {"file_path": ".git/config"})
    assert not config.is_error and "[core]" in config.content  # readable, and clean
    results.append(config)

    for result in results:
        for secret in secrets:
            assert secret not in result.content, f"{secret[:8]}… reached a tool:\n{result}"
    # The Bash probes really ran; the path tools were refused for leaving the worktree.
    assert "HOME=/tmp" in results[0].content
    for (name, args), result in zip(path_tools[:-1], results[len(bash) :], strict=False):
        assert result.is_error or "No files found" in result.content, (name, args, result)


SECRET = "the-content-outside-" + "0123456789"


@pytest.fixture
def layout(sandbox_tmp: Path) -> tuple[Path, Path]:
    worktree = sandbox_tmp / "work"
    outside = sandbox_tmp / "outside"
    twin = sandbox_tmp / "work-evil"  # shares the worktree's name as a prefix
    for directory in (worktree, outside, twin):
        directory.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (twin / "secret.txt").write_text(SECRET)
    (worktree / "inside.txt").write_text("inside\n")
    (worktree / "file-link").symlink_to(outside / "secret.txt")
    (worktree / "dir-link").symlink_to(outside)
    (worktree / "dangling").symlink_to(outside / "not-yet.txt")
    return worktree, outside


def test_file_tools_confine_themselves_to_the_worktree(
    layout: tuple[Path, Path], bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    worktree, outside = layout
    toolbox = Toolbox(worktree, bwrap_as(worktree))
    twin = worktree.parent / "work-evil"
    attempts = [
        ("Read", {"file_path": "../outside/secret.txt"}),
        ("Read", {"file_path": str(outside / "secret.txt")}),
        ("Read", {"file_path": str(twin / "secret.txt")}),
        ("Read", {"file_path": f"{worktree}/../work-evil/secret.txt"}),
        ("Read", {"file_path": "file-link"}),
        ("Read", {"file_path": "dir-link/secret.txt"}),
        ("Read", {"file_path": "dangling"}),
        ("Write", {"file_path": "../outside/new.txt", "content": "x"}),
        ("Write", {"file_path": str(twin / "new.txt"), "content": "x"}),
        ("Write", {"file_path": "file-link", "content": "overwritten"}),
        ("Write", {"file_path": "dir-link/new.txt", "content": "x"}),
        ("Write", {"file_path": "dangling", "content": "created through a link"}),
        ("Edit", {"file_path": "file-link", "old_string": "the", "new_string": "a"}),
        ("Glob", {"pattern": "*", "path": "dir-link"}),
        ("Glob", {"pattern": "../outside/*"}),
        ("Glob", {"pattern": "*", "path": str(twin)}),
        ("Grep", {"pattern": "content", "path": "dir-link"}),
        ("Grep", {"pattern": "content", "path": "../outside"}),
        ("Grep", {"pattern": "content", "path": "file-link"}),
    ]
    for name, args in attempts:
        result = toolbox.call(name, args)
        refused = result.is_error or result.content == "No files found"
        assert refused, f"{name} {args} was allowed: {result.content}"
        assert SECRET not in result.content
    # A search from the root does not follow the links out either.
    assert (
        SECRET not in toolbox.call("Grep", {"pattern": "content", "output_mode": "content"}).content
    )
    assert "secret.txt" not in toolbox.call("Glob", {"pattern": "**/*"}).content
    # Nothing outside changed, nothing was created there.
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET
    assert sorted(p.name for p in twin.iterdir()) == ["secret.txt"]
    # The control: the same tools work inside.
    assert not toolbox.call("Read", {"file_path": "inside.txt"}).is_error
    assert not toolbox.call("Write", {"file_path": "sub/new.txt", "content": "ok"}).is_error


def test_a_symlink_swapped_in_after_the_check_is_refused(
    layout: tuple[Path, Path], bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    """A thread swaps `d` between a real directory and a link out while the tools use
    `d/secret.txt`; not once may they read or change the file outside."""
    worktree, outside = layout
    real = worktree / "d"
    real.mkdir()
    (real / "secret.txt").write_text("inside\n")
    link = worktree / "d-link"
    link.symlink_to(outside)
    toolbox = Toolbox(worktree, bwrap_as(worktree))
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            swap_atomically(real, link)

    thread = threading.Thread(target=swapper)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    thread.start()
    outcomes = set()
    try:
        for _ in range(600):
            read = toolbox.call("Read", {"file_path": "d/secret.txt"})
            assert SECRET not in read.content
            outcomes.add(read.is_error)
            toolbox.call("Write", {"file_path": "d/secret.txt", "content": "inside\n"})
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert (outside / "secret.txt").read_text() == SECRET
    assert outcomes == {True, False}, "the swap never landed between check and use"
