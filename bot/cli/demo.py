"""`rolecall demo`: the whole `/implement` loop, offline, in one command.

It starts the GitHub and model stand-ins (`standins.scenario`), serves Rolecall on a
loopback port with its own workers, and has alice comment `/implement` on an issue about
a failing test. The model is scripted (the output says so); everything else is real:
signed webhooks, the durable queue, git over smart HTTP, the bubblewrap sandbox running
the tests, the draft pull request. It prints the timeline and the pull request, and
exits 0 only when the draft PR exists as described.

This is the one place production code imports `standins`, lazily, for this command.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEMO_TIMEOUT = 120.0
SCRIPTED = "scripted: the model stand-in replays a fixed agent; no real model was asked"


@dataclass(frozen=True)
class Moment:
    at_ms: int
    what: str


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole /implement loop offline against local stand-ins (scripted model)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="rolecall-demo-") as tmp:
        # Run as root, the sandbox runs as ROLECALL_SANDBOX_USER, which must enter it.
        Path(tmp).chmod(0o711)
        report = run_demo(Path(tmp))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_as_text(report))
    return 0 if report["ok"] else 1


def run_demo(root: Path) -> dict[str, Any]:
    """Run the scenario under `root` and describe what happened, for people or as JSON."""
    from standins.scenario import REPO, Stage, fixing_agent

    with Stage(root / "stage") as stage, serve_on_stage(stage, root / "data"):
        stage.model.respond_with(fixing_agent())
        issue = stage.open_issue()
        started = time.time()
        stage.github.comment(REPO, "alice", issue, "/implement")
        outcome = _wait_for_outcome(stage, issue)
        return _report(stage, issue, started, outcome)


@contextmanager
def serve_on_stage(stage: Any, data: Path, *, workers: int = 1) -> Iterator[str]:
    """Rolecall's web server and workers in this process, pointed at the stage's stand-ins.

    Yields the base URL; the GitHub stand-in's webhooks go to it.
    """
    import uvicorn

    from bot.cli.serve import Root
    from bot.settings import get_settings
    from bot.web.app import create_app

    data.mkdir(parents=True, exist_ok=True)
    settings = get_settings(
        **_settings_from(stage.rolecall_env(data)),
        database_url=f"sqlite:///{data / 'rolecall.db'}",
        queue_url=f"sqlite:///{data / 'queue.db'}",
        workers=workers,
        sandbox="bwrap",
    )
    root = Root(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(
                settings,
                ledger=root.ledger,
                enqueue=root.queue.enqueue,
                bot_login_lookup=root.bot_login,
                metrics=root.metrics,
            ),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    root.warm_up()
    consumer = root.queue.start_workers(workers)
    try:
        while not server.started:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        stage.github.webhook_url = f"{url}/api/github/webhooks"
        yield url
    finally:
        server.should_exit = True
        serving.join(timeout=10)
        consumer.stop(graceful=True)
        root.close()


def _settings_from(env: dict[str, str]) -> dict[str, Any]:
    names = {
        "APP_ID": "app_id",
        "PRIVATE_KEY": "private_key",
        "WEBHOOK_SECRET": "webhook_secret",
        "GITHUB_API_URL": "github_api_url",
        "ANTHROPIC_API_KEY": "anthropic_api_key",
        "ANTHROPIC_BASE_URL": "anthropic_base_url",
        "ROLECALL_DATA_DIR": "data_dir",
    }
    return {names[key]: value for key, value in env.items()}


def _wait_for_outcome(stage: Any, issue: int) -> str:
    from standins.scenario import REPO

    deadline = time.monotonic() + DEMO_TIMEOUT
    while time.monotonic() < deadline:
        for comment in stage.github.comments(REPO, issue):
            body = comment["body"].lstrip()
            ours = comment["user"]["login"] == stage.github.bot_login
            # The stand-in shows an edit before it records the request that made it; the
            # timeline is read from the record, so the final one must be recorded too.
            if (
                ours
                and body[:1] in "✅❌ℹ⏹"
                and any(_wrote(request, comment["body"]) for request in stage.github.requests)
            ):
                return str(comment["body"])
        time.sleep(0.1)
    return "the job did not finish within the demo's time limit"


def _wrote(request: Any, body: str) -> bool:
    return request.method in ("POST", "PATCH") and (request.json or {}).get("body") == body


def _report(stage: Any, issue: int, started: float, outcome: str) -> dict[str, Any]:
    from standins.scenario import REPO

    github = stage.github
    timeline = [
        Moment(_ms(d.sent_at, started), f"GitHub sent webhook {d.event}.{d.action} → {d.status}")
        for d in github.deliveries
        if d.event == "issue_comment" and d.payload["comment"]["user"]["login"] == "alice"
    ]
    for request in github.requests:
        what = _describe(request)
        if what:
            timeline.append(Moment(_ms(request.at, started), what))
    turns = len(stage.model.requests)
    timeline.sort(key=lambda moment: moment.at_ms)
    pulls = github.pulls(REPO)
    pull = pulls[0] if pulls else None
    fixed = pull is not None and "return a + b" in _show(github, pull["head"]["ref"], "calc.py")
    ok = (
        pull is not None
        and pull["draft"] is True
        and f"Fixes #{issue}" in pull["body"]
        and fixed
        and pull["html_url"] in outcome
    )
    return {
        "ok": ok,
        "model": SCRIPTED,
        "issue": issue,
        "model_turns": turns,
        "timeline": [asdict(moment) for moment in timeline],
        "tracking_comment": outcome,
        "pull_request": None
        if pull is None
        else {
            "number": pull["number"],
            "title": pull["title"],
            "draft": pull["draft"],
            "head": pull["head"]["ref"],
            "url": pull["html_url"],
            "body": pull["body"],
            "diff_stat": _diff_stat(github, pull),
        },
    }


def _describe(request: Any) -> str | None:
    """A timeline line for the requests a person would care about."""
    path, method = request.path, request.method
    if method == "POST" and path.endswith("/reactions"):
        return f"Rolecall reacted {request.json.get('content')} to the comment"
    if method == "POST" and path.endswith("/comments") and "/issues/" in path:
        return "Rolecall posted its tracking comment"
    if method == "PATCH" and "/issues/comments/" in path:
        body = str((request.json or {}).get("body", ""))
        current = next((ln for ln in body.splitlines() if "⏳" in ln), None)
        if current:
            return "Tracking comment: " + current.replace("- [ ] ⏳", "now:").strip()
        return "Tracking comment: " + body.splitlines()[0].strip("*✅❌ ") if body else None
    if method == "POST" and path.endswith("git-receive-pack"):
        return "Rolecall pushed its branch over git"
    if method == "POST" and path.endswith("/pulls"):
        return "Rolecall opened a draft pull request"
    return None


def _show(github: Any, ref: str, path: str) -> str:
    result = subprocess.run(
        ["git", "--git-dir", str(github.repo_path("octo/calc")), "show", f"{ref}:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout


def _diff_stat(github: Any, pull: dict[str, Any]) -> str:
    result = subprocess.run(
        [
            "git",
            "--git-dir",
            str(github.repo_path("octo/calc")),
            "diff",
            "--stat",
            f"{pull['base']['sha']}...{pull['head']['sha']}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.rstrip()


def _as_text(report: dict[str, Any]) -> str:
    lines = [
        "Rolecall demo — GitHub and the model are local stand-ins; the model is SCRIPTED.",
        f"alice commented /implement on issue #{report['issue']}.",
        "",
        "Timeline (ms after the comment):",
    ]
    lines += [f"  {m['at_ms']:>6}  {m['what']}" for m in report["timeline"]]
    lines += ["", f"Model turns: {report['model_turns']}", ""]
    pull = report["pull_request"]
    if pull is None:
        lines += [
            "No pull request was opened. The tracking comment says:",
            report["tracking_comment"],
        ]
    else:
        lines += [
            f"Draft pull request #{pull['number']}: {pull['title']}",
            f"  {pull['url']}  (branch {pull['head']})",
            "",
            pull["body"],
        ]
    lines += ["", "OK: the draft pull request exists as described." if report["ok"] else "FAILED"]
    return "\n".join(lines)


def _ms(at: float, started: float) -> int:
    return round((at - started) * 1000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
