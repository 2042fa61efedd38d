"""`/metrics`: only for the operator's token, and what a scrape then says.

Deliveries are counted at the real webhook endpoint (uvicorn, real HTTP), GitHub calls
through the App's real connection pools against the GitHub stand-in, jobs by state from
a real ledger (SQLite and PostgreSQL). An agent run's outcome is plain data, so the
tokens, cost and killed commands it reports are handed to the metrics directly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from githubkit.exception import RequestFailed
from prometheus_client.parser import text_string_to_metric_families

from agents.outcome import RunResult
from agents.pricing import Usage
from agents.run import AgentRun
from agents.text.redact import Redactor
from agents.tools.toolbox import CommandRecord
from bot.github import GitHubApp
from bot.observe.metrics import Metrics
from bot.store.ledger import Ledger, NewDelivery, utcnow
from standins.github import GitHubStandIn
from standins.scenario import REPO
from tests.bot.test_webhooks import BODY, comment_payload, edge_for, make_settings

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples_of(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples that carry `labels` (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def test_metrics_are_off_until_an_operator_token_is_set(tmp_path: Path) -> None:
    with edge_for(make_settings(tmp_path)) as edge:
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"}):
            answer = edge.client.get(f"{edge.url}/metrics", headers=headers)
            assert answer.status_code == 404
            assert answer.text.strip() == "set ROLECALL_OPERATOR_TOKEN to enable /metrics"


def test_only_the_operator_token_scrapes_the_deliveries_counted(tmp_path: Path) -> None:
    token = "operator-" + uuid.uuid4().hex
    with edge_for(make_settings(tmp_path, operator_token=token)) as edge:
        assert edge.post(BODY).status_code == 202
        assert edge.post(BODY).status_code == 200  # the same delivery again
        ignored = json.dumps(comment_payload("thanks!")).encode()
        assert edge.post(ignored, delivery="delivery-2").status_code == 202
        assert edge.post(BODY, delivery="delivery-3", secret="a guess").status_code == 401

        for refused in (
            {},
            {"Authorization": token},
            {"Authorization": f"Basic {token}"},
            {"Authorization": f"Bearer {token[:-1]}"},
            {"Authorization": f"Bearer {token}x"},
        ):
            answer = edge.client.get(f"{edge.url}/metrics", headers=refused)
            assert answer.status_code == 401, refused
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert "rolecall_" not in answer.text
        scraped = edge.client.get(
            f"{edge.url}/metrics", headers={"Authorization": f"Bearer {token}"}
        )

    assert scraped.status_code == 200
    samples = samples_of(scraped.text)
    deliveries = "rolecall_webhook_deliveries_total"
    assert value(samples, deliveries, event="issue_comment", decision="job") == 1
    assert value(samples, deliveries, event="issue_comment", decision="duplicate") == 1
    assert value(samples, deliveries, event="issue_comment", decision="ignored") == 1
    assert value(samples, deliveries) == 3, "the forged delivery is not one"
    assert value(samples, "rolecall_webhook_refusals_total", status="401") == 1
    assert value(samples, "rolecall_jobs", state="queued", kind="implement") == 1
    assert value(samples, "rolecall_queue_depth") == 1


def record_jobs(ledger: Ledger, *jobs: tuple[str, str | None, str, bool]) -> None:
    """One delivery and job per (state, role, kind, admitted for a writer)."""
    recorded = ledger.record_deliveries(
        [
            NewDelivery(
                id=f"delivery-{n}",
                event="issue_comment",
                action="created",
                decision="job",
                reason="",
                job={"kind": kind, "role": role, "repo_full_name": REPO, "issue_number": n},
            )
            for n, (_, role, kind, _) in enumerate(jobs, start=1)
        ]
    )
    for result, (state, _, _, admitted) in zip(recorded, jobs, strict=True):
        assert result.job_id is not None
        fields: dict[str, object] = {"admitted_at": utcnow()} if admitted else {}
        if state != "queued":
            fields["state"] = state
        if fields:
            ledger.update_job(result.job_id, **fields)


def test_jobs_by_state_role_and_kind_come_from_the_ledger_whichever_process_asks(
    ledger: Ledger,
) -> None:
    record_jobs(
        ledger,
        ("succeeded", "implementer", "implement", True),
        ("succeeded", "implementer", "implement", True),
        ("failed", "reviewer", "review", True),
        ("running", "implementer", "fix", True),
        ("queued", "implementer", "implement", False),  # not admitted yet
        ("queued", None, "implement", False),
        # Anyone can comment `/<word>`: a reader's words never become label values.
        ("refused", "x7f3-made-up-by-a-reader", "implement", False),
        ("refused", "another-one", "implement", False),
    )

    # Two processes sharing the ledger: each one's /metrics says the same.
    for metrics in (Metrics(ledger), Metrics(ledger)):
        samples = samples_of(metrics.exposition().decode())
        jobs = "rolecall_jobs"
        assert value(samples, jobs, state="succeeded", role="implementer", kind="implement") == 2
        assert value(samples, jobs, state="failed", role="reviewer", kind="review") == 1
        assert value(samples, jobs, state="running", role="implementer", kind="fix") == 1
        assert value(samples, jobs, state="queued", role="", kind="implement") == 2
        assert value(samples, jobs, state="refused", role="", kind="implement") == 2
        roles = {dict(labels).get("role") for name, labels in samples if name == jobs}
        assert roles == {"", "implementer", "reviewer"}
        assert value(samples, "rolecall_queue_depth") == 2
        assert value(samples, "rolecall_ledger_up") == 1


def test_a_ledger_that_cannot_be_read_is_a_gauge_not_a_failed_scrape(
    sqlite_ledger: Ledger,
) -> None:
    metrics = Metrics(sqlite_ledger)
    with sqlite_ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE job")

    samples = samples_of(metrics.exposition().decode())

    assert value(samples, "rolecall_ledger_up") == 0
    assert ("rolecall_queue_depth", frozenset()) not in samples


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.create_repo(REPO, files={"README.md": "calc\n"})
        yield stand_in


def test_github_calls_their_errors_and_the_rate_limit_left_are_counted(
    github: GitHubStandIn,
) -> None:
    metrics = Metrics()
    installation = github.installation_id(REPO)
    with GitHubApp(github.app_id, github.private_key_pem, github.api_url, watcher=metrics) as app:
        repo = app.repo(installation, REPO, Redactor([]))
        repo.info()
        github.fail_next("GET", f"/repos/{REPO}/issues/1", status=404)
        with pytest.raises(RequestFailed):
            repo.issue(1)
    sent = [r for r in github.requests if r.path.startswith(("/app", "/repos"))]

    samples = samples_of(metrics.exposition().decode())

    calls = "rolecall_github_api_calls_total"
    assert value(samples, calls) == len(sent)
    assert value(samples, calls, method="POST", status="201") == 1, "one installation token"
    assert value(samples, calls, method="GET", status="404") == 1
    assert value(samples, "rolecall_github_api_errors_total") == 1
    assert value(samples, "rolecall_github_api_errors_total", kind="client") == 1
    remaining = value(samples, "rolecall_github_rate_limit_remaining", pool=str(installation))
    assert 0 < remaining < 5000
    assert value(samples, "rolecall_github_rate_limit_remaining", pool="app") > 0


def test_a_rate_limited_or_unanswered_call_is_an_error_of_its_kind() -> None:
    metrics = Metrics()
    metrics.github_call("app", "GET", 403, 0)
    metrics.github_call("app", "GET", 403, 12)  # forbidden, not rate limited
    metrics.github_call("app", "POST", 429, None)
    metrics.github_call("app", "GET", None, None)
    metrics.github_call("app", "GET", 502, None)

    samples = samples_of(metrics.exposition().decode())

    errors = "rolecall_github_api_errors_total"
    assert value(samples, errors, kind="rate_limited") == 2
    assert value(samples, errors, kind="client") == 1
    assert value(samples, errors, kind="connection") == 1
    assert value(samples, errors, kind="server") == 1
    assert value(samples, "rolecall_github_api_calls_total", status="none") == 1
    assert value(samples, "rolecall_github_rate_limit_remaining", pool="app") == 12


def agent_run(stop: str, *commands: CommandRecord, cost: str | None = "0.25") -> AgentRun:
    usage = Usage(
        input_tokens=100,
        output_tokens=40,
        cache_creation_input_tokens=500,
        cache_read_input_tokens=0,
    )
    result = RunResult(
        summary="done",
        turns=3,
        usage=usage,
        cost_usd=Decimal(cost) if cost is not None else None,
        stop=stop,  # type: ignore[arg-type]
        detail="",
    )
    return AgentRun(result, commands)


def test_an_agent_run_counts_its_tokens_cost_and_the_commands_the_sandbox_killed() -> None:
    metrics = Metrics()
    metrics.agent_ran(
        "claude-sonnet-4-5",
        agent_run(
            "completed",
            CommandRecord("sleep 900", 137, timed_out=True),
            CommandRecord("python3 -m unittest -q", 0, timed_out=False),
            CommandRecord("kill -9 $$", 137, timed_out=False),  # killed itself: not a kill
        ),
    )
    metrics.agent_ran(
        "claude-sonnet-4-5",
        agent_run("cancelled", CommandRecord("make test", 137, timed_out=False)),
    )
    metrics.agent_ran("gateway,llama", agent_run("cancelled", cost=None))  # stopped between

    samples = samples_of(metrics.exposition().decode())

    tokens = "rolecall_model_tokens_total"
    assert value(samples, tokens, model="claude-sonnet-4-5", type="input") == 200
    assert value(samples, tokens, model="claude-sonnet-4-5", type="output") == 80
    assert value(samples, tokens, model="claude-sonnet-4-5", type="cache_write") == 1000
    assert value(samples, tokens, type="cache_read") == 0
    assert value(samples, tokens, model="gateway,llama", type="output") == 40
    assert value(samples, "rolecall_model_cost_usd_total", model="claude-sonnet-4-5") == 0.5
    assert value(samples, "rolecall_model_cost_usd_total", model="gateway,llama") == 0
    assert value(samples, "rolecall_sandbox_kills_total", reason="timeout") == 1
    assert value(samples, "rolecall_sandbox_kills_total", reason="cancel") == 1


def test_each_metrics_object_counts_on_its_own() -> None:
    """Two processes (or two tests) never share a sample: no module-level registry."""
    first, second = Metrics(), Metrics()
    first.delivery("issue_comment", "job")

    assert value(samples_of(first.exposition().decode()), "rolecall_webhook_deliveries_total") == 1
    assert value(samples_of(second.exposition().decode()), "rolecall_webhook_deliveries_total") == 0
