"""How long Rolecall takes to start: `rolecall --help`, `rolecall jobs`, `rolecall serve`
until `/healthz` answers, and a bare Python.

The anchor is `python -c pass` in the same run: what no Python program can go below.
Each command runs `--runs` times, interleaved, in a fresh data directory whose ledger
holds 50 finished jobs (so `rolecall jobs` reads and prints a real table); the median
wall time of each is printed with its ratio to the anchor.

    .venv/bin/python bench/startup.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def serve_until_healthy(rolecall: str, env: dict[str, str]) -> float:
    """Seconds from starting `rolecall serve` until `/healthz` answers (at most 30)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [rolecall, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 30:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
        raise SystemExit("rolecall serve did not answer /healthz within 30 s")
    finally:
        server.terminate()
        server.wait()


def seed_ledger(data: Path, count: int = 50) -> None:
    """A ledger with `count` finished jobs, as `rolecall serve` would have left it."""
    from bot.settings import Settings
    from bot.store.ledger import NewDelivery, open_ledger

    settings = Settings(_env_file=None, data_dir=data, database_url=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    try:
        recorded = ledger.record_deliveries(
            [
                NewDelivery(
                    id=f"bench-{n}",
                    event="issue_comment",
                    action="created",
                    decision="job",
                    reason="/implement",
                    job={
                        "kind": "implement",
                        "role": "implementer",
                        "repo_full_name": "octo/calc",
                        "issue_number": n,
                    },
                )
                for n in range(1, count + 1)
            ]
        )
        for result in recorded:
            assert result.job_id is not None
            ledger.update_job(
                result.job_id,
                state="succeeded",
                cost_usd=0.0123,
                outcome="Opened a **draft pull request** that adds the `divide` function "
                "and a test for division by zero, as the issue asked.",
                pr_url=f"https://github.com/octo/calc/pull/{result.job_id}",
            )
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = max(1, min(parser.parse_args().runs, 100))
    rolecall = str(Path(sys.executable).with_name("rolecall"))
    commands = {
        "python -c pass (anchor)": [sys.executable, "-c", "pass"],
        "rolecall --help": [rolecall, "--help"],
        "rolecall jobs": [rolecall, "jobs"],
    }
    with tempfile.TemporaryDirectory() as data:
        Path(data).chmod(0o711)  # as root, the sandbox user must be able to enter it
        env = {**os.environ, "ROLECALL_DATA_DIR": data}
        seed_ledger(Path(data))
        times: dict[str, list[float]] = {name: [] for name in commands}
        times["rolecall serve → /healthz"] = []
        for _ in range(runs):
            for name, argv in commands.items():
                started = time.perf_counter()
                subprocess.run(argv, env=env, capture_output=True, check=True)
                times[name].append(time.perf_counter() - started)
            times["rolecall serve → /healthz"].append(serve_until_healthy(rolecall, env))
    anchor = statistics.median(times["python -c pass (anchor)"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28} median {median * 1000:7.1f} ms  ({median / anchor:4.1f}x the anchor)")


if __name__ == "__main__":
    main()
