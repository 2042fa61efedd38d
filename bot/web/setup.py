"""The page `/` shows until the GitHub App is configured: what is missing and how to set it."""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.responses import HTMLResponse

from bot.settings import Settings
from bot.web.page import html_page
from bot.web.webhooks import WEBHOOK_PATH

NEW_APP_URL = "https://github.com/settings/apps/new"


def page(request: Request) -> HTMLResponse:
    """Each missing setting, and how to register the App by hand."""
    settings: Settings = request.app.state.settings
    items = "\n".join(
        f"<li><code>{html.escape(line)}</code></li>" for line in settings.missing_app_settings()
    )
    body = f"""<h1>Rolecall is not configured yet</h1>
<p>Rolecall is running, but it needs a GitHub App before it can receive webhooks.
Set these (in the environment or a <code>.env</code> file) and restart:</p>
<ul>
{items}
</ul>
<h2>Register the GitHub App</h2>
<ol>
<li>Open <a href="{NEW_APP_URL}">{NEW_APP_URL}</a> (or your organization's
Developer settings &rarr; GitHub Apps &rarr; New GitHub App).</li>
<li>Give it the permissions and events listed in <code>app.yml</code> in Rolecall's
repository.</li>
<li>Set the webhook URL to <code>https://&lt;this host&gt;{WEBHOOK_PATH}</code>, choose a
webhook secret, and put the same secret in <code>WEBHOOK_SECRET</code>.</li>
<li>Copy the App ID into <code>APP_ID</code>, generate a private key and point
<code>PRIVATE_KEY_PATH</code> at it, then install the App on your repositories.</li>
</ol>"""
    return HTMLResponse(html_page("Rolecall", body))
