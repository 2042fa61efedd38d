"""How long a job takes to start on a large repository: webhook → first model request.

Builds a repository the size of a real project in a temporary directory
(bench/big_repo.py: 20,000 commits, 5,000 files, a ~120 MB pack, with `git fast-import`),
serves it from the GitHub stand-in over smart HTTP, and starts a real `rolecall serve`
(bench/live_server.py). Then, round by round, interleaved:

- **plain clone** (the anchor): `git clone` of the same repository from the stand-in,
  over the same HTTP, onto the same disk as Rolecall's data directory;
- **cold job**: `/implement` on a fresh issue with no mirror yet (the mirror is deleted
  while the server is idle), so the job clones it;
- **warm jobs**: `/implement` again, the mirror fetched by the job before.

Before the rounds, one job on the stage's small sample repository loads what the
server loads once (its first job is not a measure of the mirror).

A job is timed from the moment the stand-in sends the `issue_comment` webhook to the
moment the model stand-in receives the job's first request (both clocks are this
process's). The scripted model then answers "nothing to change", so the job ends
without a pull request. `--timeline` prints, for the last warm job, every GitHub
request in between, which shows where the time goes.

    .venv/bin/python bench/job_start.py --rounds 3 --warm 2
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import big_repo
from live_server import (
    enterable_tmp,
    final_comment,
    load,
    machine,
    serve,
    wait_for,
)

from standins.model import text
from standins.scenario import REPO as SAMPLE_REPO
from standins.scenario import Stage

REPO = "octo/big"
AGENTS_MD = b"Run the tests before you finish.\n"


class FirstRequest:
    """The model stand-in's responder: notes when the first request of a job arrives."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: float | None = None

    def reset(self) -> None:
        with self.lock:
            self.at = None

    def __call__(self, request: dict[str, Any]) -> Any:
        now = time.time()
        with self.lock:
            if self.at is None:
                self.at = now
        return text("Nothing to change.")


def plain_clone(stage: Stage, token: str, into: Path) -> float:
    """Seconds for `git clone` of the repository (with its checkout) onto `into`."""
    header = "Authorization: Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    env = {"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}
    started = time.monotonic()
    subprocess.run(
        ["git", "-c", f"http.extraHeader={header}", "clone", "--quiet",
         stage.github.clone_url(REPO), str(into)],
        check=True,
        env=env,
    )  # fmt: skip
    took = time.monotonic() - started
    shutil.rmtree(into)
    return took


def one_job(
    stage: Stage, first: FirstRequest, data: Path, timeline: bool, repo: str = REPO
) -> float:
    """Seconds from the `/implement` webhook to the job's first model request."""
    issue = stage.github.open_issue(repo, "alice", "Speed up the parser", "It is slow.")
    stage.github.wait_for_deliveries()
    first.reset()
    seen = len(stage.github.requests)
    comment = stage.github.comment(repo, "alice", issue, "/implement")
    sent = comment.deliveries[0].sent_at
    wait_for(lambda: first.at, f"the first model request of the job on #{issue}")
    assert first.at is not None
    took = float(first.at - sent)
    wait_for(lambda: final_comment(stage, repo, issue), f"the job on #{issue} to end")
    worktrees = data / "worktrees"
    wait_for(lambda: not any(worktrees.iterdir()) or None, "the worktree to be removed")
    if timeline:
        print(f"\ntimeline of the job on #{issue} (ms after the webhook):")
        for request in stage.github.requests[seen:]:
            if request.at > first.at:
                break
            print(f"  {1000 * (request.at - sent):7.0f}  {request.method} {request.path}")
        print(f"  {1000 * took:7.0f}  first model request")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of clone, cold, warm")
    parser.add_argument("--warm", type=int, default=2, help="warm jobs per round")
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--timeline", action="store_true", help="show the last warm job's")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    tmp = enterable_tmp("rolecall-job-start-")
    try:
        with Stage(tmp / "stage") as stage:
            stage.github.create_repo(REPO, files={"README.md": "# big\n"})
            stage.github.set_permission(REPO, "alice", "write")
            git_dir = stage.github.repo_path(REPO)
            started = time.monotonic()
            big_repo.build(
                git_dir, commits=args.commits, files=args.files, extra={"AGENTS.md": AGENTS_MD}
            )
            print(
                f"repository: {args.commits:,} commits, {args.files:,} files, "
                f"{big_repo.pack_bytes(git_dir) / 1e6:.0f} MB pack, "
                f"built in {time.monotonic() - started:.1f} s"
            )
            first = FirstRequest()
            stage.model.respond_with(first)
            data = tmp / "data"
            data.mkdir()
            data.chmod(0o711)
            served = serve(stage, data)
            try:
                # The server's first job pays for what a process loads once: not measured.
                one_job(stage, first, data, False, repo=SAMPLE_REPO)
                token = stage.github.issue_token(REPO)
                clones, colds, warms = [], [], []
                for round_ in range(args.rounds):
                    clones.append(plain_clone(stage, token, tmp / "clone"))
                    shutil.rmtree(data / "mirrors", ignore_errors=True)
                    colds.append(one_job(stage, first, data, False))
                    for n in range(args.warm):
                        last = round_ == args.rounds - 1 and n == args.warm - 1
                        warms.append(one_job(stage, first, data, args.timeline and last))
                    print(
                        f"round {round_ + 1}: clone {clones[-1]:.2f} s, cold {colds[-1]:.2f} s, "
                        f"warm {', '.join(f'{w:.2f}' for w in warms[-args.warm :])} s; "
                        f"load {load()}"
                    )
            finally:
                served.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    clone, cold, warm = (statistics.median(v) for v in (clones, colds, warms))
    print(f"\nload average at end: {load()}")
    print(f"plain git clone (anchor): median {clone:.2f} s of {len(clones)}")
    print(
        f"cold job start:           median {cold:.2f} s of {len(colds)}  "
        f"({cold / clone:.2f}× the clone's time; goal ≤ 1.00×)"
    )
    print(
        f"warm job start:           median {warm:.2f} s of {len(warms)}  "
        f"(the clone is {clone / warm:.1f}× slower; goal ≤ 2 s and ≥ 5×)"
    )


if __name__ == "__main__":
    main()
