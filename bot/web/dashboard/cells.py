"""How the dashboard writes a job's facts: state, links, duration, tokens, cost.

Every function returns HTML that is safe to put in a page: data is escaped, and a link
is made only to an http(s) URL.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit

from bot.store.ledger import Job, utcnow
from bot.web.layout import e


def state_badge(state: str) -> str:
    css = state if state.replace("_", "").isalpha() else "unknown"
    return f'<span class="state state-{css}">{e(state.replace("_", " "))}</span>'


def link(url: str | None, text: str) -> str:
    """`text` linked to `url` when it is an http(s) URL, else plain text."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{e(url)}" rel="noopener noreferrer">{e(text)}</a>'
    return e(text)


def repo_link(job: Job, web_url: str) -> str:
    repo = job.repo_full_name
    if not repo:
        return '<span class="muted">—</span>'
    return link(f"{web_url}/{quote(repo)}", repo)


def thread_link(job: Job, web_url: str) -> str:
    """The issue or pull request the job works on, as GitHub's page for it."""
    if not job.repo_full_name or job.issue_number is None:
        return '<span class="muted">—</span>'
    kind = "pull" if job.is_pull_request else "issues"
    url = f"{web_url}/{quote(job.repo_full_name)}/{kind}/{int(job.issue_number)}"
    label = ("PR " if job.is_pull_request else "issue ") + f"#{int(job.issue_number)}"
    return link(url, label)


def seconds_of(job: Job, now: datetime | None = None) -> float | None:
    """How long the job ran (so far, while it runs)."""
    if job.started_at is None:
        return None
    end = job.finished_at or (now or utcnow())
    return max((end - job.started_at).total_seconds(), 0.0)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def tokens(job: Job) -> str:
    if job.input_tokens is None and job.output_tokens is None:
        return "—"
    read = (job.input_tokens or 0) + (job.cache_read_tokens or 0) + (job.cache_write_tokens or 0)
    return f"{read:,} in · {job.output_tokens or 0:,} out"


def cost(job: Job) -> str:
    if job.cost_usd is None:
        return "—" if job.input_tokens is None else "unknown"
    return f"${job.cost_usd:,.4f}"


def when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")
