"""The job queue: huey carrying job ids from the intake to workers.

SQLite in the data dir by default, Redis (`redis://…`) when workers run on several
machines. The queue only carries ids; the ledger holds the jobs, and a job is claimed in
the ledger (queued → running) by the worker before it runs, so an id queued twice runs
once.

huey registers tasks on the instance they are declared on, at declaration time. The
instances and their tasks are therefore built together by `build_queue`, once per
process by its root (bot/cli/serve.py), which also says what runs a job: the queue
never imports the job code. Control jobs (/cancel, /status, …) travel on a second
queue, so they never wait behind agent jobs.

Every job runs under a lease its worker renews (bot.store.lease), and every process that runs
workers also sweeps for jobs whose worker is gone, on this machine or another, and
takes them over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer, Worker

from bot.settings import Settings
from bot.store.lease import LeaseKeeper, LeaseSweeper
from bot.store.ledger import Ledger, this_runner
from bot.store.slots import CONTROL_KINDS

log = logging.getLogger("rolecall.queue")

# Runs one job to its end, given its id (the process root's `bot.jobs.worker.run_job`).
Runner = Callable[[int], None]

TASK_NAME = "rolecall.run_job"
CONTROL_TASK_NAME = "rolecall.run_control_job"
# Threads for control jobs, beside ROLECALL_WORKERS agent threads.
CONTROL_WORKERS = 2
# huey polls an empty SQLite queue with a growing delay; capping it bounds how long a
# job queued by another process (or before a wake-up was missed) waits for a worker.
# A job this process queues wakes an idle worker at once (`Doorbell`).
POLL_MAX_DELAY = 0.1


class Doorbell:
    """Wakes one of this process's idle workers when this process queues a job.

    huey's workers poll an empty queue with a delay (up to POLL_MAX_DELAY), which was
    most of the time between the webhook and the 👀 (bench/first_request.py). A
    semaphore, not an event: a ring while every worker is busy is kept for the next
    one that goes idle, so no job waits a poll because its ring came too early.
    """

    def __init__(self) -> None:
        self._rings = threading.Semaphore(0)

    def ring(self) -> None:
        self._rings.release()

    def wait(self, timeout: float) -> None:
        self._rings.acquire(timeout=timeout)


class _PromptWorker(Worker):
    """huey's worker thread, which sleeps until its doorbell rings or its poll is due."""

    delay: float
    max_delay: float
    backoff: float

    def __init__(self, *args: Any, doorbell: Doorbell, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.doorbell = doorbell

    def sleep(self) -> None:
        # As huey's own, but the wait ends early when a job is queued. A stop is noticed
        # at the next poll, at most POLL_MAX_DELAY later.
        self.delay = min(self.delay, self.max_delay)
        self.doorbell.wait(self.delay)
        self.delay *= self.backoff


class _PromptConsumer(Consumer):
    """huey's consumer whose workers answer `doorbell`."""

    def __init__(self, *args: Any, doorbell: Doorbell, **kwargs: Any) -> None:
        self.doorbell = doorbell
        super().__init__(*args, **kwargs)

    def _create_worker(self) -> Worker:
        return _PromptWorker(
            huey=self.huey,
            stop_flag=self.stop_flag,
            default_delay=self.default_delay,
            max_delay=self.max_delay,
            backoff=self.backoff,
            max_tasks=self.max_tasks,
            doorbell=self.doorbell,
        )


class _EmbeddedConsumer(_PromptConsumer):
    """huey's consumer without signal handlers: inside `rolecall serve` uvicorn owns them."""

    def _set_signal_handlers(self) -> None:
        return None


@dataclass
class Workers:
    """What `start_workers` started: consumers of agent and control jobs, and a sweeper."""

    consumers: list[Consumer]
    sweeper: LeaseSweeper | None = None

    def stop(self, graceful: bool = False) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        for consumer in self.consumers:
            consumer.stop(graceful=graceful)


@dataclass
class JobQueue:
    """Two huey queues and their tasks: agent jobs, and control jobs beside them.

    Control jobs (`/cancel`, `/status`, `/help`, `/retry`, replies) take seconds; on a
    queue of their own, with threads of their own, they never wait behind the agent
    jobs they are about, whatever ROLECALL_WORKERS is.
    """

    huey: Huey
    task: TaskWrapper
    url: str
    control: Huey | None = None
    control_task: TaskWrapper | None = None
    is_control: Callable[[int], bool] = field(default=lambda job_id: False)
    # The ledger, for the sweeper that takes over jobs of stopped workers.
    ledger: Ledger | None = None
    # Per huey queue: what wakes this process's idle workers of that queue.
    doorbells: dict[str, Doorbell] = field(default_factory=dict)

    def enqueue(self, job_id: int) -> None:
        if self.control_task is not None and self.is_control(job_id):
            assert self.control is not None
            self.control_task(job_id)
            self.doorbell(self.control).ring()
        else:
            self.task(job_id)
            self.doorbell(self.huey).ring()

    def doorbell(self, huey: Huey) -> Doorbell:
        return self.doorbells.setdefault(huey.name, Doorbell())

    def pending(self) -> int:
        """How many job ids wait in the queues."""
        control = self.control.pending_count() if self.control is not None else 0
        return int(self.huey.pending_count()) + int(control)

    def consumer(self, workers: int, *, embedded: bool, huey: Huey | None = None) -> Consumer:
        """Worker threads; `embedded` ones leave signals to the host process."""
        cls = _EmbeddedConsumer if embedded else _PromptConsumer
        huey = huey or self.huey
        return cls(
            huey,
            workers=workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=POLL_MAX_DELAY,
            shutdown_timeout=10.0,
            # SIGTERM (docker stop, systemd) lets running jobs finish; SIGINT is immediate.
            graceful_signal="TERM",
            doorbell=self.doorbell(huey),
        )

    def sweeper(self) -> LeaseSweeper | None:
        """What takes over jobs whose worker stopped, for this queue's workers to run."""
        if self.ledger is None:
            return None
        return LeaseSweeper(self.ledger, self.enqueue)

    def start_workers(self, workers: int) -> Workers:
        """Run workers in threads of this process (`rolecall serve`); stop with `.stop()`."""
        started = Workers([self.consumer(workers, embedded=True)], self.sweeper())
        if self.control is not None:
            started.consumers.append(
                self.consumer(CONTROL_WORKERS, embedded=True, huey=self.control)
            )
        for consumer in started.consumers:
            consumer.start()
        if started.sweeper is not None:
            started.sweeper.start()
        return started

    def run_workers(self, workers: int) -> None:
        """Run workers until SIGINT/SIGTERM (`rolecall worker`)."""
        control = None
        if self.control is not None:
            control = self.consumer(CONTROL_WORKERS, embedded=True, huey=self.control)
            control.start()
        sweeper = self.sweeper()
        if sweeper is not None:
            sweeper.start()
        try:
            self.consumer(workers, embedded=False).run()
        finally:
            if sweeper is not None:
                sweeper.stop()
            if control is not None:
                control.stop(graceful=True)


def build_queue(settings: Settings, ledger: Ledger, runner: Runner) -> JobQueue:
    """The queue these settings name, whose workers run each job id with `runner`."""
    url = settings.resolved_queue_url()
    huey = _huey("rolecall", url)
    control = _huey("rolecall-control", url)

    def run_queued_job(job_id: int) -> None:
        """Run one job; a worker that raises leaves a failed job, not a running one.

        The worker claims the job in the ledger (queued -> running) before it starts, so
        an id queued twice runs once. Its lease is renewed until the worker returns,
        whatever phase it is in, so no live worker's job is ever taken over.
        """
        try:
            with LeaseKeeper(ledger, job_id):
                runner(job_id)
        except Exception as exc:
            log.exception("job %s: the worker stopped with an error", job_id)
            # A bug, not a refusal (those are phrased by the job itself): say where to look.
            outcome = (
                f"Rolecall failed unexpectedly ({type(exc).__name__}); its log has the "
                f"details of job {job_id}, and /retry runs the job again"
            )
            _fail_if_running(job_id, ledger, outcome)

    task: Any = huey.task(name=TASK_NAME)(run_queued_job)
    control_task: Any = control.task(name=CONTROL_TASK_NAME)(run_queued_job)

    def is_control(job_id: int) -> bool:
        job = ledger.get_job(job_id)
        return job is not None and job.kind in CONTROL_KINDS

    return JobQueue(huey, task, url, control, control_task, is_control, ledger)


def _huey(name: str, url: str) -> Huey:
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(name, url=url, results=False)
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False)


def _fail_if_running(job_id: int, ledger: Ledger, outcome: str) -> None:
    job = ledger.get_job(job_id)
    # Only while it is still this process's: another worker may have taken it over.
    if job is not None and job.state == "running" and job.runner == this_runner():
        ledger.update_job(job_id, state="failed", outcome=outcome)
