"""The pages of first setup: `/` until the GitHub App is configured, and the steps after it.

One click registers the App: the form posts to Rolecall (`/setup/register`, which keeps
the model key and a `state`), the next page sends the browser on to GitHub with the
manifest (bot.web.manifest), and GitHub sends the person back to `/setup/callback`
(bot.web.registration). The pages never show a stored secret: the model key field says
whether a key is set, never which. Setting everything by hand stays possible, and is the
only way when the environment already sets part of the App.

The pages are reachable before anyone can sign in (that is what first setup is), so the
flow writes only while no App is configured. Their Content-Security-Policy lets forms go
to this site and to GitHub's pages only, and scripts come from this site only.
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from bot.app_credentials import CredentialStore
from bot.github.manifest import RegisteredApp
from bot.github.web_url import github_web_url
from bot.settings import Settings
from bot.web.layout import SECURITY_HEADERS, document, e
from bot.web.manifest import app_yml, is_local, new_app_url
from bot.web.webhooks import WEBHOOK_PATH

REGISTER_PATH = "/setup/register"
CALLBACK_PATH = "/setup/callback"
SCRIPT_PATH = "/setup/continue.js"
# Sends the browser on to GitHub without a second click (a file, as the CSP allows).
CONTINUE_SCRIPT = 'document.getElementById("to-github").submit();\n'


def public_base(request: Request, settings: Settings) -> str:
    """Where browsers and GitHub reach this server: ROLECALL_PUBLIC_URL, else this request."""
    return settings.public_url or str(request.base_url).rstrip("/")


def registrable(settings: Settings) -> bool:
    """Whether the page may register an App: the environment sets none of the App's values
    (a half-set App is finished by hand, so the page never mixes two Apps)."""
    return all(
        value is None
        for value in (
            settings.app_id,
            settings.private_key,
            settings.private_key_path,
            settings.webhook_secret,
        )
    )


def page(request: Request, *, problem: str = "", status: int = 200) -> HTMLResponse:
    """`/` while the App is not configured: the one-click form, and the way by hand."""
    settings: Settings = request.app.state.settings
    parts = ["<h1>Set up Rolecall</h1>"]
    if problem:
        parts.append(f'<p class="error" id="problem">{e(problem)}</p>')
    if registrable(settings):
        parts.append(_register_form(request, settings))
    else:
        parts.append(
            '<p class="notice" id="partly-configured">The environment sets part of the '
            "GitHub App, so this page does not register a new one. Set the rest as "
            "below and restart Rolecall, or unset those values to register an App "
            "here.</p>"
        )
    parts.append(_by_hand(settings, open_=not registrable(settings)))
    return _respond("Set up Rolecall", "\n".join(parts), settings, status)


def continue_page(settings: Settings, target: str, manifest: dict[str, object]) -> HTMLResponse:
    """Posts the manifest to GitHub (by script at once, or by the button without one)."""
    body = f"""<h1>On to GitHub</h1>
<p>GitHub shows the App Rolecall asks for; confirm it there with "Create GitHub App".</p>
<form method="post" action="{e(target)}" id="to-github">
<input type="hidden" name="manifest" value="{e(json.dumps(manifest))}">
<button type="submit" class="primary" id="continue">Continue to GitHub</button>
</form>
<script src="{SCRIPT_PATH}"></script>"""
    return _respond("On to GitHub · Rolecall", body, settings, 200)


def registered_page(settings: Settings, app: RegisteredApp, stored_in: str) -> HTMLResponse:
    """After the exchange: what was registered, where it is kept, and the way to install it."""
    body = f"""<h1 id="registered">Rolecall is set up</h1>
<p>GitHub registered <strong id="app-name">{e(app.name)}</strong> (App ID
<span id="app-id">{app.id}</span>) for {e(app.owner)}. Its credentials are stored in
<code>{e(stored_in)}</code>, readable by Rolecall's user only, and Rolecall is receiving
its webhooks now; no restart needed.</p>
<p><a class="button" id="install" href="{e(app.install_url)}">Install {e(app.name)}</a>
on the repositories it should work on. Then comment <code>/implement</code> on an issue
there.</p>
<p><a href="/">Rolecall's dashboard</a></p>"""
    return _respond("Rolecall is set up", body, settings, 200)


def refused_page(settings: Settings, title: str, sentence: str, status: int) -> HTMLResponse:
    body = f"""<h1>{e(title)}</h1>
<p class="error" id="problem">{e(sentence)}</p>
<p><a href="/">Back to Rolecall</a></p>"""
    return _respond(f"{title} · Rolecall", body, settings, status)


