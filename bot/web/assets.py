"""The dashboard's stylesheet and its one script, served from Rolecall's own origin.

Kept as text here (not files beside it) so that an installed Rolecall always has them.
The script only follows a running job's transcript (Server-Sent Events from
`/jobs/{id}/live`, bot.web.dashboard.live) and builds each new line with `textContent`:
what an agent wrote is never parsed as HTML. Neither holds data: they are served to
anyone, like the sign-in page that needs them.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

STYLE = """
:root { color-scheme: light; --line: #d0d7de; --muted: #57606a; --bg: #f6f8fa; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
  color: #1f2328; }
header { display: flex; gap: 1em; align-items: center; padding: .6em 1.5em;
  background: #24292f; color: #fff; }
header a.brand { color: #fff; font-weight: 600; text-decoration: none; margin-right: auto; }
header .who { color: #d0d7de; }
header button { font: inherit; }
main { padding: 1em 1.5em; max-width: 1200px; }
form.inline { display: inline; margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: 12px;
  border: 1px solid var(--line); background: var(--bg); }
.state-running, .state-queued { background: #ddf4ff; border-color: #54aeff; }
.state-succeeded { background: #dafbe1; border-color: #4ac26b; }
.state-failed, .state-refused { background: #ffebe9; border-color: #ff8182; }
.state-cancelled, .state-skipped, .state-no_changes { background: #fff8c5;
  border-color: #d4a72c; }
.filters { display: flex; gap: 1em; align-items: end; margin: 0 0 1em; flex-wrap: wrap; }
.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.notice { background: #fff8c5; border: 1px solid #d4a72c; padding: .5em 1em; }
.error { background: #ffebe9; border: 1px solid #ff8182; padding: .5em 1em; }
.muted { color: var(--muted); }
a.button, button.primary { display: inline-block; padding: .5em 1em; background: #1f883d;
  color: #fff; border: 0; border-radius: 6px; text-decoration: none; font: inherit;
  cursor: pointer; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.5em; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ol.transcript { list-style: none; padding: 0; margin: 0; }
ol.transcript li { border-left: 3px solid var(--line); padding: .3em .8em; margin: .4em 0; }
ol.transcript li.entry-tool_call { border-color: #54aeff; }
ol.transcript li.entry-tool_result { border-color: #8c959f; }
ol.transcript li.entry-error { border-color: #ff8182; }
ol.transcript li.entry-assistant { border-color: #4ac26b; }
ol.transcript li.entry-final { border-color: #bf8700; }
.entry-title { font-weight: 600; }
.entry-turn { color: var(--muted); font-size: 12px; margin-left: .5em; }
pre { white-space: pre-wrap; word-break: break-word; margin: .2em 0; background: var(--bg);
  padding: .4em .6em; border-radius: 4px; font: 12px/1.45 ui-monospace, monospace; }
.live { color: #0969da; }
details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
"""

SCRIPT = """
"use strict";
(function () {
  var list = document.getElementById("transcript");
  if (!list || list.getAttribute("data-live") !== "1") {
    return;
  }
  var KINDS = /^[a-z_]+$/;
  var status = document.getElementById("live-status");
  function entry(data) {
    var item = document.createElement("li");
    item.className = "entry entry-" + (KINDS.test(data.kind) ? data.kind : "note");
    var title = document.createElement("span");
    title.className = "entry-title";
    title.textContent = data.title;
    item.appendChild(title);
    if (data.turn !== null && data.turn !== undefined) {
      var turn = document.createElement("span");
      turn.className = "entry-turn";
      turn.textContent = "turn " + String(data.turn);
      item.appendChild(turn);
    }
    if (data.text) {
      var text = document.createElement("pre");
      text.textContent = data.text;
      item.appendChild(text);
    }
    if (data.detail) {
      var folded = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = "The brief";
      var detail = document.createElement("pre");
      detail.textContent = data.detail;
      folded.appendChild(summary);
      folded.appendChild(detail);
      item.appendChild(folded);
    }
    return item;
  }
  var source = new EventSource(list.getAttribute("data-stream"));
  source.addEventListener("entry", function (event) {
    list.appendChild(entry(JSON.parse(event.data)));
  });
  source.addEventListener("end", function () {
    source.close();
    if (status) {
      status.textContent = "The job has ended.";
    }
    window.location.reload();
  });
  source.addEventListener("gone", function () {
    source.close();
    if (status) {
      status.textContent = "This job is no longer available to you.";
    }
  });
})();
"""


def register(app: FastAPI) -> None:
    app.add_api_route("/assets/dashboard.css", stylesheet, methods=["GET"])
    app.add_api_route("/assets/dashboard.js", script, methods=["GET"])


def stylesheet() -> Response:
    return _asset(STYLE, "text/css; charset=utf-8")


def script() -> Response:
    return _asset(SCRIPT, "text/javascript; charset=utf-8")


def _asset(text: str, media_type: str) -> Response:
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return Response(text, media_type=media_type, headers=headers)
