"""Rolecall's durable webhook intake against Probot's, in one run, on the same load.

Installs Probot from npm into a temporary directory, writes the smallest Probot app
there (an `issue_comment.created` handler that does nothing; Probot answers 200 once
its handlers ran) and starts it with the same webhook secret as a real `rolecall serve`
(intake only: no App credentials, so no job ever runs). Both get the same signed
`issue_comment.created` deliveries (the real payload in ../shared/github-payloads, each
with its own delivery id) over the same number of keep-alive connections, in rounds
that alternate between them (Probot, Rolecall, Probot, Rolecall, ...). Per server it
reports the rate, p50/p99 latency and the server process's CPU time per delivery
(utime + stime from /proc/<pid>/stat, before and after each round).

The load comes from a separate Python process (raw asyncio HTTP/1.1, uvloop when
present), so the client's CPU is not counted against either server. Both servers and
the client share this machine's cores.

Probot keeps nothing: its 200 only says its handlers ran. Rolecall's 202 says the
delivery is committed (fsynced) to its ledger. The physical bound for that is printed
beside the rates: with N connections each waiting for its own answer, at most N
deliveries can share one commit, so a group-committing intake cannot answer more than
N / (one commit's latency) deliveries a second. The bench measures this disk's fsync and
an SQLite commit (WAL, synchronous=FULL, as the ledger runs) in Rolecall's data dir.
At the end it checks that every delivery Rolecall acknowledged is in its ledger.

    .venv/bin/python bench/intake_vs_probot.py                       # 4 rounds each
    .venv/bin/python bench/intake_vs_probot.py -n 20000 --rounds 6 --probot-dir /tmp/pb
    .venv/bin/python bench/intake_vs_probot.py --also-tree /tmp/rolecall-old  # before/after

`--also-tree` adds a third server to the rounds: Rolecall run from another checkout
(with this venv), so an older intake is measured in the same run.

Loopback only; each round is bounded by --requests (at most 200,000) and --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The signed request and the keep-alive client, shared with bench/webhooks.py (this
# script's folder is on its sys.path).
from webhooks import connection, request_bytes

HOST = "127.0.0.1"
SECRET = "bench-webhook-secret"  # noqa: S105 (a throwaway for loopback servers)
PAYLOAD = (
    Path(__file__).resolve().parents[2]
    / "shared/github-payloads/issue_comment.created.with-installation.json"
)
PAYLOAD_IN_REPO = Path(__file__).resolve().parents[1] / "tests/bot/payloads" / PAYLOAD.name
ROLECALL = Path(sys.executable).with_name("rolecall")
PROBOT_VERSION = "14"
PROBOT_APP = """\
import { run } from "probot";

// Does nothing: Probot answers 200 after its handlers ran, and keeps nothing.
run((app) => {
  app.on("issue_comment.created", async () => {});
});
"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the load: runs in its own process (`--drive`) -----------------------------------


async def _fire(args: argparse.Namespace) -> dict[str, Any]:
    import hashlib
    import hmac

    body = Path(args.body).read_bytes()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    per_connection: list[list[bytes]] = [[] for _ in range(args.concurrency)]
    for n in range(args.count):
        delivery = f"{args.prefix}-{n:08d}"
        per_connection[n % args.concurrency].append(request_bytes(body, delivery, signature))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(
            *(connection(args.port, reqs, latencies, statuses) for reqs in per_connection)
        ),
        args.seconds,
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "elapsed": elapsed,
        "statuses": statuses,
        "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "max": latencies[-1],
    }


def drive(args: argparse.Namespace) -> int:
    """The client process: fire the deliveries, print what happened as one JSON line."""
    try:
        import uvloop  # the client's own speed is not what is measured

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_fire(args))
    print(json.dumps(result))
    return 0


# --- the servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_until_up(process: subprocess.Popen[bytes], url: str, what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (loopback)
            return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start; see {log}") from None
            time.sleep(0.1)


def install_probot(into: Path) -> str:
    """`npm install probot` into `into` (unless already there); its version."""
    installed = into / "node_modules/probot/package.json"
    if not installed.exists():
        into.mkdir(parents=True, exist_ok=True)
        (into / "package.json").write_text('{"name": "probot-bench", "private": true}\n')
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"probot@{PROBOT_VERSION}",
            ],
            cwd=into,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return str(json.loads(installed.read_text())["version"])


