"""One running and one pending job per issue, in the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from bot.store import slots
from bot.store.ledger import Job, Ledger, NewDelivery


def new_job(ledger: Ledger, issue: int = 7, kind: str = "implement", state: str = "running") -> Job:
    [recorded] = ledger.record_deliveries(
        [
            NewDelivery(
                id=uuid.uuid4().hex,
                event="issue_comment",
                action="created",
                decision="job",
                reason="test",
                job={
                    "kind": kind,
                    "role": "implementer",
                    "repo_full_name": "octo/repo",
                    "issue_number": issue,
                    "trigger_at": datetime(2024, 5, 1, tzinfo=UTC),
                },
            )
        ]
    )
    assert recorded.job_id is not None
    return ledger.update_job(recorded.job_id, state=state)


def state(ledger: Ledger, job: Job) -> tuple[str, str | None]:
    assert job.id is not None
    found = ledger.get_job(job.id)
    assert found is not None
    return found.state, found.outcome


def test_the_first_job_runs_the_second_waits_the_third_replaces_the_second(
    ledger: Ledger,
) -> None:
    first, second, third = new_job(ledger), new_job(ledger), new_job(ledger)

    assert slots.take_turn(ledger, first, waiting_note="-") == slots.Turn(runs=True)
    assert slots.take_turn(ledger, second, waiting_note="after 1") == slots.Turn(
        runs=False, running_job_id=first.id
    )
    assert state(ledger, second) == ("queued", "after 1")
    assert slots.pending_job(ledger, "octo/repo", 7) == second.id
    assert slots.take_turn(ledger, third, waiting_note="after 1") == slots.Turn(
        runs=False, running_job_id=first.id, superseded_job_id=second.id
    )
    assert state(ledger, second) == ("cancelled", f"superseded by job {third.id}")
    assert slots.pending_job(ledger, "octo/repo", 7) == third.id


def test_an_ending_job_hands_the_issue_to_the_pending_one(ledger: Ledger) -> None:
    first, second = new_job(ledger), new_job(ledger)
    slots.take_turn(ledger, first, waiting_note="-")
    slots.take_turn(ledger, second, waiting_note="-")
    ledger.update_job(first.id, state="succeeded")  # type: ignore[arg-type]

    assert slots.release(ledger, first) == second.id
    assert slots.pending_job(ledger, "octo/repo", 7) is None
    # The handed-over job finds the issue its own when it runs again.
    assert slots.take_turn(ledger, second, waiting_note="-") == slots.Turn(runs=True)
    assert slots.release(ledger, second) is None
    third = new_job(ledger)
    assert slots.take_turn(ledger, third, waiting_note="-").runs


def test_issues_do_not_share_a_slot_and_control_jobs_take_none(ledger: Ledger) -> None:
    on_seven, on_eight = new_job(ledger, issue=7), new_job(ledger, issue=8)
    assert slots.take_turn(ledger, on_seven, waiting_note="-").runs
    assert slots.take_turn(ledger, on_eight, waiting_note="-").runs
    status = new_job(ledger, issue=7, kind="status")
    assert slots.holder(ledger, status) == on_seven.id


def test_a_slot_whose_job_ended_without_handing_over_is_free(ledger: Ledger) -> None:
    crashed, later = new_job(ledger), new_job(ledger)
    slots.take_turn(ledger, crashed, waiting_note="-")
    ledger.update_job(crashed.id, state="failed", outcome="interrupted")  # type: ignore[arg-type]

    assert slots.holder(ledger, later) is None
    assert slots.take_turn(ledger, later, waiting_note="-").runs


def test_cancel_signals_the_running_job_and_drops_the_waiting_ones(ledger: Ledger) -> None:
    running, pending = new_job(ledger), new_job(ledger)
    slots.take_turn(ledger, running, waiting_note="-")
    slots.take_turn(ledger, pending, waiting_note="-")
    not_started = new_job(ledger, state="queued")
    cancel = new_job(ledger, kind="cancel")
    elsewhere = new_job(ledger, issue=8)

    done = slots.cancel_issue(ledger, "octo/repo", 7, by="alice")

    assert done.signalled == [running.id]
    assert sorted(done.dropped) == sorted([pending.id, not_started.id])
    assert ledger.get_job(running.id).cancel_requested_by == "alice"  # type: ignore[arg-type,union-attr]
    assert state(ledger, running)[0] == "running", "its worker stops it and says so"
    assert state(ledger, pending) == ("cancelled", "cancelled by @alice before it started")
    assert state(ledger, cancel)[0] == "running", "a control job is never cancelled"
    assert ledger.get_job(elsewhere.id).cancel_requested_by is None  # type: ignore[arg-type,union-attr]
    assert slots.pending_job(ledger, "octo/repo", 7) is None


def test_two_workers_racing_for_a_free_issue_let_exactly_one_run(ledger: Ledger) -> None:
    jobs = [new_job(ledger) for _ in range(6)]
    other = Ledger(ledger.url)  # a second process's engine on the same database
    turns: dict[int, slots.Turn] = {}

    def take(job: Job, through: Ledger) -> None:
        assert job.id is not None
        turns[job.id] = slots.take_turn(through, job, waiting_note="-")

    threads = [
        threading.Thread(target=take, args=(job, other if n % 2 else ledger))
        for n, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()

    assert sum(turn.runs for turn in turns.values()) == 1
    waiting = [job.id for job in jobs if not turns[job.id].runs]  # type: ignore[index]
    superseded = [turns[i].superseded_job_id for i in waiting if turns[i].superseded_job_id]  # type: ignore[index]
    assert len(superseded) == len(waiting) - 1, "each waiting job but the last was replaced"
