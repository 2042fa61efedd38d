"""The Prometheus metrics one process counts, and what `/metrics` shows of them.

One `Metrics` per process, built by its root (`bot.cli.serve.Root`) and passed down to
the webhook endpoint, the GitHub App's connection pools and the job services; each has
its own `CollectorRegistry`, so two in one process (tests, `rolecall demo`) never share
a sample. What happens in this process is counted where it happens: deliveries, GitHub
API calls, job and phase durations, tokens and cost, sandbox kills. What every process
shares (jobs by state, the queue's depth) is read from the ledger at scrape time
(`bot.observe.ledger_gauges`), so it is right however many workers there are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

if TYPE_CHECKING:
    from agents.run import AgentRun
    from bot.store.ledger import Ledger

# The Prometheus text format every scraper reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# A job runs for seconds (a reply) to an hour (ROLECALL_MAX_MINUTES); a phase for
# milliseconds (screen) to the whole run (execute).
JOB_SECONDS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
PHASE_SECONDS = (0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
# Killed by SIGKILL, as the sandbox kills a command's tree (128 + 9).
_KILLED = 137


class Metrics:
    """This process's counters, gauges and histograms, in a registry of their own."""

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.deliveries = Counter(
            "rolecall_webhook_deliveries",
            "Webhook deliveries recorded, by event and decision (duplicate: a redelivery)",
            ["event", "decision"],
            registry=registry,
        )
        self.refusals = Counter(
            "rolecall_webhook_refusals",
            "Webhook requests answered with an error, by HTTP status",
            ["status"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "rolecall_job_duration_seconds",
            "How long a job ran in this process, from its claim to its end",
            ["kind", "role", "state"],
            buckets=JOB_SECONDS,
            registry=registry,
        )
        self.phase_seconds = Histogram(
            "rolecall_job_phase_duration_seconds",
            "How long each phase of a job took",
            ["kind", "phase"],
            buckets=PHASE_SECONDS,
            registry=registry,
        )
        self.job_errors = Counter(
            "rolecall_job_errors",
            "Jobs ended by an unexpected error (logged with its traceback), by phase",
            ["phase"],
            registry=registry,
        )
        self.tokens = Counter(
            "rolecall_model_tokens",
            "Tokens the agents used, by model and type (input, output, cache_read, cache_write)",
            ["model", "type"],
            registry=registry,
        )
        self.cost = Counter(
            "rolecall_model_cost_usd",
            "What the agents' model calls cost, by model (models with a known price)",
            ["model"],
            registry=registry,
        )
        self.sandbox_kills = Counter(
            "rolecall_sandbox_kills",
            "Agent commands the sandbox killed, by reason (timeout, cancel)",
            ["reason"],
            registry=registry,
        )
        self.github_calls = Counter(
            "rolecall_github_api_calls",
            "GitHub API requests, by method and HTTP status (none: no response)",
            ["method", "status"],
            registry=registry,
        )
        self.github_errors = Counter(
            "rolecall_github_api_errors",
            "GitHub API requests that failed, by kind (client, server, rate_limited, connection)",
            ["kind"],
            registry=registry,
        )
        self.rate_limit_remaining = Gauge(
            "rolecall_github_rate_limit_remaining",
            "x-ratelimit-remaining of the last GitHub response, by connection pool "
            "(app, or the installation id)",
            ["pool"],
            registry=registry,
        )
        if ledger is not None:
            from bot.observe.ledger_gauges import LedgerGauges

            registry.register(LedgerGauges(ledger))

    def exposition(self) -> bytes:
        """Every metric, in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    # -- the webhook endpoint ---------------------------------------------------------

    def delivery(self, event: str, decision: str) -> None:
        self.deliveries.labels(event, decision).inc()

    def refused(self, status: int) -> None:
        self.refusals.labels(str(status)).inc()

    # -- GitHub (bot.github.transport.CallWatcher) ------------------------------------

    def github_call(
        self, pool: str, method: str, status: int | None, rate_limit_remaining: int | None
    ) -> None:
        """One request through a pooled connection, and what GitHub said of its limit."""
        self.github_calls.labels(method, "none" if status is None else str(status)).inc()
        if rate_limit_remaining is not None:
            self.rate_limit_remaining.labels(pool).set(rate_limit_remaining)
        kind = _github_error_kind(status, rate_limit_remaining)
        if kind is not None:
            self.github_errors.labels(kind).inc()

    # -- jobs -------------------------------------------------------------------------

    def job_clock(self, kind: str) -> JobClock:
        """Times one job of `kind` and its phases, from now."""
        return JobClock(self, kind)

    def job_error(self, phase: str) -> None:
        self.job_errors.labels(phase).inc()

    def agent_ran(self, model: str, run: AgentRun) -> None:
        """What one agent run used, and the commands the sandbox killed in it.

        A command cut by its timeout (or the job's time limit) says so; one killed by
        `/cancel` is the run's last command, ended by SIGKILL, in a run that ended
        cancelled.
        """
        usage = run.result.usage
        for kind, count in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_input_tokens),
            ("cache_write", usage.cache_creation_input_tokens),
        ):
            if count:
                self.tokens.labels(model, kind).inc(count)
        if run.result.cost_usd is not None:
            self.cost.labels(model).inc(float(run.result.cost_usd))
        commands = run.commands
        timeouts = sum(1 for command in commands if command.timed_out)
        if timeouts:
            self.sandbox_kills.labels("timeout").inc(timeouts)
        last = commands[-1] if commands else None
        if (
            run.result.stop == "cancelled"
            and last is not None
            and not last.timed_out
            and last.exit_code == _KILLED
        ):
            self.sandbox_kills.labels("cancel").inc()


class JobClock:
    """How long one job and each of its phases take, observed as each ends."""

    def __init__(self, metrics: Metrics, kind: str) -> None:
        self._metrics = metrics
        self._kind = kind
        self._started = self._phase_started = time.monotonic()
        self._phase: str | None = None

    def phase(self, name: str) -> None:
        """`name` begins: the phase before it ended."""
        self._end_phase()
        self._phase, self._phase_started = name, time.monotonic()

    def ended(self, state: str, role: str) -> None:
        """The job ended in `state` (a job parked behind another has not ended)."""
        self._end_phase()
        if state != "queued":
            seconds = time.monotonic() - self._started
            self._metrics.job_seconds.labels(self._kind, role, state).observe(seconds)

    def _end_phase(self) -> None:
        if self._phase is not None:
            seconds = time.monotonic() - self._phase_started
            self._metrics.phase_seconds.labels(self._kind, self._phase).observe(seconds)
            self._phase = None


def _github_error_kind(status: int | None, rate_limit_remaining: int | None) -> str | None:
    if status is None:
        return "connection"
    if status == 429 or (status == 403 and rate_limit_remaining == 0):
        return "rate_limited"
    if status >= 500:
        return "server"
    if status >= 400:
        return "client"
    return None
