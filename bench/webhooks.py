"""How fast `rolecall serve` durably acknowledges signed webhooks.

Starts the real `rolecall serve` (uvicorn, the intake writer, SQLite in a temporary data
dir) on a loopback port and fires N signed ~16 KB `issue_comment` deliveries over 16
keep-alive connections, each with its own delivery id. Reports the rate, p50/p99/max
latency, how many deliveries the server committed per fsync, and checks afterwards that
every acknowledged delivery is in the ledger.

    .venv/bin/python bench/webhooks.py                 # 20,000 deliveries
    .venv/bin/python bench/webhooks.py -n 50000 --command

The client is raw asyncio HTTP/1.1 on uvloop when present (a Python client like httpx
would be the bottleneck); it runs in this process, beside the server on the same cores
(bench/intake_vs_probot.py gives it a process of its own and counts the server's CPU).
Loopback only; bounded by --requests (at most 200,000) and --seconds. With --command the
server's own worker threads take the jobs and fail them (no App credentials here): that
load is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
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
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
SECRET = b"bench-webhook-secret"
PAYLOAD = Path(__file__).resolve().parents[1] / "tests/bot/payloads"
ROLECALL = Path(sys.executable).with_name("rolecall")


def payload(command: bool) -> bytes:
    """A real issue_comment payload padded to about 16 KB."""
    data = json.loads((PAYLOAD / "issue_comment.created.with-installation.json").read_text())
    data["comment"]["body"] = "/implement" if command else "You are totally right!"
    body = json.dumps(data)
    data["comment"]["body"] += " " * (16 * 1024 - len(body))
    return json.dumps(data).encode()


def request_bytes(body: bytes, delivery: str, signature: str) -> bytes:
    head = (
        f"POST /api/github/webhooks HTTP/1.1\r\n"
        f"Host: {HOST}\r\n"
        "User-Agent: GitHub-Hookshot/bench\r\n"
        "Content-Type: application/json\r\n"
        "X-GitHub-Event: issue_comment\r\n"
        f"X-GitHub-Delivery: {delivery}\r\n"
        f"X-Hub-Signature-256: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connection(
    port: int, requests: list[bytes], latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        for raw in requests:
            started = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def fire(
    port: int, count: int, concurrency: int, body: bytes, prefix: str
) -> tuple[float, list[float], dict[int, int]]:
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    per_connection: list[list[bytes]] = [[] for _ in range(concurrency)]
    for n in range(count):
        per_connection[n % concurrency].append(request_bytes(body, f"{prefix}-{n}", signature))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(connection(port, reqs, latencies, statuses) for reqs in per_connection))
    return time.perf_counter() - started, latencies, statuses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        data: dict[str, object] = json.loads(response.read())
        return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=20_000)
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120, help="give up after this long")
    parser.add_argument(
        "--command", action="store_true", help="comment /implement: every delivery makes a job"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    args = parser.parse_args()
    count = min(args.requests, 200_000)
    try:
        import uvloop  # the client's own speed is not what is measured

        uvloop.install()
    except ImportError:
        pass

    data_dir = Path(tempfile.mkdtemp(prefix="rolecall-bench-"))
    data_dir.chmod(0o711)  # as root, the sandbox user must be able to enter it
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "ROLECALL_DATA_DIR": str(data_dir / "data"),
        "WEBHOOK_SECRET": SECRET.decode(),
        "LOG_LEVEL": "warning",
        "ROLECALL_WORKERS": "1",
    }
    if "PYTHONPATH" in os.environ:  # e.g. to try optional speed-ups (httptools, uvloop)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [str(ROLECALL), "serve", "--host", HOST, "--port", str(port)],
        cwd=data_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                print(f"rolecall serve exited; see {data_dir / 'serve.log'}", file=sys.stderr)
                return 1
            try:
                get_json(f"http://{HOST}:{port}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    print("rolecall serve did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        body = payload(args.command)
        warmup = max(count // 20, args.concurrency)
        asyncio.run(
            asyncio.wait_for(fire(port, warmup, args.concurrency, body, "warm"), args.seconds)
        )
        elapsed, latencies, statuses = asyncio.run(
            asyncio.wait_for(fire(port, count, args.concurrency, body, "run"), args.seconds)
        )
        health = get_json(f"http://{HOST}:{port}/healthz")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
        log.close()

    db = sqlite3.connect(data_dir / "data" / "rolecall.db")
    recorded = db.execute("select count(*) from delivery where id like 'run-%'").fetchone()[0]
    jobs = db.execute("select count(*) from job where delivery_id like 'run-%'").fetchone()[0]
    db.close()
    latencies.sort()
    intake = health["intake"]
    assert isinstance(intake, dict)
    print(f"deliveries      {count} x {len(body)} bytes, {args.concurrency} connections")
    print(f"decision        {'/implement (a job each)' if args.command else 'ignored'}")
    print(f"statuses        {dict(sorted(statuses.items()))}")
    print(f"rate            {count / elapsed:,.0f} deliveries/s ({elapsed:.2f} s)")
    print(
        f"latency         p50 {statistics.median(latencies) * 1000:.2f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.2f} ms, "
        f"max {latencies[-1] * 1000:.2f} ms"
    )
    print(
        f"group commit    {intake['deliveries']} deliveries in {intake['commits']} commits "
        f"({intake['deliveries'] / max(intake['commits'], 1):.1f} per fsync, "
        f"largest {intake['largest_batch']})"
    )
    print(f"durable         {recorded} of {count} in the ledger after shutdown; {jobs} jobs")
    ok = recorded == statuses.get(202, 0) == count
    if ok and not args.keep:
        shutil.rmtree(data_dir)
    else:
        print(f"data dir        {data_dir} (serve.log, data/)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