def continue_script() -> Response:
    return Response(
        CONTINUE_SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


# -- the parts of the setup page ---------------------------------------------------------


def _register_form(request: Request, settings: Settings) -> str:
    base = public_base(request, settings)
    webhook = base + WEBHOOK_PATH
    web = github_web_url(settings.github_api_url)
    key_set = (
        settings.anthropic_api_key is not None
        or "ANTHROPIC_API_KEY" in CredentialStore(settings.data_dir).read()
    )
    if key_set:
        model = '<p id="model-key-set">The model key (<code>ANTHROPIC_API_KEY</code>) is set.</p>'
    else:
        model = """<p><label>Anthropic API key (<code>ANTHROPIC_API_KEY</code>)
<input type="password" name="anthropic_api_key" id="model-key" autocomplete="off"
size="50"></label></p>
<p class="muted">Leave it empty when your provider needs none (Ollama) or you set it in
the environment. It is kept in Rolecall's data directory, readable by Rolecall's user
only, and never shown again.</p>"""
    reach = ""
    if settings.public_url is None and is_local(base):
        reach = f"""<p class="notice" id="nat-advice">GitHub cannot deliver webhooks to
<code>{e(base)}</code>: this page was opened on this machine, and
<code>ROLECALL_PUBLIC_URL</code> is not set. If GitHub can reach this machine at another
address, set <code>ROLECALL_PUBLIC_URL</code> to it and restart. Behind NAT or a firewall,
create a channel on <a href="https://smee.io/new">smee.io</a>, put its URL in the
Webhook URL field, and run <code>npx smee-client --url https://smee.io/&lt;channel&gt; --target
http://localhost:{e(request.url.port or 3000)}{WEBHOOK_PATH}</code> beside Rolecall; or
run a tunnel (cloudflared, ngrok, Tailscale Funnel) and set
<code>ROLECALL_PUBLIC_URL</code> to its URL.</p>"""
    return f"""<p>Rolecall is running. To work on GitHub it needs a GitHub App of its own:
one click registers it on <code>{e(web)}</code> from Rolecall's manifest
(<code>app.yml</code>: the permissions and events it needs, no more), and Rolecall
starts working with it at once.</p>
<form method="post" action="{REGISTER_PATH}" id="register-form">
<h2>The model</h2>
{model}
<h2>The GitHub App</h2>
<p><label>Name <input name="app_name" id="app-name" value="{e(app_yml()["name"])}"
maxlength="34" size="34"></label> <span class="muted">(unique on GitHub)</span></p>
<p><label>Organization <input name="organization" id="organization" size="30"
placeholder="empty: your own account" autocomplete="off"></label></p>
<p><label>Webhook URL <input name="webhook_url" id="webhook-url" value="{e(webhook)}"
size="60"></label></p>
{reach}
<p><button type="submit" class="primary" id="register">Register the GitHub App</button></p>
</form>"""


def _by_hand(settings: Settings, *, open_: bool) -> str:
    items = "\n".join(
        f"<li><code>{e(line)}</code></li>" for line in settings.missing_app_settings()
    )
    new_app = new_app_url(github_web_url(settings.github_api_url), None)
    return f"""<details id="by-hand"{" open" if open_ else ""}>
<summary>Or set it up by hand</summary>
<p>Set these in the environment or a <code>.env</code> file and restart Rolecall:</p>
<ul>
{items}
</ul>
<ol>
<li>Open <a href="{e(new_app)}">{e(new_app)}</a> (or your organization's Developer
settings &rarr; GitHub Apps &rarr; New GitHub App).</li>
<li>Give it the permissions and events listed in <code>app.yml</code> (in Rolecall's
<code>bot/</code> folder).</li>
<li>Set the webhook URL to <code>https://&lt;this host&gt;{WEBHOOK_PATH}</code>, choose a
webhook secret, and put the same secret in <code>WEBHOOK_SECRET</code>.</li>
<li>Copy the App ID into <code>APP_ID</code>, generate a private key and point
<code>PRIVATE_KEY_PATH</code> at it, then install the App on your repositories.</li>
</ol>
</details>"""


def _respond(title: str, body: str, settings: Settings, status: int) -> HTMLResponse:
    """The page in Rolecall's frame, allowed to post forms to GitHub's pages as well."""
    web = github_web_url(settings.github_api_url)
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"form-action 'self' {web}; frame-ancestors 'none'; base-uri 'none'"
    )
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy}
    return HTMLResponse(document(title, body), status_code=status, headers=headers)
