"""Registering a GitHub App from a manifest, and installing it: the pages and the conversion.

GitHub's steps, reproduced: an App's setup page POSTs a form holding a `manifest` (JSON)
to `/settings/apps/new?state=…` (for the person's own account) or to
`/organizations/{org}/settings/apps/new?state=…`; GitHub shows the App's name and a
"Create GitHub App" button, and confirming redirects to the manifest's
`redirect_url?code=…&state=…`. The App's server trades the code, without authenticating,
at `POST /app-manifests/{code}/conversions` for the new App: its id, slug, private key
(`pem`), webhook secret and OAuth client. A code is single use and lives an hour. The
App's page `/apps/{slug}/installations/new` installs it on an account and sends the
person to the manifest's `setup_url`. The pages are served on the API's origin, as a
GitHub Enterprise Server serves them on its own host.

The stand-in is a GitHub for one App, so the registered App *becomes* that App: a new
id, a fresh RSA key whose public half verifies JWTs from then on, its webhook secret and
URL, its permissions and events from the manifest. The replaced App's installations and
tokens go with it; the new App acts once installed (here, or
`GitHubStandIn.install_app`). The stand-in has no sign-in: an App registered for "your
account" belongs to the stand-in App's owner (`rolecall-dev`).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from .errors import not_found
from .exchange import Request, Response
from .keys import new_app_key
from .records import Installation, ManifestCode, User, utcnow
from .router import Router
from .service import Service
from .state import AppInfo, State, new_app_id

router = Router()

CODE_LIFETIME = timedelta(hours=1)
# GitHub's limit on an App's name.
NAME_LIMIT = 34
_LEVELS = ("read", "write", "admin")
_MAX_CALLBACK_URLS = 10


class ManifestProblem(Exception):
    """A manifest GitHub would not register, and why (shown on the page)."""


# the pages a person clicks through ------------------------------------------------


@router.add("GET", "/settings/apps/new")
def new_app_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    return _page(200, "Register new GitHub App", _NO_MANIFEST)


@router.add("GET", "/organizations/{org}/settings/apps/new")
def new_org_app_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    if _organization(svc, params["org"]) is None:
        return _page(404, "Not Found", "<h1>404</h1><p>No organization has this login.</p>")
    return _page(200, "Register new GitHub App", _NO_MANIFEST)


@router.add("POST", "/settings/apps/new")
def confirm_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """What a person sees after their App's setup page sent them here with a manifest."""
    return _confirm(svc, request, svc.state.app.owner, "/settings/apps")


@router.add("POST", "/organizations/{org}/settings/apps/new")
def confirm_org_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    org = _organization(svc, params["org"])
    if org is None:
        return _page(404, "Not Found", "<h1>404</h1><p>No organization has this login.</p>")
    return _confirm(svc, request, org, f"/organizations/{org.login}/settings/apps")


