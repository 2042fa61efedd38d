"""The ledger and recovery: what survives a restart, on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert

from bot.store.lease import LeaseKeeper
from bot.store.ledger import (
    Delivery,
    IssueSlot,
    Job,
    Ledger,
    NewDelivery,
    Recorded,
    runner_is_alive,
    this_runner,
    utcnow,
)
from bot.store.recovery import INTERRUPTED, recover
from tests.bot.conftest import POSTGRES


def command(delivery_id: str, **job: object) -> NewDelivery:
    return NewDelivery(
        id=delivery_id,
        event="issue_comment",
        action="created",
        decision="job",
        reason="/implement",
        job={
            "kind": "implement",
            "role": "implementer",
            "repo_full_name": "octo/repo",
            "issue_number": 7,
            "trigger_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            **job,
        },
    )


def ignored(delivery_id: str) -> NewDelivery:
    return NewDelivery(
        id=delivery_id, event="issues", action="opened", decision="ignored", reason="no label"
    )


def test_a_delivery_and_its_job_are_recorded_together(ledger: Ledger) -> None:
    [recorded] = ledger.record_deliveries([command("d-1")])
    assert not recorded.duplicate and recorded.job_id is not None
    delivery = ledger.get_delivery("d-1")
    job = ledger.get_job(recorded.job_id)
    assert delivery is not None and job is not None
    assert delivery.job_id == job.id and job.delivery_id == "d-1"
    assert job.state == "queued" and job.attempts == 0
    assert job.trigger_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert job.created_at.tzinfo is not None and delivery.received_at.tzinfo is not None


def test_a_batch_dedupes_against_the_ledger_and_within_itself(ledger: Ledger) -> None:
    ledger.record_deliveries([command("a")])
    results = ledger.record_deliveries([command("a"), command("b"), ignored("c"), command("b")])
    assert [r.duplicate for r in results] == [True, False, False, True]
    assert results[1].job_id is not None and results[2].job_id is None
    assert ledger.count_deliveries() == 3
    assert ledger.count_jobs_by_state() == {"queued": 2}


def test_jobs_move_through_their_states(ledger: Ledger) -> None:
    [recorded] = ledger.record_deliveries([command("d-1")])
    assert recorded.job_id is not None
    job_id = recorded.job_id
    claimed = ledger.claim_job(job_id)
    assert claimed is not None and claimed.state == "running" and claimed.attempts == 1
    assert claimed.runner == this_runner()
    assert ledger.claim_job(job_id) is None  # a second copy of the id in the queue
    ledger.update_job(job_id, phase="execute", turns=3, input_tokens=1200)
    done = ledger.update_job(
        job_id, state="succeeded", pr_url="https://github.com/octo/repo/pull/8", cost_usd=0.25
    )
    assert done.finished_at is not None and done.turns == 3 and done.cost_usd == 0.25
    assert ledger.unfinished_jobs() == []
    assert [job.id for job in ledger.list_jobs()] == [job_id]
    assert ledger.list_jobs(state="queued") == []


def test_update_job_refuses_unknown_fields_and_unknown_jobs(ledger: Ledger) -> None:
    [recorded] = ledger.record_deliveries([command("d-1")])
    assert recorded.job_id is not None
    with pytest.raises(TypeError, match="no field"):
        ledger.update_job(recorded.job_id, colour="blue")
    with pytest.raises(LookupError):
        ledger.update_job(recorded.job_id + 100, state="failed")


def dead_runner() -> str:
    """The runner name of a process of this host that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:1"


