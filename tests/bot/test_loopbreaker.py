"""The loop breaker's decisions hold when workers decide at once, on SQLite and PostgreSQL.

Jobs are recorded the way the intake records them; the thread is a real issue in the
GitHub stand-in, where the loop breaker's one note ends up.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.text.redact import Redactor
from bot.github import GitHubApp, RepoClient
from bot.jobs.loopbreaker import READER_NOTE, claim_thread_note, stop_runaway_thread
from bot.store.ledger import Job, Ledger, NewDelivery
from standins.github import GitHubStandIn
from standins.scenario import REPO

LIMIT = 3


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.add_user("alice")
        stand_in.create_repo(REPO, files={"README.md": "calc\n"})
        stand_in.set_permission(REPO, "alice", "write")
        yield stand_in
        assert stand_in.server_errors == []


def repo_client(github: GitHubStandIn) -> RepoClient:
    app = GitHubApp(github.app_id, github.private_key_pem, github.api_url)
    return app.repo(github.installation_id(REPO), REPO, Redactor([]))


def recorded_jobs(ledger: Ledger, number: int, count: int) -> list[Job]:
    deliveries = [
        NewDelivery(
            id=uuid.uuid4().hex,
            event="issue_comment",
            action="created",
            decision="job",
            reason="/implement",
            job={
                "kind": "implement",
                "repo_full_name": REPO,
                "issue_number": number,
                "sender_login": "alice",
                "trigger_at": datetime(2024, 5, 1, tzinfo=UTC),
            },
        )
        for _ in range(count)
    ]
    jobs = [ledger.get_job(r.job_id or 0) for r in ledger.record_deliveries(deliveries)]
    assert all(job is not None for job in jobs)
    return [job for job in jobs if job is not None]


def loop_notes(github: GitHubStandIn, number: int) -> list[str]:
    return [c["body"] for c in github.comments(REPO, number) if "in the past hour" in c["body"]]


def test_writers_racing_on_one_thread_run_exactly_the_limit(
    ledger: Ledger, github: GitHubStandIn
) -> None:
    number = int(github.open_issue(REPO, "alice", "Loop me", "Please."))
    jobs = recorded_jobs(ledger, number, 8)
    other = Ledger(ledger.url)  # a second process's engine on the same database
    repo = repo_client(github)
    refused: dict[int, bool] = {}
    start = threading.Barrier(len(jobs))

    def decide(job: Job, through: Ledger) -> None:
        assert job.id is not None
        start.wait()
        refused[job.id] = stop_runaway_thread(through, job, repo, LIMIT)

    threads = [
        threading.Thread(target=decide, args=(job, other if n % 2 else ledger))
        for n, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.close()

    assert sorted(refused.values()) == [False] * LIMIT + [True] * (len(jobs) - LIMIT)
    assert len(loop_notes(github, number)) == 1, "the thread is told once"
    admitted = [job for job in jobs if not refused[job.id or 0]]
    # An admitted job that comes back (resumed, or after waiting its turn) is not counted
    # again, nor refused.
    again = ledger.get_job(admitted[0].id or 0)
    assert again is not None and not stop_runaway_thread(ledger, again, repo, LIMIT)


def test_what_never_ran_for_a_writer_does_not_count(ledger: Ledger, github: GitHubStandIn) -> None:
    number = int(github.open_issue(REPO, "alice", "Noisy thread", "Please."))
    noise = recorded_jobs(ledger, number, 10)
    for job in noise:  # refused to a reader, or a /status: never admitted
        ledger.update_job(job.id or 0, state="refused", outcome="no write access")
    repo = repo_client(github)
    work = recorded_jobs(ledger, number, LIMIT)
    assert [stop_runaway_thread(ledger, job, repo, LIMIT) for job in work] == [False] * LIMIT
    assert loop_notes(github, number) == []


def test_a_thread_note_is_claimed_once_per_window(ledger: Ledger) -> None:
    jobs = recorded_jobs(ledger, 7, 6)
    other = Ledger(ledger.url)
    won: list[bool] = []
    start = threading.Barrier(len(jobs))

    def claim(job: Job, through: Ledger) -> None:
        start.wait()
        won.append(claim_thread_note(through, job, READER_NOTE))

    threads = [
        threading.Thread(target=claim, args=(job, other if n % 2 else ledger))
        for n, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.close()
    assert sorted(won) == [False] * (len(jobs) - 1) + [True]
