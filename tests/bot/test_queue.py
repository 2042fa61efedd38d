"""The queue runs each recorded job once, in a consumer, on SQLite and on Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.queue import JobQueue, build_queue
from bot.settings import Settings
from bot.store.ledger import Ledger, NewDelivery, open_ledger

REDIS = "redis://127.0.0.1:6379/15"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "database_url": None, "queue_url": None}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Runs:
    """A stand-in worker: claims the job as bot.jobs.worker.run_job does, then finishes it."""

    def __init__(self, outcome: str = "succeeded", error: Exception | None = None) -> None:
        self.job_ids: list[int] = []
        self.states: list[str] = []
        self.done = threading.Event()
        self.outcome = outcome
        self.error = error

    def __call__(self, job_id: int, settings: Settings) -> None:
        ledger = open_ledger(settings)
        try:
            job = ledger.claim_job(job_id)
            if job is None:
                return  # another copy of the id already ran it
            self.states.append(job.state)
            self.job_ids.append(job_id)
            try:
                if self.error is not None:
                    raise self.error
                ledger.update_job(job_id, state=self.outcome, outcome="done by the test worker")
            finally:
                self.done.set()
        finally:
            ledger.close()


def record_job(settings: Settings, delivery_id: str = "d-1") -> int:
    ledger = open_ledger(settings)
    [recorded] = ledger.record_deliveries(
        [
            NewDelivery(
                id=delivery_id,
                event="issue_comment",
                action="created",
                decision="job",
                reason="/implement",
                job={"kind": "implement", "role": "implementer"},
            )
        ]
    )
    ledger.close()
    assert recorded.job_id is not None
    return recorded.job_id


def wait_until_finished(ledger: Ledger, job_id: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = ledger.get_job(job_id)
        assert job is not None
        if job.state not in ("queued", "running"):
            return job.state
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(tmp_path)


@pytest.fixture
def redis_settings(tmp_path: Path) -> Iterator[Settings]:
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield make_settings(tmp_path, queue_url=REDIS)
    client.flushdb()
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def settings(request: pytest.FixtureRequest) -> Settings:
    name = "sqlite_settings" if request.param == "sqlite" else "redis_settings"
    settings: Settings = request.getfixturevalue(name)
    return settings


def test_an_enqueued_job_runs_once_in_a_consumer(settings: Settings) -> None:
    runs = Runs()
    queue = build_queue(settings, open_ledger(settings), lambda job_id: runs(job_id, settings))
    job_id = record_job(settings)
    queue.enqueue(job_id)
    queue.enqueue(job_id)  # as after a restart: recovery queues it again
    consumer = queue.start_workers(2)
    try:
        assert runs.done.wait(30)
        ledger = open_ledger(settings)
        assert wait_until_finished(ledger, job_id) == "succeeded"
        deadline = time.monotonic() + 30
        while queue.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        consumer.stop(graceful=True)
    assert runs.job_ids == [job_id]
    assert runs.states == ["running"]
    job = open_ledger(settings).get_job(job_id)
    assert job is not None and job.attempts == 1 and job.finished_at is not None


def test_a_worker_that_raises_leaves_a_failed_job_not_a_running_one(
    sqlite_settings: Settings,
) -> None:
    runs = Runs(error=RuntimeError("boom"))
    queue = build_queue(
        sqlite_settings, open_ledger(sqlite_settings), lambda job_id: runs(job_id, sqlite_settings)
    )
    job_id = record_job(sqlite_settings)
    queue.enqueue(job_id)
    consumer = queue.start_workers(1)
    try:
        ledger = open_ledger(sqlite_settings)
        assert wait_until_finished(ledger, job_id) == "failed"
    finally:
        consumer.stop(graceful=True)
    job = open_ledger(sqlite_settings).get_job(job_id)
    assert job is not None and job.outcome == (
        f"Rolecall failed unexpectedly (RuntimeError); its log has the details of job {job_id}, "
        "and /retry runs the job again"
    )


def test_queues_are_built_from_settings_not_at_import(tmp_path: Path) -> None:
    first = _queue(make_settings(tmp_path / "a"))
    second = _queue(make_settings(tmp_path / "b", queue_url=f"sqlite:///{tmp_path}/q.db"))
    assert first.url.endswith("a/queue.db") and second.url.endswith("/q.db")
    assert first.huey is not second.huey
    redis_queue = _queue(make_settings(tmp_path, queue_url=REDIS))
    assert type(redis_queue.huey).__name__ == "RedisHuey"


def _queue(settings: Settings) -> JobQueue:
    """A queue whose workers would run nothing (these tests only look at how it is built)."""
    return build_queue(settings, open_ledger(settings), lambda job_id: None)