def test_recover_requeues_queued_jobs_and_resumes_interrupted_ones(ledger: Ledger) -> None:
    results = ledger.record_deliveries(
        [command("queued"), command("interrupted"), command("alive"), command("elsewhere")]
    )
    queued, interrupted, alive, elsewhere = (r.job_id or 0 for r in results)
    assert 0 not in (queued, interrupted, alive, elsewhere)
    ledger.update_job(
        interrupted, state="running", phase="execute", runner=dead_runner(), attempts=1
    )
    ledger.update_job(alive, state="running", runner=this_runner())
    ledger.update_job(elsewhere, state="running", runner="another-host:1234:99")

    enqueued: list[int] = []
    recovery = recover(ledger, enqueued.append)

    assert enqueued == [queued, interrupted]
    assert recovery.requeued == [queued]
    assert recovery.resumed == [interrupted]
    assert sorted(recovery.left_running) == sorted([alive, elsewhere])
    resumed = ledger.get_job(interrupted)
    assert resumed is not None
    assert (resumed.state, resumed.outcome, resumed.runner) == ("queued", INTERRUPTED, None)
    claimed = ledger.claim_job(interrupted)
    assert claimed is not None and claimed.attempts == 2, "the resumed run is a second attempt"


def test_runner_liveness_tells_this_process_from_a_reused_pid() -> None:
    assert runner_is_alive(this_runner()) is True
    host, pid, _start = this_runner().split(":")
    assert runner_is_alive(f"{host}:{pid}:12345") is False  # same pid, another start
    assert runner_is_alive(dead_runner()) is False
    assert runner_is_alive(None) is False
    assert runner_is_alive("elsewhere:1:1") is None


def test_the_default_sqlite_ledger_is_durable_wal(sqlite_ledger: Ledger) -> None:
    with sqlite_ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


@pytest.mark.postgres
def test_two_receivers_sharing_postgres_record_a_redelivery_once(postgres_ledger: Ledger) -> None:
    # Receiver A has inserted delivery "race" but not committed yet when receiver B,
    # whose duplicate check could not see it, tries to record the same delivery.
    other = Ledger(postgres_ledger.url)
    held = other.engine.raw_connection()
    cursor = held.cursor()
    cursor.execute(
        "INSERT INTO delivery (id, event, decision, reason, received_at) "
        "VALUES ('race', 'issue_comment', 'ignored', 'receiver A', now())"
    )
    outcome: dict[str, list[Recorded]] = {}
    second = threading.Thread(
        target=lambda: outcome.update(b=postgres_ledger.record_deliveries([command("race")]))
    )
    second.start()
    with psycopg.connect(POSTGRES, autocommit=True) as watcher:
        deadline = time.monotonic() + 20
        while not watcher.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO delivery%'"
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "receiver B never waited on A's insert"
            time.sleep(0.01)
    held.commit()
    held.close()
    second.join(20)
    other.close()
    [recorded] = outcome["b"]
    assert recorded.duplicate and recorded.job_id is None
    assert postgres_ledger.count_deliveries() == 1
    assert postgres_ledger.count_jobs_by_state() == {}  # B's job row was rolled back


def test_recover_keeps_going_when_the_queue_is_down(sqlite_ledger: Ledger) -> None:
    results = sqlite_ledger.record_deliveries([command("a"), command("b")])

    def queue_down(job_id: int) -> None:
        raise ConnectionError("redis is not reachable")

    recovery = recover(sqlite_ledger, queue_down)
    assert recovery.unqueued == [r.job_id for r in results] and recovery.requeued == []
    assert sqlite_ledger.count_jobs_by_state() == {"queued": 2}  # still there for next time


# --- a worker that died on another machine -------------------------------------------------


def claimed_elsewhere(ledger: Ledger, delivery_id: str, host: str, *, silent_for: float) -> int:
    """A job a worker on `host` claimed and then renewed last `silent_for` seconds ago."""
    [recorded] = ledger.record_deliveries([command(delivery_id)])
    assert recorded.job_id is not None
    runner = f"{host}:4242:31337"
    assert ledger.claim_job(recorded.job_id, runner=runner) is not None
    # Its lease as it stood when that worker last renewed it (time has passed since).
    lease = ledger.get_job(recorded.job_id)
    assert lease is not None and lease.lease_expires_at is not None
    ledger.update_job(
        recorded.job_id, lease_expires_at=lease.lease_expires_at - timedelta(seconds=silent_for)
    )
    return recorded.job_id


