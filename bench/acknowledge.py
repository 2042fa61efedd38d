"""How soon a maintainer sees Rolecall react to `/implement`: 👀 and the tracking comment.

Runs Rolecall's server and workers in-process against the local stand-ins
(`standins.scenario`), then, one at a time, has alice comment `/implement` on a fresh
issue and measures from the moment the comment's webhook is sent to the moment the
GitHub stand-in receives the 👀 reaction and the tracking comment. The scripted agent
answers at once without changing files, so the jobs are short; what is measured is the
path webhook → durable queue → worker → GitHub. Loopback only; bounded by --issues.

    .venv/bin/python bench/acknowledge.py --issues 30
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bot.cli.demo import serve_on_stage
from standins.model import text
from standins.scenario import REPO, Stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=30, help="how many /implement comments")
    args = parser.parse_args()
    count = max(1, min(args.issues, 500))
    reaction_ms: list[float] = []
    tracking_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, Stage(Path(tmp) / "stage") as stage:
        Path(tmp).chmod(0o711)  # as root, the sandbox user must be able to enter it
        stage.model.respond_with(lambda request: text("Nothing to change."))
        with serve_on_stage(stage, Path(tmp) / "data", workers=2):
            for _ in range(count):
                issue = stage.open_issue()
                seen = len(stage.github.requests)
                sent = time.time()
                stage.github.comment(REPO, "alice", issue, "/implement")
                reacted = posted = None
                deadline = time.monotonic() + 30
                while (reacted is None or posted is None) and time.monotonic() < deadline:
                    for request in stage.github.requests[seen:]:
                        if request.method == "POST" and request.path.endswith("/reactions"):
                            reacted = reacted or request.at
                        elif request.method == "POST" and request.path.endswith(
                            f"/issues/{issue}/comments"
                        ):
                            posted = posted or request.at
                    time.sleep(0.005)
                if reacted is None or posted is None:
                    raise SystemExit(f"issue #{issue}: no acknowledgement within 30 s")
                reaction_ms.append((reacted - sent) * 1000)
                tracking_ms.append((posted - sent) * 1000)
                time.sleep(0.3)  # let the short job finish before the next comment
    for name, values in (("👀 reaction", reaction_ms), ("tracking comment", tracking_ms)):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"{name:>17}: n={len(values)} p50={statistics.median(values):.0f} ms "
            f"p95={p95:.0f} ms max={values[-1]:.0f} ms"
        )


if __name__ == "__main__":
    main()
