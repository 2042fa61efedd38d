"""What a GitHub API call costs: githubkit's client per call (Rolecall before the pool) vs
Rolecall's pooled keep-alive client, and the same for whole jobs (token plus calls).

The GitHub stand-in runs in a child process, so the CPU time measured here is the
client's alone. "per call" is how Rolecall called GitHub before: a `githubkit.GitHub`
outside `with`, which builds and closes an `httpx.Client` (a new connection, the CA
bundle reloaded) for every call, and a token minted for every job the same way.
"pooled" is `bot.github.GitHubApp`/`RepoClient` as the workers use them. The two are
interleaved in rounds so that load on the machine falls on both alike. Loopback only.

    .venv/bin/python bench/github_calls.py --calls 200 --jobs 20
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy

from agents.text.redact import Redactor
from bot.github import JOB_PERMISSIONS, TIMEOUT, GitHubApp

REPO = "octo/calc"
OWNER, NAME = REPO.split("/")
CALLS_PER_JOB = 17  # what a job made when the issue measured it


def serve_stand_in(conn: Connection) -> None:
    """The child: a GitHub stand-in with one repository, until the parent says stop."""
    from standins.github import GitHubStandIn

    with tempfile.TemporaryDirectory() as tmp, GitHubStandIn(root=Path(tmp) / "gh") as gh:
        gh.create_repo(REPO, files={"README.md": "calc\n"})
        conn.send(
            {
                "api_url": gh.api_url,
                "app_id": gh.app_id,
                "pem": gh.private_key_pem,
                "installation_id": gh.installation_id(REPO),
            }
        )
        conn.recv()


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per repetition of `work`."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        work()
    return (
        (time.perf_counter() - wall) * 1000 / repeat,
        (time.process_time() - cpu) * 1000 / repeat,
    )


class PerCall:
    """Rolecall before the pool: githubkit outside `with`, a token minted per job."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.app = GitHub(
            AppAuthStrategy(world["app_id"], world["pem"]),
            base_url=world["api_url"],
            timeout=TIMEOUT,
            http_cache=False,
        )
        self.client = self.new_job()

    def new_job(self) -> GitHub[TokenAuthStrategy]:
        minted = self.app.rest.apps.create_installation_access_token(  # type: ignore[call-overload]
            self.world["installation_id"], repositories=[NAME], permissions=JOB_PERMISSIONS
        ).parsed_data
        return GitHub(
            TokenAuthStrategy(minted.token),
            base_url=self.world["api_url"],
            timeout=TIMEOUT,
            http_cache=False,
        )

    def call(self) -> None:
        self.client.rest.repos.get(OWNER, NAME)

    def job(self) -> None:
        client = self.new_job()
        for _ in range(CALLS_PER_JOB):
            client.rest.repos.get(OWNER, NAME)


class Pooled:
    """Rolecall now: one `GitHubApp` per process, a `RepoClient` per job."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.app = GitHubApp(world["app_id"], world["pem"], world["api_url"])
        self.repo = self.app.repo(world["installation_id"], REPO, Redactor([]))

    def call(self) -> None:
        self.repo.rest.repos.get(OWNER, NAME)

    def job(self) -> None:
        repo = self.app.repo(self.world["installation_id"], REPO, Redactor([]))
        for _ in range(CALLS_PER_JOB):
            repo.rest.repos.get(OWNER, NAME)


def report(name: str, today: list[tuple[float, float]], pooled: list[tuple[float, float]]) -> None:
    t_wall = statistics.median(w for w, _ in today)
    t_cpu = statistics.median(c for _, c in today)
    p_wall = statistics.median(w for w, _ in pooled)
    p_cpu = statistics.median(c for _, c in pooled)
    print(f"{name}:")
    print(f"  per call: {t_wall:8.2f} ms wall {t_cpu:8.2f} ms CPU")
    print(f"  pooled:   {p_wall:8.2f} ms wall {p_cpu:8.2f} ms CPU")
    print(f"  ratio:    {t_wall / p_wall:8.1f}x wall {t_cpu / p_cpu:7.1f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="GET /repos calls per side")
    parser.add_argument("--jobs", type=int, default=20, help="jobs (a token + 17 calls) per side")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 50))
    calls = max(rounds, min(args.calls, 5000)) // rounds
    jobs = max(rounds, min(args.jobs, 500)) // rounds
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve_stand_in, args=(child,))
    server.start()
    try:
        world = parent.recv()
        today, pooled = PerCall(world), Pooled(world)
        today.call(), pooled.call()  # warm: imports, JWT, the first token and connection
        results: dict[str, list[tuple[float, float]]] = {
            k: [] for k in ("call/today", "call/pooled", "job/today", "job/pooled")
        }
        for _ in range(rounds):
            results["call/today"].append(timed(today.call, calls))
            results["call/pooled"].append(timed(pooled.call, calls))
            results["job/today"].append(timed(today.job, jobs))
            results["job/pooled"].append(timed(pooled.job, jobs))
        pooled.app.close()
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(f"{calls * rounds} calls and {jobs * rounds} jobs per side, {rounds} rounds")
    report("GET /repos/{owner}/{repo}", results["call/today"], results["call/pooled"])
    report(f"a job (token + {CALLS_PER_JOB} calls)", results["job/today"], results["job/pooled"])


if __name__ == "__main__":
    main()
