"""The page `/` shows once the App is configured: what Rolecall is doing."""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.responses import HTMLResponse

from bot.store.ledger import JOB_STATES, Ledger
from bot.web.page import html_page
from bot.web.webhooks import WEBHOOK_PATH


def page(request: Request) -> HTMLResponse:
    """Job counts by state."""
    ledger: Ledger = request.app.state.ledger
    counts = ledger.count_jobs_by_state()
    states = [*JOB_STATES, *sorted(set(counts) - set(JOB_STATES))]
    rows = "\n".join(
        f"<tr><td>{html.escape(state)}</td><td>{counts.get(state, 0)}</td></tr>" for state in states
    )
    body = f"""<h1>Rolecall is running</h1>
<p>Webhooks are received at <code>{WEBHOOK_PATH}</code>. <code>rolecall jobs</code>
lists the jobs.</p>
<table>
<tr><th>state</th><th>jobs</th></tr>
{rows}
</table>"""
    return HTMLResponse(html_page("Rolecall", body))
