"""What an operator watches: `/metrics` with the operator token, and `LOG_FORMAT=json`.

One job runs to its end on a `rolecall serve` that logs JSON; then the operator scrapes
`/metrics` (and a stranger is turned away), and reads the log as a log shipper would.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from standins.scenario import MODEL_API_KEY, REPO, Stage, fixing_agent
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(rolecall: Rolecall, token: str) -> Samples:
    response = httpx.get(
        f"{rolecall.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples that carry `labels` (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def test_one_job_in_the_metrics_and_in_json_logs(stage: Stage, tmp_path: Path) -> None:
    operator_token = "operator-" + uuid.uuid4().hex
    rolecall = start_rolecall(
        stage, tmp_path / "data", LOG_FORMAT="json", ROLECALL_OPERATOR_TOKEN=operator_token
    )
    github = rolecall.github
    try:
        stage.model.respond_with(fixing_agent())
        issue = stage.open_issue()
        trigger = github.comment(REPO, "alice", issue, "/implement")
        rolecall.wait_for_outcome(issue)
        [job] = rolecall.wait_for_jobs_to_settle()
        assert job["state"] == "succeeded"

        for refused in ({}, {"Authorization": "Bearer not-the-token"}):
            answer = httpx.get(f"{rolecall.url}/metrics", headers=refused, timeout=10)
            assert answer.status_code == 401
            assert "rolecall_" not in answer.text
        # The job's duration is counted as its worker leaves it, just after the ledger.
        samples = wait_for(
            lambda: (
                s
                if value(
                    s := scrape(rolecall, operator_token),
                    "rolecall_job_duration_seconds_count",
                    role="implementer",
                )
                else None
            ),
            "the job's duration in /metrics",
        )
    finally:
        stop_rolecall(rolecall)

    deliveries = "rolecall_webhook_deliveries_total"
    assert value(samples, deliveries, event="issue_comment", decision="job") == 1
    jobs = "rolecall_jobs"
    assert value(samples, jobs, state="succeeded", role="implementer", kind="implement") == 1
    assert value(samples, "rolecall_queue_depth") == 0
    assert value(samples, "rolecall_model_tokens_total", model=job["model"], type="output") > 0
    assert value(samples, "rolecall_model_cost_usd_total", model=job["model"]) > 0
    assert value(samples, "rolecall_github_api_calls_total") > 0
    assert value(samples, "rolecall_github_rate_limit_remaining") > 0
    duration = "rolecall_job_duration_seconds_count"
    assert value(samples, duration, kind="implement", role="implementer", state="succeeded") == 1
    assert value(samples, "rolecall_job_phase_duration_seconds_count", phase="execute") == 1

    text = rolecall.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(line, dict) and "message" in line for line in lines)
    of_the_job = [line for line in lines if line.get("job_id") == job["id"]]
    assert of_the_job, "no log line names the job"
    delivery_id = trigger.delivery.id
    for line in of_the_job:
        assert (line.get("delivery_id"), line.get("repository")) == (delivery_id, REPO), line
    # The webhook's line names the delivery before the worker has the job.
    assert any(line.get("logger") == "rolecall.webhooks" for line in of_the_job)
    secrets = [github.webhook_secret, MODEL_API_KEY, operator_token, *pem_lines(github)]
    for secret in secrets:
        assert secret not in text
        assert not any(secret in json.dumps(line, ensure_ascii=False) for line in lines)


def pem_lines(github: Any) -> list[str]:
    """The body lines of the App's private key (each a secret on its own)."""
    return [
        line
        for line in github.private_key_pem.splitlines()
        if line.strip() and not line.startswith("-----")
    ]