def test_recover_takes_over_a_job_whose_worker_on_another_host_went_silent(
    ledger: Ledger,
) -> None:
    gone = claimed_elsewhere(ledger, "gone", "build-07", silent_for=3600)
    busy = claimed_elsewhere(ledger, "busy", "build-08", silent_for=0)
    enqueued: list[int] = []
    recovery = recover(ledger, enqueued.append)

    assert enqueued == [gone] and recovery.resumed == [gone]
    assert recovery.left_running == [busy], "a worker that renews its lease keeps its job"
    taken = ledger.get_job(gone)
    assert taken is not None
    assert (taken.state, taken.outcome, taken.runner) == ("queued", INTERRUPTED, None)
    # The silent worker, should it wake up, cannot renew a lease that is no longer its own.
    assert not ledger.renew_lease(gone, "build-07:4242:31337")
    resumed = ledger.claim_job(gone)
    assert resumed is not None and resumed.attempts == 2 and resumed.runner == this_runner()


def test_two_live_workers_never_both_take_over_one_job(ledger: Ledger) -> None:
    gone = [claimed_elsewhere(ledger, f"gone-{n}", "build-07", silent_for=3600) for n in range(5)]
    # Two workers on two machines, each with its own connection to the shared ledger.
    workers = [Ledger(ledger.url) for _ in range(2)]
    start = threading.Barrier(len(workers))
    taken: list[list[int]] = [[] for _ in workers]

    def take(n: int) -> None:
        start.wait()
        # (Queueing a job twice is harmless, a claim runs it once; taking it twice is not.)
        taken[n] = recover(workers[n], lambda job_id: None).resumed

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for worker in workers:
        worker.close()
    assert sorted(taken[0] + taken[1]) == gone, taken


def test_a_worker_that_renews_its_lease_keeps_its_job(ledger: Ledger) -> None:
    job_id = claimed_elsewhere(ledger, "slow", "build-08", silent_for=3600)
    # build-08's worker is alive after all (a long pause): its keeper renews the lease.
    with LeaseKeeper(ledger, job_id, runner="build-08:4242:31337", interval=0.05):

        def renewed() -> bool:
            job = ledger.get_job(job_id)
            return job is not None and (job.lease_expires_at or utcnow()) > utcnow()

        deadline = time.monotonic() + 30
        while not renewed():
            assert time.monotonic() < deadline, "the keeper never renewed the lease"
            time.sleep(0.05)
        enqueued: list[int] = []
        assert recover(ledger, enqueued.append).left_running == [job_id]
    assert enqueued == []


# Columns this version added to the job table; a ledger made before them must still open.
ADDED_COLUMNS = {"lease_expires_at", "admitted_at", "thread_note", "noted_at"}


def test_a_ledger_file_from_the_previous_version_still_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rolecall.db'}"
    previous = MetaData()
    for table in (Delivery.__table__, Job.__table__, IssueSlot.__table__):  # type: ignore[attr-defined]
        columns = [
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in table.columns
            if c.name not in ADDED_COLUMNS
        ]
        Table(table.name, previous, *columns)
    engine = create_engine(url)
    previous.create_all(engine)
    old_jobs = previous.tables["job"]
    with engine.begin() as conn:
        for state, runner in (("queued", None), ("running", "old-host:1:1")):
            conn.execute(
                insert(old_jobs).values(
                    kind="implement",
                    repo_full_name="octo/repo",
                    issue_number=7,
                    decision_json={},
                    state=state,
                    created_at=datetime(2024, 5, 1, tzinfo=UTC),
                    attempts=0,
                    is_pull_request=False,
                    runner=runner,
                )
            )
    engine.dispose()

    ledger = Ledger(url)
    ledger.create_schema()
    try:
        queued, running = ledger.list_jobs()[::-1]
        assert (queued.state, running.state) == ("queued", "running")
        assert running.lease_expires_at is None
        claimed = ledger.claim_job(queued.id or 0)
        assert claimed is not None and claimed.lease_expires_at is not None
        enqueued: list[int] = []
        # A job an older Rolecall runs on another host has no lease to go by: left alone.
        assert recover(ledger, enqueued.append).left_running == [claimed.id, running.id]
        [recorded] = ledger.record_deliveries([command("after-upgrade")])
        assert recorded.job_id is not None and ledger.get_job(recorded.job_id) is not None
    finally:
        ledger.close()
