"""How long the CLI takes to start: `rolecall --help`, `rolecall jobs`, and a bare Python.

The anchor is `python -c pass` in the same run: what no Python program can go below.
Each command runs `--runs` times, interleaved, in a fresh data directory; the median
wall time of each is printed with its ratio to the anchor.

    .venv/bin/python bench/startup.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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
        env = {**os.environ, "ROLECALL_DATA_DIR": data}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                started = time.perf_counter()
                subprocess.run(argv, env=env, capture_output=True, check=True)
                times[name].append(time.perf_counter() - started)
    anchor = statistics.median(times["python -c pass (anchor)"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28} median {median * 1000:7.1f} ms  ({median / anchor:4.1f}x the anchor)")


if __name__ == "__main__":
    main()
