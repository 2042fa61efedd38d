"""Eight jobs at once through one `rolecall serve`: all delivered, and the memory it took.

Starts a real `rolecall serve` (bench/live_server.py) with `ROLECALL_WORKERS=8` on the
stand-ins' sample repository (standins.scenario), opens 8 issues and comments
`/implement` on all of them at once. Every job runs the demo's scripted agent
(`fixing_agent`: run the tests, read, edit, run the tests again, summarise), so each
runs two sandboxed commands and ends with a draft pull request.

While they run, the resident memory (VmRSS, /proc) is sampled every 50 ms: of the
server process itself, and separately of everything it started (git, bubblewrap, the
sandboxed commands). Success: every job ends with a pull request, none fails.

    .venv/bin/python bench/concurrency.py --jobs 8
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import (
    descendants,
    enterable_tmp,
    final_comment,
    load,
    machine,
    rss_kib,
    serve,
    wait_for,
)

from standins.scenario import ISSUE_BODY, ISSUE_TITLE, REPO, Stage, fixing_agent


class Sampler(threading.Thread):
    """Peak VmRSS of a process and, separately, of the sum of its descendants."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.stopping = threading.Event()
        self.server_peak = 0
        self.children_peak = 0
        self.children_most = 0
        self.samples = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            children = descendants(self.pid)
            self.server_peak = max(self.server_peak, rss_kib(self.pid))
            self.children_peak = max(self.children_peak, sum(rss_kib(c) for c in children))
            self.children_most = max(self.children_most, len(children))
            self.samples += 1
            self.stopping.wait(self.every)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs at once (and workers)")
    args = parser.parse_args()
    jobs = max(1, min(args.jobs, 64))
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    tmp = enterable_tmp("rolecall-concurrency-")
    try:
        with Stage(tmp / "stage") as stage:
            stage.model.respond_with(fixing_agent())
            data = tmp / "data"
            data.mkdir()
            data.chmod(0o711)
            served = serve(stage, data, ROLECALL_WORKERS=str(jobs))
            try:
                idle = rss_kib(served.process.pid)
                issues = [
                    stage.github.open_issue(REPO, "alice", ISSUE_TITLE, ISSUE_BODY)
                    for _ in range(jobs)
                ]
                stage.github.wait_for_deliveries()
                sampler = Sampler(served.process.pid)
                sampler.start()
                started = time.monotonic()
                for issue in issues:
                    stage.github.comment(REPO, "alice", issue, "/implement")
                ends = {
                    issue: wait_for(
                        partial(final_comment, stage, REPO, issue),
                        f"the job on #{issue} to end",
                        timeout=600,
                    )
                    for issue in issues
                }
                took = time.monotonic() - started
                sampler.stop()
            finally:
                served.stop()
            pulls = stage.github.pulls(REPO)
            failed = [n for n, c in ends.items() if not c["body"].lstrip().startswith("✅")]
            errors = stage.github.server_errors + stage.model.errors
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at end: {load()}")
    print(
        f"{jobs} jobs at once on {jobs} workers: all ended in {took:.1f} s; "
        f"{len(pulls)} pull requests; {len(failed)} not succeeded {failed}"
    )
    mb = 1.024 / 1000  # KiB to MB
    print(
        f"server RSS: {idle * mb:.0f} MB idle, peak {sampler.server_peak * mb:.0f} MB "
        f"(goal < 250 MB); its children (git, bubblewrap, sandboxed commands) together: "
        f"peak {sampler.children_peak * mb:.0f} MB, at most {sampler.children_most} "
        f"processes; {sampler.samples} samples"
    )
    if failed or len(pulls) != jobs or errors:
        raise SystemExit(f"not every job delivered: {failed or errors}")


if __name__ == "__main__":
    main()
