"""The job queue: huey carrying job ids from the intake to workers.

SQLite in the data dir by default, Redis (`redis://…`) when workers run on several
machines. The queue only carries ids; the ledger holds the jobs, and a job is claimed in
the ledger (queued → running) by the worker before it runs, so an id queued twice runs
once.

huey registers tasks on the instance they are declared on, at declaration time. The
instance and its one task are therefore built together by `build_queue(settings)`: no
module-level huey, nothing read from the environment at import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

from bot.ledger import open_ledger
from bot.settings import Settings

log = logging.getLogger("rolecall.queue")

Runner = Callable[[int, Settings], None]

TASK_NAME = "rolecall.run_job"
# huey polls an empty SQLite queue with a growing delay; capping it keeps the 👀
# reaction a few hundred milliseconds after the comment (bench/acknowledge.py).
POLL_MAX_DELAY = 0.1


def _default_runner(job_id: int, settings: Settings) -> None:
    # Imported here: the worker is the composition root and pulls in everything
    # (githubkit, the model client, the sandbox); the webhook side needs none of it.
    from bot.worker import run_job

    run_job(job_id, settings)


def _warm_up() -> None:
    """Import the worker before the first job, not during it.

    Its imports (the anthropic SDK above all) take about a second; paid inside the first
    job, they would delay that job's 👀 reaction by as much.
    """
    import bot.worker  # noqa: F401


class _EmbeddedConsumer(Consumer):
    """huey's consumer without signal handlers: inside `rolecall serve` uvicorn owns them."""

    def _set_signal_handlers(self) -> None:
        return None


@dataclass
class JobQueue:
    """A huey instance and the task that runs one job."""

    huey: Huey
    task: TaskWrapper
    url: str

    def enqueue(self, job_id: int) -> None:
        self.task(job_id)

    def pending(self) -> int:
        """How many job ids wait in the queue."""
        return int(self.huey.pending_count())

    def consumer(self, workers: int, *, embedded: bool) -> Consumer:
        """Worker threads; `embedded` ones leave signals to the host process."""
        cls = _EmbeddedConsumer if embedded else Consumer
        return cls(
            self.huey,
            workers=workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=POLL_MAX_DELAY,
            shutdown_timeout=10.0,
            # SIGTERM (docker stop, systemd) lets running jobs finish; SIGINT is immediate.
            graceful_signal="TERM",
        )

    def start_workers(self, workers: int) -> Consumer:
        """Run workers in threads of this process (`rolecall serve`); stop with `.stop()`."""
        _warm_up()
        consumer = self.consumer(workers, embedded=True)
        consumer.start()
        return consumer

    def run_workers(self, workers: int) -> None:
        """Run workers until SIGINT/SIGTERM (`rolecall worker`)."""
        _warm_up()
        self.consumer(workers, embedded=False).run()


def build_queue(settings: Settings, *, runner: Runner | None = None) -> JobQueue:
    """The queue for these settings; `runner` replaces `bot.worker.run_job` (tests, demo)."""
    url = settings.resolved_queue_url()
    huey: Huey
    if url.startswith(("redis://", "rediss://")):
        huey = RedisHuey("rolecall", url=url, results=False)
    else:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("rolecall", filename=str(path), results=False)
    run = runner or _default_runner

    def run_queued_job(job_id: int) -> None:
        """Run one job; a worker that raises leaves a failed job, not a running one.

        The worker claims the job in the ledger (queued -> running) before it starts, so
        an id queued twice runs once.
        """
        try:
            run(job_id, settings)
        except Exception as exc:
            log.exception("job %s: the worker stopped with an error", job_id)
            _fail_if_running(job_id, settings, f"worker error: {type(exc).__name__}")

    task: Any = huey.task(name=TASK_NAME)(run_queued_job)
    return JobQueue(huey=huey, task=task, url=url)


def _fail_if_running(job_id: int, settings: Settings, outcome: str) -> None:
    ledger = open_ledger(settings)
    job = ledger.get_job(job_id)
    if job is not None and job.state == "running":
        ledger.update_job(job_id, state="failed", outcome=outcome)
