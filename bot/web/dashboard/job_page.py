"""`/jobs/{id}`: one job's facts, its phases, its transcript and how it ended.

While the job runs, the page's script follows the transcript from where this page
stopped reading (`data-stream`, bot.web.dashboard.live). A job of a repository the viewer
cannot write is answered exactly like a job that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from agents.text.redact import Redactor
from bot.github.user_access import github_web_url
from bot.settings import Settings
from bot.store.ledger import UNFINISHED_STATES, Job, Ledger, utcnow
from bot.store.tables import JobPhase
from bot.web import layout
from bot.web.dashboard import cells
from bot.web.dashboard.transcript import (
    MAX_PAGE_BYTES,
    Entry,
    page_start,
    read_entries,
    transcript_file,
)
from bot.web.layout import e
from bot.web.per_settings import redactor
from bot.web.viewer import Viewer

# A page shows at most this many transcript entries (the last ones).
MAX_ENTRIES = 2000
# Job ids are 64-bit: a larger number names no job (and would not fit a query).
MAX_ID = 2**63


def job_page(request: Request, viewer: Viewer, job_id: int) -> Response:
    settings: Settings = request.app.state.settings
    ledger: Ledger = request.app.state.ledger
    redact = redactor(request)
    job = ledger.get_job(job_id) if 0 < job_id < MAX_ID else None
    if job is None or job.id is None or not viewer.can_see(job.repo_full_name):
        return layout.not_found(viewer)
    running = job.state in UNFINISHED_STATES
    path = transcript_file(settings.data_dir, job.transcript_path)
    start = page_start(path)
    chunk = read_entries(path, start, redact, limit=MAX_PAGE_BYTES)
    entries = [entry for _, entry in chunk.entries][-MAX_ENTRIES:]
    web_url = github_web_url(settings.github_api_url)
    parts = [
        f"<h1>Job #{job.id} {cells.state_badge(job.state)}</h1>",
        _facts(job, web_url),
        "<h2>Phases</h2>",
        _phases(ledger.phases_of(job.id), job),
        "<h2>Outcome</h2>",
        _outcome(job, redact, running),
        "<h2>Transcript</h2>",
    ]
    if start or len(chunk.entries) > len(entries):
        parts.append('<p class="muted">Earlier lines of this long transcript are not shown.</p>')
    stream = f"/jobs/{job.id}/live?" + urlencode({"offset": chunk.end})
    live = ' data-live="1"' if running else ""
    items = "\n".join(_entry(entry) for entry in entries)
    parts.append(f'<ol class="transcript" id="transcript" data-stream="{e(stream)}"{live}>')
    parts.append(items + "</ol>")
    if not entries and not running:
        parts.append('<p class="muted">This job has no transcript (no agent ran).</p>')
    if running:
        parts.append('<p class="live" id="live-status">Following the job as it runs…</p>')
    return layout.page(f"Job #{job.id} · Rolecall", "\n".join(parts), viewer)


def _facts(job: Job, web_url: str) -> str:
    facts = [
        ("Repository", cells.repo_link(job, web_url)),
        ("Issue or PR", cells.thread_link(job, web_url)),
        ("Kind", e(job.kind)),
        ("Role", e(job.role or "—")),
        ("Model", e(job.model or "—")),
        ("Asked by", e(job.sender_login or "—")),
        ("Created", e(cells.when(job.created_at))),
        ("Started", e(cells.when(job.started_at))),
        ("Finished", e(cells.when(job.finished_at))),
        ("Duration", e(cells.duration(cells.seconds_of(job)))),
        ("Turns", e(job.turns if job.turns is not None else "—")),
        ("Tokens", e(cells.tokens(job))),
        ("Cost", f'<span id="cost">{e(cells.cost(job))}</span>'),
    ]
    if job.pr_url:
        facts.append(("Pull request", cells.link(job.pr_url, job.pr_url)))
    if job.branch:
        facts.append(("Branch", f"<code>{e(job.branch)}</code>"))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return f'<dl class="facts" id="facts">{rows}</dl>'


def _phases(phases: list[JobPhase], job: Job) -> str:
    if not phases:
        return '<p class="muted">No phase has started.</p>'
    rows = []
    for index, phase in enumerate(phases):
        following = phases[index + 1].started_at if index + 1 < len(phases) else None
        end: datetime | None = following or job.finished_at
        seconds = ((end or utcnow()) - phase.started_at).total_seconds()
        shown = cells.duration(max(seconds, 0.0)) + ("" if end else " so far")
        rows.append(
            f"<tr><td>{e(phase.phase)}</td><td>{e(cells.when(phase.started_at))}</td>"
            f'<td class="num">{e(shown)}</td></tr>'
        )
    head = "<tr><th>Phase</th><th>Began</th><th>Took</th></tr>"
    return f'<table id="phases">{head}' + "".join(rows) + "</table>"


def _outcome(job: Job, redact: Redactor, running: bool) -> str:
    if running:
        phase = f" ({job.phase})" if job.phase else ""
        return f'<p id="outcome" class="muted">Still {e(job.state)}{e(phase)}.</p>'
    said = redact(job.outcome or job.state)
    return f'<div id="outcome"><pre>{e(said)}</pre></div>'


def _entry(entry: Entry) -> str:
    turn = f'<span class="entry-turn">turn {entry.turn}</span>' if entry.turn is not None else ""
    text = f"<pre>{e(entry.text)}</pre>" if entry.text else ""
    if entry.detail:
        text += f"<details><summary>The brief</summary><pre>{e(entry.detail)}</pre></details>"
    return (
        f'<li class="entry entry-{e(entry.kind)}"><span class="entry-title">{e(entry.title)}'
        f"</span>{turn}{text}</li>"
    )
