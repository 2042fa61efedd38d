"""The frame of the dashboard's and sign-in's pages, and the headers every one of them carries.

Pages show text that agents and strangers wrote (transcripts, issue titles, outcomes):
everything is escaped where it is put in, and the Content-Security-Policy lets nothing
run or load that is not served by Rolecall itself: no inline script, no inline style,
no other origin, no framing. Scripts come from `/assets/` (bot.web.assets).
"""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse, RedirectResponse

from bot.web.viewer import Viewer

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it, browsers send `Origin: null` on our own forms.
    "Referrer-Policy": "same-origin",
    # Job data is for the one person who asked for it: no shared or browser caches.
    "Cache-Control": "no-store",
}


def e(value: object) -> str:
    """`value` as text that HTML shows and never interprets (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def document(title: str, body: str, viewer: Viewer | None = None) -> str:
    """A whole page: `body` must already be escaped where it holds data."""
    who = ""
    if viewer is not None:
        who = f"""<span class="who">Signed in as <strong id="viewer">{e(viewer.name)}</strong>
</span><form method="post" action="/signout" class="inline"><button type="submit"
id="signout">Sign out</button></form>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<header><a href="/" class="brand">Rolecall</a>{who}</header>
<main>
{body}
</main>
</body></html>
"""


def page(title: str, body: str, viewer: Viewer | None = None, status: int = 200) -> HTMLResponse:
    return HTMLResponse(document(title, body, viewer), status_code=status, headers=SECURITY_HEADERS)


def redirect(location: str) -> RedirectResponse:
    """303 See Other: after a form or a sign-in, the browser GETs `location`."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def not_found(viewer: Viewer | None) -> HTMLResponse:
    """The same answer for a job that does not exist and one the viewer may not see."""
    body = '<h1>Not found</h1><p>There is no such job. <a href="/">All jobs</a></p>'
    return page("Not found", body, viewer, status=404)
