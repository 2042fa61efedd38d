"""End to end: the kernel caps a job's worktree, however the agent writes.

`rolecall serve` runs in a mount namespace of its own and gives each job's worktree a
tmpfs sized to its checkout plus the allowed growth (agents.workspace.volume). Here the
growth is 8 MiB and the scripted agent writes far more in every way it can; each write
past the cap fails with "No space left on device" inside the command, the host's disk
does not grow, and the job still delivers what fit.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standins.model import Turn, text, tool_use
from standins.scenario import REPO, Stage
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall, wait_for
from tests.helpers import enterable_dir

pytestmark = pytest.mark.usefixtures("bwrap")

FILL = (
    "head -c 64M /dev/zero > big; echo big=$?; "
    "for i in $(seq 1 40); do head -c 1M /dev/zero > f$i || break; done; echo many=$?; "
    "mkdir -p d && (cd d && for i in $(seq 1 200000); do "
    ": > $i || { echo inodes=full; break; }; done); "
    "df -B1M --output=size . | tail -1 | tr -d ' ' | sed 's/^/size=/'"
)


# Root's Rolecall (a private mount namespace), and an unprivileged user's (root only of
# a user namespace of its own, which `unshare --user` makes of any user, root included).
AS = {"as-root": (), "as-a-service-user": ("unshare", "--user", "--map-root-user", "--")}


@pytest.fixture(params=sorted(AS))
def capped(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Stage, Rolecall]]:
    with Stage(enterable_dir("cap-stage")) as stage:
        running = start_rolecall(
            stage, tmp_path / "data", wrapper=AS[request.param], ROLECALL_WORKTREE_GROWTH_MB="8"
        )
        try:
            yield stage, running
        finally:
            stop_rolecall(running)


def disk_use(path: Path) -> int:
    """Bytes under `path` as the host sees it (outside Rolecall's mount namespace)."""
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def test_a_worktree_cannot_grow_past_its_cap(capped: tuple[Stage, Rolecall]) -> None:
    stage, rolecall = capped
    seen: list[str] = []

    def respond(request: dict[str, Any]) -> Turn | Any:
        done = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if done:
            seen.append(str(request["messages"][-1]["content"]))
        if done == 0:
            return tool_use("Bash", {"command": FILL})
        if done == 1:
            return tool_use("Bash", {"command": "rm -rf big f* d; echo 'x = 1' > small.py"})
        return text("Wrote small.py.")

    stage.model.respond_with(respond)
    data_dir = Path(rolecall.env["ROLECALL_DATA_DIR"])
    before = disk_use(data_dir)
    number = stage.open_issue()
    stage.github.comment(REPO, "alice", number, "/implement")
    job = wait_for(
        lambda: next((j for j in rolecall.jobs() if j["state"] not in ("queued", "running")), None),
        "the job to finish",
    )
    assert job["state"] == "succeeded", (job, rolecall.log())
    report = seen[0]
    assert "No space left on device" in report, report
    sizes = dict(w.split("=", 1) for w in report.replace("\\n", "\n").split() if "=" in w)
    assert int(sizes["size"]) < 64, report  # the checkout plus 8 MiB, not the host disk
    assert sizes.get("inodes") == "full", report  # entries are capped too
    assert disk_use(data_dir) - before < 16 * 1024 * 1024, "the host disk took the writes"
    head = stage.github.pull(REPO, int(job["pr_url"].rsplit("/", 1)[1]))["head"]["sha"]
    shown = subprocess.run(
        ["git", "--git-dir", str(stage.github.repo_path(REPO)), "show", f"{head}:small.py"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout == "x = 1\n"
