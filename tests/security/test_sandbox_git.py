"""Git: the agent cannot plant hooks or config; host-side git runs nothing the repository
controls, with the hardening on every invocation; names never pass through a shell."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents import workspace
from agents.sandbox.bubblewrap import BwrapSandbox
from agents.text.redact import Redactor
from agents.tools.toolbox import Toolbox
from bot.jobs.trust import outgoing_refusal
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


def test_nothing_the_agent_plants_in_git_reaches_the_host(
    github: GitHubStandIn,
    tmp_path: Path,
    sandbox_tmp: Path,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    """Invariant 4, as the attacks that broke it: links in `.git` aimed at host files, a
    FIFO in place of metadata, alternates into another installation's mirror, the mirror's
    config, commits as a maintainer. Host git (commit, diff, push) runs after all of it."""
    other = "acme/private"
    github.create_repo(other, files={"PRIVATE.md": "another installation's secret\n"})
    data = sandbox_tmp / "data"
    other_mirror = workspace.sync_mirror(
        data, "acme", "private", github.clone_url(other), github.issue_token(other)
    )
    mirror, worktree, token = checkout(github, sandbox_tmp, "rolecall/issue-1-x")
    host = tmp_path / "host"
    host.mkdir()
    appended = host / "appended.log"  # what `logs/HEAD` would append to
    appended.write_text("host log\n")
    replaced = host / "ld.so.preload"  # what `index` would be written over
    quoted = host / "db.env"  # what MERGE_HEAD / packed-refs would quote
    quoted.write_text("DB_PASSWORD=hunter2-host-secret\n")
    created = host / "created-by-git"
    mirror_config = (mirror / "config").read_bytes()
    toolbox = Toolbox(worktree, bwrap_as(worktree, mirror=mirror))
    plant = [
        "echo 'print(1)' > app.py && git add app.py && git -c user.name=Maintainer "
        "-c user.email=maintainer@example.com commit -qm 'Fixes #99'",
        f"mkdir -p .git/logs && ln -sf {appended} .git/logs/HEAD",
        f"rm -f .git/index && ln -s {replaced} .git/index",
        f"ln -sf {quoted} .git/MERGE_HEAD && ln -sf {quoted} .git/packed-refs",
        f"ln -sf {created} .git/ORIG_HEAD && ln -sf {created} .git/FETCH_HEAD",
        f"echo {other_mirror}/objects >> .git/objects/info/alternates",
        "rm -f .git/COMMIT_EDITMSG && mkfifo .git/COMMIT_EDITMSG .git/HEAD.lock fifo.txt",
        "ln -s /etc/shadow shadow.txt",
        f"ln -s {quoted} quoted.txt",
        "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' >> .git/config",
    ]
    for command in plant:
        result = toolbox.call("Bash", {"command": command})
        assert not result.is_error, f"{command!r}: {result.content}"
    # The mirror the sandbox sees is read-only: its config cannot be appended to.
    tampered = toolbox.call("Bash", {"command": f"echo x >> {workspace.SANDBOX_MIRROR}/config"})
    assert tampered.is_error

    # Host-side: the whole delivery, on a thread so a hang fails the test instead of it.
    outcome: dict[str, object] = {}

    def deliver() -> None:
        sha, refused = workspace.commit_all(
            worktree, "Add app.py", "rolecall[bot]", "bot@example.invalid"
        )
        base = workspace.branch_sha(mirror, "main")
        assert base is not None
        outcome["changed"] = workspace.changed_files(worktree, base)
        outcome["diff"] = workspace.diff(worktree, base) + workspace.diff_stat(worktree, base)
        outcome["pushed"] = workspace.push(
            worktree, github.clone_url(REPO), token, "rolecall/issue-1-x", default_branch="main"
        ).sha
        outcome["sha"], outcome["refused"] = sha, refused

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "host git hung on something the agent planted"
    assert outcome.get("pushed") == outcome["sha"], outcome

    assert appended.read_text() == "host log\n"
    assert not replaced.exists() and not created.exists()
    assert quoted.read_text() == "DB_PASSWORD=hunter2-host-secret\n"
    assert (mirror / "config").read_bytes() == mirror_config
    assert not Path("/tmp/pwned").exists()
    assert outcome["refused"] == ["fifo.txt (not a regular file or link)"]
    assert outcome["changed"] == ["app.py", "quoted.txt", "shadow.txt"]
    assert "hunter2" not in str(outcome["diff"])
    # Links are committed as links (their target is text), never followed.
    bare, ref = github.repo_path(REPO), "rolecall/issue-1-x"
    tree = host_git(bare, "ls-tree", "-r", ref)
    assert "120000 blob" in tree.split("quoted.txt")[0].splitlines()[-1]
    assert host_git(bare, "cat-file", "-p", f"{ref}:quoted.txt") == str(quoted)
    assert "PRIVATE" not in tree
    log = host_git(bare, "log", "--format=%an <%ae>|%cn <%ce>|%B", "-1", ref)
    assert log.strip() == (
        "rolecall[bot] <bot@example.invalid>|rolecall[bot] <bot@example.invalid>|Add app.py"
    )
    assert host_git(bare, "rev-parse", f"{ref}~1") == host_git(bare, "rev-parse", "main")
    # Nothing of the other installation's repository reached this one.
    private_sha = host_git(github.repo_path(other), "rev-parse", "main").strip()
    assert (
        subprocess.run(
            ["git", "cat-file", "-e", private_sha], cwd=bare, capture_output=True
        ).returncode
        != 0
    )


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
    # (the agent's .git finds its objects where the sandbox binds the mirror)
    (control / ".git" / "objects" / "info" / "alternates").write_text(f"{mirror}/objects\n")
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
    assert outgoing_refusal(worktree, base, Redactor([token]), role="implementer") is None
    pushed = workspace.push(
        worktree, github.clone_url(REPO), token, "rolecall/issue-2-y", default_branch="main"
    )

    assert sorted(p.name for p in markers.iterdir()) == [], "repository-controlled code ran"
    assert not (worktree / "s" / "secret").exists(), "a file:// submodule was fetched"
    assert github.branches(REPO)["rolecall/issue-2-y"] == pushed.sha  # it went to GitHub

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
