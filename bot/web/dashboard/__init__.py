"""The dashboard: what Rolecall is doing, for the people allowed to see it.

`/` (once the App is configured) lists the jobs, `/jobs/{id}` shows one with its phases,
its transcript (followed live while it runs, `/jobs/{id}/live`) and its outcome. Nothing
is shown to the anonymous: they get the sign-in page (bot.web.signin). A person signed in
with GitHub sees the jobs of the repositories they can write; an operator sees all
(bot.web.viewer). The modules: `jobs_list`, `job_page`, `live`, `transcript` (reading a
transcript as entries), `cells` (how facts are written).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response

from bot.web import assets, layout, signin
from bot.web.dashboard.job_page import job_page
from bot.web.dashboard.jobs_list import jobs_page
from bot.web.dashboard.live import live
from bot.web.viewer import current_viewer


def register(app: FastAPI) -> None:
    """The dashboard's routes (`/` itself is routed by bot.web.app), sign-in included."""
    signin.register(app)
    assets.register(app)
    app.add_api_route("/jobs/{job_id}", job, methods=["GET"])
    app.add_api_route("/jobs/{job_id}/live", live, methods=["GET"])


def page(
    request: Request,
    repo: str | None = None,
    state: str | None = None,
    before: int | None = None,
) -> Response:
    """`/`: the jobs, or the sign-in page for the anonymous."""
    viewer = current_viewer(request)
    if viewer is None:
        return signin.sign_in_form(request)
    return jobs_page(request, viewer, repo=repo, state=state, before=before)


def job(request: Request, job_id: int) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return layout.redirect("/signin?" + urlencode({"next": f"/jobs/{job_id}"}))
    return job_page(request, viewer, job_id)
