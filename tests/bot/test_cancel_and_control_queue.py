"""A cancel written to the ledger reaches the running job; control jobs have their own queue."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.jobs.cancel import CancelWatcher, cancel_requested
from bot.queue import build_queue
from bot.settings import Settings
from bot.store.ledger import Ledger, NewDelivery, open_ledger


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]


def record(ledger: Ledger, kind: str) -> int:
    [recorded] = ledger.record_deliveries(
        [
            NewDelivery(
                id=uuid.uuid4().hex,
                event="issue_comment",
                action="created",
                decision="job",
                reason=kind,
                job={
                    "kind": kind,
                    "repo_full_name": "octo/calc",
                    "issue_number": 1,
                    "trigger_at": datetime(2024, 1, 1, tzinfo=UTC),
                },
            )
        ]
    )
    assert recorded.job_id is not None
    return recorded.job_id


def test_the_watcher_stops_the_agent_once_someone_asked(settings: Settings) -> None:
    ledger = open_ledger(settings)
    job_id = record(ledger, "implement")
    stopped = threading.Event()

    with CancelWatcher(ledger, job_id, stopped.set, interval=0.05) as watcher:
        assert cancel_requested(ledger, job_id) is None
        # Written the way /cancel writes it, through a second engine (another process).
        other = Ledger(ledger.url)
        other.update_job(job_id, cancel_requested_by="alice")
        other.close()
        assert stopped.wait(30)
    assert watcher.requested_by == "alice"


def test_control_jobs_run_while_every_agent_thread_is_busy(settings: Settings) -> None:
    ledger = open_ledger(settings)
    agent_job, cancel_job, status_job = (
        record(ledger, "implement"),
        record(ledger, "cancel"),
        record(ledger, "status"),
    )
    release = threading.Event()
    ran: list[int] = []
    both_ran = threading.Event()

    def runner(job_id: int) -> None:
        if job_id == agent_job:
            release.wait(60)  # the one agent thread stays busy until the test lets go
        ran.append(job_id)
        if {cancel_job, status_job} <= set(ran):
            both_ran.set()

    queue = build_queue(settings, ledger, runner)
    for job_id in (agent_job, cancel_job, status_job):
        queue.enqueue(job_id)
    assert queue.huey.pending_count() == 1
    assert queue.control is not None and queue.control.pending_count() == 2

    workers = queue.start_workers(1)
    try:
        assert both_ran.wait(60), "the control jobs did not wait for the agent job"
        assert agent_job not in ran
    finally:
        release.set()
        workers.stop(graceful=True)
    assert ran[-1] == agent_job