@router.add("POST", "/settings/apps")
def create(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """ "Create GitHub App": a code for the manifest, and back to its `redirect_url`."""
    return _create(svc, request, svc.state.app.owner)


@router.add("POST", "/organizations/{org}/settings/apps")
def create_for_org(svc: Service, request: Request, params: dict[str, str]) -> Response:
    org = _organization(svc, params["org"])
    if org is None:
        return _page(404, "Not Found", "<h1>404</h1><p>No organization has this login.</p>")
    return _create(svc, request, org)


@router.add("GET", "/apps/{slug}/installations/new")
def install_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    app = svc.state.app
    if params["slug"] != app.slug:
        return _page(404, "Not Found", "<h1>404</h1><p>No GitHub App has this name.</p>")
    name = html.escape(app.name)
    body = f"""<h1>Install {name}</h1>
<p>Install {name} on an account: it gets the permissions it asked for on all of that
account's repositories.</p>
<form method="post" action="/apps/{html.escape(app.slug)}/installations">
<label>Account <input name="account" id="account" value="{html.escape(app.owner.login)}"
autocomplete="off"></label>
<button type="submit" id="install">Install</button>
</form>"""
    return _page(200, f"Install {app.name}", body)


@router.add("POST", "/apps/{slug}/installations")
def install_from_page(svc: Service, request: Request, params: dict[str, str]) -> Response:
    app = svc.state.app
    if params["slug"] != app.slug:
        return _page(404, "Not Found", "<h1>404</h1><p>No GitHub App has this name.</p>")
    with svc.state.lock:
        account = svc.state.users.get(_field(request, "account").strip().lower())
    if account is None or account.type == "Bot":
        return _page(422, "Install", "<h1>No GitHub account has that login.</h1>")
    installation_id = install(svc.state, account)
    if app.setup_url:
        query = urlencode({"installation_id": installation_id, "setup_action": "install"})
        return _redirect(f"{app.setup_url}{'&' if urlsplit(app.setup_url).query else '?'}{query}")
    body = f"<h1>Installed {html.escape(app.name)} on {html.escape(account.login)}</h1>"
    return _page(200, "Installed", body)


# the conversion ---------------------------------------------------------------------


@router.add("POST", "/app-manifests/{code}/conversions")
def convert(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """The registered App's credentials, for the code, once; a 404 for any other code."""
    with svc.state.lock:
        pending = svc.state.manifest_codes.pop(params["code"], None)
    if pending is None or pending.expires_at <= datetime.now(UTC):
        raise not_found()
    return Response(201, register(svc, pending))


def register(svc: Service, pending: ManifestCode) -> dict[str, Any]:
    """Make the manifest's App the stand-in's App, and answer as the conversion answers."""
    key, pem = new_app_key()
    manifest = pending.manifest
    name = str(manifest["name"])
    slug = slug_for(name)
    permissions = {"metadata": "read", **dict(manifest.get("default_permissions") or {})}
    hook = manifest.get("hook_attributes") or {}
    webhook_secret = secrets.token_hex(20)
    with svc.state.lock:
        app = AppInfo(
            id=new_app_id(),
            slug=slug,
            name=name,
            owner=pending.owner,
            bot=svc.state.ensure_user(f"{slug}[bot]", "Bot"),
            permissions=permissions,
            events=list(manifest.get("default_events") or []),
            callback_urls=list(manifest.get("callback_urls") or []),
            private_key_pem=pem,
            setup_url=manifest.get("setup_url"),
        )
        svc.state.app = app
        # What belonged to the App that was replaced.
        svc.state.installations.clear()
        svc.state.tokens.clear()
        svc.state.user_tokens.clear()
        svc.state.oauth_codes.clear()
        for repo in svc.state.repos.values():
            repo.installation_id = None
        svc.auth.public_key = key.public_key()
        svc.hooks.secret = webhook_secret
        svc.hooks.app_id = app.id
        svc.hooks.url = hook.get("url") if hook.get("active", True) else None
        return {
            **svc.shapes.app(),
            "client_secret": app.client_secret,
            "webhook_secret": webhook_secret,
            "pem": pem,
        }


def install(state: State, account: User) -> int:
    """The App installed on `account` and all its repositories; the installation's id."""
    with state.lock:
        installation = next((i for i in state.installations.values() if i.account is account), None)
        if installation is None:
            installation = Installation(id=state.new_id(), account=account, created_at=utcnow())
            state.installations[installation.id] = installation
        for repo in state.repos.values():
            if repo.owner is account:
                repo.installation_id = installation.id
        return installation.id


def slug_for(name: str) -> str:
    """GitHub's slug of an App name: lowercase words joined by `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def read_manifest(text: str) -> dict[str, Any]:
    """The manifest, checked the way GitHub checks it before showing the page."""
    try:
        manifest = json.loads(text)
    except ValueError:
        raise ManifestProblem("The manifest is not valid JSON.") from None
    if not isinstance(manifest, dict):
        raise ManifestProblem("The manifest must be a JSON object.")
    problems: list[str] = []
    if not _is_url(manifest.get("url")):
        problems.append("url (the App's homepage) is required, as a full URL.")
    name = manifest.get("name")
    if name is not None and not isinstance(name, str):
        problems.append("name must be text.")
    hook = manifest.get("hook_attributes")
    if hook is not None and not (isinstance(hook, dict) and _is_url(hook.get("url"))):
        problems.append("hook_attributes.url is required, as a full URL.")
    for key in ("redirect_url", "setup_url"):
        if manifest.get(key) is not None and not _is_url(manifest[key]):
            problems.append(f"{key} must be a full URL.")
    callbacks = manifest.get("callback_urls", [])
    if not (
        isinstance(callbacks, list)
        and len(callbacks) <= _MAX_CALLBACK_URLS
        and all(_is_url(url) for url in callbacks)
    ):
        problems.append(f"callback_urls must be at most {_MAX_CALLBACK_URLS} full URLs.")
    permissions = manifest.get("default_permissions", {})
    if not (
        isinstance(permissions, dict)
        and all(isinstance(k, str) and v in _LEVELS for k, v in permissions.items())
    ):
        problems.append("default_permissions must map permission names to read or write.")
    events = manifest.get("default_events", [])
    if not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
        problems.append("default_events must be a list of event names.")
    if problems:
        raise ManifestProblem(" ".join(problems))
    return manifest


# helpers --------------------------------------------------------------------------

_NO_MANIFEST = """<h1>Register new GitHub App</h1>
<p>This stand-in registers Apps from a manifest only: POST a form with a
<code>manifest</code> field to this URL.</p>"""


def _confirm(svc: Service, request: Request, owner: User, action: str) -> Response:
    try:
        manifest = read_manifest(_field(request, "manifest"))
    except ManifestProblem as problem:
        return _page(
            422, "Invalid manifest", f"<h1>Invalid manifest</h1><p>{html.escape(str(problem))}</p>"
        )
    name = str(manifest.get("name") or "")
    hook = manifest.get("hook_attributes") or {}
    permissions = ", ".join(
        f"{html.escape(k)}: {html.escape(v)}"
        for k, v in sorted((manifest.get("default_permissions") or {}).items())
    )
    events = ", ".join(html.escape(e) for e in manifest.get("default_events") or [])
    hidden = "".join(
        f'<input type="hidden" name="{field}" value="{html.escape(value)}">'
        for field, value in (
            ("manifest", _field(request, "manifest")),
            ("state", request.query.get("state", "")),
        )
    )
    body = f"""<h1>Create GitHub App for {html.escape(owner.login)}</h1>
<p>A GitHub App from a manifest: <strong id="app-name">{html.escape(name)}</strong></p>
<dl>
<dt>Webhook URL</dt><dd>{html.escape(str(hook.get("url") or "none"))}</dd>
<dt>Permissions</dt><dd>{permissions or "none"}</dd>
<dt>Events</dt><dd>{events or "none"}</dd>
</dl>
<form method="post" action="{html.escape(action)}">{hidden}
<label>GitHub App name <input name="name" id="name" value="{html.escape(name)}"
maxlength="{NAME_LIMIT}" autocomplete="off"></label>
<button type="submit" id="create">Create GitHub App</button>
</form>"""
    return _page(200, "Create GitHub App", body)


def _create(svc: Service, request: Request, owner: User) -> Response:
    try:
        manifest = read_manifest(_field(request, "manifest"))
    except ManifestProblem as problem:
        return _page(
            422, "Invalid manifest", f"<h1>Invalid manifest</h1><p>{html.escape(str(problem))}</p>"
        )
    name = _field(request, "name").strip() or str(manifest.get("name") or "").strip()
    slug = slug_for(name)
    if not slug or len(name) > NAME_LIMIT:
        return _page(
            422, "Name", f"<h1>The name must have letters or digits, at most {NAME_LIMIT}.</h1>"
        )
    with svc.state.lock:
        user = svc.state.users.get(slug)
        if slug == svc.state.app.slug or (user is not None and user is not owner):
            return _page(422, "Name", "<h1>Name has already been taken</h1>")
        code = ManifestCode(
            code=secrets.token_hex(10),
            manifest={**manifest, "name": name},
            owner=owner,
            expires_at=datetime.now(UTC) + CODE_LIFETIME,
        )
        svc.state.manifest_codes[code.code] = code
    redirect_url = manifest.get("redirect_url")
    if not redirect_url:
        body = f"<h1>Created {html.escape(name)}</h1><p>Code: <code>{code.code}</code></p>"
        return _page(201, "Created", body)
    back = {"code": code.code}
    if state := _field(request, "state"):
        back["state"] = state
    joiner = "&" if urlsplit(redirect_url).query else "?"
    return _redirect(f"{redirect_url}{joiner}{urlencode(back)}")


def _organization(svc: Service, login: str) -> User | None:
    with svc.state.lock:
        user = svc.state.users.get(login.lower())
    return user if user is not None and user.type == "Organization" else None


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _field(request: Request, name: str) -> str:
    """A form field as text ('' when absent)."""
    data: Any = request.json if isinstance(request.json, dict) else {}
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _page(status: int, title: str, body: str) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
    )
    return Response(status, document.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location})