def private_key_pem() -> str:
    """A throwaway App key: Probot refuses to start without one (it is never used)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_probot(directory: Path, base_env: dict[str, str]) -> Server:
    (directory / "app.mjs").write_text(PROBOT_APP)
    port = free_port()
    env = {
        **base_env,
        "APP_ID": "1",
        "PRIVATE_KEY": private_key_pem(),
        "WEBHOOK_SECRET": SECRET,
        "HOST": HOST,
        "PORT": str(port),
        "LOG_LEVEL": "warn",  # like Rolecall's: no line per delivery
        "NODE_ENV": "production",
    }
    log = directory / "probot.log"
    process = subprocess.Popen(
        ["node", "app.mjs"],
        cwd=directory,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server("Probot", process, port, log)
    wait_until_up(process, f"http://{HOST}:{port}/", "Probot", log)
    return server


def start_rolecall(
    name: str, data_dir: Path, base_env: dict[str, str], tree: Path | None = None
) -> Server:
    """`rolecall serve` (intake only), from this venv's code or from the checkout `tree`."""
    port = free_port()
    env = {
        **base_env,
        **({"PYTHONPATH": str(tree)} if tree is not None else {}),
        "HOME": str(data_dir),
        "ROLECALL_DATA_DIR": str(data_dir / "data"),
        "WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "warning",
        "ROLECALL_WORKERS": "1",
    }
    log = data_dir / "serve.log"
    process = subprocess.Popen(
        [str(ROLECALL), "serve", "--host", HOST, "--port", str(port)],
        cwd=data_dir,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(name, process, port, log)
    wait_until_up(process, f"http://{HOST}:{port}/healthz", "rolecall serve", log)
    return server


# --- the disk -------------------------------------------------------------------------


def fsync_latency(directory: Path, times: int) -> float:
    """Median seconds of one os.fsync after a 4 KiB write, in `directory`."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    took = []
    try:
        for n in range(times):
            os.pwrite(fd, b"\0" * 4096, (n % 64) * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            took.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(took)


def sqlite_commit_latency(directory: Path, times: int) -> float:
    """Median seconds of one SQLite commit of one ~600-byte row, as the ledger commits."""
    path = directory / "commit-probe.db"
    db = sqlite3.connect(path, isolation_level=None)
    took = []
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)")
        for n in range(times):
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t VALUES (?, ?)", (f"{n:036d}", "x" * 600))
            db.execute("COMMIT")
            took.append(time.perf_counter() - started)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return statistics.median(took)


# --- the rounds -----------------------------------------------------------------------


@dataclass
class Round:
    rate: float
    p50: float
    p99: float
    cpu_per_delivery: float
    ok: int
    statuses: dict[str, int]


def one_round(
    server: Server, body_path: Path, count: int, concurrency: int, prefix: str, seconds: float
) -> Round:
    before = cpu_seconds(server.process.pid)
    finished = subprocess.run(
        [
            sys.executable,
            __file__,
            "--drive",
            "--port",
            str(server.port),
            "--body",
            str(body_path),
            "-n",
            str(count),
            "-c",
            str(concurrency),
            "--prefix",
            prefix,
            "--seconds",
            str(seconds),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    cpu = cpu_seconds(server.process.pid) - before
    result = json.loads(finished.stdout)
    statuses: dict[str, int] = result["statuses"]
    ok = sum(n for status, n in statuses.items() if 200 <= int(status) < 300)
    return Round(
        rate=count / result["elapsed"],
        p50=result["p50"],
        p99=result["p99"],
        cpu_per_delivery=cpu / count,
        ok=ok,
        statuses=statuses,
    )


def summary(rounds: list[Round]) -> dict[str, float]:
    return {
        "rate": statistics.median(r.rate for r in rounds),
        "p50": statistics.median(r.p50 for r in rounds),
        "p99": statistics.median(r.p99 for r in rounds),
        "cpu": statistics.median(r.cpu_per_delivery for r in rounds),
    }


def intake_stats(port: int) -> str:
    """How many deliveries the server committed per fsync (its /healthz says)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as answer:
        intake = json.loads(answer.read())["intake"]
    per = intake["deliveries"] / max(intake["commits"], 1)
    return (
        f"{intake['deliveries']:,} deliveries in {intake['commits']:,} commits "
        f"({per:.1f} per commit, largest {intake['largest_batch']})"
    )


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def compare(args: argparse.Namespace) -> int:
    from live_server import machine  # the bench folder's helper (this script's sys.path)

    count = min(args.requests, 200_000)
    source = PAYLOAD if PAYLOAD.exists() else PAYLOAD_IN_REPO
    body = source.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="rolecall-vs-probot-"))
    tmp.chmod(0o711)  # as root, the sandbox user must be able to enter Rolecall's data dir
    body_path = tmp / "payload.json"
    body_path.write_bytes(body)
    probot_dir = Path(args.probot_dir) if args.probot_dir else tmp / "probot"
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    print(f"machine         {machine()}")
    print(f"load average    {load_average()} (at start)")
    version = install_probot(probot_dir)
    trees: dict[str, Path | None] = {"Rolecall": None}
    if args.also_tree:
        trees[f"Rolecall@{Path(args.also_tree).name}"] = Path(args.also_tree).resolve()
    data_dirs: dict[str, Path] = {}
    for n, name in enumerate(trees):
        data_dirs[name] = tmp / f"rolecall-{n}"
        data_dirs[name].mkdir()
        data_dirs[name].chmod(0o711)
        (data_dirs[name] / "data").mkdir()
    disk = data_dirs["Rolecall"] / "data"
    fsync = fsync_latency(disk, args.fsyncs)
    commit = sqlite_commit_latency(disk, args.fsyncs // 2)
    servers = [start_probot(probot_dir, base_env)]
    servers += [
        start_rolecall(name, data_dirs[name], base_env, tree) for name, tree in trees.items()
    ]
    width = max(len(s.name) for s in servers)
    results: dict[str, list[Round]] = {s.name: [] for s in servers}
    try:
        warm = max(count // 10, args.concurrency)
        for server in servers:
            one_round(server, body_path, warm, args.concurrency, "warm", args.seconds)
        for n in range(args.rounds):
            for server in servers:
                done = one_round(
                    server, body_path, count, args.concurrency, f"run{n}", args.seconds
                )
                results[server.name].append(done)
                print(
                    f"round {n + 1} {server.name:<{width}} {done.rate:7,.0f}/s  p50 "
                    f"{done.p50 * 1e3:5.2f} ms  p99 {done.p99 * 1e3:5.2f} ms  CPU "
                    f"{done.cpu_per_delivery * 1e6:4.0f} µs/delivery  statuses {done.statuses}"
                    f"  load {load_average()}"
                )
        grouping = {name: intake_stats(s.port) for name, s in zip(trees, servers[1:], strict=True)}
    finally:
        for server in servers:
            server.stop()

    probot = summary(results["Probot"])
    bound = args.concurrency / commit
    print()
    print(
        f"deliveries      {args.rounds} rounds x {count:,} per server, {len(body):,} bytes "
        f"each ({source.name}), {args.concurrency} keep-alive connections"
    )
    print(
        f"Probot {version:<8} median {probot['rate']:7,.0f}/s, p50 {probot['p50'] * 1e3:.2f} ms, "
        f"p99 {probot['p99'] * 1e3:.2f} ms, CPU {probot['cpu'] * 1e6:.0f} µs/delivery "
        "(keeps nothing: its 200 only says the handler ran)"
    )
    print(
        f"disk            fsync {fsync * 1e3:.3f} ms, SQLite commit (WAL, synchronous=FULL) "
        f"{commit * 1e3:.3f} ms (medians)"
    )
    print(
        f"bound           {args.concurrency} connections / {commit * 1e3:.3f} ms per commit = "
        f"{bound:,.0f} deliveries/s (at most {args.concurrency} deliveries per commit)"
    )
    ok = True
    for name in trees:
        rolecall = summary(results[name])
        db = sqlite3.connect(data_dirs[name] / "data" / "rolecall.db")
        recorded = db.execute("SELECT count(*) FROM delivery WHERE id LIKE 'run%'").fetchone()[0]
        db.close()
        acknowledged = sum(r.ok for r in results[name])
        print(
            f"{name:<15} median {rolecall['rate']:7,.0f}/s, p50 {rolecall['p50'] * 1e3:.2f} ms, "
            f"p99 {rolecall['p99'] * 1e3:.2f} ms, CPU {rolecall['cpu'] * 1e6:.0f} µs/delivery; "
            f"{recorded:,} of {acknowledged:,} acknowledged deliveries in its ledger after "
            "shutdown (every 2xx committed and fsynced first)"
        )
        print(
            f"  ratios        rate {rolecall['rate'] / probot['rate']:.2f}x Probot's, "
            f"{rolecall['rate'] / bound:.2f}x the bound; CPU per delivery "
            f"{rolecall['cpu'] / probot['cpu']:.2f}x Probot's"
        )
        print(f"  group commit  {grouping[name]}")
        ok = ok and recorded == acknowledged == count * args.rounds
    print(f"load average    {load_average()} (at end)")
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept            {tmp}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=20_000, help="per round")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server, alternating")
    parser.add_argument("--seconds", type=float, default=120, help="give up a round after")
    parser.add_argument("--fsyncs", type=int, default=2000, help="fsyncs to time")
    parser.add_argument("--probot-dir", help="install Probot here (kept) instead of a tempdir")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    parser.add_argument(
        "--also-tree",
        help="also run Rolecall from this checkout (e.g. a `git worktree` of an older commit)",
    )
    # The load process (internal):
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        args.count = args.requests
        return drive(args)
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
