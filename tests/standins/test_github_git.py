"""Real git over smart HTTP against the stand-in, authenticated like GitHub.

`x-access-token:<installation token>` in HTTP basic auth opens clone, fetch and
push; anything else is a 401 with GitHub's `WWW-Authenticate`. A push is visible
to the REST API at once and moves pull requests (with `synchronize`).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import httpx

from standins.github import GitHubStandIn
from standins.github.receiver import WebhookReceiver

REPO = "octo/demo"


def _env(tmp_path: Path) -> dict[str, str]:
    """git isolated from the machine's config and never prompting for credentials."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "rolecall[bot]",
        "GIT_AUTHOR_EMAIL": "bot@example.invalid",
        "GIT_COMMITTER_NAME": "rolecall[bot]",
        "GIT_COMMITTER_EMAIL": "bot@example.invalid",
    }


def _auth(token: str) -> list[str]:
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ["-c", f"http.extraHeader=Authorization: Basic {basic}"]


def _git(
    tmp_path: Path, *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd or tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def _clone(gh: GitHubStandIn, tmp_path: Path, token: str | None, name: str = "work") -> Path:
    auth = _auth(token) if token else []
    _git(tmp_path, *auth, "clone", "--quiet", gh.clone_url(REPO), name)
    return tmp_path / name


def test_clone_and_push_with_an_installation_token(gh: GitHubStandIn, tmp_path: Path) -> None:
    token = gh.issue_token(REPO)
    work = _clone(gh, tmp_path, token)
    assert (work / "src" / "app.py").read_text().startswith("line 1\n")
    _git(tmp_path, "switch", "--quiet", "-c", "rolecall/issue-1", cwd=work)
    (work / "fix.txt").write_text("fixed\n")
    _git(tmp_path, "add", "fix.txt", cwd=work)
    _git(tmp_path, "commit", "--quiet", "-m", "Fix it", cwd=work)
    _git(tmp_path, *_auth(token), "push", "--quiet", "origin", "HEAD", cwd=work)
    head = _git(tmp_path, "rev-parse", "HEAD", cwd=work).stdout.strip()
    assert gh.branches(REPO)["rolecall/issue-1"] == head
    pushes = [r for r in gh.requests if r.path.endswith("/git-receive-pack")]
    assert pushes and all(r.token_kind == "installation" for r in pushes)


def test_token_in_the_url_works_too(gh: GitHubStandIn, tmp_path: Path) -> None:
    token = gh.issue_token(REPO)
    url = gh.clone_url(REPO).replace("http://", f"http://x-access-token:{token}@")
    _git(tmp_path, "clone", "--quiet", url, "work")
    assert (tmp_path / "work" / "README.md").exists()


def test_clone_without_or_with_a_wrong_or_expired_token_fails(
    gh: GitHubStandIn, tmp_path: Path
) -> None:
    for name, auth in [
        ("none", []),
        ("wrong", _auth("ghs_not_a_real_token")),
        ("expired", _auth(gh.issue_token(REPO, expires_in=-1))),
    ]:
        result = _git(tmp_path, *auth, "clone", gh.clone_url(REPO), name, check=False)
        assert result.returncode != 0, name
        assert not (tmp_path / name / "README.md").exists()
    probe = httpx.get(f"{gh.clone_url(REPO)}/info/refs?service=git-upload-pack", timeout=10)
    assert probe.status_code == 401
    assert probe.headers["www-authenticate"] == 'Basic realm="GitHub"'


def test_read_only_token_clones_but_cannot_push(gh: GitHubStandIn, tmp_path: Path) -> None:
    token = gh.issue_token(REPO, permissions={"contents": "read"})
    work = _clone(gh, tmp_path, token)
    (work / "x.txt").write_text("x\n")
    _git(tmp_path, "add", "x.txt", cwd=work)
    _git(tmp_path, "commit", "--quiet", "-m", "x", cwd=work)
    result = _git(
        tmp_path, *_auth(token), "push", "origin", "HEAD:refs/heads/x", cwd=work, check=False
    )
    assert result.returncode != 0
    assert "x" not in gh.branches(REPO)


def test_token_scoped_elsewhere_cannot_clone(gh: GitHubStandIn, tmp_path: Path) -> None:
    gh.create_repo("octo/other")
    token = gh.issue_token(REPO, repositories=["other"])
    result = _git(tmp_path, *_auth(token), "clone", gh.clone_url(REPO), "w", check=False)
    assert result.returncode != 0


def test_bot_push_to_a_pr_branch_moves_the_pr_and_emits_synchronize(
    gh: GitHubStandIn, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    before = gh.push_commit(REPO, "alice", branch="feature", files={"a.txt": "a\n"})
    number = gh.open_pr(REPO, "alice", head="feature", title="Feature")
    token = gh.issue_token(REPO)
    work = tmp_path / "work"
    _git(
        tmp_path,
        *_auth(token),
        "clone",
        "--quiet",
        "--branch",
        "feature",
        gh.clone_url(REPO),
        "work",
    )
    (work / "a.txt").write_text("a, addressed\n")
    _git(tmp_path, "commit", "--quiet", "-am", "Address review", cwd=work)
    _git(tmp_path, *_auth(token), "push", "--quiet", "origin", "feature", cwd=work)
    after = _git(tmp_path, "rev-parse", "HEAD", cwd=work).stdout.strip()
    assert gh.pull(REPO, number)["head"]["sha"] == after
    assert gh.wait_for_deliveries()
    sync = [d for d in gh.deliveries if d.action == "synchronize"]
    assert len(sync) == 1
    payload = sync[0].payload
    assert (payload["before"], payload["after"]) == (before, after)
    assert payload["sender"]["login"] == "rolecall[bot]"
    got = [json.loads(r.body) for r in receiver.wait_for(2) if r.event == "pull_request"]
    assert [p["action"] for p in got] == ["opened", "synchronize"]


def test_person_push_to_a_pr_branch_emits_synchronize(
    gh: GitHubStandIn, receiver: WebhookReceiver
) -> None:
    gh.push_commit(REPO, "alice", branch="feature", files={"a.txt": "a\n"})
    number = gh.open_pr(REPO, "alice", head="feature", title="Feature")
    sha = gh.push_commit(REPO, "bob", branch="feature", files={"b.txt": "b\n"})
    assert sha.delivery is not None and sha.delivery.action == "synchronize"
    assert sha.delivery.payload["number"] == number
    assert sha.delivery.payload["sender"]["login"] == "bob"
    assert sha.delivery.status == 202


def test_pull_request_from_a_fork_exposes_its_head_in_the_base_repo(
    gh: GitHubStandIn, tmp_path: Path
) -> None:
    fork = gh.fork(REPO, "mallory")
    head = gh.push_commit(fork, "mallory", branch="evil", files={"evil.sh": "rm -rf /\n"})
    number = gh.open_pr(REPO, "mallory", head="evil", title="Innocent", from_fork=True)
    pull = gh.pull(REPO, number)
    assert pull["head"]["repo"]["full_name"] == "mallory/demo"
    assert pull["head"]["repo"]["fork"] is True
    assert pull["head"]["label"] == "mallory:evil"
    token = gh.issue_token(REPO)
    work = _clone(gh, tmp_path, token)
    _git(tmp_path, *_auth(token), "fetch", "--quiet", "origin", f"pull/{number}/head", cwd=work)
    assert _git(tmp_path, "rev-parse", "FETCH_HEAD", cwd=work).stdout.strip() == head
