"""What a job costs before its agent starts: 👀, tracking comment, first model request.

Starts a real `rolecall serve` (bench/live_server.py) on the local stand-ins and, one
job at a time, has alice comment `/implement` on a fresh issue of the sample repository.
For each job it measures, from the moment the GitHub stand-in sends the webhook:

- when the GitHub stand-in receives the 👀 reaction and the tracking comment;
- when the model stand-in receives the job's first request;
- the CPU time the server process used in between (utime + stime from /proc, read just
  before the webhook and inside the model stand-in's handler of that first request;
  children that ended by then, git above all, are shown apart).

The first job is not counted (it loads what a process loads once). The scripted model
answers "nothing to change", so each job ends without a pull request; the next starts
once it has ended and its worktree is gone. `--tree` runs the server from another
checkout of Rolecall (e.g. a `git worktree` of an older commit) with this venv, so old
and new code can be measured the same way. Loopback only; bounded by --jobs.

    .venv/bin/python bench/first_request.py --jobs 12
    .venv/bin/python bench/first_request.py --jobs 12 --tree /tmp/rolecall-old
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import enterable_tmp, final_comment, load, machine, serve, wait_for

from standins.model import text
from standins.scenario import REPO, Stage

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(the process's own utime + stime, that of its children it has waited for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    return own / CLOCK_TICKS, children / CLOCK_TICKS


class FirstRequest:
    """The model stand-in's responder: when the job's first request came, and the CPU."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = 0
        self.at: float | None = None
        self.cpu: tuple[float, float] = (0.0, 0.0)

    def reset(self, pid: int) -> None:
        with self.lock:
            self.pid, self.at = pid, None

    def __call__(self, request: dict[str, Any]) -> Any:
        now = time.time()
        with self.lock:
            if self.at is None:
                self.cpu = cpu_seconds(self.pid)
                self.at = now
        return text("Nothing to change.")


@dataclass
class Job:
    reaction_ms: float
    tracking_ms: float
    first_request_ms: float
    cpu_ms: float
    children_cpu_ms: float


def one_job(stage: Stage, first: FirstRequest, pid: int, data: Path, timeline: bool) -> Job:
    issue = stage.open_issue()
    stage.github.wait_for_deliveries()
    time.sleep(0.2)  # the server has settled after the issue's own (ignored) delivery
    first.reset(pid)
    seen = len(stage.github.requests)
    before = cpu_seconds(pid)
    comment = stage.github.comment(REPO, "alice", issue, "/implement")
    sent = comment.deliveries[0].sent_at
    wait_for(lambda: first.at, f"the first model request of the job on #{issue}", timeout=60)
    assert first.at is not None
    after = first.cpu
    requests = stage.github.requests[seen:]
    reacted = next(
        (r.at for r in requests if r.method == "POST" and r.path.endswith("/reactions")), None
    )
    tracked = next(
        (
            r.at
            for r in requests
            if r.method == "POST" and r.path.endswith(f"/issues/{issue}/comments")
        ),
        None,
    )
    if reacted is None or tracked is None:
        raise SystemExit(f"#{issue}: no 👀 or tracking comment before the first model request")
    if timeline:
        print(f"\ntimeline of the job on #{issue} (ms after the webhook was sent):")
        for request in requests:
            if request.at > first.at:
                break
            print(f"  {1000 * (request.at - sent):7.1f}  {request.method} {request.path}")
        print(f"  {1000 * (first.at - sent):7.1f}  first model request")
    wait_for(lambda: final_comment(stage, REPO, issue), f"the job on #{issue} to end")
    worktrees = data / "worktrees"
    wait_for(
        lambda: not worktrees.exists() or not any(worktrees.iterdir()) or None,
        "the worktree to be removed",
    )
    return Job(
        reaction_ms=1000 * (reacted - sent),
        tracking_ms=1000 * (tracked - sent),
        first_request_ms=1000 * (first.at - sent),
        cpu_ms=1000 * (after[0] - before[0]),
        children_cpu_ms=1000 * (after[1] - before[1]),
    )


def describe(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return (
        f"{name:<28} p50 {statistics.median(values):7.1f} ms  mean "
        f"{statistics.mean(values):7.1f} ms  p95 {p95:7.1f} ms  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12, help="measured jobs (one more warms up)")
    parser.add_argument("--tree", help="run the server from this checkout of Rolecall")
    parser.add_argument("--timeline", action="store_true", help="show the last job's requests")
    args = parser.parse_args()
    count = max(1, min(args.jobs, 200))
    overrides = {}
    if args.tree:
        tree = Path(args.tree).resolve()
        if not any((tree / "bot" / entry).exists() for entry in ("cli/main.py", "cli.py")):
            raise SystemExit(f"{tree} is not a checkout of Rolecall")
        overrides["PYTHONPATH"] = str(tree)  # ahead of this venv's editable install
    print(f"machine: {machine()}")
    print(f"server code: {args.tree or Path(__file__).resolve().parent.parent}")
    print(f"load average at start: {load()}")
    tmp = enterable_tmp("rolecall-first-request-")
    jobs: list[Job] = []
    try:
        with Stage(tmp / "stage") as stage:
            first = FirstRequest()
            stage.model.respond_with(first)
            data = tmp / "data"
            data.mkdir()
            data.chmod(0o711)
            served = serve(stage, data, **overrides)
            pid = served.process.pid
            try:
                one_job(stage, first, pid, data, False)  # loads what a process loads once
                for n in range(count):
                    jobs.append(one_job(stage, first, pid, data, args.timeline and n == count - 1))
            finally:
                served.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average at end: {load()}")
    print(describe("👀 reaction", [j.reaction_ms for j in jobs]))
    print(describe("tracking comment", [j.tracking_ms for j in jobs]))
    print(describe("first model request", [j.first_request_ms for j in jobs]))
    print(describe("server CPU until then", [j.cpu_ms for j in jobs]))
    print(describe("its finished children's CPU", [j.children_cpu_ms for j in jobs]))


if __name__ == "__main__":
    main()
