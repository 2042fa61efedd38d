"""`/`: the jobs the viewer may see, newest first, filterable by repository and state."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from bot.github.user_access import github_web_url
from bot.settings import Settings
from bot.store.dashboard_queries import JobFilter
from bot.store.ledger import JOB_STATES, Job, Ledger, utcnow
from bot.web import layout
from bot.web.dashboard import cells
from bot.web.layout import e
from bot.web.viewer import Viewer

PAGE_SIZE = 100


def jobs_page(
    request: Request,
    viewer: Viewer,
    repo: str | None = None,
    state: str | None = None,
    before: int | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    ledger: Ledger = request.app.state.ledger
    state = state if state in JOB_STATES else None
    repo = repo or None
    wanted = JobFilter(viewer.visible, repo=repo, state=state, before_id=before, limit=PAGE_SIZE)
    jobs = ledger.dashboard_jobs(wanted)
    repos = ledger.dashboard_repositories(viewer.visible)
    web_url = github_web_url(settings.github_api_url)
    parts = ["<h1>Jobs</h1>"]
    if viewer.notice:
        parts.append(f'<p class="notice">{e(viewer.notice)}</p>')
    parts.append(_filters(repos, repo, state))
    if jobs:
        parts.append(_table(jobs, web_url))
    else:
        parts.append(f'<p id="no-jobs">{e(_nothing(viewer, repo, state))}</p>')
    if len(jobs) == PAGE_SIZE and jobs[-1].id is not None:
        older = {"repo": repo or "", "state": state or "", "before": jobs[-1].id}
        parts.append(f'<p><a href="/?{e(urlencode(older))}">Older jobs</a></p>')
    return layout.page("Jobs · Rolecall", "\n".join(parts), viewer)


def _nothing(viewer: Viewer, repo: str | None, state: str | None) -> str:
    if repo or state:
        return "No jobs match these filters."
    if viewer.operator:
        return "No jobs yet."
    return "No jobs yet in the repositories you can write."


def _filters(repos: list[str], repo: str | None, state: str | None) -> str:
    def options(values: list[str], chosen: str | None, everything: str) -> str:
        items = [f'<option value="">{e(everything)}</option>']
        for value in values:
            selected = " selected" if value == chosen else ""
            items.append(f'<option value="{e(value)}"{selected}>{e(value)}</option>')
        return "".join(items)

    repo_choice = options(repos, repo, "all")
    state_choice = options(list(JOB_STATES), state, "any")
    return f"""<form method="get" action="/" class="filters">
<label>Repository <select name="repo" id="filter-repo">{repo_choice}</select></label>
<label>State <select name="state" id="filter-state">{state_choice}</select></label>
<button type="submit">Filter</button>
</form>"""


def _table(jobs: list[Job], web_url: str) -> str:
    now = utcnow()
    rows = []
    for job in jobs:
        rows.append(
            f'<tr class="job" data-job="{int(job.id or 0)}">'
            f'<td><a href="/jobs/{int(job.id or 0)}">#{int(job.id or 0)}</a></td>'
            f"<td>{cells.state_badge(job.state)}</td>"
            f'<td class="repo">{cells.repo_link(job, web_url)}</td>'
            f"<td>{cells.thread_link(job, web_url)}</td>"
            f"<td>{e(job.kind)}</td>"
            f'<td class="role">{e(job.role or "—")}</td>'
            f'<td class="model">{e(job.model or "—")}</td>'
            f"<td>{e(cells.when(job.created_at))}</td>"
            f'<td class="num">{e(cells.duration(cells.seconds_of(job, now)))}</td>'
            f'<td class="num">{e(cells.tokens(job))}</td>'
            f'<td class="num cost">{e(cells.cost(job))}</td>'
            "</tr>"
        )
    head = (
        "<tr><th>Job</th><th>State</th><th>Repository</th><th>Issue or PR</th><th>Kind</th>"
        "<th>Role</th><th>Model</th><th>Created</th><th>Duration</th><th>Tokens</th>"
        "<th>Cost</th></tr>"
    )
    return f'<table id="jobs">{head}\n' + "\n".join(rows) + "</table>"
