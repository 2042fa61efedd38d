"""`/jobs/{id}/live`: a running job's new transcript entries, as Server-Sent Events.

Each `entry` event carries one entry (JSON, for the page's script to put in the page as
text) and, as its id, the byte offset after its line, so a browser that reconnects
(`Last-Event-ID`) resumes where it was. When the job has finished and every line is
sent, an `end` event says how it ended. A stream lasts at most `STREAM_SECONDS` and the
browser reconnects by itself: a server that is stopping never waits on an open page
longer than that, and the viewer's access is looked at again on every reconnect.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.settings import Settings
from bot.store.ledger import UNFINISHED_STATES, Job, Ledger
from bot.web.dashboard.job_page import MAX_ID
from bot.web.dashboard.transcript import read_entries, transcript_file
from bot.web.layout import SECURITY_HEADERS
from bot.web.per_settings import redactor
from bot.web.viewer import current_viewer

STREAM_SECONDS = 10.0
POLL_SECONDS = 0.5
# How soon a browser reconnects after a stream ends (milliseconds).
RETRY_MS = 500


async def live(request: Request, job_id: int, offset: int = 0) -> Response:
    viewer = await run_in_threadpool(current_viewer, request)
    ledger: Ledger = request.app.state.ledger
    job = await run_in_threadpool(ledger.get_job, job_id) if 0 < job_id < MAX_ID else None
    if viewer is None or job is None or not viewer.can_see(job.repo_full_name):
        return PlainTextResponse("Not Found", status_code=404, headers=SECURITY_HEADERS)
    resumed = request.headers.get("last-event-id", "")
    start = int(resumed) if resumed.isdigit() else max(offset, 0)
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    events = _events(request, job, start)
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def _events(request: Request, job: Job, offset: int) -> AsyncIterator[str]:
    settings: Settings = request.app.state.settings
    ledger: Ledger = request.app.state.ledger
    redact = redactor(request)
    assert job.id is not None
    job_id = job.id
    yield f"retry: {RETRY_MS}\n\n"
    deadline = time.monotonic() + STREAM_SECONDS
    while not await request.is_disconnected():
        current = await run_in_threadpool(ledger.get_job, job_id)
        if current is None:
            yield "event: gone\ndata: {}\n\n"
            return
        finished = current.state not in UNFINISHED_STATES
        path = transcript_file(settings.data_dir, current.transcript_path)
        chunk = await run_in_threadpool(read_entries, path, offset, redact)
        for end, entry in chunk.entries:
            yield _event("entry", entry.as_dict(), end)
        sent_all = chunk.end == offset
        offset = chunk.end
        if finished and sent_all:
            outcome = redact(current.outcome or current.state)
            yield _event("end", {"state": current.state, "outcome": outcome})
            return
        if time.monotonic() > deadline:
            return  # the browser reconnects, from the last entry's id
        await asyncio.sleep(POLL_SECONDS if sent_all else 0)


def _event(name: str, data: dict[str, object], event_id: int | None = None) -> str:
    """One Server-Sent Event; the JSON never holds a raw line break."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
