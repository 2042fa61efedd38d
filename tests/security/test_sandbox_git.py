"""Git: the agent cannot plant hooks or config; host-side git runs nothing the repository
controls, with the hardening on every invocation; names never pass through a shell."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents import workspace
from agents.redact import Redactor
from agents.sandbox import BwrapSandbox
from agents.tools import Toolbox
from bot.trust import outgoing_refusal
from standins.github import GitHubStandIn
from tests.helpers import host_git

pytestmark = pytest.mark.usefixtures("bwrap")

REPO = "octo/hooked"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.create_repo(REPO, files={"README.md": "# hooked\n"})
        yield stand_in


def checkout(github: GitHubStandIn, tmp_path: Path, branch: str) -> tuple[Path, Path, str]:
    """mirror, worktree and the token, made the way a job makes them."""
    token = github.issue_token(REPO)
    mirror = workspace.sync_mirror(
        tmp_path / "data", "octo", "hooked", github.clone_url(REPO), token
    )
    sha = workspace.branch_sha(mirror, "main")
    assert sha is not None
    worktree = tmp_path / "data" / "worktrees" / "job-1"
    workspace.create_worktree(mirror, worktree, sha, branch)
    return mirror, worktree, token


def test_git_hooks_and_config_are_read_only_in_the_sandbox(
    github: GitHubStandIn, tmp_path: Path
) -> None:
    mirror, worktree, _ = checkout(github, tmp_path, "rolecall/issue-1-x")
    config_before = (worktree / ".git" / "config").read_bytes()
    toolbox = Toolbox(worktree, BwrapSandbox(worktree, read_only_paths=[mirror]))
    attempts = [
        "printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > .git/hooks/pre-commit",
        "cp /bin/true .git/hooks/post-checkout",
        "rm -rf .git/hooks",
        "mv .git/hooks .git/hooks-old",
        "echo '[core] hooksPath = /tmp' >> .git/config",
        "git config core.hooksPath .githooks",
        "git config core.fsmonitor /bin/true",
        "rm .git/config",
        "mv .git .git-moved",
    ]
    for command in attempts:
        result = toolbox.call("Bash", {"command": command})
        assert result.is_error, f"{command!r} succeeded:\n{result.content}"
    for path in (".git/hooks/pre-commit", ".git/config", ".git/info/attributes"):
        written = toolbox.call("Write", {"file_path": path, "content": "[core]\n"})
        assert written.is_error and ".git" in written.content
    assert (worktree / ".git" / "config").read_bytes() == config_before
    assert [p.name for p in (worktree / ".git" / "hooks").iterdir()] == []
    # The agent can still commit its work (index and objects stay writable).
    committed = toolbox.call(
        "Bash",
        {"command": "echo x > x && git add x && git -c user.name=a -c user.email=a@b commit -qm x"},
    )
    assert not committed.is_error, committed.content


def shim_git(directory: Path, log: Path) -> None:
    """A `git` first on PATH that records each invocation's argv and environment, then
    runs the real git: proof of what every host-side git process was given."""
    real = "/usr/bin/git"
    directory.mkdir()
    script = directory / "git"
    script.write_text(
        "#!/usr/bin/python3\n"
        "import json, os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}) + '\\n')\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    script.chmod(0o755)


def evil_script(path: Path, marker: Path) -> str:
    path.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def test_host_git_runs_nothing_the_repository_controls(
    github: GitHubStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    markers = tmp_path / "markers"
    markers.mkdir()

    # The repository itself asks for filters, diff drivers and a file:// submodule.
    secret_repo = tmp_path / "secret-repo"
    secret_repo.mkdir()
    host_git(secret_repo, "init", "-q", "-b", "main")
    (secret_repo / "secret").write_text("private\n")
    host_git(secret_repo, "add", ".")
    host_git(secret_repo, "commit", "-qm", "s")
    seed = tmp_path / "seed"
    host_git(tmp_path, "clone", "-q", str(github.repo_path(REPO)), str(seed))
    (seed / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n*.bin filter=lfs\n")
    (seed / ".gitmodules").write_text(
        f'[submodule "s"]\n\tpath = s\n\turl = file://{secret_repo}\n'
    )
    host_git(seed, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},s")
    (seed / "big.bin").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 1\n"
    )
    host_git(seed, "add", ".")
    host_git(seed, "commit", "-qm", "attributes")
    host_git(seed, "push", "-q", "origin", "main")

    log = tmp_path / "git-calls.jsonl"
    shim_git(tmp_path / "shim", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'shim'}:{os.environ['PATH']}")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # ignored: never passed on
    mirror, worktree, token = checkout(github, tmp_path, "rolecall/issue-2-y")
    # Everything a repository (or an agent that got past the sandbox) could plant.
    run = lambda name: evil_script(tmp_path / f"{name}.sh", markers / name)  # noqa: E731
    hooks = worktree / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("pre-commit", "post-commit", "commit-msg", "pre-push", "post-checkout",
                 "reference-transaction", "post-rewrite", "fsmonitor-watchman"):  # fmt: skip
        evil_script(hooks / hook, markers / f"hook-{hook}")
    (worktree / ".githooks").mkdir()
    evil_script(worktree / ".githooks" / "pre-commit", markers / "githooks")
    with (worktree / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\thooksPath = .githooks\n\tfsmonitor = {run('fsmonitor')}\n"
            f"\tpager = {run('pager')}\n\tsshCommand = {run('ssh')}\n"
            f'[filter "evil"]\n\tclean = {run("clean")}\n\tsmudge = {run("smudge")}\n'
            f"\tprocess = {run('process')}\n"
            f'[diff "evil"]\n\ttextconv = {run("textconv")}\n\tcommand = {run("diffcmd")}\n'
            f'[merge "evil"]\n\tdriver = {run("merge")}\n'
            f"[credential]\n\thelper = !{run('credential')}\n"
            f'[url "file://{secret_repo}"]\n\tinsteadOf = {github.api_url}\n'
            f"[include]\n\tpath = {tmp_path / 'included'}\n"
        )
    (tmp_path / "included").write_text(f"[core]\n\teditor = {run('editor')}\n")

    # The control: an ordinary git in a copy of this worktree runs the planted code.
    control = tmp_path / "control"
    shutil.copytree(worktree, control, symlinks=True)
    subprocess.run(
        ["/usr/bin/git", "-c", "user.name=c", "-c", "user.email=c@d", "commit", "-qam", "c"],
        cwd=control, capture_output=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert list(markers.iterdir()), "the planted hooks and config are not live"
    shutil.rmtree(markers)
    markers.mkdir()

    (worktree / "README.md").write_text("# hooked, changed\n")
    workspace.commit_all(worktree, "change", "rolecall[bot]", "bot@example.invalid")
    base = workspace.branch_sha(mirror, "main")
    assert base is not None
    # The planted hook script is committed as a file, which is all it is to Rolecall.
    assert workspace.changed_files(worktree, base) == [".githooks/pre-commit", "README.md"]
    workspace.diff(worktree, base)
    workspace.diff_stat(worktree, base)
    assert outgoing_refusal(worktree, base, Redactor([token])) is None
    pushed = workspace.push(
        worktree, github.clone_url(REPO), token, "rolecall/issue-2-y", default_branch="main"
    )

    assert sorted(p.name for p in markers.iterdir()) == [], "repository-controlled code ran"
    assert not (worktree / "s" / "secret").exists(), "a file:// submodule was fetched"
    assert github.branches(REPO)["rolecall/issue-2-y"] == pushed.sha  # it went to GitHub
    # The planted config is gone: git's config is what Rolecall wrote.
    assert "evil" not in (worktree / ".git" / "config").read_text()

    # Rolecall's calls: not the stand-in's own (`git --git-dir <repo>`, `git http-backend`).
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    calls = [c for c in calls if c["argv"][0] not in ("--git-dir", "http-backend")]
    assert len(calls) > 8
    for call in calls:
        argv, env = call["argv"], call["env"]
        pairs = {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-c"}
        expected = {
            "core.hooksPath=/dev/null",
            "core.fsmonitor=false",
            "submodule.recurse=false",
            "fetch.recurseSubmodules=false",
            "filter.lfs.smudge=",
            "filter.lfs.process=",
            "credential.helper=",
        }
        assert expected <= pairs, (argv, expected - pairs)
        file_protocol = (
            "protocol.file.allow=always" if "--shared" in argv else "protocol.file.allow=never"
        )
        assert file_protocol in pairs, argv
        assert env.get("GIT_LFS_SKIP_SMUDGE") == "1"
        assert env.get("GIT_TERMINAL_PROMPT") == "0"
        assert env.get("GIT_CONFIG_NOSYSTEM") == "1" and env.get("GIT_CONFIG_GLOBAL") == "/dev/null"
        assert "GIT_DIR" not in env and "HOME" not in env
        assert token not in " ".join(argv), "a token in argv is readable in /proc/*/cmdline"
    # Only the clone from Rolecall's own mirror may use a local path.
    assert [c["argv"] for c in calls if "protocol.file.allow=always" in c["argv"]] == [
        c["argv"] for c in calls if "--shared" in c["argv"]
    ]


def test_branch_names_and_paths_never_go_through_a_shell(
    github: GitHubStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    branch = "rolecall/a;b`touch${IFS}pwned-tick`$(touch${IFS}pwned-dollar)|touch>pwned"
    mirror, worktree, token = checkout(github, tmp_path, branch)
    odd = "$(touch pwned-path);`touch pwned-path2` | x.txt"
    (worktree / odd).write_text("odd\n")
    workspace.commit_all(worktree, "$(touch pwned-message)", "rolecall[bot]", "b@example.invalid")
    workspace.push(worktree, github.clone_url(REPO), token, branch, default_branch="main")
    base = workspace.branch_sha(mirror, "main")
    assert base is not None
    assert workspace.changed_files(worktree, base) == [odd]

    assert branch in github.branches(REPO)  # the literal name reached GitHub
    found = [p for p in tmp_path.rglob("pwned*")] + [p for p in Path("/tmp").glob("pwned*")]
    assert found == []
