"""End to end: what the agent plants in `.git` never reaches the host, whatever it is.

Through `rolecall serve`, bubblewrap, git and both stand-ins. The scripted model does
what broke the old boundary: links in `.git` aimed at host files (to be appended to,
written over and quoted), a FIFO where git takes a lock, and a commit authored as a
maintainer that closes another issue. The job must still finish, push only Rolecall's
own commit, and leave every host file as it was.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from standins.model import Turn, text, tool_use
from standins.scenario import REPO
from tests.helpers import enterable_dir
from tests.security.conftest import World

pytestmark = pytest.mark.usefixtures("bwrap")
MUL = "def mul(a, b):\n    return a * b\n"


class Planter:
    """A model that plants links and FIFOs in `.git`, commits as someone else, and stops."""

    def __init__(self, host: Path, other_issue: int) -> None:
        self.steps = [
            tool_use("Write", {"file_path": "mul.py", "content": MUL}),
            tool_use("Bash", {"command": (
                "git add mul.py && git -c user.name=Maintainer -c user.email=boss@example.com "
                f"commit -qm 'Fixes #{other_issue}' && "
                f"mkdir -p .git/logs && ln -sf {host / 'appended.log'} .git/logs/HEAD && "
                f"rm -f .git/index && ln -s {host / 'ld.so.preload'} .git/index && "
                f"ln -sf {host / 'db.env'} .git/packed-refs && "
                f"ln -sf {host / 'db.env'} .git/MERGE_HEAD && "
                "mkfifo .git/HEAD.lock .git/index.lock && "
                f"echo {host}/objects >> .git/objects/info/alternates && "
                "printf '[core]\\n\\tfsmonitor = touch /tmp/rolecall-fsmonitor-ran\\n' "
                ">> .git/config"
            )}),
        ]  # fmt: skip

    def __call__(self, request: dict[str, Any]) -> Turn | Any:
        done = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if done < len(self.steps):
            return self.steps[done]
        return text("Added mul().")


def test_links_and_fifos_planted_in_git_gain_the_agent_nothing(world: World) -> None:
    host = enterable_dir("host-files")  # reachable by the sandbox user too: no excuse
    (host / "appended.log").write_text("host log\n")
    (host / "db.env").write_text("DB_PASSWORD=host-secret-value\n")
    other = world.new_issue("Another issue", "Must stay open.")
    number = world.new_issue("Add mul()", "Please add `mul(a, b)`.")
    world.model.respond_with(Planter(host, other))
    world.github.comment(REPO, "alice", number, "/implement")

    [job] = world.jobs_on(number)
    assert job["state"] == "succeeded", job["outcome"]

    # Every host file is as it was; nothing was created where a link pointed.
    assert (host / "appended.log").read_text() == "host log\n"
    assert (host / "db.env").read_text() == "DB_PASSWORD=host-secret-value\n"
    assert not (host / "ld.so.preload").exists()
    assert not Path("/tmp/rolecall-fsmonitor-ran").exists()

    # What was pushed is one commit of Rolecall's, on top of the default branch.
    [pull] = [p for p in world.github.pulls(REPO) if p["html_url"] == job["pr_url"]]
    head = pull["head"]["sha"]
    base = world.git("rev-parse", "main")
    assert world.git("rev-parse", f"{head}~1") == base
    who = world.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", head)
    assert "Maintainer" not in who and "boss@example.com" not in who
    author, committer = who.strip().split("|")
    assert author == committer and author.startswith("rolecall[bot] <"), who
    message = world.git("log", "-1", "--format=%B", head)
    assert f"#{other}" not in message and "Fixes" not in message, message
    assert "def mul" in world.git("show", f"{head}:mul.py")

    # Nothing of the host file was quoted anywhere Rolecall posted.
    posted = [c["body"] for c in world.github.comments(REPO, number)]
    posted += [pull["body"] or "", pull["title"]]
    assert not [body for body in posted if "host-secret-value" in body]
    # The other issue is untouched: no closing keyword left with the push.
    assert world.github.issue(REPO, other)["state"] == "open"


def test_a_repository_reborn_under_a_known_name_shares_no_objects_with_the_old_one(
    world: World,
) -> None:
    """Mirrors are kept by repository id: a name freed by a rename and taken by a new
    repository never shows the new one's sandbox the old one's private history."""
    name = f"octo/reborn-{uuid.uuid4().hex[:6]}"
    world.github.create_repo(name, files={"OLD.md": "old history\n"})
    world.github.set_permission(name, "alice", "write")
    old = int(world.github.open_issue(name, "alice", "Warm the mirror", "Anything."))
    world.github.comment(name, "alice", old, "/implement")
    world.settle()
    secret = world.git("rev-parse", "main", repo=name)
    world.github.rename_repo(name, name.split("/")[1] + "-renamed")
    world.github.create_repo(name, files={"NEW.md": "new\n"})
    world.github.set_permission(name, "alice", "write")

    probe = f"git -C /rolecall/mirror.git cat-file -t {secret} || echo ABSENT"
    looks = [tool_use("Bash", {"command": probe})]
    seen: list[str] = []

    def respond(request: dict[str, Any]) -> Turn | Any:
        done = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if done:
            seen.append(str(request["messages"][-1]["content"]))
        return looks[done] if done < len(looks) else text("Nothing to change.")

    world.model.respond_with(respond)
    number = int(world.github.open_issue(name, "alice", "Look around", "Anything."))
    world.github.comment(name, "alice", number, "/implement")
    jobs = [j for j in world.settle() if j["repo_full_name"] == name]
    assert seen and "ABSENT" in seen[0] and "commit" not in seen[0], (
        seen,
        [(j["state"], j["outcome"]) for j in jobs],
    )
